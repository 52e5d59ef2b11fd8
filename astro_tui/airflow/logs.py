"""Task logs: continuation tokens, :class:`LogFollower` (tails a running try without ever showing
a line twice) and the Airflow UI address of a try's log. The payload parsers live in
:mod:`astro_tui.airflow.log_parse` and are re-exported here.

Pure asyncio; no Textual.
"""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping
from itertools import chain, islice
from typing import Any, TypeVar
from urllib.parse import urlencode

from astro_tui.airflow.errors import NotAirflow, NotFound
from astro_tui.airflow.log_body import LogBody, parse_log_body
from astro_tui.airflow.log_parse import (
    entries_to_lines,
    entry_to_line,
    header_length,
    parse_text_line,
    render_error_detail,
    text_to_lines,
    v1_content_chunks,
    v1_content_text,
)
from astro_tui.airflow.models import TERMINAL_TI_STATES, LogLine, TaskInstance
from astro_tui.airflow.urls import quote_segment

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
    "parse_log_body",
    "ui_log_url",
    "LogFollower",
]

T = TypeVar("T")

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


# -- the Airflow UI --------------------------------------------------------------------------


def ui_log_url(
    root_url: str,
    major: int,
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int = -1,
    try_number: int | None = None,
) -> str:
    """The address of a try's log in the Airflow web UI (what a colleague can open).

    Airflow 3: ``/dags/D/runs/R/tasks/T[/mapped/I]?try_number=N`` (the log is the default tab).
    Airflow 2: the grid view with the task selected and its "logs" tab open.
    """
    root = root_url.rstrip("/")
    if major >= 3:
        path = "/".join(quote_segment(p) for p in ("dags", dag_id, "runs", run_id, "tasks", task_id))
        if map_index >= 0:
            path += f"/mapped/{map_index}"
        query = f"?{urlencode({'try_number': try_number})}" if try_number else ""
        return f"{root}/{path}{query}"
    params: dict[str, Any] = {"dag_run_id": run_id, "task_id": task_id}
    if map_index >= 0:
        params["map_index"] = map_index
    params["tab"] = "logs"
    return f"{root}/dags/{quote_segment(dag_id)}/grid?{urlencode(params)}"


