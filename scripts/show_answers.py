#!/usr/bin/python3
"""Prints `ombud pipe` answers (JSON lines on stdin) one short line each, for people."""
import json
import sys

for line in sys.stdin:
    a = json.loads(line)
    i = a.get("instance") or {}
    text = (f"{str(a.get('ref')):>6}: {a['status']:<11} {i.get('id', ''):<12} "
            f"state={i.get('state', ''):<17} assignee={i.get('assignee') or '-'}")
    if a.get("replayed"):
        text += "  (answered before: same idempotency key)"
    if a.get("error"):
        text += "  " + a["error"]
    print(text)
