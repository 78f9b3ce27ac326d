#!/usr/bin/python3
"""Kill -9 the engine at random moments and check that nothing acknowledged was lost.

A driver (this script) feeds `ombud pipe` starts and events over stdin, each with an
idempotency key, and reads the answers it writes after each commit. At random moments it
kills the engine with SIGKILL, restarts it, and sends again every request that was not
answered (as a client of a real system would: same idempotency key). Meanwhile every event
re-arms a 2 s timer, so timers are armed, cancelled and fired around each kill.

Afterwards, with the engine stopped, `ombud verify --format json` reports the store:
  - every request the driver sent was applied exactly once (each event's `n` appears once in
    its instance's inputs; each start created one instance);
  - no timer fired twice, each case's earliest pending timer has its row, every row a pending
    timer;
  - each instance's history replays to its stored state;
  - no due timer was lost: every instance idle for longer than its timers is closed.

  crash_test.py OMBUD STORE_URL [--kills N] [--seed S] [--nodes 1|2]

With --nodes 2 two engines share the store (PostgreSQL) and the kills alternate between
them: the survivor must take over the dead node's timers once their lease expires.
"""
import argparse
import atexit
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKFLOWS = os.path.join(HERE, "workflows")
LEASE_MS = 1500


class Engine:
    """One `ombud pipe` process and the answers it wrote."""

    running = []  # every engine started: a run that fails leaves none behind (atexit)

    def __init__(self, ombud, store, node, answered):
        self.proc = subprocess.Popen(
            [ombud, "pipe", "--store", store, "--node", node, "--lease-ms", str(LEASE_MS),
             "--keep-running", WORKFLOWS],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        Engine.running.append(self.proc)
        self.answered = answered
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.errors = []
        threading.Thread(target=self._stderr, daemon=True).start()

    def _read(self):
        for raw in self.proc.stdout:
            if not raw.endswith(b"\n"):
                break  # cut off by the kill: not an answer (the request is sent again)
            answer = json.loads(raw)
            self.answered[answer["ref"]] = answer

    def _stderr(self):
        for raw in self.proc.stderr:
            self.errors.append(raw.decode(errors="replace").rstrip())

    def send(self, request):
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, ValueError):
            return False

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.reader.join(timeout=5)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("engine did not stop on SIGTERM")
        self.reader.join(timeout=5)
        return self.proc.returncode


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


