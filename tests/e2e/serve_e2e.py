#!/usr/bin/python3
"""End to end: the real `ombud serve` on a random port, driven over HTTP only.

A phone system's signed webhook opens a complaint; the assigned handler acknowledges it; the
resolution SLA breaches and escalates, which moves the case to the supervisor; the supervisor
reassigns it; the new handler resolves it; the return visit scores it and it closes. Then the
history must show every step with who did it, the listing must find the case by its breach, and
/metrics must have counted it. The notifications on the way reach a notification gateway (a small
HTTP server of this test) signed, with their texts, and one the gateway refused at first is
delivered again. SIGTERM must stop the server with exit status 0.

The shipped complaint workflow and config are used as they are, except that the workflow runs on
the wall clock (`calendar: none`) with a resolution goal of 3 seconds instead of 5 working days:
the same states, events, roles and escalation ladder, on a time scale a test can wait for.

  serve_e2e.py OMBUD SOURCE_DIR STORE_URL      (STORE_URL "@FILE": a PostgreSQL URL in FILE; the
                                                test creates a database of its own there)
"""
import hashlib
import hmac
import http.server
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

SECRET = "e2e-phone-secret"
NOTIFY_SECRET = "e2e-gateway-secret"


class Gateway(http.server.BaseHTTPRequestHandler):
    """The e-mail/SMS relay: keeps every POST; refuses the very first one (503) once."""
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Gateway.lock:
            first = not Gateway.received
            Gateway.received.append((dict(self.headers), body))
        self.send_response(503 if first else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def start_gateway():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)
    print("ok   " + message)


