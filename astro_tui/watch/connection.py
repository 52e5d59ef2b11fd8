"""A deployment's connection: connecting, and knowing when the server is back.

Connecting is a poll that retries with backoff until it works. While anything fails or hangs,
one cheap probe per interval tells when the server answers again; then every failing poll runs
at once (its backoff forgotten), so the panes, whose own polls back off up to 60 s, recover
within about one interval. A request sent before the trouble began is stuck on a dead
connection and is abandoned; one that is merely slow (a 200k-line log) is the server working,
and is never abandoned.

Plain asyncio; no Textual.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from astro_tui.airflow.client import AirflowClient
from astro_tui.watch.events import Event, PollFailed
from astro_tui.watch.schedule import Poll
from astro_tui.watch.settings import Settings

#: the polls that belong to the connection, not to a feed
OWN_POLLS = ("connect", "probe")


class Connection:
    def __init__(self, connect: Callable[[], Awaitable[AirflowClient]], settings: Settings, *,
                 clock: Callable[[], float], emit: Callable[[Event], None],
                 connected: Callable[[AirflowClient], None],
                 polls: Callable[[], list[Poll]]) -> None:
        """`emit` tells the Watcher's listeners of a failure; `connected` is called once the
        client works; `polls` lists every poll (for the recovery)."""
        self._connect = connect
        self._settings = settings
        self._emit = emit
        self._on_connected = connected
        self._all_polls = polls
        self.client: AirflowClient | None = None
        s = settings
        self.connect_poll = Poll("connect", s.runs_seconds, self._connected,
                                 max_backoff=max(s.runs_seconds * 2, 10.0), timeout=30,
                                 clock=clock)
        self.probe = Poll("probe", s.runs_seconds, self._got_probe, timeout=5,
                          max_backoff=s.runs_seconds, clock=clock)
        #: when the first failure of the current trouble happened (None: all well)
        self._trouble_since: float | None = None
        self._closed = False

    def polls(self) -> list[Poll]:
        return [self.connect_poll, self.probe]

    def start(self) -> None:
        """Connect (retrying with backoff until it works)."""
        self.connect_poll.retarget(self._connect)

    async def aclose(self) -> None:
        self._closed = True
        for poll in self.polls():
            await poll.aclose()
        if self.client is not None:
            client, self.client = self.client, None
            await client.aclose()

    def trouble(self, kind: str) -> None:
        """A poll failed: remember since when, and probe until the server answers."""
        if self._trouble_since is None:
            self._trouble_since = time.monotonic()
        if kind not in OWN_POLLS and self.client is not None and not self.probe.targeted \
                and not self._closed:
            self.probe.retarget(self.client.ping, delay=self.probe.interval or 5.0)

    def request_age(self) -> float:
        """Seconds the oldest request on the wire has waited (0: none), or, before the
        connection, how long connecting takes."""
        if self.client is None:
            return self.connect_poll.in_flight() or 0.0
        return self.client.oldest_request_age() or 0.0

    def _connected(self, client: Any, error: BaseException | None) -> None:
        if error is not None:
            self._emit(PollFailed("connect", None, error))
            return
        assert isinstance(client, AirflowClient)
        # The polls are the retry mechanism here (with backoff, and a probe for recovery).
        client.set_attempts(1)
        client.set_max_in_flight(self._settings.max_in_flight)
        self.client = client
        self.connect_poll.retarget(None)
        self._on_connected(client)

    def _got_probe(self, _data: Any, error: BaseException | None) -> None:
        if error is not None:
            if self._trouble_since is None:
                self._trouble_since = time.monotonic()
            self._emit(PollFailed("probe", None, error))
            return
        # The server answers again: every failing or stuck poll runs now, backoff forgotten.
        self.probe.retarget(None)
        trouble, self._trouble_since = self._trouble_since, None
        sent = self.client.oldest_request_start() if self.client is not None else None
        stuck = trouble is not None and sent is not None and sent < trouble
        for poll in self._all_polls():
            if poll.name in OWN_POLLS or not poll.targeted:
                continue
            if stuck and poll.busy:
                poll.restart()  # stuck on (or queued behind) a connection from before the outage
            elif poll.failures:
                poll.poke()
