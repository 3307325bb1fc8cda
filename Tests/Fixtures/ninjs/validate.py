#!/usr/bin/env python3
"""Validates ninjs documents against IPTC's official schema, with the GeoJSON schema it references
served from this folder (there is no network in the tests).

usage: validate.py SCHEMA FILE...   (prints one line per invalid file; exit 1 if any)
"""
import json
import os
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

here = os.path.dirname(os.path.abspath(__file__))
schema = json.load(open(sys.argv[1], encoding="utf-8"))
geojson = json.load(open(os.path.join(here, "schemas", "GeoJSON-schema.json"), encoding="utf-8"))
registry = Registry().with_resource("https://geojson.org/schema/GeoJSON.json", Resource.from_contents(geojson))
validator = Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)
invalid = 0
for path in sys.argv[2:]:
    errors = sorted(validator.iter_errors(json.load(open(path, encoding="utf-8"))), key=lambda e: list(e.path))
    if errors:
        invalid += 1
        e = errors[0]
        print(f"{path}: {'/'.join(map(str, e.path)) or '(root)'}: {e.message[:300]}")
print(f"{len(sys.argv) - 2 - invalid} valid, {invalid} invalid")
sys.exit(1 if invalid else 0)