class Client:
    def __init__(self, base):
        self.base = base

    def call(self, method, path, body=None, token=None, headers=None, raw=None):
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        try:
            return status, json.loads(text) if text else None
        except json.JSONDecodeError:
            return status, text

    def hook(self, source, payload):
        body = json.dumps(payload).encode()
        stamp = str(int(time.time()))
        signature = hmac.new(SECRET.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        return self.call("POST", "/hooks/" + source, raw=body, headers={
            "Content-Type": "application/json", "X-Ombud-Timestamp": stamp,
            "X-Ombud-Signature": signature.hexdigest()})


def fast_complaint(source_dir):
    with open(os.path.join(source_dir, "workflows", "complaint.yaml")) as f:
        text = f.read()
    text, n1 = re.subn(r"^calendar: office$", "calendar: none", text, flags=re.M)
    text, n2 = re.subn(r"duration\('5d'\)", "duration('3s')", text)
    if n1 != 1 or n2 != 1:
        fail("complaint.yaml changed shape: update the e2e test's time scale")
    return text


def main():
    ombud, source_dir, store = sys.argv[1], sys.argv[2], sys.argv[3]
    work = tempfile.mkdtemp(prefix="ombud-e2e-")
    if store.startswith("@"):
        with open(store[1:]) as f:
            base = f.read().strip()
        name = f"e2e_{os.getpid()}"
        subprocess.run(["psql", base, "-q", "-c", f"CREATE DATABASE {name}"], check=True)
        store = base.rsplit("/", 1)[0] + "/" + name
    os.makedirs(os.path.join(work, "config"))
    os.makedirs(os.path.join(work, "workflows"))
    with open(os.path.join(source_dir, "config", "ombud.yaml")) as f:
        config = f.read()
    gateway = start_gateway()
    shipped = "notifications:\n  deliver: log\n"
    if shipped not in config:
        fail("config/ombud.yaml no longer has 'notifications: deliver: log': update the e2e test")
    config = config.replace(shipped, "notifications:\n"
                            f"  url: http://127.0.0.1:{gateway.server_address[1]}/notify\n"
                            "  secret_env: OMBUD_NOTIFY_SECRET\n")
    with open(os.path.join(work, "config", "ombud.yaml"), "w") as f:
        f.write(config)
    with open(os.path.join(work, "workflows", "complaint.yaml"), "w") as f:
        f.write(fast_complaint(source_dir))
    token_file = os.path.join(work, "admin.token")

    env = dict(os.environ, OMBUD_HOOK_PHONE_SECRET=SECRET, OMBUD_NOTIFY_SECRET=NOTIFY_SECRET)
    server = subprocess.Popen(
        [ombud, "serve", "--config", os.path.join(work, "config", "ombud.yaml"),
         "--listen", "127.0.0.1:0", "--store", store, "--token-file", token_file,
         "--lease-ms", "2000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    log = []
    threading.Thread(target=lambda: log.extend(server.stderr), daemon=True).start()
    first = server.stdout.readline()
    match = re.search(r"http://[0-9.]+:\d+", first)
    if not match:
        server.kill()
        fail(f"no URL in the server's first line: {first!r}; log: {''.join(log[-5:])}")
    api = Client(match.group(0))
    print(f"server at {api.base}, store {store}")
    try:
        run(api, ombud, store, token_file, os.path.join(work, "config", "ombud.yaml"))
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                code = server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                fail("the server did not stop on SIGTERM")
            check(code == 0, f"SIGTERM stops the server with exit 0 (got {code})")


def token(ombud, store, config, role, person):
    # The server's config: its directory must have the person.
    out = subprocess.run([ombud, "token", "create", "--role", role, "--person", person,
                          "--store", store, "--config", config],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def wait_for(api, admin, case, condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, instance = api.call("GET", f"/v1/instances/{case}", token=admin)
        if status == 200 and condition(instance):
            return instance
        time.sleep(0.2)
    fail(f"{what} within {seconds} s; the case is {instance}")


def run(api, ombud, store, token_file, config):
    status, body = api.call("GET", "/readyz")
    check(status == 200 and body["status"] == "ready" and body["schema_version"] >= 2,
          "/readyz says ready, with the schema migrated")
    with open(token_file) as f:
        admin = f.read().strip()
    supervisor = token(ombud, store, config, "supervisor", "chen.jing")

    # 1. The phone system reports a finished call tagged "complaint": a case opens.
    status, body = api.hook("phone", {"event_id": "evt-1", "call_id": "call-1",
                                      "status": "completed", "caller": "13912345678",
                                      "tag": "complaint", "note": "Parcel arrived damaged"})
    check(status == 200 and body["status"] == "ok", f"the signed webhook opens a complaint ({status})")
    case = body["instance"]["id"]
    status, again = api.hook("phone", {"event_id": "evt-1", "call_id": "call-1",
                                       "status": "completed", "caller": "13912345678",
                                       "tag": "complaint", "note": "Parcel arrived damaged"})
    check(status == 200 and again["instance"]["id"] == case and again.get("replayed"),
          "the same delivery again is answered from the first, nothing new")
    status, bad = api.call("POST", "/hooks/phone", raw=b'{"event_id":"x"}', headers={
        "Content-Type": "application/json", "X-Ombud-Timestamp": str(int(time.time())),
        "X-Ombud-Signature": "0" * 64})
    check(status == 401, "a webhook with a wrong signature is refused (401)")

    # 2. Assigned fairly to a handler, who acknowledges it.
    instance = wait_for(api, admin, case, lambda i: i["state"] == "assigned", 5, "assigned")
    handler = instance["assignee"]
    check(handler in ("li.na", "wang.fang", "liu.yang"), f"assigned to a handler ({handler})")
    agent = token(ombud, store, config, "agent", handler)
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "cancel", "data": {"reason": "mine"}}, token=agent)
    check(status == 403, "an agent may not cancel (the transition's roles) → 403")
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "acknowledge", "revision": instance["revision"]},
                            token=agent)
    check(status == 200 and body["instance"]["state"] == "investigating",
          "the handler acknowledges: investigating")
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "add_note", "data": {"note": "late"},
                             "revision": instance["revision"]}, token=agent)
    check(status == 409, "an event against a stale revision → 409")

    # 3. The resolution goal (3 s here) passes: breach, escalation, supervisor review.
    instance = wait_for(api, admin, case, lambda i: i["state"] == "supervisor_review", 20,
                        "the breach did not move the case to the supervisor")
    resolve = [c for c in instance["slas"] if c["name"] == "resolve"][0]
    check(resolve["breached"], "the resolve SLA is breached")
    check(instance["priority"] in ("high", "urgent"), f"priority raised ({instance['priority']})")
    check(instance["assignee"] == "chen.jing", "the supervisor has the case")
    status, listing = api.call("GET", "/v1/instances?workflow=complaint&sla=breached",
                               token=supervisor)
    check(status == 200 and case in [i["id"] for i in listing["items"]],
          "the breached-cases listing finds it")

    # 4. The supervisor reassigns; the new handler resolves with a call-back time.
    other = "wang.fang" if handler != "wang.fang" else "li.na"
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "reassign", "data": {"agent": other, "note": "overdue"}},
                            token=supervisor)
    check(status == 200 and body["instance"]["assignee"] == other
          and body["instance"]["state"] == "investigating", f"reassigned to {other}")
    second = token(ombud, store, config, "agent", other)
    callback = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 1))
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "resolved",
                             "data": {"resolution": "replacement sent", "callback_at": callback},
                             "idempotency_key": "resolve-1"}, token=second)
    check(status == 200 and body["instance"]["state"] == "return_visit",
          "resolved: return visit scheduled")
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "resolved",
                             "data": {"resolution": "replacement sent", "callback_at": callback},
                             "idempotency_key": "resolve-1"}, token=second)
    check(status == 200 and body.get("replayed"), "the same idempotency key again: one effect")

    # 5. The return visit: satisfied, closed.
    status, body = api.call("POST", f"/v1/instances/{case}/events",
                            {"event": "visited", "data": {"score": 5}}, token=second)
    check(status == 200 and body["instance"]["state"] == "closed", "the return visit closes it")

    # 6. The history tells the whole story, with who did what.
    status, body = api.call("GET", f"/v1/instances/{case}/history", token=supervisor)
    check(status == 200, "history readable by the supervisor")
    history = body["history"]
    kinds = [h["kind"] for h in history]
    messages = " | ".join(h["message"] for h in history)
    actors = {h["actor"] for h in history}
    for kind in ("started", "assigned", "sla", "escalation", "transition", "event", "ended"):
        check(kind in kinds, f"history has a '{kind}' entry")
    check("hook:phone" in actors and handler in actors and "chen.jing" in actors
          and other in actors, f"history names every actor ({sorted(actors)})")
    check("supervisor_review" in messages and "return_visit" in messages
          and "closed" in messages, "history shows the path through review and return visit")
    check([h["seq"] for h in history] == sorted(h["seq"] for h in history),
          "history is in order")

    # 7. Operations.
    status, metrics = api.call("GET", "/metrics")
    check(status == 200 and 'ombud_sla_breaches_total{workflow="complaint",sla="resolve"}'
          in metrics, "/metrics counted the breach")
    check('ombud_http_requests_total{' in metrics, "/metrics counts HTTP requests")
    commits = re.search(r"^ombud_store_commit_seconds_count (\d+)", metrics, re.M)
    check(commits and int(commits.group(1)) > 0, "/metrics times the store's commits")
    fired = re.search(r'^ombud_timers_fired_total\{workflow="complaint"\} (\d+)', metrics, re.M)
    check(fired and int(fired.group(1)) > 0, "/metrics counted the fired timers")
    if store.startswith("sqlite:"):
        check(re.search(r'^ombud_sqlite_checkpoints_total\{by="thread"\} \d+', metrics, re.M),
              "/metrics shows the SQLite store's checkpoints")
    else:
        check("ombud_sqlite_checkpoints_total{" not in metrics, "no SQLite checkpoints on PostgreSQL")
    status, _ = api.call("GET", "/v1/instances", token=None)
    check(status == 401, "no token → 401")

    # 8. The notifications reached the gateway, signed, with their texts.
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with Gateway.lock:
            got = list(Gateway.received)
        ids = [h.get("X-Ombud-Delivery") for h, _ in got]
        if got and ids.count(ids[0]) >= 2 and len(got) >= 4:
            break
        time.sleep(0.2)
    check(len(got) >= 4, f"the gateway received the notifications ({len(got)} posts)")
    check(ids.count(ids[0]) >= 2, "the notification the gateway refused at first came again")
    for headers, body in got:
        expected = hmac.new(NOTIFY_SECRET.encode(), headers["X-Ombud-Timestamp"].encode() + b"."
                            + body, hashlib.sha256).hexdigest()
        check(hmac.compare_digest(expected, headers["X-Ombud-Signature"]),
              f"notification {headers['X-Ombud-Delivery']} is signed with the gateway's secret")
    messages = [json.loads(body) for _, body in got]
    assigned = [m for m in messages if m["template"] == "complaint_assigned"]
    check(assigned and case in assigned[0]["subject"]
          and assigned[0]["recipients"][0]["id"] == handler
          and assigned[0]["recipients"][0]["email"].endswith("@example.com"),
          f"the handler was told, by name and address ({assigned[:1]})")
    check(any(m["instance"] == case and "chen.jing" in [r["id"] for r in m["recipients"]]
              for m in messages), "the supervisor was told of the escalation")
    status, metrics = api.call("GET", "/metrics")
    check(re.search(r'^ombud_outbox_deliveries_total\{result="failed"\} [1-9]', metrics, re.M),
          "/metrics counted the refused delivery")

    # 9. A newer build migrated the store while this one ran: this node is no longer ready.
    future = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)"
    if store.startswith("sqlite:"):
        import sqlite3
        with sqlite3.connect(store[len("sqlite:"):]) as db:
            db.execute(future)
    else:
        subprocess.run(["psql", store, "-q", "-c", future], check=True)
    status, body = api.call("GET", "/readyz")
    check(status == 503 and "newer than this build knows" in body.get("store", ""),
          f"/readyz is 503 on a schema newer than the build ({status} {body})")


if __name__ == "__main__":
    main()
