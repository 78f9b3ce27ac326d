#!/usr/bin/env bash
# The `ombud` command line as an admin uses it: exit codes, text and JSON output.
# Usage: cli_test.sh OMBUD_BINARY REPO_ROOT
set -u
ombud=$1
root=$2
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

# A valid set of workflows validates with exit 0 under --strict with the shipped config.
"$ombud" validate --strict --config "$root/config/ombud.yaml" "$root/workflows" > "$tmp/out" 2>&1
check "shipped workflows are valid under --strict" $?
grep -q "^valid: " "$tmp/out"; check "summary line says valid" $?

# A broken workflow: exit 1, compiler-style lines with the exact position.
cat > "$tmp/bad.yaml" <<'YAML'
workflow: demo
initial: open
states:
  open:
    on:
      close: closd
  closed:
    type: final
YAML
"$ombud" validate "$tmp/bad.yaml" > "$tmp/out" 2>&1
[ $? -eq 1 ]; check "invalid workflow exits 1" $?
grep -qxF "$tmp/bad.yaml:6:14: error: unknown target state 'closd' (did you mean 'closed'?)" "$tmp/out"
check "error line has file:line:col and a suggestion" $?

# JSON output carries the same diagnostic.
"$ombud" validate --format json "$tmp/bad.yaml" > "$tmp/out.json" 2>&1
/usr/bin/python3 - "$tmp/out.json" "$tmp/bad.yaml" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
d = doc["diagnostics"][0]
assert doc["valid"] is False and doc["errors"] == 1, doc
assert (d["file"], d["line"], d["column"], d["severity"]) == (sys.argv[2], 6, 14, "error"), d
assert d["message"] == "unknown target state 'closd' (did you mean 'closed'?)", d
PY
check "json output names file, line, column, severity and message" $?

# Warnings: exit 0 normally, exit 1 under --strict.
cat > "$tmp/warn.yaml" <<'YAML'
workflow: demo
initial: open
states:
  open:
    on: {close: closed}
  orphan:
    on: {close: closed}
  closed: {type: final}
YAML
"$ombud" validate "$tmp/warn.yaml" > "$tmp/out" 2>&1
check "warnings alone exit 0" $?
"$ombud" validate --strict "$tmp/warn.yaml" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "6:3: error: state 'orphan' is unreachable" "$tmp/out"
check "--strict makes warnings errors" $?

# A missing path and a usage error.
"$ombud" validate "$tmp/nope.yaml" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "nope.yaml: error: no such file or directory" "$tmp/out" &&
  grep -q "^invalid: 0 workflow files, 1 error" "$tmp/out"
check "missing file is reported, once" $?
"$ombud" validate --format xml "$tmp/bad.yaml" > /dev/null 2>&1
[ $? -eq 2 ]; check "bad option exits 2" $?

