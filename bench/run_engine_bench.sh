#!/usr/bin/env bash
# Engine core vs XState 5, back to back on the same machine: runs bench/step_bench.cpp (built
# beforehand; this script builds nothing) and bench/xstate/complaint.mjs, then prints the ratios
# ours / XState and a verdict against the goals: >= 10x XState's transitions/s, <= 1 KB per
# idle instance.
#
#   bench/run_engine_bench.sh [path/to/step_bench] [--rounds N] [--repeat N] [--idle N] [--scale X]
#
# The two programs take turns, --rounds times (default 3): ours, XState, ours, XState, ... The
# speed of a shared VM drifts by tens of percent over minutes, so one run of each can put them
# in different weather. Each figure is the best of its rounds (each round is already the best
# of --repeat runs), and the verdict compares best with best; every round's own ratios are
# printed too.
#
# The step_bench path defaults to build-bench/bench/step_bench (a Release build:
#   cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-bench -j2 --target step_bench).
# Options after it go to both programs. Both run pinned to CPU 1 when taskset works. The XState
# dependencies are installed from the committed package-lock.json (npm ci) when missing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

step_bench="$root/build-bench/bench/step_bench"
if [[ $# -gt 0 && "$1" != --* ]]; then
  step_bench="$1"
  shift
fi
rounds=3
if [[ $# -gt 1 && "$1" == --rounds ]]; then
  rounds="$2"
  shift 2
fi
[[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "run_engine_bench.sh: --rounds wants a positive number" >&2; exit 2; }
if [[ ! -x "$step_bench" ]]; then
  echo "run_engine_bench.sh: $step_bench is not an executable; build it first:" >&2
  echo "  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release && cmake --build build-bench -j2 --target step_bench" >&2
  exit 2
fi
for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "run_engine_bench.sh: $tool not found" >&2; exit 2; }
done

xstate_dir="$here/xstate"
if [[ ! -f "$xstate_dir/node_modules/xstate/package.json" ]]; then
  echo "== npm ci in bench/xstate"
  (cd "$xstate_dir" && npm ci --no-audit --no-fund)
fi

pin=()
if command -v taskset >/dev/null && taskset -c 1 true 2>/dev/null; then
  pin=(taskset -c 1)
fi

echo "== machine"
echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "cpu:     $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) online"
echo "kernel:  $(uname -sr)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
echo "node:    $(node --version)"
echo "pinning: ${pin[*]:-none}"
echo "commit:  $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for ((round = 1; round <= rounds; round++)); do
  echo
  echo "== round $round of $rounds: ombud: $step_bench $*"
  "${pin[@]}" "$step_bench" --config "$root/config/ombud.yaml" \
    --workflow "$root/workflows/complaint.yaml" "$@" | tee "$tmp/ours.txt"
  tail -n1 "$tmp/ours.txt" >>"$tmp/ours.jsonl"

  echo
  echo "== round $round of $rounds: XState: node --expose-gc bench/xstate/complaint.mjs $*"
  "${pin[@]}" node --expose-gc --max-old-space-size=6144 "$xstate_dir/complaint.mjs" "$@" |
    tee "$tmp/xstate.txt"
  tail -n1 "$tmp/xstate.txt" >>"$tmp/xstate.jsonl"
done

echo
echo "== ratios (ours / XState)"
node - "$tmp/ours.jsonl" "$tmp/xstate.jsonl" <<'EOF'
const fs = require('fs');
const lines = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((s) => JSON.parse(s));
const [oursRounds, xsRounds] = process.argv.slice(2).map(lines);
// The best of the rounds: the highest rate of each figure; memory is the same in every round
// for ours (it is counted, not timed), and the last round's is taken.
const best = (rounds) => {
  const b = { ...rounds[rounds.length - 1] };
  for (const r of rounds) {
    for (const [k, v] of Object.entries(r)) {
      if (k.endsWith('_transitions_per_s') && v > b[k]) b[k] = v;
    }
  }
  return b;
};
const keys = ['complaint_1', 'complaint_10k', 'chain_1', 'chain_10k'];
oursRounds.forEach((o, i) => {
  const x = xsRounds[i];
  const parts = keys.map((k) => `${k} ${(o[`${k}_transitions_per_s`] / x[`${k}_transitions_per_s`]).toFixed(2)}x`);
  console.log(`round ${i + 1}: ${parts.join(', ')}`);
});
console.log(`best of ${oursRounds.length} round(s) each:`);
const [ours, xs] = [best(oursRounds), best(xsRounds)];

const kSpeedGoal = 10;      // x XState's transitions/s
const kIdleGoalBytes = 1024;
const out = { bench: 'engine_vs_xstate', xstate_version: xs.xstate, node: xs.node, rounds: oursRounds.length };
let pass = true;
// The goal is the complaint lifecycle's; the 50-state chain (one event, one transition, nothing
// else) is shown for reference: it measures the fixed cost of a step.
const rows = [
  ['complaint_1', 'complaint lifecycle, 1 instance', true],
  ['complaint_10k', 'complaint lifecycle, 10k instances', true],
  ['chain_1', '50-state chain, 1 instance', false],
  ['chain_10k', '50-state chain, 10k instances', false],
];
for (const [key, label, goal] of rows) {
  const a = ours[`${key}_transitions_per_s`];
  const b = xs[`${key}_transitions_per_s`];
  const ratio = a / b;
  const ok = ratio >= kSpeedGoal;
  if (goal) pass = pass && ok;
  out[`${key}_ratio`] = Number(ratio.toFixed(2));
  const verdict = goal ? `${ok ? 'meets' : 'MISSES'} the goal (>= ${kSpeedGoal}x)` : 'reference, no goal';
  console.log(
    `${label.padEnd(36)} ${String(a).padStart(10)} vs ${String(b).padStart(9)} transitions/s  ` +
      `${ratio.toFixed(2).padStart(7)}x  ${verdict}`,
  );
}
const idleRatio = ours.idle_bytes_per_instance / xs.idle_bytes_per_instance;
const idleOk = ours.idle_bytes_per_instance <= kIdleGoalBytes;
pass = pass && idleOk;
out.idle_bytes_ours = ours.idle_bytes_per_instance;
out.idle_bytes_xstate = xs.idle_bytes_per_instance;
out.idle_ratio = Number(idleRatio.toFixed(3));
console.log(
  `${'bytes per idle instance'.padEnd(36)} ${String(ours.idle_bytes_per_instance).padStart(10)} vs ` +
    `${String(xs.idle_bytes_per_instance).padStart(9)} bytes          ${idleRatio.toFixed(2).padStart(7)}x  ` +
    `${idleOk ? 'meets' : 'MISSES'} the goal (<= ${kIdleGoalBytes} B)`,
);
console.log(
  `${'serialized instance (reference)'.padEnd(36)} ${String(ours.idle_json_bytes).padStart(10)} vs ` +
    `${String(xs.idle_json_bytes).padStart(9)} bytes of JSON`,
);
out.verdict = pass ? 'all goals met' : 'goal missed';
console.log(`verdict: ${out.verdict}`);
console.log(JSON.stringify({ ...out, ours, xstate: xs }));
EOF
