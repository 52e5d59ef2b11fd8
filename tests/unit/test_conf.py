"""Conf parsing, the params schema subset checker, printing, and the logical date field."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from astro_tui.airflow.models import DagDetails, ParamSpec
from astro_tui.conf import (
    check_conf,
    check_value,
    describe_schema,
    dump_conf,
    one_line,
    parse_conf,
    parse_logical_date,
)
from tests.unit.test_api_fixtures import load  # recorded dag details (v1 and v2)


def test_parse_ok_and_errors_with_line_and_column():
    assert parse_conf('{"a": 1}') == ({"a": 1}, None)
    conf, err = parse_conf('{\n  "a": 1,\n  "b" 2\n}')
    assert conf is None and (err.line, err.column) == (3, 7)
    assert str(err) == "line 3, column 7: Expecting ':' delimiter"
    _, err = parse_conf('{"a": 1}}')
    assert (err.line, err.column) == (1, 9) and err.message == "Extra data"
    _, err = parse_conf("   ")
    assert "empty" in err.message and err.line == 0
    _, err = parse_conf("[1]")
    assert "must be a JSON object" in err.message and "array" in err.message
    _, err = parse_conf('{\n "x": NaN}')
    assert err.message == "NaN is not valid JSON" and (err.line, err.column) == (2, 7)
    _, err = parse_conf("[" * 100_000 + "]" * 100_000)
    assert err is not None


PARAMS = {
    "name": ParamSpec("world", "who", {"type": "string", "minLength": 2, "maxLength": 5}),
    "count": ParamSpec(3, "how many", {"type": "integer", "minimum": 1, "maximum": 100}),
    "flag": ParamSpec(False, None, {"type": "boolean"}),
    "color": ParamSpec("red", None, {"type": "string", "enum": ["red", "green"]}),
    "ratio": ParamSpec(None, None, {"type": ["null", "number"], "exclusiveMaximum": 1}),
    "needed": ParamSpec(None, None, {"type": "string"}),
    "free": ParamSpec(None, None, {}),
}


def test_check_conf_types_enums_ranges_and_required():
    ok = {"name": "ann", "count": 3, "flag": True, "color": "green", "needed": "x"}
    assert check_conf(ok, PARAMS) == []
    assert check_conf({**ok, "count": 3.0, "ratio": 0.5, "extra": [1]}, PARAMS) == []
    problems = check_conf({"name": "a", "count": True, "flag": 1, "color": "blue",
                           "ratio": 1}, PARAMS)
    assert problems == [
        "name: shorter than 2 characters",
        "count: true is not of type integer",
        "flag: 1 is not of type boolean",
        'color: "blue" is not one of "red", "green"',
        "ratio: 1 must be less than 1",
        "needed: required (it has no default)",
    ]
    assert check_conf({"count": 101, "needed": "x"}, PARAMS) == ["count: 101 must be at most 100"]
    assert check_conf({"needed": None}, PARAMS) == ["needed: null is not of type string"]


def test_check_value_nested_and_alternatives():
    schema = {"type": "object", "required": ["id"],
              "properties": {"tags": {"type": "array", "maxItems": 2, "items": {"type": "string"}}}}
    assert check_value({"id": 1, "tags": ["a"]}, schema, "p") == []
    assert check_value({"tags": ["a", 2, "c"]}, schema, "p") == [
        "p.id: required", "p.tags: at most 2 items", "p.tags[1]: 2 is not of type string"]
    any_of = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[a-z]+$"}]}
    assert check_value(5, any_of, "v") == [] and check_value("abc", any_of, "v") == []
    assert check_value("ABC", any_of, "v") == ['v: "ABC" matches none of the allowed schemas']
    assert check_value("x", {"type": "string", "pattern": "("}, "v") == []  # bad regex: skip
    assert check_value(1, {"enum": [True]}, "v") == ["v: 1 is not one of true"]
    assert check_value("x", {"type": "mystery"}, "v") == []


def test_describe_schema():
    assert describe_schema({"type": "integer", "minimum": 1, "maximum": 100}) == "integer 1–100"
    assert describe_schema({"type": "integer", "minimum": 1}) == "integer ≥ 1"
    assert describe_schema({"type": "string", "enum": ["a", "b"]}) == "string: a|b"
    assert describe_schema({"type": ["null", "string"], "maxLength": 9}) == (
        "null or string length ≤ 9")
    assert describe_schema({}) == "any"


def test_dump_conf_roundtrips_and_keeps_escapes_out_of_the_terminal():
    hostile = {"note": "[/] [bold]x\x1b]52;c;ZXZpbA==\x07", "c1": "\x9b31m", "rtl": "a\u202eb",
               "ok": "héllo ✓"}
    text = dump_conf(hostile)
    assert json.loads(text) == hostile
    assert not any(ch in text for ch in "\x1b\x07\x9b\u202e")
    assert "héllo ✓" in text and text.startswith("{\n  ")
    assert one_line({"a": "x" * 100}, 20) == '{"a": "xxxxxxxxxxxx…'


@pytest.mark.parametrize("api", ["v1", "v2"])
def test_recorded_params_defaults_pass_their_own_schema(api):
    details = DagDetails.from_json(load(api, "dag_details_params")["body"])
    assert check_conf(details.default_conf(), details.params) == []
    assert check_conf({"count": "x"}, details.params) == ["count: \"x\" is not of type integer"]


def test_parse_logical_date():
    assert parse_logical_date("  ") is None
    assert parse_logical_date("2026-01-31T10:00:00Z") == datetime(2026, 1, 31, 10,
                                                                  tzinfo=timezone.utc)
    assert parse_logical_date("2026-01-31").tzinfo is timezone.utc
    assert parse_logical_date("2026-01-31T12:00:00+02:00").utcoffset().total_seconds() == 7200
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_logical_date("tomorrow")


def test_conf_and_history_modules_do_not_import_textual():
    import subprocess
    import sys

    code = ("import astro_tui.conf, astro_tui.history, sys; "
            "bad = sorted(m for m in sys.modules if m.startswith('textual')); assert not bad, bad")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
