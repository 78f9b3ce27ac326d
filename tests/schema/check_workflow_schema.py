#!/usr/bin/python3
"""Checks docs/workflow.schema.json against the shipped workflows and a set of broken ones.

Usage: /usr/bin/python3 tests/schema/check_workflow_schema.py <repo-root>

- the schema itself must be a valid draft 2020-12 schema;
- every workflows/*.yaml must validate;
- every tests/schema/bad/*.yaml must NOT validate. Each of those files starts with a comment
  saying what is wrong with it, so a failure message can tell what slipped through.

Prints one line per file, then `N passed, M failed`; exits 1 when anything failed.

Runs on Debian's python3 with python3-yaml and python3-jsonschema (no third-party installs).
YAML is read the way the engine (yaml-cpp) and editors (YAML 1.2) read it, not with PyYAML's
YAML 1.1 defaults: `on`, `off`, `yes`, `no` stay strings (so `on:` is a key, not `true`),
dates stay strings, and a duplicate key is an error.
"""

import json
import pathlib
import re
import sys

import jsonschema
import yaml


class Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and duplicate-key detection."""


# Keep PyYAML's resolvers except bool, int, float and timestamp, then add the YAML 1.2 core
# versions of bool, int and float. Timestamps are left as strings.
_REPLACED = {
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"))
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
               r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_bool(loader, node):
    return loader.construct_scalar(node).lower() == "true"


def _construct_int(loader, node):
    text = loader.construct_scalar(node)
    if text.startswith("0o"):
        return int(text[2:], 8)
    return int(text, 0) if text.startswith("0x") else int(text, 10)


def _construct_mapping(loader, node, deep=False):
    loader.flatten_mapping(node)
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None,
                f"duplicate key {key!r} (first at line {seen[key] + 1})", mark)
        seen[key] = key_node.start_mark.line
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


Yaml12Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
Yaml12Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Yaml12Loader)  # noqa: S506 - a SafeLoader subclass


def first_comment(path):
    """The leading comment block of a file, joined into one line ('' when there is none)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return " ".join(part for part in lines if part)


def describe(error):
    """A short one-line description of the most relevant schema error."""
    where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
    message = " ".join(error.message.split())
    if len(message) > 160:
        message = message[:157] + "..."
    return f"{where}: {message}"


def check(path, validator):
    """Returns (ok, reason): ok is True when the document validates."""
    try:
        document = load_yaml(path)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        where = f"{mark.line + 1}:{mark.column + 1}: " if mark else ""
        return False, "YAML " + where + " ".join(problem.split())
    errors = list(validator.iter_errors(document))
    if not errors:
        return True, ""
    return False, describe(jsonschema.exceptions.best_match(errors))


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} <repo-root>", file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1]).resolve()
    schema_path = root / "docs" / "workflow.schema.json"
    passed = failed = 0

    def report(ok, line):
        nonlocal passed, failed
        if ok:
            passed += 1
            print(f"ok    {line}")
        else:
            failed += 1
            print(f"FAIL  {line}")

    try:
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        jsonschema.Draft202012Validator.check_schema(schema)
    except (OSError, ValueError, jsonschema.exceptions.SchemaError) as exc:
        report(False, f"docs/workflow.schema.json: not a valid schema: {exc}")
        print(f"{passed} passed, {failed} failed")
        return 1
    report(True, "docs/workflow.schema.json: a valid draft 2020-12 schema")
    validator = jsonschema.Draft202012Validator(schema)

    good = sorted((root / "workflows").glob("*.yaml"))
    bad = sorted((root / "tests" / "schema" / "bad").glob("*.yaml"))
    if not good:
        report(False, "workflows/: no *.yaml files to check")
    if not bad:
        report(False, "tests/schema/bad/: no *.yaml files to check")

    for path in good:
        rel = path.relative_to(root)
        ok, reason = check(path, validator)
        report(ok, f"{rel}" if ok else f"{rel}: {reason}")

    for path in bad:
        rel = path.relative_to(root)
        defect = first_comment(path)
        if not defect:
            report(False, f"{rel}: must start with a comment saying what is wrong")
            continue
        ok, reason = check(path, validator)
        if ok:
            report(False, f"{rel}: accepted, but should be rejected ({defect})")
        else:
            report(True, f"{rel}: rejected as it should be ({defect}) -- {reason}")

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
