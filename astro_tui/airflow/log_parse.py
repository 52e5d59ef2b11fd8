"""Parsing task log payloads: v1 text (a Python repr of ``[(host, text)]``), v2 structured entries
and ``error_detail`` tracebacks. Response bodies are split up in log_body.py.

Pure Python; no Textual. :mod:`astro_tui.airflow.logs` re-exports the public names.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from typing import Any

from astro_tui.airflow.models import LogLine, parse_datetime

__all__ = [
    "v1_content_text",
    "parse_text_line",
    "text_to_lines",
    "entry_to_line",
    "entries_to_lines",
    "render_error_detail",
    "header_length",
]

# -- v1 text ----------------------------------------------------------------------------------

# `[('host', '` or `[("host", "`: the start of a one-tuple repr; group 1 is the text's quote.
_V1_ONE = re.compile(r"""\[\(\s*(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")\s*,\s*(['"])""")


_CHUNK = 1 << 20  # characters of repr text decoded at a time


def _v1_literal(content: str) -> tuple[int, int] | None:
    """Where the text literal of the usual one-host repr ``[('host', 'text')]`` lies in
    `content` (start, end of its escaped body), or None if `content` is not that shape."""
    match = _V1_ONE.match(content)
    if match is None:
        return None
    quote = match.group(1)
    end = len(content) - 3
    if not content.endswith(quote + ")]"):
        return None
    if content.find(quote + "), (", match.end(), end) >= 0:
        return None  # maybe a second (host, text) tuple: let literal_eval decide
    return match.end(), end


def _decode(escaped: str) -> str:
    # repr() escapes \\, the quote, \n \r \t, \xNN, \uNNNN and \UNNNNNNNN and keeps other
    # printable characters as they are: backslashreplace turns those into \u escapes too,
    # so one unicode_escape pass decodes everything.
    return escaped.encode("latin-1", "backslashreplace").decode("unicode_escape")


def _v1_chunks(content: str, start: int, end: int) -> Iterator[str]:
    """Decode the literal content[start:end] about 1 MB at a time, each piece ending just after
    an escaped newline (so no line and no escape sequence is cut): without ever holding the
    escaped text, its latin-1 bytes and the result of a 25 MB log at once."""
    pos = start
    while pos < end:
        cut = pos + _CHUNK
        if cut >= end:
            cut = end
        else:
            while True:
                found = content.find("\\n", cut, end)
                if found < 0:
                    cut = end
                    break
                run = 1  # backslashes ending at `found`: an odd run means a real "\n"
                while found - run >= pos and content[found - run] == "\\":
                    run += 1
                if run % 2:
                    cut = found + 2
                    break
                cut = found + 1
        yield _decode(content[pos:cut])
        pos = cut


def _v1_single_text(content: str) -> str | None:
    """Fast path for the usual one-host repr: decode the string literal without building an AST
    (``ast.literal_eval`` needs ~3x the text in memory and is slow for a 25 MB log).
    None when the content is not that shape (several hosts, something else)."""
    where = _v1_literal(content)
    if where is None:
        return None
    try:
        return "".join(_v1_chunks(content, *where))
    except (UnicodeError, ValueError):
        return None


def v1_content_chunks(content: Any) -> Iterator[str]:
    """The text of v1 ``content`` in pieces that end at line breaks (the last one may not):
    decoded as they are consumed for the usual one-host repr, else one piece."""
    if isinstance(content, str):
        stripped = content.strip()
        where = _v1_literal(stripped)
        if where is not None:
            pieces = 0
            try:
                for piece in _v1_chunks(stripped, *where):
                    pieces += 1
                    yield piece
                return
            except (UnicodeError, ValueError):  # not a valid repr after all
                if pieces:
                    raise
    yield v1_content_text(content)


def v1_content_text(content: Any) -> str:
    """v1 ``content`` is ``repr([(host, text), ...])``: return the joined texts.

    Falls back to the raw string when it is not such a literal (some handlers, old versions).
    """
    if content is None:
        return ""
    if isinstance(content, list):
        parsed: Any = content
    elif isinstance(content, str):
        stripped = content.lstrip()
        if not stripped.startswith(("[", "(")):
            return content
        fast = _v1_single_text(stripped.rstrip())
        if fast is not None:
            return fast
        try:
            parsed = ast.literal_eval(stripped)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return content
    else:
        return str(content)
    if isinstance(parsed, tuple):
        parsed = [parsed]
    if not isinstance(parsed, list):
        return content if isinstance(content, str) else str(parsed)
    texts = []
    for item in parsed:
        if isinstance(item, (list, tuple)) and len(item) >= 2:
            texts.append(str(item[1]))
        elif isinstance(item, str):
            texts.append(item)
    return "\n".join(texts)


_LEVELS = "DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL|FATAL|EXCEPTION"
_LINE_RE = re.compile(
    r"^\s*(?:\[(?P<ts>[^\]]{10,40})\]\s*)?(?:\{(?P<src>[^}]*)\}\s*)?"
    rf"(?P<level>{_LEVELS})\s+-\s?(?P<msg>.*)$"
)
_TS_ONLY_RE = re.compile(r"^\[(?P<ts>\d{4}-\d\d-\d\d[T ][^\]]{5,35})\]\s?(?P<msg>.*)$")
_LEVEL_NAMES = {"warn": "warning", "fatal": "critical", "exception": "error"}
LEVEL_ALIASES = _LEVEL_NAMES  # a level as sent (lower case) -> its usual name


def _group(text: str) -> tuple[str | None, str]:
    if text.startswith("::group::"):
        return "start", text[len("::group::") :]
    if text.startswith("::endgroup::"):
        return "end", text[len("::endgroup::") :]
    return None, text


_LEVEL_WORDS = {"DEBUG": "debug", "INFO": "info", "WARNING": "warning", "WARN": "warning",
                "ERROR": "error", "CRITICAL": "critical", "FATAL": "critical",
                "EXCEPTION": "error"}


def _parse_usual(line: str) -> LogLine | None:
    """Fast path for the usual ``[ts] {src} LEVEL - msg`` shape (str methods, no regex): the
    same result as the regex below, or None to let the regex decide."""
    close = line.find("] {", 11, 44)
    if close < 0:
        return None
    src_end = line.find("} ", close + 3)
    dash = line.find(" - ", src_end + 2, src_end + 14) if src_end > 0 else -1
    if dash < 0:
        return None
    level = _LEVEL_WORDS.get(line[src_end + 2 : dash])
    ts, src = line[1:close], line[close + 3 : src_end]
    if level is None or "]" in ts or "}" in src:
        return None
    msg = line[dash + 3 :]
    group = None
    if msg.startswith("::"):
        group, msg = _group(msg)
    return LogLine(msg, parse_datetime(ts), level, src or None, group,  # type: ignore[arg-type]
                   raw=line)


def parse_text_line(line: str) -> LogLine:
    """A classic Airflow text line ``[ts] {file.py:12} INFO - message`` → LogLine (``raw`` keeps
    the line as sent, without a trailing CR)."""
    if line.endswith("\r"):
        line = line.rstrip("\r")
    if line.startswith("[") and (usual := _parse_usual(line)) is not None:
        return usual
    match = _LINE_RE.match(line)
    if match is None:
        ts_match = _TS_ONLY_RE.match(line)
        if ts_match is not None and (ts := parse_datetime(ts_match["ts"])) is not None:
            return LogLine(text=line, timestamp=ts, raw=line)
        group, text = _group(line.strip()) if "::" in line else (None, line)
        return LogLine(text=text if group else line, group=group, raw=line)  # type: ignore[arg-type]
    level = match["level"].lower()
    level = _LEVEL_NAMES.get(level, level)
    group, text = _group(match["msg"])
    return LogLine(
        text=text,
        timestamp=parse_datetime(match["ts"]) if match["ts"] else None,
        level=level,
        logger=match["src"] or None,
        group=group,  # type: ignore[arg-type]
        raw=line,
    )


def text_to_lines(text: str) -> list[LogLine]:
    if not text:
        return []
    return [parse_text_line(line) for line in text.split("\n")]


# -- v2 structured entries ----------------------------------------------------------------------

_KNOWN_KEYS = frozenset({"event", "timestamp", "level", "logger", "error_detail", "sources"})
# TI context keys added by newer releases on every entry: noise on each line, so not extras.
_HIDDEN_KEYS = frozenset({"ti_id", "dag_id", "task_id", "run_id", "try_number", "map_index", "chan"})
_SKIP_KEYS = _KNOWN_KEYS | _HIDDEN_KEYS
#: The keys of a plain entry: one line, no traceback, no sources, no extras. A formatter may
#: turn such an entry into its display line directly (LineFormatter), without a LogLine.
PLAIN_ENTRY_KEYS = _SKIP_KEYS - {"error_detail", "sources"}
_MAX_DEPTH = 8  # nested exception groups rendered at most this deep (hostile input)
_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def render_error_detail(detail: Any) -> list[str]:
    """v2 ``error_detail`` → the lines of a Python-style traceback (it may also be a pre-rendered
    string).

    ``error_detail`` is structlog's ``ExceptionDictTransformer`` output: a list of stacks, the
    exception raised last *first*, then its ``__cause__``/``__context__`` chain (``is_cause`` on a
    stack means it caused the one before). Python prints the chain oldest first, so the list is
    rendered in reverse, with the usual "direct cause" / "during handling" separators. Frames
    keep their indentation; structlog's "Skipped frames: N" marker, frame ``locals``, SyntaxError
    details and exception groups (``exceptions``) are rendered too.
    """
    if detail is None:
        return []
    if isinstance(detail, str):
        return detail.splitlines()
    if isinstance(detail, Mapping):
        detail = [detail]
    if not isinstance(detail, list):
        return str(detail).splitlines()
    out: list[str] = []
    _render_trace(detail, "", out, 0)
    return [part for line in out for part in line.split("\n")]


def _render_trace(stacks: list[Any], indent: str, out: list[str], depth: int) -> None:
    chain = list(reversed(stacks))
    for index, exc in enumerate(chain):
        if not isinstance(exc, Mapping):
            out.append(indent + str(exc))
            continue
        _render_stack(exc, indent, out, depth)
        if index < len(chain) - 1:
            out.extend(("", indent + (_CAUSE if exc.get("is_cause") else _CONTEXT), ""))


def _render_stack(exc: Mapping[str, Any], indent: str, out: list[str], depth: int) -> None:
    frames = exc.get("frames") or []
    group = exc.get("exceptions") if exc.get("is_group") or exc.get("exceptions") else None
    if frames:
        title = "Exception Group Traceback" if group else "Traceback"
        out.append(f"{indent}{title} (most recent call last):")
    for frame in frames:
        if not isinstance(frame, Mapping):
            continue
        filename, lineno, name = frame.get("filename"), frame.get("lineno"), frame.get("name", "?")
        if not filename and lineno in (None, -1):  # structlog's "Skipped frames: N"
            out.append(f"{indent}  ... {name}")
            continue
        out.append(f'{indent}  File "{filename or "?"}", line {lineno}, in {name}')
        local_vars = frame.get("locals")
        if isinstance(local_vars, Mapping):
            out.extend(f"{indent}    {key} = {value}" for key, value in local_vars.items())
    syntax = exc.get("syntax_error")
    if isinstance(syntax, Mapping):
        out.append(f'{indent}  File "{syntax.get("filename") or "?"}", line {syntax.get("lineno")}')
        code = str(syntax.get("line") or "").rstrip("\r\n")
        if code.strip():
            stripped = code.lstrip()
            out.append(f"{indent}    {stripped}")
            offset = syntax.get("offset")
            if isinstance(offset, int) and offset > 0:
                caret = max(0, offset - 1 - (len(code) - len(stripped)))
                out.append(f"{indent}    {' ' * caret}^")
    exc_type = exc.get("exc_type") or "Exception"
    exc_value = exc.get("exc_value")
    out.append(f"{indent}{exc_type}: {exc_value}" if exc_value not in (None, "") else
               f"{indent}{exc_type}")
    for note in exc.get("exc_notes") or []:
        out.append(f"{indent}{note}")
    if isinstance(group, list) and group:
        if depth >= _MAX_DEPTH:
            out.append(f"{indent}  ... ({len(group)} nested exceptions not shown)")
            return
        for number, sub in enumerate(group, 1):
            out.append(f"{indent}+---------------- {number} ----------------")
            sub_stacks = sub if isinstance(sub, list) else [sub]
            _render_trace(sub_stacks, indent + "| ", out, depth + 1)
        out.append(f"{indent}+------------------------------------")


def entry_to_line(entry: Any) -> LogLine:
    """One v2 ``content`` entry (a StructuredLogMessage dict, or a plain string) → LogLine."""
    if not isinstance(entry, dict):  # JSON objects are dicts (and dict is much faster to test)
        text = "" if entry is None else str(entry)
        first, _, rest = text.partition("\n")
        line = parse_text_line(first)
        if rest:
            return LogLine(
                line.text, line.timestamp, line.level, line.logger, line.group,
                tuple(rest.split("\n")), raw=line.raw,
            )
        return line
    event = entry.get("event")
    if type(event) is not str:
        event = "" if event is None else str(event)
    detail: list[str] = []
    if "\n" in event:
        event, _, rest = event.partition("\n")
        detail = rest.split("\n")
    group = None
    if event.startswith("::"):
        group, event = _group(event)
    sources = entry.get("sources")
    if isinstance(sources, list):
        detail.extend(str(s) for s in sources)
    error_detail = entry.get("error_detail")
    if error_detail is not None:
        detail.extend(render_error_detail(error_detail))
    level = entry.get("level")
    if isinstance(level, str):
        level = level.lower()
        level = _LEVEL_NAMES.get(level, level)
    else:
        level = None
    logger = entry.get("logger")
    if logger is not None and type(logger) is not str:
        logger = str(logger)
    extras = {} if entry.keys() <= _SKIP_KEYS else {
        k: v for k, v in entry.items() if k not in _SKIP_KEYS}
    return LogLine(
        event, parse_datetime(entry.get("timestamp")), level, logger, group,  # type: ignore[arg-type]
        tuple(detail), extras,
    )


def entries_to_lines(content: Any) -> list[LogLine]:
    if content is None:
        return []
    if isinstance(content, str):  # defensive: a server that sends text
        return text_to_lines(content)
    return [entry_to_line(e) for e in content]


def header_length(entries: list[Any]) -> int:
    """Number of leading "log sources" header entries (``::group::`` … ``::endgroup::``) that a v2
    server puts before the log on calls without a token (2 to 4 entries, version dependent)."""
    if not entries:
        return 0
    first = entries[0]
    event = first.get("event") if isinstance(first, Mapping) else first
    if not (isinstance(event, str) and event.startswith("::group::Log message source")):
        return 0
    for index, entry in enumerate(entries[:50]):
        event = entry.get("event") if isinstance(entry, Mapping) else entry
        if index and isinstance(event, str) and event.startswith("::endgroup::"):
            return index + 1
    return 0