# Graphs of every shipped workflow, in both languages.
for f in "$root"/workflows/*.yaml; do
  "$ombud" graph --format mermaid "$f" > "$tmp/g.mmd" 2>&1 && head -1 "$tmp/g.mmd" | grep -q "stateDiagram-v2"
  check "mermaid graph of $(basename "$f")" $?
  "$ombud" graph --format dot "$f" > "$tmp/g.dot" 2>&1 && grep -q "^digraph" "$tmp/g.dot"
  check "dot graph of $(basename "$f")" $?
done
"$ombud" graph "$tmp/bad.yaml" > "$tmp/out" 2> "$tmp/err"
[ $? -eq 1 ] && [ ! -s "$tmp/out" ] && grep -q "6:14: error" "$tmp/err"
check "graph of an invalid workflow prints the errors and no graph" $?

# `ombud migrate`: creates the SQLite file (and its directory), lists what it applied, and a
# second run has nothing to do. A bad URL is exit 1 with the reason.
"$ombud" migrate --store "sqlite:$tmp/var/ombud.db" > "$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "^applied 1 create_schema$" "$tmp/out" && grep -q "^applied 2 api_tokens_and_inbox_dedup$" "$tmp/out" && grep -q "^applied 3 sqlite_clustered_keys$" "$tmp/out" && grep -q "^applied 4 history_row_per_step$" "$tmp/out" && grep -q "^applied 5 timers_updated_in_place$" "$tmp/out" && grep -q "^applied 6 commit_in_one_statement$" "$tmp/out" && grep -q "^applied 7 forget_by_age$" "$tmp/out" && grep -q "^applied 8 one_timer_row_per_case$" "$tmp/out" && grep -q "^applied 9 cases_waiting_in_queues$" "$tmp/out" && grep -q "^applied 10 open_business_keys$" "$tmp/out" && [ -f "$tmp/var/ombud.db" ]
check "migrate creates the database and lists the migrations it applied" $?
"$ombud" migrate --store "sqlite:$tmp/var/ombud.db" > "$tmp/out" 2>&1
[ $? -eq 0 ] && ! grep -q "^applied" "$tmp/out" && grep -q "schema up to date at version 10" "$tmp/out"
check "migrate again applies nothing" $?
"$ombud" migrate --store "mysql://u@h/db" > "$tmp/out" 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "unsupported scheme 'mysql'" "$tmp/err"
check "migrate with a bad store URL exits 1 and says why" $?

# One node per SQLite file: while `ombud serve` runs on a file, a second serve and a pipe on it
# refuse to start and say why; once it stopped, the next one starts.
serve_on_file() {  # serve_on_file OUT ERR — in the background, on $tmp/node/ombud.db
  "$ombud" serve --config "$root/config/ombud.yaml" --listen 127.0.0.1:0 \
    --store "sqlite:$tmp/node/ombud.db" --token-file "$tmp/node/admin.token" > "$1" 2> "$2" &
}
serve_on_file "$tmp/serve1.out" "$tmp/serve1.err"
first=$!
for _ in $(seq 100); do grep -q "serving on" "$tmp/serve1.out" 2> /dev/null && break; sleep 0.1; done
grep -q "serving on" "$tmp/serve1.out"; check "a first serve starts on the SQLite file" $?
timeout 20 "$ombud" serve --config "$root/config/ombud.yaml" --listen 127.0.0.1:0 \
  --store "sqlite:$tmp/node/ombud.db" --token-file "$tmp/node/admin.token" > "$tmp/out" 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "another ombud node (serve or pipe) is running on sqlite:$tmp/node/ombud.db" "$tmp/err"
check "a second serve on the same SQLite file exits 1 and says why" $?
echo '{"ref": 1, "start": {"workflow": "complaint", "data": {"phone": "1", "channel": "phone"}}}' |
  timeout 20 "$ombud" pipe --config "$root/config/ombud.yaml" --store "sqlite:$tmp/node/ombud.db" \
    "$root/workflows" > "$tmp/out" 2> "$tmp/err"
[ $? -eq 1 ] && grep -q "another ombud node" "$tmp/err" && [ ! -s "$tmp/out" ]
check "a pipe on the same SQLite file exits 1 and answers nothing" $?
# The first admin token's file is its owner's only, whatever the umask.
[ "$(stat -c %a "$tmp/node/admin.token")" = 600 ]
check "the admin token file is readable by its owner only" $?
# A backup while the server runs is a whole store: its own, readable by its owner only, and
# verify finds everything in it.
token=$(cat "$tmp/node/admin.token")
url=$(grep -o 'http://[0-9.:]*' "$tmp/serve1.out" | head -1)
python3 - "$url" "$token" <<'PY'
import json, sys, urllib.request
for phone in ("13900000001", "13900000002", "13900000003"):
    body = json.dumps({"workflow": "complaint", "data": {"phone": phone, "summary": "s"}}).encode()
    urllib.request.urlopen(urllib.request.Request(
        sys.argv[1] + "/v1/instances", data=body, method="POST",
        headers={"Authorization": "Bearer " + sys.argv[2], "Content-Type": "application/json"}))
PY
"$ombud" backup --store "sqlite:$tmp/node/ombud.db" "$tmp/backup.db" > "$tmp/out" 2>&1 &&
  [ "$(stat -c %a "$tmp/backup.db")" = 600 ] &&
  [ "$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM instances").fetchone()[0])' "$tmp/backup.db")" = 3 ] &&
  "$ombud" verify --config "$root/config/ombud.yaml" --store "sqlite:$tmp/backup.db" > "$tmp/verify.out" 2>&1
check "backup copies the running server's store, which verifies ($(tail -1 "$tmp/verify.out"))" $?
"$ombud" backup --store "sqlite:$tmp/node/ombud.db" "$tmp/backup.db" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "exists" "$tmp/out"
check "backup does not overwrite a file" $?
kill -TERM "$first"
wait "$first"
check "the first serve stops on SIGTERM" $?
serve_on_file "$tmp/serve2.out" "$tmp/serve2.err"
second=$!
for _ in $(seq 100); do grep -q "serving on" "$tmp/serve2.out" 2> /dev/null && break; sleep 0.1; done
grep -q "serving on" "$tmp/serve2.out"; check "once it stopped, the next serve starts" $?
kill -TERM "$second"
wait "$second"

# A new store's first admin token does not overwrite the token file another store's went to:
# that one is shown nowhere else. It is moved aside and the log says where.
first_token=$(cat "$tmp/node/admin.token")
"$ombud" serve --config "$root/config/ombud.yaml" --listen 127.0.0.1:0 \
  --store "sqlite:$tmp/node/other.db" --token-file "$tmp/node/admin.token" > "$tmp/serve3.out" 2> "$tmp/serve3.err" &
third=$!
for _ in $(seq 100); do grep -q "serving on" "$tmp/serve3.out" 2> /dev/null && break; sleep 0.1; done
kill -TERM "$third"
wait "$third"
aside=$(ls "$tmp/node/" | grep '^admin\.token\..' | head -1)
[ -n "$aside" ] && [ "$(cat "$tmp/node/$aside")" = "$first_token" ] &&
  [ "$(cat "$tmp/node/admin.token")" != "$first_token" ] && grep -q "moved_to" "$tmp/serve3.err"
check "a new store's first token moves the old token file aside ($aside)" $?

# A NUL in a text is refused where it comes in, as over HTTP: on PostgreSQL it would fail the
# group commit of every request beside it.
printf '%s\n' '{"ref": 1, "start": {"workflow": "complaint", "data": {"phone": "1380\u00000001", "channel": "phone"}}}' |
  "$ombud" pipe --config "$root/config/ombud.yaml" --store "sqlite:$tmp/nul.db" "$root/workflows" > "$tmp/out" 2> "$tmp/err"
grep -q '"status":"invalid".*NUL.*/start/data/phone' "$tmp/out"
check "pipe refuses a NUL in a text and names where it is" $?

