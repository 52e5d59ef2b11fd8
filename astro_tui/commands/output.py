"""Output helpers of the headless commands: safe JSON, the stable JSON shapes, plain tables,
times and durations. Every table cell goes through ``text.clean``; JSON escapes control and
bidi characters, so neither can drive the terminal."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from rich.cells import cell_len

from astro_tui.airflow.models import Dag, DagRun, LogLine, TaskInstance
from astro_tui.present.times import iso
from astro_tui.text import clean

# -- formatting -----------------------------------------------------------------------------------

# Legal in JSON strings but not to be sent raw to a terminal: C1, DEL, separators, bidi, surrogates.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def dumps(value: Any, indent: int | None = None) -> str:
    """JSON that is safe to print: readable non-ASCII, but control/bidi characters escaped."""
    separators = None if indent else (",", ":")
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators,
                      default=_json_default)
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def render_table(headers: Sequence[str], rows: Iterable[Sequence[Any]],
                 max_widths: Mapping[int, int] | None = None) -> list[str]:
    """Left-aligned columns, two spaces apart, every cell sanitized onto one line."""
    max_widths = max_widths or {}
    cells = [[clean("" if c is None else c, max_widths.get(i), newline=" ")
              for i, c in enumerate(row)] for row in rows]
    grid = [list(headers), *cells]
    widths = [max(cell_len(r[i]) for r in grid) for i in range(len(headers))]
    out = []
    for row in grid:
        parts = [c + " " * (widths[i] - cell_len(c)) for i, c in enumerate(row)]
        out.append("  ".join(parts).rstrip())
    return out


def key_values(pairs: Sequence[tuple[str, Any]]) -> list[str]:
    width = max(len(k) for k, _ in pairs)
    return [f"{k:<{width}}  {clean('' if v is None else v, newline=' ')}".rstrip()
            for k, v in pairs]


# -- stable JSON shapes ---------------------------------------------------------------------------


def dag_json(d: Dag) -> dict[str, Any]:
    return {"dag_id": d.dag_id, "display_name": d.display_name, "is_paused": d.is_paused,
            "description": d.description, "owners": list(d.owners), "tags": list(d.tags),
            "schedule": d.schedule, "next_run": iso(d.next_run),
            "has_import_errors": d.has_import_errors, "fileloc": d.fileloc}


def run_json(r: DagRun) -> dict[str, Any]:
    return {"dag_id": r.dag_id, "run_id": r.run_id, "state": r.state, "run_type": r.run_type,
            "logical_date": iso(r.logical_date), "run_after": iso(r.run_after),
            "start_date": iso(r.start_date), "end_date": iso(r.end_date),
            "duration": r.duration, "conf": r.conf, "note": r.note}


def ti_json(t: TaskInstance) -> dict[str, Any]:
    return {"task_id": t.task_id, "map_index": t.map_index, "state": t.state,
            "try_number": t.try_number, "max_tries": t.max_tries,
            "start_date": iso(t.start_date), "end_date": iso(t.end_date),
            "duration": t.duration, "operator": t.operator}


def line_json(line: LogLine) -> dict[str, Any]:
    return {"timestamp": iso(line.timestamp), "level": line.level, "logger": line.logger,
            "text": line.text, "detail": list(line.detail), "group": line.group,
            "extras": dict(line.extras)}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more: {value}")
    return value


def seconds_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text}")
    return value