def ui_url(root_url: str, major: int, dag_id: str, run_id: str | None = None,
           task_id: str | None = None, map_index: int = -1) -> str:
    """The address of a DAG, a run or a task instance in the Airflow web UI.

    Airflow 3: ``/dags/D``, ``/dags/D/runs/R``, ``/dags/D/runs/R/tasks/T[/mapped/I]``.
    Airflow 2: the grid view, with the run (and the task) selected.
    """
    root = root_url.rstrip("/")
    if major >= 3:
        parts = ["dags", dag_id]
        if run_id is not None:
            parts += ["runs", run_id]
            if task_id is not None:
                parts += ["tasks", task_id]
        path = "/".join(quote_segment(p) for p in parts)
        if run_id is not None and task_id is not None and map_index >= 0:
            path += f"/mapped/{map_index}"
        return f"{root}/{path}"
    params: dict[str, Any] = {}
    if run_id is not None:
        params["dag_run_id"] = run_id
        if task_id is not None:
            params["task_id"] = task_id
            if map_index >= 0:
                params["map_index"] = map_index
    query = f"?{urlencode(params)}" if params else ""
    return f"{root}/dags/{quote_segment(dag_id)}/grid{query}"


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

    ``requests`` and ``bytes_received`` count the log reads and their body sizes.
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
        raw_entries: bool = False,
    ) -> None:
        self.client = client
        #: Airflow 3: yield each log entry as decoded (a dict, mostly) instead of a LogLine,
        #: for a sink that formats entries itself (LineFormatter: a 200k-line log sooner)
        self.raw_entries = raw_entries
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
        self.bytes_received = 0
        self.last_bytes = 0  # body size of the latest log read
        self._token: str | None = None
        self._shown = 0  # v2: entries after the header already returned
        self._started = False  # at least one log read done
        self._pending = ""  # v1: text of a line not yet terminated
        self._at_boundary = True  # v1: the text returned so far ends at a line break
        #: token mode: entries the kept token gives again (the server said end-of-log while
        #: the try was not over: the next read starts where that one did and skips them)
        self._replay = 0
        #: the task instance as another poll read it since this one's last read (hand_over)
        self._handed: TaskInstance | None = None
        self.ti_reads = 0  # task instances read by the follower itself

    def __repr__(self) -> str:
        return (
            f"LogFollower({self.dag_id!r}, {self.run_id!r}, {self.task_id!r}, "
            f"try={self.try_number}, map_index={self.map_index}, mode={self.mode!r})"
        )

    async def poll(self) -> list[LogLine]:
        return await self.poll_with(list)

    async def poll_with(
        self, sink: Callable[[Iterable[LogLine]], T], *, thread: bool = False
    ) -> T:
        """Like :meth:`poll`, but the new lines go to ``sink`` as a lazy iterable, which it must
        consume entirely; returns what ``sink`` returns.

        With ``thread=True`` decoding the response and ``sink`` run in a worker thread, so a
        200k-line log neither blocks the event loop nor exists as a list of entries: each entry
        is decoded, turned into a LogLine and handed over one at a time.
        """
        if self.finished:
            return sink(())
        ti, self._handed = self._handed, None
        if ti is None or (self.ti is not None and (ti.try_number or 0) < (self.ti.try_number or 0)):
            self.ti_reads += 1
            ti = await self.client.get_task_instance(
                self.dag_id, self.run_id, self.task_id, self.map_index
            )
        self.ti = ti
        current_try = ti.try_number or 0
        if self.try_number is None:
            self.try_number = max(current_try, 1)
        try_over = current_try > self.try_number or ti.state in _TRY_OVER
        if not try_over and ti.state in _NOT_STARTED:
            return sink(())  # the try has not started: nothing to read yet
        token = self._token if self.mode in ("text", "token") else None
        try:
            body: list[Any] = [await self._read(token)]
        except NotFound:
            if not try_over:
                return sink(())
            body = []

        def work() -> T:
            return sink(self._digest(body, token, try_over))

        return await asyncio.to_thread(work) if thread else work()

    def hand_over(self, ti: TaskInstance) -> None:
        """The task instance as another poll has just read it (the tasks pane's, every few
        seconds while its run is active): the next poll uses it instead of reading its own.
        Safe however old it is: it was read before the log read it is used for, and the end
        only comes when the server says end-of-log *and* the try is over."""
        self._handed = ti

    async def follow(self) -> AsyncIterator[list[LogLine]]:
        """Poll until the try is over, yielding each non-empty batch of new lines."""
        while not self.finished:
            lines = await self.poll()
            if lines:
                yield lines
            if not self.finished:
                await asyncio.sleep(self.interval)

    __aiter__ = follow

    async def _read(self, token: str | None) -> bytes | Mapping[str, Any]:
        self.requests += 1
        args = (self.dag_id, self.run_id, self.task_id, self.try_number)
        read_body = getattr(self.client, "read_log_body", None)
        if read_body is None:  # a client without raw bodies (test doubles)
            raw: bytes | Mapping[str, Any] = await self.client.read_log_raw(
                *args, map_index=self.map_index, token=token
            )
            return raw
        body: bytes = await read_body(*args, map_index=self.map_index, token=token)
        self.last_bytes = len(body)
        self.bytes_received += len(body)
        return body

    def _digest(self, holder: list[Any], token: str | None, try_over: bool) -> Iterator[LogLine]:
        """The new lines of one response (``holder`` is emptied, so the body can be freed as
        soon as it is decoded). Updates the position as it goes; ends the follow at the end."""
        if not holder:  # the log does not exist, and the try is over
            end = True
        else:
            if isinstance(holder[0], (bytes, bytearray, str)):
                try:
                    body = parse_log_body(holder)  # empties the holder
                except ValueError as exc:
                    raise NotAirflow(f"the log response is not Airflow's JSON: {exc}") from None
            else:
                payload = holder.pop()
                body = LogBody(payload.get("content"), payload.get("continuation_token") or None)
            if self.mode == "text":
                end = yield from self._text_lines(body)
            else:
                end = yield from self._entry_lines(body, token)
        if end and try_over:
            self.finished = True
            if self._pending:
                pending, self._pending = self._pending, ""
                yield parse_text_line(pending)

    def _text_lines(self, body: LogBody) -> Generator[LogLine, None, bool]:
        chunks = v1_content_chunks(body.content)  # a big log is decoded piece by piece
        body.content = None
        token = body.token
        end = v1_end_of_log(token)
        if token:
            self._token = token
        self._started = True
        first = True
        for text in chunks:
            if not text:
                continue
            if first:
                first = False
                if self._at_boundary and not self._pending and text.startswith("\n"):
                    text = text[1:]
                self._at_boundary = False
            if self._pending:
                text = self._pending + text
                self._pending = ""
            start = 0
            find = text.find
            while (stop := find("\n", start)) >= 0:
                yield parse_text_line(text[start:stop])
                start = stop + 1
            self._pending = text[start:]
        if first and self._pending:
            # Nothing new: the held-back line is complete as far as anyone can tell.
            pending, self._pending = self._pending, ""
            self._at_boundary = True
            yield parse_text_line(pending)
        return end

    def _entry_lines(self, body: LogBody, token: str | None) -> Generator[Any, None, bool]:
        """The new entries as LogLines (or as decoded, with `raw_entries`)."""
        content = body.content
        if body.entries is not None:
            entries: Iterator[Any] = body.entries
        elif isinstance(content, str):
            entries = iter(content.split("\n"))
        else:
            entries = iter(content or [])
        body.content = None
        next_token = body.token
        make: Callable[[Any], Any] = _as_is if self.raw_entries else entry_to_line
        if token is None:
            head = list(islice(entries, 50))
            header = header_length(head)
            # The header is shown once, with the first read; later reads skip it.
            start = 0 if not self._started else header + self._shown
            count = 0
            for count, entry in enumerate(chain(head, entries), 1):
                if count > start:
                    yield make(entry)
            self._shown += max(0, count - max(start, header))
        else:
            skip, fresh = self._replay, 0
            for entry in entries:
                if skip:
                    skip -= 1
                    continue
                fresh += 1
                self._shown += 1
                yield make(entry)
            if next_token is None:
                # End-of-log, but the try may go on (the server decides by the TI state as it
                # reads: a sensor waiting to reschedule ends its log for now): the next read
                # starts where this one did and skips what it gave, never the whole log again.
                self._replay += fresh  # (self._token stays)
                return True
            self._replay = 0
        self._started = True
        self._token = next_token if self.mode == "token" else None
        return next_token is None


def _as_is(entry: Any) -> Any:
    return entry
