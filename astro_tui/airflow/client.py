"""AirflowClient: one httpx.AsyncClient per server, version detection, paging, and retries of
idempotent reads only. Version differences live in :mod:`astro_tui.airflow.dialect`."""

from __future__ import annotations

import asyncio
import random
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from astro_tui.airflow.dialect import Dialect, Op, dialect_for
from astro_tui.airflow.errors import (
    ApiError,
    Forbidden,
    NotAirflow,
    RateLimited,
    ServerError,
    Unauthorized,
    error_from_response,
    not_airflow,
)
from astro_tui.airflow.models import (
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    DagsMark,
    DagWarning,
    Health,
    HitlDetail,
    HitlResponse,
    LogChunk,
    TaskInstance,
    Version,
)
from astro_tui.airflow.transport import DEFAULT_TIMEOUT, make_http, ssl_cause, transport_error
from astro_tui.airflow.urls import normalize_root_url, quote_segment

__all__ = ["AirflowClient", "DEFAULT_TIMEOUT", "LOG_TIMEOUT"]

PAGE_CONCURRENCY = 4  # pages fetched at once after the first

#: whole logs can be tens of MB and take the server several seconds to assemble
LOG_TIMEOUT = httpx.Timeout(10.0, read=180.0)
RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_RETRY_AFTER = 30.0