# A newer node migrates the store past what this build knows while it serves: it stops (as on
# SIGTERM, exit 0) and says why, rather than write rows by the old schema's rules.
"$ombud" serve --config "$root/config/ombud.yaml" --listen 127.0.0.1:0 \
  --store "sqlite:$tmp/node/newer.db" --token-file "$tmp/node/newer.token" > "$tmp/serve4.out" 2> "$tmp/serve4.err" &
fourth=$!
for _ in $(seq 100); do grep -q "serving on" "$tmp/serve4.out" 2> /dev/null && break; sleep 0.1; done
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1], timeout=10); c.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)", ("from_a_newer_build",)); c.commit()' "$tmp/node/newer.db"
for _ in $(seq 150); do kill -0 "$fourth" 2> /dev/null || break; sleep 0.1; done
if kill -0 "$fourth" 2> /dev/null; then kill -9 "$fourth"; stopped=1; else stopped=0; fi
wait "$fourth"; code=$?
[ "$stopped" = 0 ] && [ "$code" = 0 ] && grep -q "schema is newer than this build knows" "$tmp/serve4.err"
check "serve stops when the store is migrated past what it knows (exit $code)" $?

# `ombud verify`: a complaint has one timer row, its earliest pending timer (decision 0013); the
# store verifies. Without that row the case would never move again, and verify says so (exit 1).
echo '{"ref": "v1", "start": {"workflow": "complaint", "data": {"phone": "13800000000", "channel": "phone", "summary": "x"}}}' |
  "$ombud" pipe --config "$root/config/ombud.yaml" --store "sqlite:$tmp/verify.db" "$root/workflows" > "$tmp/out" 2>&1
