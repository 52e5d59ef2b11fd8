"""Task logs: v1 text (a Python repr of ``[(host, text)]``), v2 structured entries, continuation
tokens, and :class:`LogFollower`, which tails a running try without ever showing a line twice.

Pure asyncio; no Textual.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import json
import re
import zlib
from typing import Any, AsyncIterator, Mapping

from astro_tui.airflow.errors import NotFound
from astro_tui.airflow.models import LogLine, TERMINAL_TI_STATES, TaskInstance, parse_datetime

__all__ = [
    "v1_content_text",
    "decode_token",
    "v1_end_of_log",
    "parse_text_line",
    "text_to_lines",
    "entry_to_line",
    "entries_to_lines",
    "render_error_detail",
    "header_length",
    "LogFollower",
]

# -- continuation tokens (itsdangerous URLSafeSerializer, read without verifying) -------------


def decode_token(token: str | None) -> dict[str, Any] | None:
    """The JSON payload of an itsdangerous token: ``<b64url json>.<sig>``, or, when compressed,
    ``.<b64url zlib(json)>.<sig>``. None when it cannot be read."""
    if not token or not isinstance(token, str):
        return None
    compressed = token.startswith(".")
    body = token[1:] if compressed else token
    payload = body.split(".", 1)[0]
    try:
        raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        if compressed:
            raw = zlib.decompress(raw)
        data = json.loads(raw)
    except (ValueError, zlib.error):
        return None
    return data if isinstance(data, dict) else None


def v1_end_of_log(token: str | None) -> bool:
    """v1 always sends a token; the end of the log is a flag inside it."""
    data = decode_token(token)
    return bool(data and data.get("end_of_log"))


# -- v1 text ----------------------------------------------------------------------------------


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


def _group(text: str) -> tuple[str | None, str]:
    if text.startswith("::group::"):
        return "start", text[len("::group::") :]
    if text.startswith("::endgroup::"):
        return "end", text[len("::endgroup::") :]
    return None, text


def parse_text_line(line: str) -> LogLine:
    """A classic Airflow text line ``[ts] {file.py:12} INFO - message`` → LogLine."""
    line = line.rstrip("\r")
    match = _LINE_RE.match(line)
    if match is None:
        ts_match = _TS_ONLY_RE.match(line)
        if ts_match is not None and (ts := parse_datetime(ts_match["ts"])) is not None:
            return LogLine(text=line, timestamp=ts)
        group, text = _group(line.strip()) if "::" in line else (None, line)
        return LogLine(text=text if group else line, group=group)  # type: ignore[arg-type]
    level = match["level"].lower()
    level = _LEVEL_NAMES.get(level, level)
    group, text = _group(match["msg"])
    return LogLine(
        text=text,
        timestamp=parse_datetime(match["ts"]) if match["ts"] else None,
        level=level,
        logger=match["src"] or None,
        group=group,  # type: ignore[arg-type]
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


def render_error_detail(detail: Any) -> list[str]:
    """v2 ``error_detail`` → traceback-like lines (it may also be a pre-rendered string)."""
    if detail is None:
        return []
    if isinstance(detail, str):
        return detail.splitlines()
    if isinstance(detail, Mapping):
        detail = [detail]
    if not isinstance(detail, list):
        return [str(detail)]
    lines: list[str] = []
    for index, exc in enumerate(detail):
        if not isinstance(exc, Mapping):
            lines.append(str(exc))
            continue
        if index:
            lines.append(
                "The above exception was the direct cause of the following exception:"
                if exc.get("is_cause")
                else "During handling of the above exception, another exception occurred:"
            )
        frames = exc.get("frames") or []
        if frames:
            lines.append("Traceback (most recent call last):")
        for frame in frames:
            if isinstance(frame, Mapping):
                lines.append(
                    f'  File "{frame.get("filename", "?")}", line {frame.get("lineno", "?")}, '
                    f'in {frame.get("name", "?")}'
                )
        exc_type = exc.get("exc_type") or "Exception"
        exc_value = exc.get("exc_value")
        lines.append(f"{exc_type}: {exc_value}" if exc_value not in (None, "") else str(exc_type))
        for note in exc.get("exc_notes") or []:
            lines.append(str(note))
    return lines


def entry_to_line(entry: Any) -> LogLine:
    """One v2 ``content`` entry (a StructuredLogMessage dict, or a plain string) → LogLine."""
    if not isinstance(entry, dict):  # JSON objects are dicts (and dict is much faster to test)
        text = "" if entry is None else str(entry)
        first, _, rest = text.partition("\n")
        line = parse_text_line(first)
        if rest:
            return LogLine(
                line.text, line.timestamp, line.level, line.logger, line.group,
                tuple(rest.split("\n")),
            )
        return line
    event = entry.get("event")
    event = "" if event is None else str(event)
    first, _, rest = event.partition("\n")
    group, text = _group(first)
    detail: list[str] = rest.split("\n") if rest else []
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
    extras = {k: v for k, v in entry.items() if k not in _SKIP_KEYS}
    return LogLine(
        text=text,
        timestamp=parse_datetime(entry.get("timestamp")),
        level=level,
        logger=None if logger is None else str(logger),
        group=group,  # type: ignore[arg-type]
        detail=tuple(detail),
        extras=extras,
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


# -- following a running task ----------------------------------------------------------------

#: states in which a try has not started writing its log yet
_NOT_STARTED = frozenset({None, "none", "scheduled", "queued"})
#: states after which the try we follow writes no more (a retry gets a new try number)
_TRY_OVER = TERMINAL_TI_STATES | {"up_for_retry"}


class LogFollower:
    """Tail one try of a task instance: each :meth:`poll` returns only lines not returned before.

    Strategy by server (``client.dialect.follow_mode()``):

    * ``"text"`` (Airflow 2): continuation-token loop over raw text. Chunks after the first start
      with ``"\\n"``; text is joined raw and a trailing partial line is held back until it is
      completed (or the log ends, or a poll brings nothing new).
    * ``"token"`` (Airflow ≥ 3.3.1): token loop over entries; a null token is the end.
    * ``"poll"`` (Airflow 3.0–3.3.0): the token is broken there (3.0–3.1 repeat the whole log,
      3.2 answers 500), so every poll reads the whole log without a token and skips the header
      entries plus the entries already shown.

    The follower finishes when the server says end-of-log *and* the try is over (TI state is
    terminal or a later try exists), so a race between the two checks never loses the last lines.
    """

    def __init__(
        self,
        client: Any,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int | None = None,
        map_index: int = -1,
        *,
        interval: float = 2.0,
    ) -> None:
        self.client = client
        self.dag_id = dag_id
        self.run_id = run_id
        self.task_id = task_id
        self.try_number = try_number
        self.map_index = map_index
        self.interval = interval
        self.mode = client.dialect.follow_mode()
        self.finished = False
        self.ti: TaskInstance | None = None
        self.requests = 0
        self._token: str | None = None
        self._shown = 0  # v2: entries after the header already returned
        self._started = False  # at least one log read done
        self._pending = ""  # v1: text of a line not yet terminated
        self._at_boundary = True  # v1: the text returned so far ends at a line break

    def __repr__(self) -> str:
        return (
            f"LogFollower({self.dag_id!r}, {self.run_id!r}, {self.task_id!r}, "
            f"try={self.try_number}, map_index={self.map_index}, mode={self.mode!r})"
        )

    async def poll(self) -> list[LogLine]:
        if self.finished:
            return []
        ti = await self.client.get_task_instance(
            self.dag_id, self.run_id, self.task_id, self.map_index
        )
        self.ti = ti
        current_try = ti.try_number or 0
        if self.try_number is None:
            self.try_number = max(current_try, 1)
        try_over = current_try > self.try_number or ti.state in _TRY_OVER
        if not try_over and ti.state in _NOT_STARTED:
            return []  # the try has not started: nothing to read yet
        try:
            if self.mode == "text":
                lines, end = await self._poll_text()
            else:
                lines, end = await self._poll_entries()
        except NotFound:
            if not try_over:
                return []
            lines, end = [], True
        if end and try_over:
            self.finished = True
            if self._pending:
                lines.append(parse_text_line(self._pending))
                self._pending = ""
        return lines

    async def follow(self) -> AsyncIterator[list[LogLine]]:
        """Poll until the try is over, yielding each non-empty batch of new lines."""
        while not self.finished:
            lines = await self.poll()
            if lines:
                yield lines
            if not self.finished:
                await asyncio.sleep(self.interval)

    __aiter__ = follow

    async def _read(self, token: str | None) -> Mapping[str, Any]:
        self.requests += 1
        return await self.client.read_log_raw(
            self.dag_id, self.run_id, self.task_id, self.try_number,
            map_index=self.map_index, token=token,
        )

    async def _poll_text(self) -> tuple[list[LogLine], bool]:
        payload = await self._read(self._token)
        text = v1_content_text(payload.get("content"))
        token = payload.get("continuation_token") or None
        end = v1_end_of_log(token)
        if token:
            self._token = token
        self._started = True
        if not text:
            # Nothing new: the held-back line is complete as far as anyone can tell.
            lines = [parse_text_line(self._pending)] if self._pending else []
            if self._pending:
                self._at_boundary = True
            self._pending = ""
            return lines, end
        if self._at_boundary and not self._pending and text.startswith("\n"):
            text = text[1:]
        self._at_boundary = False
        parts = (self._pending + text).split("\n")
        self._pending = parts.pop()
        return [parse_text_line(p) for p in parts], end

    async def _poll_entries(self) -> tuple[list[LogLine], bool]:
        token = self._token if self.mode == "token" else None
        payload = await self._read(token)
        content = payload.get("content") or []
        if isinstance(content, str):
            content = content.split("\n")
        next_token = payload.get("continuation_token") or None
        if token is None:
            header = header_length(content)
            # The header is shown once, with the first read; later reads skip it.
            start = 0 if not self._started else header + self._shown
            self._shown += max(0, len(content) - max(start, header))
            new = content[start:]
        else:
            new = content
            self._shown += len(new)
        self._started = True
        self._token = next_token if self.mode == "token" else None
        return entries_to_lines(new), next_token is None