class AirflowClient:
    """Async client for one Airflow server (API v1 or v2). Create it with :meth:`connect`."""

    def __init__(
        self,
        root_url: str,
        version: Version,
        *,
        auth: httpx.Auth | None = None,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        http: httpx.AsyncClient | None = None,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        max_in_flight: int = 1,
    ) -> None:
        self.root_url = normalize_root_url(root_url)
        # Requests of this client on the wire at once (issue 13: concurrent requests crash an
        # Airflow 3.3 api-server at 5,000 DAGs). Later requests wait their turn, unsent.
        self._gate = asyncio.Semaphore(max(1, max_in_flight))
        self.max_in_flight = max(1, max_in_flight)
        self._on_wire: dict[int, float] = {}  # request number -> monotonic start
        self._sent = 0
        self._recent: deque[tuple[float, float]] = deque(maxlen=50)  # (ended, seconds taken)
        self._http = http or make_http(auth=auth, verify=verify, transport=transport)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self._sleep = sleep
        self.version = version
        self.dialect: Dialect = dialect_for(version)
        self.api_prefix = self.dialect.api_prefix

    def __repr__(self) -> str:
        return f"AirflowClient({self.root_url!r}, version={str(self.version)!r})"

    # -- life cycle ------------------------------------------------------------------------------
    @classmethod
    async def connect(
        cls,
        url: str,
        *,
        auth: httpx.Auth | None = None,
        verify: bool | str | ssl.SSLContext = True,
        transport: httpx.AsyncBaseTransport | None = None,
        **kwargs: Any,
    ) -> AirflowClient:
        """Normalize ``url`` to the root, detect the API version, return a ready client."""
        root = normalize_root_url(url)
        http = make_http(auth=auth, verify=verify, transport=transport)
        try:
            version = await _detect_version(http, root)
        except BaseException:
            await http.aclose()
            raise
        return cls(root, version, http=http, **kwargs)

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> AirflowClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- transport -------------------------------------------------------------------------------
    def url(self, *segments: Any) -> str:
        return self.root_url + self.api_prefix + "".join("/" + quote_segment(s) for s in segments)

    def set_max_in_flight(self, limit: int) -> None:
        """At most `limit` requests of this client on the wire at once (set before use)."""
        self.max_in_flight = max(1, limit)
        self._gate = asyncio.Semaphore(self.max_in_flight)

    def slow_recently(self, threshold: float = 3.0, window: float = 30.0) -> bool:
        """Whether an answer of the last `window` seconds took more than `threshold` seconds."""
        horizon = time.monotonic() - window
        return any(ended >= horizon and took > threshold for ended, took in self._recent)

    def oldest_request_start(self) -> float | None:
        """`time.monotonic()` when the oldest request on the wire was sent (None: none)."""
        return min(self._on_wire.values()) if self._on_wire else None

    def oldest_request_age(self) -> float | None:
        """Seconds the oldest request on the wire has waited for its answer (None: none)."""
        if not self._on_wire:
            return None
        return time.monotonic() - min(self._on_wire.values())

    async def _request(self, op: Op, url: str, timeout: httpx.Timeout | None) -> httpx.Response:
        async with self._gate:
            self._sent += 1
            number = self._sent
            started = self._on_wire[number] = time.monotonic()
            try:
                response = await self._http.request(
                    op.method,
                    url,
                    params=op.params or None,
                    json=op.json,
                    headers=op.headers or None,
                    timeout=timeout or DEFAULT_TIMEOUT,
                )
            finally:
                del self._on_wire[number]
            ended = time.monotonic()
            self._recent.append((ended, ended - started))  # answers only: a timeout is an error
            return response

    async def _send(self, op: Op, *, timeout: httpx.Timeout | None = None) -> httpx.Response:
        url = self.url(*op.path)
        attempts = self.attempts if op.retry else 1
        for attempt in range(1, attempts + 1):
            try:
                response = await self._request(op, url, timeout)
            except httpx.TimeoutException as exc:
                if attempt < attempts and isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
                    await self._sleep(self._delay(attempt))
                    continue
                raise transport_error(exc, url) from None
            except httpx.TransportError as exc:
                # A refused connection, or a kept-alive one the server had closed meanwhile;
                # never a failed TLS handshake: a bad certificate stays bad.
                retriable = (httpx.ConnectError, httpx.RemoteProtocolError)
                if attempt < attempts and isinstance(exc, retriable) and ssl_cause(exc) is None:
                    await self._sleep(self._delay(attempt))
                    continue
                raise transport_error(exc, url) from None
            if response.status_code in RETRY_STATUSES and attempt < attempts:
                delay = self._delay(attempt)
                if response.status_code == 429:
                    err = error_from_response(response)
                    if isinstance(err, RateLimited) and err.retry_after is not None:
                        delay = min(err.retry_after, MAX_RETRY_AFTER)
                await self._sleep(delay)
                continue
            if response.status_code >= 400:
                raise error_from_response(response)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        base = self.backoff * (2 ** (attempt - 1))
        return base + random.uniform(0, base / 2) if base else 0.0

    async def _json(self, op: Op, *, timeout: httpx.Timeout | None = None) -> Any:
        response = await self._send(op, timeout=timeout)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise not_airflow(response) from None

    async def _dict(self, op: Op, *, timeout: httpx.Timeout | None = None) -> dict[str, Any]:
        data = await self._json(op, timeout=timeout)
        if not isinstance(data, dict):
            raise NotAirflow(
                f"{self.url(*op.path)} answered with JSON that is not an object: "
                "the URL may not be an Airflow API"
            )
        return data

    async def _pages(
        self, make_op: Callable[[int, int], Op], key: str, *, limit: int | None = None,
        on_page: Callable[[list[dict[str, Any]], int | None], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Collect every item by offset paging until ``total_entries`` (never ``limit=0``).
        The first page tells the total and the server's real page size; the other pages are
        then fetched a few at a time (1,009 DAGs: 11 round trips in the time of ~3).
        `on_page` is given each page's items as it arrives (in any order), with the total the
        server says it has."""
        page = limit or self.dialect.page_size

        def valid(data: dict[str, Any]) -> list[dict[str, Any]]:
            batch = [i for i in (data.get(key) or []) if isinstance(i, dict)]
            if on_page is not None and batch:
                total = data.get("total_entries")
                on_page(batch, total if isinstance(total, int) else None)
            return batch

        data = await self._dict(make_op(0, page))
        items = valid(data)
        total, step = data.get("total_entries"), len(items)
        if step and isinstance(total, int) and step < total:
            sem = asyncio.Semaphore(min(PAGE_CONCURRENCY, self.max_in_flight))

            async def fetch(offset: int) -> list[dict[str, Any]]:
                async with sem:
                    return valid(await self._dict(make_op(offset, page)))

            short = False
            for batch in await asyncio.gather(*(fetch(o) for o in range(step, total, step))):
                items.extend(batch)
                short = short or len(batch) < step
            if short:  # the list shrank meanwhile, or the server pages differently: done
                return items
        # Rows added meanwhile (total grew): go on one page at a time.
        offset = len(items)
        while step and isinstance(total := data.get("total_entries"), int) and offset < total:
            data = await self._dict(make_op(offset, page))
            batch = valid(data)
            if not batch:
                break
            items.extend(batch)
            offset += len(batch)
        return items

    # -- operations ------------------------------------------------------------------------------
    async def health(self) -> Health:
        """Component health; v1 tries ``/api/v1/health`` then the webserver's ``/health``."""
        last: ApiError | None = None
        for path in self.dialect.health_paths:
            url = self.root_url + path
            try:
                # through the cap on requests in flight, like every other call (issue 13)
                response = await self._request(Op("GET", ()), url, DEFAULT_TIMEOUT)
            except httpx.TimeoutException as exc:
                raise transport_error(exc, url) from None
            except httpx.TransportError as exc:
                raise transport_error(exc, url) from None
            if response.status_code >= 400:
                last = error_from_response(response)
                continue
            try:
                data = response.json()
            except ValueError:
                last = not_airflow(response)
                continue
            if isinstance(data, dict):
                return Health.from_json(data)
        raise last or NotAirflow(f"no health endpoint answered at {self.root_url}")

    def set_attempts(self, attempts: int) -> None:
        """How often a failed idempotent read is tried (1: never retried). A caller that polls
        and backs off itself (the Watcher) sets 1: retries here too would multiply the load on a
        struggling server."""
        self.attempts = max(1, attempts)

    async def ping(self) -> None:
        """One cheap authenticated read (the first DAG), no retries: "is everything working?"
        Used while the server is down, instead of every pane's full poll. It queues like any
        request: even a one-DAG read sent next to another is what crashed an api-server."""
        op = self.dialect.list_dags(offset=0, limit=1)
        await self._dict(replace(op, retry=False))

    async def list_dags(
        self,
        pattern: str | None = None,
        tags: Iterable[str] | None = None,
        paused: bool | None = None,
        last_run_state: str | None = None,
        on_page: Callable[[list[Dag], int | None], None] | None = None,
    ) -> list[Dag]:
        """The DAGs (all pages); `last_run_state`: only those whose last run is in that state
        (Airflow 3 only: `dialect.has_last_run_filter`); `on_page`: each page's DAGs as it
        arrives, and the server's total (unfiltered by `pattern`)."""
        tags = list(tags) if tags else None
        items = await self._pages(
            lambda offset, limit: self.dialect.list_dags(
                offset=offset, limit=limit, pattern=pattern, tags=tags, paused=paused,
                last_run_state=last_run_state,
            ),
            "dags",
            on_page=None if on_page is None else (
                lambda batch, total: on_page([Dag.from_json(d) for d in batch], total)),
        )
        dags = [Dag.from_json(d) for d in items]
        if pattern:
            # The server matches with SQL LIKE, where "_" and "%" are wildcards ("lab_" finds
            # example_branch_labels): "containing P" is checked here, as the words say.
            wanted = pattern.lower()
            dags = [d for d in dags if wanted in d.dag_id.lower()]
        return dags

    async def get_dag(self, dag_id: str) -> Dag:
        return Dag.from_json(await self._dict(self.dialect.get_dag(dag_id)))

    async def _total(self, op: Op | None) -> int | None:
        if op is None:
            return None
        value = (await self._dict(op)).get("total_entries")
        return value if isinstance(value, int) else None

    async def count_dag_versions(self) -> int | None:
        """How many DAG versions the server keeps (None: none on Airflow 2). A DAG whose code
        changed gets a new one when it is parsed: the total moves with any DAG's structure."""
        return await self._total(self.dialect.list_dag_versions(limit=1))

    async def dags_mark(self) -> DagsMark:
        """What a cheap check of the DAG list sees (three requests of one item): how many DAGs,
        how many paused, how many DAG versions. A full read is due when it differs from
        `DagsMark.of` the last one."""
        d = self.dialect
        return DagsMark(await self._total(d.list_dags(offset=0, limit=1)),
                        await self._total(d.list_dags(offset=0, limit=1, paused=True)),
                        await self.count_dag_versions())

    async def get_dag_details(self, dag_id: str) -> DagDetails:
        return DagDetails.from_json(
            await self._dict(self.dialect.get_dag_details(dag_id), timeout=LOG_TIMEOUT)
        )

    async def set_paused(self, dag_id: str, paused: bool) -> Dag:
        return Dag.from_json(await self._dict(self.dialect.set_paused(dag_id, paused)))

    async def list_import_errors(self) -> list[DagImportError]:
        items = await self._pages(
            lambda offset, limit: self.dialect.list_import_errors(offset=offset, limit=limit),
            "import_errors",
        )
        return [DagImportError.from_json(i) for i in items]

    async def list_dag_warnings(self) -> list[DagWarning]:
        items = await self._pages(
            lambda offset, limit: self.dialect.list_dag_warnings(offset=offset, limit=limit),
            "dag_warnings",
        )
        return [DagWarning.from_json(i) for i in items]

    async def count_import_errors(self) -> int:
        """How many DAG files fail to import: one item asked for, ``total_entries`` read."""
        data = await self._dict(self.dialect.list_import_errors(offset=0, limit=1))
        total = data.get("total_entries")
        if isinstance(total, int):
            return total
        return len([i for i in data.get("import_errors") or [] if isinstance(i, dict)])

    async def list_runs(
        self,
        dag_id: str,
        limit: int = 25,
        offset: int = 0,
        states: Iterable[str] | None = None,
        updated_at_gte: datetime | None = None,
    ) -> tuple[list[DagRun], int]:
        """One page of a DAG's runs, newest first, and the total count."""
        op = self.dialect.list_runs(
            dag_id, limit=limit, offset=offset, states=states, updated_at_gte=updated_at_gte
        )
        data = await self._dict(op)
        runs = [DagRun.from_json(r) for r in data.get("dag_runs") or [] if isinstance(r, dict)]
        total = data.get("total_entries")
        return runs, total if isinstance(total, int) else len(runs)

    async def list_runs_batch(
        self,
        dag_ids: Iterable[str] | None,
        states: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        start_date_gte: datetime | None = None,
        end_date_gte: datetime | None = None,
        order_by: str | None = None,
    ) -> tuple[list[DagRun], int]:
        """Runs of several DAGs in one call (``POST /dags/~/dagRuns/list``), newest first
        (or by ``order_by``, e.g. ``dialect.runs_last_ended``), and the total count."""
        op = self.dialect.list_runs_batch(
            None if dag_ids is None else list(dag_ids),
            limit=limit,
            offset=offset,
            states=states,
            start_date_gte=start_date_gte,
            end_date_gte=end_date_gte,
            order_by=order_by,
        )
        data = await self._dict(op)
        runs = [DagRun.from_json(r) for r in data.get("dag_runs") or [] if isinstance(r, dict)]
        total = data.get("total_entries")
        return runs, total if isinstance(total, int) else len(runs)

    async def list_task_instances_batch(
        self,
        dag_ids: Iterable[str],
        run_ids: Iterable[str],
        states: Iterable[str] | None = None,
        limit: int = 100,
        offset: int = 0,
        start_date_gte: datetime | None = None,
    ) -> tuple[list[TaskInstance], int]:
        """One page of the TIs of several runs (``POST /dags/~/dagRuns/~/taskInstances/list``)
        and the total count. The server matches DAG ids and run ids separately: the page may
        hold TIs of a listed run id in another listed DAG; callers keep the pairs they want."""
        op = self.dialect.list_task_instances_batch(
            list(dag_ids),
            list(run_ids),
            limit=limit,
            offset=offset,
            states=states,
            start_date_gte=start_date_gte,
        )
        data = await self._dict(op)
        tis = [
            TaskInstance.from_json(t) for t in data.get("task_instances") or [] if isinstance(t, dict)
        ]
        total = data.get("total_entries")
        return tis, total if isinstance(total, int) else len(tis)

    async def get_run(self, dag_id: str, run_id: str) -> DagRun:
        return DagRun.from_json(await self._dict(self.dialect.get_run(dag_id, run_id)))

    async def trigger(
        self,
        dag_id: str,
        conf: Mapping[str, Any] | None = None,
        logical_date: datetime | None = None,
        run_id: str | None = None,
        note: str | None = None,
    ) -> DagRun:
        """Create a run. Never retried: a lost answer plus a retry would make a second run."""
        op = self.dialect.trigger(dag_id, conf, logical_date=logical_date, run_id=run_id, note=note)
        return DagRun.from_json(await self._dict(op))

    async def set_run_state(self, dag_id: str, run_id: str, state: str) -> DagRun:
        return DagRun.from_json(await self._dict(self.dialect.set_run_state(dag_id, run_id, state)))

    async def list_task_instances(self, dag_id: str, run_id: str) -> list[TaskInstance]:
        """Every TI of a run; mapped tasks give one row per ``map_index``."""
        items = await self._pages(
            lambda offset, limit: self.dialect.list_task_instances(
                dag_id, run_id, limit=limit, offset=offset
            ),
            "task_instances",
        )
        seen: dict[tuple[str, int], TaskInstance] = {}
        for item in items:  # v1 has no order_by here: drop duplicates a shifting page may bring
            ti = TaskInstance.from_json(item)
            seen[ti.key] = ti
        return list(seen.values())

    async def get_task_instance(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> TaskInstance:
        op = self.dialect.get_task_instance(dag_id, run_id, task_id, map_index)
        return TaskInstance.from_json(await self._dict(op))

    async def clear_task_instances(
        self,
        dag_id: str,
        run_id: str,
        task_ids: Iterable[str],
        dry_run: bool,
        include_downstream: bool = False,
        include_upstream: bool = False,
        only_failed: bool = False,
    ) -> list[TaskInstance]:
        """Clear TIs (dry run: only list what would be cleared). Returns the affected TIs."""
        op = self.dialect.clear_task_instances(
            dag_id,
            run_id,
            list(task_ids),
            dry_run=dry_run,
            include_downstream=include_downstream,
            include_upstream=include_upstream,
            only_failed=only_failed,
        )
        data = await self._dict(op)
        return [
            TaskInstance.from_json(t) for t in data.get("task_instances") or [] if isinstance(t, dict)
        ]

    async def clear_run(
        self, dag_id: str, run_id: str, *, dry_run: bool, only_failed: bool = False
    ) -> list[TaskInstance]:
        """Clear a whole run so that it runs again (dry run: only list what would be cleared).

        Returns the affected TIs when the server lists them (always for a dry run); a real clear
        of the whole run answers with the run itself, and then the list is empty."""
        op = self.dialect.clear_run(dag_id, run_id, dry_run=dry_run, only_failed=only_failed)
        data = await self._dict(op)
        return [
            TaskInstance.from_json(t) for t in data.get("task_instances") or [] if isinstance(t, dict)
        ]

    async def set_task_state(
        self, dag_id: str, run_id: str, task_id: str, state: str, map_index: int = -1
    ) -> list[TaskInstance]:
        """Mark one TI; returns the TIs as they are now.

        v2 answers with a TI collection; v1 (2.11.2) answers ``{}`` although its spec promises
        a reference, so then the TI is read back."""
        op = self.dialect.set_task_state(dag_id, run_id, task_id, state, map_index)
        data = await self._json(op)
        if isinstance(data, dict) and data.get("task_instances"):
            return [TaskInstance.from_json(t) for t in data["task_instances"] if isinstance(t, dict)]
        return [await self.get_task_instance(dag_id, run_id, task_id, map_index)]

    @property
    def has_hitl(self) -> bool:
        """Whether the server has human-in-the-loop endpoints (Airflow 3.1+)."""
        return self.dialect.has_hitl

    async def list_hitl(
        self, pending: bool = True, limit: int = 100, offset: int = 0
    ) -> tuple[list[HitlDetail], int]:
        """One page of human-in-the-loop requests across all DAGs, and the total count.
        ``pending``: only those still waiting for a person. A server without HITL (Airflow 2,
        3.0) has none: ([], 0), without a request."""
        if not self.dialect.has_hitl:
            return [], 0
        data = await self._dict(self.dialect.list_hitl(pending=pending, limit=limit, offset=offset))
        items = [
            HitlDetail.from_json(d) for d in data.get("hitl_details") or [] if isinstance(d, dict)
        ]
        total = data.get("total_entries")
        return items, total if isinstance(total, int) else len(items)

    async def get_hitl(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> HitlDetail:
        """One task's human-in-the-loop request (raises Unsupported before Airflow 3.1)."""
        op = self.dialect.get_hitl(dag_id, run_id, task_id, map_index)
        return HitlDetail.from_json(await self._dict(op))

    async def respond_hitl(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        map_index: int = -1,
        chosen_options: Iterable[str] = (),
        params_input: Mapping[str, Any] | None = None,
    ) -> HitlResponse:
        """Answer a human-in-the-loop request. Never retried: an answer is given once (a lost
        reply plus a retry would end in a 409). Raises Unsupported before Airflow 3.1, and
        Conflict (already answered), Forbidden (not an assigned user) or Invalid (an option
        not offered) from the server."""
        op = self.dialect.respond_hitl(
            dag_id, run_id, task_id, map_index, list(chosen_options), params_input
        )
        return HitlResponse.from_json(await self._dict(op))

    async def read_log_raw(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int,
        map_index: int = -1,
        token: str | None = None,
        full_content: bool = False,
    ) -> dict[str, Any]:
        """The log payload as the server sent it (``content`` + ``continuation_token``)."""
        op = self.dialect.read_log(
            dag_id, run_id, task_id, try_number,
            map_index=map_index, token=token, full_content=full_content,
        )
        return await self._dict(op, timeout=LOG_TIMEOUT)

    async def read_log_body(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int,
        map_index: int = -1,
        token: str | None = None,
        full_content: bool = False,
    ) -> bytes:
        """The log response body, not decoded: a big log is decoded entry by entry, off the
        event loop (see ``LogFollower.poll_with`` and ``logs.parse_log_body``)."""
        op = self.dialect.read_log(
            dag_id, run_id, task_id, try_number,
            map_index=map_index, token=token, full_content=full_content,
        )
        response = await self._send(op, timeout=LOG_TIMEOUT)
        return response.content

    async def read_log(
        self,
        dag_id: str,
        run_id: str,
        task_id: str,
        try_number: int,
        map_index: int = -1,
        token: str | None = None,
        full_content: bool = False,
    ) -> LogChunk:
        payload = await self.read_log_raw(
            dag_id, run_id, task_id, try_number, map_index, token, full_content
        )
        return self.dialect.parse_log(payload)


async def _detect_version(http: httpx.AsyncClient, root: str) -> Version:
    """``/api/v2/version`` then ``/api/v1/version``; only a JSON body with "version" counts."""
    auth_error: ApiError | None = None
    other_error: ApiError | None = None
    routes: tuple[tuple[str, Callable[[int], bool]], ...] = (
        ("/api/v2", lambda m: m >= 3),
        ("/api/v1", lambda m: m < 3),
    )
    for prefix, accept_major in routes:
        url = f"{root}{prefix}/version"
        try:
            response = await http.get(url)
        except httpx.TimeoutException as exc:
            raise transport_error(exc, url) from None
        except httpx.TransportError as exc:
            raise transport_error(exc, url) from None
        if response.status_code >= 400:
            err = error_from_response(response)
            if isinstance(err, (Unauthorized, Forbidden)):
                auth_error = auth_error or err
            elif isinstance(err, ServerError):
                other_error = other_error or err
            elif other_error is None and isinstance(err, NotAirflow):
                other_error = err
            continue
        try:
            data = response.json()
        except ValueError:
            other_error = other_error or not_airflow(response)
            continue
        raw = data.get("version") if isinstance(data, dict) else None
        if not isinstance(raw, str):
            continue
        try:
            version = Version.parse(raw)
        except ValueError:
            continue
        if accept_major(version.major):
            return version
    if auth_error is not None:
        raise auth_error
    if other_error is not None and not isinstance(other_error, NotAirflow):
        raise other_error
    raise NotAirflow(
        f"no Airflow API found at {root} (neither /api/v2/version nor /api/v1/version answered "
        "with a version): check the URL; it should be the Airflow web UI address"
    )