"$ombud" verify --config "$root/config/ombud.yaml" --store "sqlite:$tmp/verify.db" > "$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "^ok: 1 instances, 0 problems" "$tmp/out"
check "verify passes a store whose cases have their earliest timer's row" $?
rows=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM timers").fetchone()[0])' "$tmp/verify.db")
[ "$rows" = "1" ]; check "a complaint start writes one timer row (was $rows)" $?
python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("DELETE FROM timers"); c.commit()' "$tmp/verify.db"
"$ombud" verify --config "$root/config/ombud.yaml" --store "sqlite:$tmp/verify.db" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "^complaint-1: pending timer #[0-9]*, the earliest, has no row" "$tmp/out"
check "verify reports a case whose earliest timer has no row" $?

# Serials: the second contract draws HT-…-00002, and the replay draws the number its history
# recorded, not the first again.
for n in 1 2; do
  echo '{"ref": "c'$n'", "start": {"workflow": "contract_review", "data": {"drafter": "ma.jun", "customer": "ACME", "amount": 100}}}'
done | "$ombud" pipe --config "$root/config/ombud.yaml" --store "sqlite:$tmp/serials.db" "$root/workflows" > "$tmp/out" 2>&1
grep -q '"number":"HT-[0-9]*-00002"' "$tmp/out"; check "the second contract draws serial 2" $?
"$ombud" verify --config "$root/config/ombud.yaml" --store "sqlite:$tmp/serials.db" > "$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "^ok: 2 instances, 0 problems" "$tmp/out"
check "verify replays each case's serial as its history drew it" $?

# A caller's idempotency key may not take the prefix of ombud's own (webhooks, inbox replays).
echo '{"ref": "k1", "start": {"workflow": "complaint", "idempotency_key": "hook:phone:CA1", "data": {"phone": "13800000001", "channel": "phone", "summary": "x"}}}' |
  "$ombud" pipe --config "$root/config/ombud.yaml" --store "sqlite:$tmp/keys.db" "$root/workflows" > "$tmp/out" 2>&1
grep -q '"status":"invalid".*reserved for ombud' "$tmp/out"
check "pipe refuses an idempotency key with a reserved prefix" $?

# validate --config with no paths checks the workflows serve would publish; nothing to check, or
# a config serve would refuse (port, store file, workflows directory), is an error.
"$ombud" validate --strict --config "$root/config/ombud.yaml" > "$tmp/out" 2>&1
[ $? -eq 0 ] && grep -q "^valid: [1-9][0-9]* workflow files" "$tmp/out"
check "validate --config alone checks the config's workflows directory" $?
mkdir -p "$tmp/empty"
"$ombud" validate "$tmp/empty" > "$tmp/out" 2>&1
[ $? -eq 1 ]; check "validate of a directory without workflow files exits 1" $?
"$ombud" validate > "$tmp/out" 2>&1
[ $? -eq 2 ]; check "validate with neither paths nor --config is a usage error" $?
mkdir -p "$tmp/badcfg"
sed 's|^listen: .*|listen: 127.0.0.1:99999|; s|^store: .*|store: "sqlite:"|; s|^workflows: .*|workflows: ../workflowz|' \
  "$root/config/ombud.yaml" > "$tmp/badcfg/ombud.yaml"
"$ombud" validate --config "$tmp/badcfg/ombud.yaml" "$root/workflows" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "port must be 0-65535" "$tmp/out" && grep -q "no file after 'sqlite:'" "$tmp/out" &&
  grep -q "workflows: no directory" "$tmp/out"
check "validate --config refuses what serve would refuse to start with" $?
# A webhook route naming a workflow or event that does not exist would send every call to the
# inbox: the name is an error at its line and column, with the near name.
mkdir -p "$tmp/routes/config"
cp -r "$root/workflows" "$tmp/routes/workflows"
sed 's|^        start: complaint$|        start: complain|' "$root/config/ombud.yaml" > "$tmp/routes/config/ombud.yaml"
"$ombud" validate --config "$tmp/routes/config/ombud.yaml" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "ombud.yaml:[0-9]*:[0-9]*: error: no workflow 'complain' (did you mean 'complaint'?)" "$tmp/out"
check "validate --config names a webhook route's unknown workflow" $?

