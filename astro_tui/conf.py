"""Run confs: parse the JSON the user typed, check it against the DAG's params, print it back.

No Textual here (the trigger modal, the CLI's ``trigger`` and ``hitl respond`` use it). The check
is Airflow's own: the ``jsonschema`` package with a format checker, as the server runs it (see
"params validation" below), so a conf that passes here passes there and the other way round.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from astro_tui.airflow.models import ParamSpec

__all__ = [
    "ConfError",
    "ConfProblem",
    "NEWEST",
    "formats_for",
    "blocking",
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


# -- params validation ---------------------------------------------------------------------------
#
# Airflow checks a run's conf against the DAG's params on the server (``ParamsDict.validate``):
# each param's value (the conf's, else the default) goes through ``jsonschema.validate(value,
# schema, format_checker=FormatChecker())``, and the first failing param aborts the trigger with
# a 400. The same library gives the same verdicts here. Two things differ from one server to the
# next and are reproduced:
#
# * which formats a ``FormatChecker()`` checks depends on the packages installed next to
#   Airflow. Airflow 2 depends on rfc3339-validator (``date-time``); Airflow 3 does not, so an
#   Airflow 3 server accepts any string as a ``date-time``; Airflow 3.3 depends on isoduration
#   (``duration``), 3.0 to 3.2 do not. ``time`` is jsonschema's draft-3 check (``HH:MM:SS``)
#   everywhere. `formats_for` gives what ``FormatChecker().checkers`` lists in each supported
#   minor's own venv (the compat suite and a live test compare them).
# * Airflow 2's ``Param.resolve`` forgives a ``date-time`` that fails RFC 3339 when the whole
#   value parses as an ISO 8601 date and time (deprecated there, with a warning).
#
# A format the server does not check is still checked here, as advice that never blocks.

_COMMON_FORMATS = ("date", "email", "idn-email", "idn-hostname", "ipv4", "ipv6", "regex", "time",
                   "uuid")


def formats_for(version: tuple[int, ...]) -> tuple[str, ...]:
    """The formats an Airflow server of `version` (major, minor, …) checks params against."""
    extra: tuple[str, ...] = ("date-time",) if version[:1] < (3,) else ()
    if tuple(version[:2]) >= (3, 3):
        extra = ("duration",)
    return tuple(sorted((*_COMMON_FORMATS, *extra)))


#: the newest minor of each major (what a bare major means)
NEWEST = {2: (2, 11), 3: (3, 3)}
_MESSAGE_MAX = 160


@dataclass(frozen=True)
class ConfProblem:
    """One param's value against its schema: ``path`` (the param, then the place inside it),
    ``rule`` (the JSON Schema keyword that failed, e.g. ``type``, ``format date``), ``message``
    (jsonschema's words). ``advisory``: the server does not check this rule, so it would accept
    the value; it never blocks a trigger."""

    path: str
    rule: str
    message: str
    advisory: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.message} ({self.rule})"


def _format_checker(formats: tuple[str, ...] | None) -> Any:
    from jsonschema import FormatChecker

    return FormatChecker() if formats is None else FormatChecker(formats=formats)


_VALIDATORS: dict[tuple[str, tuple[int, ...] | None], Any] = {}


def _validator(schema: Mapping[str, Any], version: tuple[int, ...] | None) -> Any:
    """A jsonschema validator for ``schema`` with the formats a server of ``version`` checks
    (None: every format this machine can check). Raises ``jsonschema.SchemaError`` for a broken
    schema."""
    key = (json.dumps(schema, sort_keys=True, default=str), version)
    found = _VALIDATORS.get(key)
    if found is None:
        from jsonschema.validators import validator_for

        cls = validator_for(schema)
        cls.check_schema(schema)
        found = cls(schema, format_checker=_format_checker(
            None if version is None else formats_for(version)))
        if len(_VALIDATORS) > 256:
            _VALIDATORS.clear()
        _VALIDATORS[key] = found
    return found


def _where(name: str, path: Any) -> str:
    text = name
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _rule(error: Any) -> str:
    if error.validator == "format":
        return f"format {error.validator_value}"
    return str(error.validator)


def _cut(text: str) -> str:
    return text if len(text) <= _MESSAGE_MAX else text[: _MESSAGE_MAX - 1] + "…"


def _iso8601_datetime(value: Any) -> bool:
    """Airflow 2's fallback for a ``date-time``: the value parses as an ISO 8601 date *and time*
    (``pendulum.parsing.parse_iso8601`` there; Python's parser is close enough)."""
    if not isinstance(value, str) or len(value) < 11 or value[10] not in "Tt ":
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _first_error(value: Any, schema: Mapping[str, Any], version: tuple[int, ...] | None) -> Any:
    from jsonschema.exceptions import best_match

    return best_match(_validator(schema, version).iter_errors(value))


def _version(airflow: tuple[int, ...] | int) -> tuple[int, ...]:
    return NEWEST.get(airflow, (airflow, 0)) if isinstance(airflow, int) else tuple(airflow[:2])


def check_value(value: Any, schema: Any, name: str, *,
                airflow: tuple[int, ...] | int = 3) -> list[ConfProblem]:
    """What a server of Airflow ``airflow`` (a version tuple, or a bare major: its newest minor)
    says of ``value`` for the param ``name``: at most one problem, the one jsonschema reports
    (``best_match``), plus advice when a format only this machine checks fails."""
    from jsonschema.exceptions import SchemaError

    version = _version(airflow)
    major = version[0]
    if not isinstance(schema, Mapping) or not schema:
        return []
    try:
        error = _first_error(value, schema, version)
    except SchemaError as err:
        return [ConfProblem(name, "schema", _cut(f"the param's schema is invalid: {err.message}"),
                            advisory=True)]
    except RecursionError:
        return [ConfProblem(name, "schema", "the value is nested too deeply to check",
                            advisory=True)]
    if error is not None:
        if major == 2 and error.schema.get("format") == "date-time" and _iso8601_datetime(value):
            return []  # Airflow 2 accepts it (deprecated): see the note above
        return [ConfProblem(_where(name, error.absolute_path), _rule(error), _cut(error.message))]
    advice = _first_error(value, schema, None)
    if advice is not None and advice.validator == "format":
        shown = ".".join(map(str, version))
        words = f"Airflow {shown} does not check this format, so the server accepts it"
        return [ConfProblem(_where(name, advice.absolute_path), _rule(advice),
                            _cut(f"{advice.message}; {words}"), advisory=True)]
    return []


def check_conf(conf: Mapping[str, Any], params: Mapping[str, ParamSpec], *,
               airflow: tuple[int, ...] | int = 3) -> list[ConfProblem]:
    """The conf against the DAG's params, as a server of Airflow ``airflow`` checks it: each
    param's value is the conf's, else its default (the API reports an invalid or missing default
    as null, which then fails a schema that refuses null). Keys that are not params are not
    checked (Airflow adds them as params without a schema)."""
    problems: list[ConfProblem] = []
    for name, spec in params.items():
        if name in conf:
            problems += check_value(conf[name], spec.schema, name, airflow=airflow)
            continue
        for problem in check_value(spec.value, spec.schema, name, airflow=airflow):
            if spec.value is None and problem.path == name and not problem.advisory:
                problem = replace(problem, message="needs a value: the param has no valid "
                                  f"default and the conf does not set it ({problem.message})")
            problems.append(problem)
    return problems


def blocking(problems: list[ConfProblem]) -> list[ConfProblem]:
    """The problems the server refuses a trigger for (advice left out)."""
    return [p for p in problems if not p.advisory]


# -- describing a schema ---------------------------------------------------------------------------


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


def _range(lo: float | None, hi: float | None, what: str) -> str:
    if lo is not None and hi is not None:
        return f" {what}{_show(lo)}–{_show(hi)}"
    if lo is not None:
        return f" {what}≥ {_show(lo)}"
    if hi is not None:
        return f" {what}≤ {_show(hi)}"
    return ""


def describe_schema(schema: Mapping[str, Any]) -> str:
    """A short summary for the params panel: "integer 1–100", "string: red|green|blue".

    Airflow's own keywords read as its trigger form shows them: ``values_display`` labels the
    ``enum`` values, ``examples`` are suggestions (any value is allowed), and a ``const`` param
    is hidden from the form but still sent."""
    if not schema:
        return "any"
    if "const" in schema:
        return f"fixed: {_show(schema['const'])} (hidden in Airflow's form)"
    types = _types(schema)
    text = " or ".join(types) if types else ""
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt:
        text += f" ({fmt})"
    text += _range(_num(schema, "minimum"), _num(schema, "maximum"), "")
    text += _range(_num(schema, "minLength"), _num(schema, "maxLength"), "length ")
    enum = schema.get("enum")
    labels = schema.get("values_display")
    labels = labels if isinstance(labels, Mapping) else {}

    def label(e: Any) -> str:
        shown = _show(e).strip('"')
        name = labels.get(str(e))
        return f"{shown} ({name})" if isinstance(name, str) and name and name != shown else shown

    if isinstance(enum, list) and enum:
        text += ": " + "|".join(label(e) for e in enum[:8])
        text += "|…" if len(enum) > 8 else ""
    else:
        examples = schema.get("examples")
        if isinstance(examples, list) and examples:
            text += ", e.g. " + "|".join(label(e) for e in examples[:5])
            text += "|…" if len(examples) > 5 else ""
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
