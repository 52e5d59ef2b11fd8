"""Conf parsing, Airflow's params check (jsonschema), printing, and the logical date field."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from astro_tui.airflow.models import DagDetails, ParamSpec
from astro_tui.conf import (
    blocking,
    check_conf,
    check_value,
    describe_schema,
    dump_conf,
    formats_for,
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


def _lines(problems):
    return [str(p) + (" [advice]" if p.advisory else "") for p in problems]


def test_check_conf_types_enums_ranges_and_required():
    ok = {"name": "ann", "count": 3, "flag": True, "color": "green", "needed": "x"}
    assert check_conf(ok, PARAMS) == []
    assert check_conf({**ok, "count": 3.0, "ratio": 0.5, "extra": [1]}, PARAMS) == []
    problems = check_conf({"name": "a", "count": True, "flag": 1, "color": "blue",
                           "ratio": 1}, PARAMS)
    # jsonschema's own words, as the server reports them, with the param and the rule
    assert _lines(problems) == [
        "name: 'a' is too short (minLength)",
        "count: True is not of type 'integer' (type)",
        "flag: 1 is not of type 'boolean' (type)",
        "color: 'blue' is not one of ['red', 'green'] (enum)",
        "ratio: 1 is greater than or equal to the maximum of 1 (exclusiveMaximum)",
        "needed: needs a value: the param has no valid default and the conf does not set it "
        "(None is not of type 'string') (type)",
    ]
    assert _lines(check_conf({"count": 101, "needed": "x"}, PARAMS)) == [
        "count: 101 is greater than the maximum of 100 (maximum)"]
    assert _lines(check_conf({"needed": None}, PARAMS)) == [
        "needed: None is not of type 'string' (type)"]
    assert blocking(problems) == problems


def test_check_value_nested_and_alternatives():
    schema = {"type": "object", "required": ["id"],
              "properties": {"rows": {"type": "array", "maxItems": 3,
                                      "items": {"type": "object", "required": ["n"],
                                                "properties": {"n": {"type": "integer"}}}}}}
    assert check_value({"id": 1, "rows": [{"n": 1}]}, schema, "p") == []
    # one problem per param, the one the server names (jsonschema's best_match), with its place
    assert _lines(check_value({"id": 1, "rows": [{"n": 1}, {"n": "2"}]}, schema, "p")) == [
        "p.rows[1].n: '2' is not of type 'integer' (type)"]
    assert _lines(check_value({"rows": []}, schema, "p")) == [
        "p: 'id' is a required property (required)"]
    any_of = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[a-z]+$"}]}
    assert check_value(5, any_of, "v") == [] and check_value("abc", any_of, "v") == []
    assert _lines(check_value("ABC", any_of, "v")) == ["v: 'ABC' does not match '^[a-z]+$' (pattern)"]
    assert _lines(check_value(1, {"enum": [True]}, "v")) == ["v: 1 is not one of [True] (enum)"]
    assert _lines(check_value(2, {"const": 1}, "v")) == ["v: 1 was expected (const)"]
    # a broken schema is the DAG author's problem: said, but it does not block
    (broken,) = check_value("x", {"type": "mystery"}, "v")
    assert broken.advisory and broken.rule == "schema" and "invalid" in broken.message
    assert blocking([broken]) == []


@pytest.mark.parametrize("fmt,value,major,expected", [
    # formats both majors check
    ("date", "2024-02-30", 2, ["d: '2024-02-30' is not a 'date' (format date)"]),
    ("date", "2024-02-29", 3, []),
    # date-time: Airflow 2 checks it (and forgives ISO 8601 with a time); Airflow 3 does not
    ("date-time", "2024-01-01 10:00", 2, []),
    ("date-time", "tomorrow", 2, ["d: 'tomorrow' is not a 'date-time' (format date-time)"]),
    ("date-time", "2024-01-01", 2, ["d: '2024-01-01' is not a 'date-time' (format date-time)"]),
])
def test_formats_follow_the_server(fmt, value, major, expected):
    schema = {"type": "string", "format": fmt}
    assert _lines(check_value(value, schema, "d", airflow=major)) == expected


def test_a_format_only_this_machine_checks_is_advice():
    (advice,) = check_value("tomorrow", {"type": "string", "format": "date-time"}, "d", airflow=3)
    assert advice.advisory and advice.rule == "format date-time"
    assert "Airflow 3.3 does not check this format" in advice.message
    (advice,) = check_value("1 day", {"type": "string", "format": "duration"}, "d", airflow=2)
    assert advice.advisory and "Airflow 2.11 does not check" in advice.message
    assert _lines(check_value("1 day", {"format": "duration"}, "d", airflow=3)) == [
        "d: '1 day' is not a 'duration' (format duration)"]
    assert check_value("P1DT2H", {"format": "duration"}, "d", airflow=3) == []
    # time is jsonschema's draft-3 check on both servers: HH:MM:SS, nothing else
    assert check_value("10:30:00", {"format": "time"}, "t", airflow=2) == []
    assert _lines(check_value("10:30", {"format": "time"}, "t", airflow=3)) == [
        "t: '10:30' is not a 'time' (format time)"]
    # duration: only Airflow 3.3 depends on isoduration (3.0 to 3.2 accept any string)
    (advice,) = check_value("1 day", {"format": "duration"}, "d", airflow=(3, 2))
    assert advice.advisory and "Airflow 3.2 does not check" in advice.message
    assert formats_for((3, 0)) == formats_for((3, 2)) != formats_for((3, 3))
    assert "date-time" in formats_for((2, 9)) and "date-time" not in formats_for((3, 3))


def test_describe_schema():
    assert describe_schema({"type": "integer", "minimum": 1, "maximum": 100}) == "integer 1–100"
    assert describe_schema({"type": "integer", "minimum": 1}) == "integer ≥ 1"
    assert describe_schema({"type": "string", "enum": ["a", "b"]}) == "string: a|b"
    assert describe_schema({"type": ["null", "string"], "maxLength": 9}) == (
        "null or string length ≤ 9")
    assert describe_schema({}) == "any"
    # Airflow's form keywords: labels for enum values, examples, hidden (const) params
    assert describe_schema({"type": "string", "enum": ["a", "b"],
                            "values_display": {"a": "Alpha"}}) == "string: a (Alpha)|b"
    assert describe_schema({"type": "string", "format": "date", "examples": ["2024-01-01"]}) == (
        "string (date), e.g. 2024-01-01")
    assert describe_schema({"const": "v2", "type": "string"}) == (
        'fixed: "v2" (hidden in Airflow\'s form)')


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
    assert _lines(check_conf({"count": "x"}, details.params)) == [
        "count: 'x' is not of type 'integer' (type)"]


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
