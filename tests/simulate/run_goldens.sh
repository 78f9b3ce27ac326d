#!/usr/bin/env bash
# Golden-file tests of `ombud simulate`: every tests/simulate/*.yaml scenario is run and its text
# timeline compared with tests/simulate/NAME.golden. Scenarios named fail_*.yaml must exit 1
# (their expectations fail on purpose); all others must exit 0. Also: the JSON output, the
# shipped demo (examples/complaint_demo.yaml) and a scenario with mistakes.
#
# Usage: run_goldens.sh OMBUD_BINARY REPO_ROOT
#        UPDATE_GOLDENS=1 run_goldens.sh ...    rewrites the goldens from the current output
# Scenarios run from REPO_ROOT with relative paths, so the timelines do not depend on where
# the repository is checked out.
set -u
ombud=$1
root=$2
cd "$root" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0

check() {  # check NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "ok   $1"
  else
    failed=$((failed + 1)); echo "FAIL $1"
  fi
}

for scenario in tests/simulate/*.yaml; do
  name=$(basename "$scenario" .yaml)
  golden="tests/simulate/$name.golden"
  "$ombud" simulate "$scenario" > "$tmp/$name.out" 2> "$tmp/$name.err"
  status=$?
  expected_status=0
  case "$name" in fail_*) expected_status=1 ;; esac
  if [ "$status" -ne "$expected_status" ]; then
    cat "$tmp/$name.err"
  fi
  [ "$status" -eq "$expected_status" ]
  check "$name exits $expected_status" $?
  if [ "${UPDATE_GOLDENS:-0}" = 1 ]; then
    cp "$tmp/$name.out" "$golden"
    echo "     updated $golden"
  fi
  diff -u "$golden" "$tmp/$name.out"
  check "$name matches $golden" $?
done

# The failing scenario names each mismatch with its position, expected and found.
out="$tmp/fail_expect_mismatch.out"
grep -qxF "tests/simulate/fail_expect_mismatch.yaml:12:14: expected state 'closed', found 'investigating'" "$out" &&
  grep -qxF "tests/simulate/fail_expect_mismatch.yaml:12:29: expected assignee 'wang.fang', found 'li.na'" "$out" &&
  grep -qxF "tests/simulate/fail_expect_mismatch.yaml:12:68: expected sla.acknowledge 'breached', found 'met'" "$out" &&
  grep -qF "tests/simulate/fail_expect_mismatch.yaml:13:5: unexpected refusal: event 'cancel'" "$out" &&
  grep -qxF "== FAILED: 6 steps, 6 expectations, 3 failed, 1 other problem" "$out"
check "a failed expect prints expected and found at file:line:col, and the run goes on" $?

# JSON: one document with every step, the full history entries and the final instances.
"$ombud" simulate --format json tests/simulate/complaint_waiting_customer.yaml > "$tmp/out.json" 2>&1
status=$?
/usr/bin/python3 - "$tmp/out.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["passed"] is True and doc["failures"] == [], doc["failures"]
steps = doc["steps"]
assert [s["kind"] for s in steps[:3]] == ["start", "advance", "event"], steps[:3]
entry = steps[0]["history"][0]
assert set(entry) == {"instance", "at", "kind", "message", "details"}, entry
assert entry["kind"] == "started" and entry["at"] == "2026-11-23T01:00:00Z", entry
refused = [s for s in steps if s.get("expect_error")]
assert refused and refused[0]["status"] == "rejected", refused
called = next(s for s in steps if s.get("event") == "customer_called")
assert any(h["kind"] == "sla" and "resumed" in h["message"] for h in called["history"]), called
assert called["notifications"][0]["recipients"] == ["li.na"], called["notifications"]
checks = [c for s in steps for c in s.get("checks", [])]
assert checks and all(c["ok"] for c in checks), checks
inst = doc["instances"][0]
assert inst["name"] == "main" and inst["instance"]["state"] == "return_visit", inst
PY
[ $? -eq 0 ] && [ "$status" -eq 0 ]
check "json output has the steps, history entries and final instances" $?

# Who was told: the text timeline shows recipients, the JSON lists them. Each check names a
# scenario, a template and the exact recipients of every notification made from it there.
notified() {  # notified SCENARIO TEMPLATE RECIPIENT...
  "$ombud" simulate --format json "tests/simulate/$1.yaml" > "$tmp/notified.json" 2>&1
  /usr/bin/python3 - "$tmp/notified.json" "${@:2}" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
template, want = sys.argv[2], sys.argv[3:]
got = [n["recipients"] for s in doc["steps"] for n in s.get("notifications", [])
       if n["template"] == template]
assert got and all(r == want for r in got), (template, got)
PY
}
notified complaint_breach_reassign sla_escalated_manager zhang.wei
check "150% of the resolve deadline reaches the complaints department manager, not the supervisor" $?
notified customer_registration_visit_date customer_visit_date_refused huang.li
check "a refused first-visit date is explained to the account manager who sent it" $?

# The demo that `make run` shows.
"$ombud" simulate examples/complaint_demo.yaml > "$tmp/demo.out" 2>&1
status=$?
[ "$status" -eq 0 ] || tail -20 "$tmp/demo.out"
[ "$status" -eq 0 ] && grep -q "^== passed: " "$tmp/demo.out"
check "examples/complaint_demo.yaml runs and passes" $?

# A scenario with mistakes: exit 1, every problem at file:line:col, nothing run.
cat > "$tmp/bad.yaml" <<'YAML'
workflow: ../workflows/complaint.yaml
start_at: "2026-11-23T09:00:00+08:00"
steps:
  - start: {data: {phone: "13800000000"}}
  - advnce: 2h
  - expect: {state: investigatin}
YAML
mkdir -p "$tmp/workflows" && cp workflows/complaint.yaml "$tmp/workflows/"
mkdir -p "$tmp/s" && mv "$tmp/bad.yaml" "$tmp/s/bad.yaml"
"$ombud" simulate "$tmp/s/bad.yaml" > "$tmp/bad.out" 2> "$tmp/bad.err"
status=$?
[ "$status" -eq 1 ] && [ ! -s "$tmp/bad.out" ] &&
  grep -qxF "$tmp/s/bad.yaml:5:5: error: unknown key 'advnce' in step (did you mean 'advance'?)" "$tmp/bad.err"
check "a scenario with mistakes is reported with positions and not run" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