@atexit.register
def stop_engines():
    for proc in Engine.running:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ombud")
    parser.add_argument("store")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--cases", type=int, default=40)
    args = parser.parse_args()
    if args.store.startswith("@"):
        # "@FILE": a PostgreSQL URL written by tests/support/pg_cluster.sh; the run gets a fresh
        # database of its own next to the other tests' schemas.
        with open(args.store[1:]) as f:
            base = f.read().strip()
        name = f"crash_{os.getpid()}"
        subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
        args.store = base.rsplit("/", 1)[0] + "/" + name
    rng = random.Random(args.seed)
    print(f"seed {args.seed}, store {args.store}, {args.nodes} node(s), {args.kills} kills")

    answered = {}
    requests = {}  # ref → request, every request ever sent
    engines = [Engine(args.ombud, args.store, f"node-{i}", answered) for i in range(args.nodes)]
    n = 0

    def new_requests(count):
        nonlocal n
        out = []
        for _ in range(count):
            n += 1
            case = rng.randrange(args.cases)
            if f"s{case}" not in requests:
                ref = f"s{case}"
                out.append({"ref": ref, "start": {"workflow": "counter", "data": {"ref": f"c{case}"},
                                                   "idempotency_key": ref}})
            else:
                ref = f"e{n}"
                out.append({"ref": ref, "event": {"instance": None, "case": case, "name": "bump",
                                                   "data": {"n": n}, "idempotency_key": ref}})
        return out

    def instance_of(case):
        a = answered.get(f"s{case}")
        return a["instance"]["id"] if a and a.get("instance") else None

    def send(engine, request):
        # The driver's own bookkeeping (_sent, _engine) is not part of the request: ombud pipe
        # refuses members it does not know, which made a start resent after a kill 'invalid'.
        request = {k: v for k, v in request.items() if not k.startswith("_")}
        if "event" in request:
            event = dict(request["event"])
            instance = instance_of(event.pop("case"))
            if instance is None:
                return False  # its start is not acknowledged yet: send it later
            event["instance"] = instance
            request = {"ref": request["ref"], "event": event}
        return engine.send(request)

    kills = 0
    started = time.monotonic()
    while kills < args.kills:
        deadline = time.monotonic() + rng.uniform(0.2, 1.2)
        while time.monotonic() < deadline:
            for r in new_requests(rng.randint(1, 30)):
                requests[r["ref"]] = r
            for ref, r in requests.items():
                if ref not in answered and not r.get("_sent"):
                    target = rng.randrange(len(engines))
                    if send(engines[target], r):
                        r["_sent"] = True
                        r["_engine"] = target
            time.sleep(rng.uniform(0.0, 0.05))
        victim = rng.randrange(len(engines))
        engines[victim].kill()
        kills += 1
        # Whatever it did not answer may or may not have been committed: send it again.
        for ref, r in requests.items():
            if ref not in answered:
                r["_sent"] = False
        engines[victim] = Engine(args.ombud, args.store, f"node-{victim}", answered)
        if args.nodes > 1 and rng.random() < 0.5:
            time.sleep(LEASE_MS / 1000 * 1.5)  # the other node must take over the dead one's leases

    # Drain: resend until everything is answered.
    drain_deadline = time.monotonic() + 60
    while any(ref not in answered for ref in requests):
        # A start that failed leaves its case's events unsendable: say so rather than wait.
        failed = [a for ref, a in list(answered.items())
                  if ref.startswith("s") and a["status"] != "ok"]
        if failed:
            fail(f"starts not acknowledged: {failed[:3]}")
        if time.monotonic() > drain_deadline:
            missing = [ref for ref in requests if ref not in answered][:10]
            for ref in missing:
                case = requests[ref].get("event", {}).get("case")
                if case is not None:
                    print(f"{ref}: case {case}, its start answered {answered.get(f's{case}')}")
            for i, e in enumerate(engines):
                print(f"engine {i}: exit {e.proc.poll()}; last stderr: {e.errors[-5:]}")
            fail(f"requests never answered: "
                 f"{[(ref, requests[ref].get('_engine')) for ref in missing]}")
        for ref, r in requests.items():
            if ref not in answered and not r.get("_sent"):
                if send(engines[0], r):
                    r["_sent"] = True
                    r["_engine"] = 0
        time.sleep(0.2)
    bad = [a for a in answered.values() if a["status"] not in ("ok", "not_handled")]
    # An event to a case whose timers already closed it is rejected (ended): that is fine.
    bad = [a for a in bad if not (a["status"] == "rejected" and "ended" in a.get("error", ""))]
    if bad:
        fail(f"unexpected answers: {bad[:3]}")
    # Let every timer come due and fire: 2 s in open + 1 s in expired, plus a lease.
    time.sleep(3.5 + LEASE_MS / 1000)
    for e in engines:
        code = e.stop()
        if code != 0:
            fail(f"engine exited {code} on SIGTERM: {e.errors[-5:]}")
    elapsed = time.monotonic() - started

    verify = subprocess.run([args.ombud, "verify", "--store", args.store, "--format", "json"],
                            capture_output=True, text=True)
    if verify.returncode not in (0, 1):
        fail(f"ombud verify failed: {verify.stderr}")
    report = json.loads(verify.stdout)
    for p in report["problems"]:
        print(f"  {p['instance']}: {p['problem']}")
    if not report["ok"]:
        fail("the store does not verify")

    cases = {c["id"]: c for c in report["cases"]}
    starts = [r for r in requests if r.startswith("s")]
    if len(cases) != len(starts):
        fail(f"{len(starts)} starts acknowledged but {len(cases)} instances stored")
    seen = {}
    for c in cases.values():
        for i in c["inputs"]:
            if "event" in i:
                k = i["data"]["n"]
                seen[k] = seen.get(k, 0) + 1
    events = {int(ref[1:]) for ref, a in answered.items() if ref.startswith("e")}
    applied = {int(ref[1:]) for ref, a in answered.items()
               if ref.startswith("e") and a["status"] in ("ok", "not_handled")}
    twice = [k for k, c in seen.items() if c > 1]
    if twice:
        fail(f"events applied more than once: {twice[:10]}")
    lost = sorted(applied - set(seen))
    if lost:
        fail(f"acknowledged events missing from history: {lost[:10]}")
    extra = sorted(set(seen) - events)
    if extra:
        fail(f"history has events nobody sent: {extra[:10]}")
    not_closed = [c["id"] for c in cases.values() if c["state"] != "closed"]
    if not_closed:
        fail(f"due timers were lost: cases still open: {not_closed[:10]}")
    timer_fires = sum(1 for c in cases.values() for i in c["inputs"] if "timer" in i)
    print(f"ok: {kills} kills in {elapsed:.1f} s; {len(cases)} cases, {len(applied)} events "
          f"acknowledged and applied once each, {timer_fires} timers fired once each, "
          f"every history replays")


if __name__ == "__main__":
    main()
