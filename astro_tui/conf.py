"""Run confs: parse the JSON the user typed, check it against the DAG's params, print it back.

No Textual here (the trigger modal and the CLI both use it). The checker is a small subset of JSON
Schema, enough for Airflow params: ``type``, ``enum``, ``const``, ``minimum``/``maximum`` (and the
exclusive forms), ``minLength``/``maxLength``, ``pattern``, ``minItems``/``maxItems``, ``items``,
``required``, ``properties`` and ``anyOf``/``oneOf``. Anything else is ignored: the server still
has the last word, so a check here only warns and never blocks a trigger.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from astro_tui.airflow.models import ParamSpec

__all__ = [
    "ConfError",
    "parse_conf",
    "check_conf",
    "check_value",
    "dump_conf",
    "one_line",
    "describe_schema",
    "parse_logical_date",
]

# Characters that are legal inside a JSON string but must not reach the terminal raw (C1, DEL,
# line/paragraph separators, bidi controls, lone surrogates): written as \\uXXXX escapes instead.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


@dataclass(frozen=True)
class ConfError:
    """Why the text is not a usable conf. ``line``/``column`` are 1-based (0: no position)."""

    message: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"line {self.line}, column {self.column}: {self.message}"
        return self.message


def _position(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def parse_conf(text: str) -> tuple[dict[str, Any] | None, ConfError | None]:
    """The conf as a dict, or the error with its line and column. A conf must be an object."""
    if not text.strip():
        return None, ConfError("the conf is empty: type {} for no conf")

    def reject_constant(name: str) -> Any:
        raise ValueError(name)

    try:
        value = json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as err:
        return None, ConfError(err.msg, err.lineno, err.colno)
    except ValueError as err:  # NaN, Infinity, -Infinity: Python extensions, not JSON
        line, column = _position(text, max(text.find(str(err)), 0))
        return None, ConfError(f"{err} is not valid JSON", line, column)
    except RecursionError:
        return None, ConfError("the conf is nested too deeply")
    if not isinstance(value, dict):
        return None, ConfError(f"the conf must be a JSON object {{…}}, not {_kind(value)}", 1, 1)
    return value, None


def dump_conf(value: Any) -> str:
    """Pretty JSON for the editor. Control and bidi characters stay escaped, so a conf from the
    server cannot write escape sequences to the terminal; the text still parses to ``value``."""
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def one_line(value: Any, max_len: int = 60) -> str:
    """Compact JSON on one line (for pickers), cut with an ellipsis."""
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    text = _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text if len(text) <= max_len else text[: max_len - 1] + "…"


# -- schema subset -------------------------------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is_type(value: Any, kind: str) -> bool:
    actual = _kind(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer":
        return actual == "integer" or (actual == "number" and float(value).is_integer())
    if kind in ("null", "boolean", "string", "array", "object"):
        return actual == kind
    return True  # an unknown type name: no opinion


def _same(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _show(value: Any) -> str:
    return one_line(value, 40)


def _types(schema: Mapping[str, Any]) -> list[str]:
    kind = schema.get("type")
    if isinstance(kind, str):
        return [kind]
    if isinstance(kind, list):
        return [k for k in kind if isinstance(k, str)]
    return []


def _num(schema: Mapping[str, Any], key: str) -> float | None:
    v = schema.get(key)
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def check_value(value: Any, schema: Any, path: str) -> list[str]:
    """Problems of ``value`` against ``schema`` (the subset in the module docstring)."""
    if not isinstance(schema, Mapping) or not schema:
        return []
    types = _types(schema)
    if types and not any(_is_type(value, t) for t in types):
        return [f"{path}: {_show(value)} is not of type {' or '.join(types)}"]
    problems: list[str] = []
    enum = schema.get("enum")
    if isinstance(enum, list) and enum and not any(_same(value, e) for e in enum):
        allowed = ", ".join(_show(e) for e in enum[:8]) + (", …" if len(enum) > 8 else "")
        problems.append(f"{path}: {_show(value)} is not one of {allowed}")
    if "const" in schema and not _same(value, schema["const"]):
        problems.append(f"{path}: must be {_show(schema['const'])}")
    kind = _kind(value)
    if kind in ("integer", "number") and not (isinstance(value, float) and math.isnan(value)):
        for key, bad, word in (
            ("minimum", lambda v, b: v < b, "at least"),
            ("maximum", lambda v, b: v > b, "at most"),
            ("exclusiveMinimum", lambda v, b: v <= b, "more than"),
            ("exclusiveMaximum", lambda v, b: v >= b, "less than"),
        ):
            bound = _num(schema, key)
            if bound is not None and bad(value, bound):
                problems.append(f"{path}: {_show(value)} must be {word} {_show(bound)}")
    elif kind == "string":
        lo, hi = _num(schema, "minLength"), _num(schema, "maxLength")
        if lo is not None and len(value) < lo:
            problems.append(f"{path}: shorter than {int(lo)} characters")
        if hi is not None and len(value) > hi:
            problems.append(f"{path}: longer than {int(hi)} characters")
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                if re.search(pattern, value) is None:
                    problems.append(f"{path}: does not match the pattern {_show(pattern)}")
            except re.error:
                pass  # not a Python regex: leave it to the server
    elif kind == "array":
        lo, hi = _num(schema, "minItems"), _num(schema, "maxItems")
        if lo is not None and len(value) < lo:
            problems.append(f"{path}: needs at least {int(lo)} items")
        if hi is not None and len(value) > hi:
            problems.append(f"{path}: at most {int(hi)} items")
        items = schema.get("items")
        if isinstance(items, Mapping):
            for i, item in enumerate(value):
                problems += check_value(item, items, f"{path}[{i}]")
    elif kind == "object":
        required = schema.get("required")
        if isinstance(required, list):
            problems += [f"{path}.{k}: required" for k in required
                         if isinstance(k, str) and k not in value]
        props = schema.get("properties")
        if isinstance(props, Mapping):
            for key, sub in props.items():
                if key in value:
                    problems += check_value(value[key], sub, f"{path}.{key}")
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            if not any(not check_value(value, sub, path) for sub in options):
                problems.append(f"{path}: {_show(value)} matches none of the allowed schemas")
    return problems


def _allows_null(schema: Mapping[str, Any]) -> bool:
    types = _types(schema)
    if types:
        return "null" in types
    options = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(options, list) and options:
        return any(isinstance(s, Mapping) and _allows_null(s) for s in options)
    return not isinstance(schema.get("enum"), list) or None in schema["enum"]


def check_conf(conf: Mapping[str, Any], params: Mapping[str, ParamSpec]) -> list[str]:
    """Warnings for a conf against the DAG's params. A param left out of the conf takes its
    default; a param without a default (null) whose schema refuses null is required."""
    problems: list[str] = []
    for name, spec in params.items():
        if name in conf:
            problems += check_value(conf[name], spec.schema, name)
        elif spec.value is None and spec.schema and not _allows_null(spec.schema):
            problems.append(f"{name}: required (it has no default)")
    return problems


def _range(lo: float | None, hi: float | None, what: str) -> str:
    if lo is not None and hi is not None:
        return f" {what}{_show(lo)}–{_show(hi)}"
    if lo is not None:
        return f" {what}≥ {_show(lo)}"
    if hi is not None:
        return f" {what}≤ {_show(hi)}"
    return ""


def describe_schema(schema: Mapping[str, Any]) -> str:
    """A short summary for the params panel: "integer 1–100", "string: red|green|blue"."""
    if not schema:
        return "any"
    types = _types(schema)
    text = " or ".join(types) if types else ""
    text += _range(_num(schema, "minimum"), _num(schema, "maximum"), "")
    text += _range(_num(schema, "minLength"), _num(schema, "maxLength"), "length ")
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        text += ": " + "|".join(_show(e).strip('"') for e in enum[:8])
        text += "|…" if len(enum) > 8 else ""
    return text.strip() or "any"


def parse_logical_date(text: str) -> datetime | None:
    """Empty means "now" (None). ISO 8601; a time without an offset is taken as UTC."""
    text = text.strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("logical date: use ISO 8601, e.g. 2026-01-31T10:00:00Z") from None
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=timezone.utc)
    return value