# verify and pipe work on the config's store when --store is not given, as serve does; verify
# finds config/ombud.yaml by itself, and a store file that does not exist is an error (exit 2),
# not a new empty store that verifies.
mkdir -p "$tmp/site/config"
sed "s|^store: .*|store: sqlite:$tmp/site/from-config.db|; s|^workflows: .*|workflows: $root/workflows|" \
  "$root/config/ombud.yaml" > "$tmp/site/config/ombud.yaml"
grep -q "^store: sqlite:$tmp/site/from-config.db" "$tmp/site/config/ombud.yaml"
check "the test config names its store" $?
echo '{"ref": "s1", "start": {"workflow": "complaint", "data": {"phone": "13800000002", "channel": "phone", "summary": "x"}}}' |
  "$ombud" pipe --config "$tmp/site/config/ombud.yaml" "$root/workflows" > "$tmp/out" 2>&1
[ -f "$tmp/site/from-config.db" ] && grep -q '"status":"ok"' "$tmp/out"
check "pipe without --store writes to the config's store" $?
(cd "$tmp/site" && "$ombud" verify > "$tmp/out" 2>&1)
[ $? -eq 0 ] && grep -q "^ok: 1 instances, 0 problems" "$tmp/out"
check "verify without flags audits the store of config/ombud.yaml" $?
"$ombud" verify --config "$root/config/ombud.yaml" --store "sqlite:$tmp/no-such.db" > "$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "no store at $tmp/no-such.db" "$tmp/out" && [ ! -e "$tmp/no-such.db" ]
check "verify of a store file that does not exist exits 2 and creates nothing" $?

# A pipe request member nobody reads is refused, not dropped: a misspelt key would lose its effect.
printf '%s\n' '{"ref": "u1", "start": {"workflow": "complaint", "idempotencyKey": "k", "data": {"phone": "13800000003"}}}' \
  '{"ref": "u2", "start": {"workflow": "complaint", "data": {"phone": "13800000003"}}, "event": {"name": "x"}}' |
  "$ombud" pipe --config "$root/config/ombud.yaml" --store memory: "$root/workflows" > "$tmp/out" 2>&1
grep -q '"status":"invalid","error":"start: unknown member .idempotencyKey."' "$tmp/out" &&
  grep -q "not both" "$tmp/out"
check "pipe refuses unknown members and a request with both start and event" $?

# A token for a store that does not exist (a typo, a relative path from elsewhere) would go to a
# new, empty store the server never reads: refused, and no file is made.
"$ombud" token create --role admin --store "sqlite:$tmp/tokens.db" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "no store at $tmp/tokens.db" "$tmp/out" && ! grep -q "^omb_" "$tmp/out" &&
  [ ! -e "$tmp/tokens.db" ]
check "token create refuses a store that does not exist" $?
"$ombud" migrate --store "sqlite:$tmp/tokens.db" > /dev/null 2>&1

# A token acts as its person, and history names them: a person the directory lacks is refused.
"$ombud" token create --role supervisor --person ghost.boss --config "$root/config/ombud.yaml" \
  --store "sqlite:$tmp/tokens.db" > "$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "nobody called 'ghost.boss' in the directory" "$tmp/out" && ! grep -q "^omb_" "$tmp/out"
check "token create refuses a person the directory does not have" $?
"$ombud" token create --role supervisor --person chen.jing --config "$root/config/ombud.yaml" \
  --store "sqlite:$tmp/tokens.db" > "$tmp/out" 2>/dev/null
[ $? -eq 0 ] && grep -q "^omb_" "$tmp/out"
check "token create makes a token for a person of the directory" $?
id=$("$ombud" token list --store "sqlite:$tmp/tokens.db" 2>/dev/null | awk '/chen.jing/ {print $1; exit}')
"$ombud" token revoke "$id" --store "sqlite:$tmp/tokens.db" > "$tmp/out" 2>&1 &&
  grep -q "^revoked $id$" "$tmp/out" &&
  "$ombud" token revoke "$id" --store "sqlite:$tmp/tokens.db" > "$tmp/out" 2>&1 &&
  grep -q "^$id was revoked already$" "$tmp/out"
check "token revoke says when a token was revoked already ($id)" $?

"$ombud" token create --role admin --config "$tmp/no-such-config.yaml" --store "" > "$tmp/out" 2>&1
[ $? -eq 1 ] && ! grep -q "^omb_" "$tmp/out"
check "token create with a config that cannot be read makes no token" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
