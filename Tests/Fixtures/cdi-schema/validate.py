#!/usr/bin/env python3
"""Validates CDI spec files against the CDI JSON schema beside this script (schema.json, defs.json).

Usage: validate.py SPEC.json...   Prints one line per spec ("ok PATH" or "invalid PATH: reason") and exits 1
when any is invalid. Works with Debian bookworm's python3-jsonschema (4.10, RefResolver) and newer
releases (the referencing package).
"""
import json
import pathlib
import sys

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent


def validator():
    schema = json.loads((HERE / "schema.json").read_text())
    defs = json.loads((HERE / "defs.json").read_text())
    try:
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7
        registry = Registry().with_resource("defs.json", Resource.from_contents(defs, default_specification=DRAFT7))
        return jsonschema.Draft7Validator(schema, registry=registry)
    except ImportError:
        resolver = jsonschema.RefResolver(base_uri=(HERE / "schema.json").as_uri(), referrer=schema,
                                          store={"defs.json": defs, (HERE / "defs.json").as_uri(): defs})
        return jsonschema.Draft7Validator(schema, resolver=resolver)


def main(paths):
    check = validator()
    bad = 0
    for path in paths:
        errors = sorted(check.iter_errors(json.loads(pathlib.Path(path).read_text())), key=lambda e: list(e.path))
        if errors:
            bad += 1
            print(f"invalid {path}: {errors[0].message} at {list(errors[0].path)}")
        else:
            print(f"ok {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
