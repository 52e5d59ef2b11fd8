"""Poll loops that never overlap, re-arm after each answer and back off while the server is down.

Textual's `set_interval` + `@work(exclusive=True)` starves when the API is slower than the interval
(textual-notes §d): every tick cancels the request in flight. Here a poll is a one-shot timer that
is armed again only when the previous request has finished, so at most one request per loop is
ever in flight, and a slow server simply gets polled less often.
"""

from __future__ import annotations

import asyncio
import random
import time
from functools import partial
from collections.abc import Awaitable, Callable
from typing import Any

from textual.timer import Timer
from textual.widget import Widget
from textual.worker import Worker

from astro_tui.airflow.errors import Timeout as ApiTimeout
from astro_tui.tui.messages import Polled

Fetch = Callable[[], Awaitable[Any]]


class PollLoop:
    """One pane's poll. Results arrive at `owner` as `Polled` messages."""

    def __init__(
        self,
        owner: Widget,
        key: str,
        interval: float | None,
        *,
        max_backoff: float = 60.0,
        timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.owner = owner
        self.key = key
        self.interval = interval  # None: fetch once per target, then wait for poke()/retarget()
        self.max_backoff = max_backoff
        # A poll that takes longer than this is abandoned and counts as a failure (a hung
        # connection must not freeze a pane for the HTTP client's whole read timeout).
        self.timeout = timeout
        self.clock = clock
        self.generation = 0
        self.failures = 0
        self.last_ok: float | None = None
        self.last_error: BaseException | None = None
        self.last_duration: float | None = None  # seconds the last answer took
        self.paused = False
        self._fetch: Fetch | None = None
        self._timer: Timer | None = None
        self._worker: Worker | None = None
        self._again = False
        self._started: float | None = None

    # -- control -------------------------------------------------------------------------------

    def retarget(self, fetch: Fetch | None, *, delay: float = 0.0) -> None:
        """Poll something else from now on (None: nothing). Answers for the old target are
        dropped by generation; a request already in flight is cancelled."""
        self.generation += 1
        self._fetch = fetch
        self.last_ok = None
        self._cancel_timer()
        if self._worker is not None and self._worker.is_running:
            self._worker.cancel()
        self._worker = None
        if fetch is not None and not self.paused:
            self._arm(delay)

    def poke(self) -> None:
        """Refresh now. If a request is in flight, run again as soon as it finishes."""
        if self._fetch is None or self.paused:
            return
        if self._worker is not None and self._worker.is_running:
            self._again = True
            return
        self._cancel_timer()
        self._arm(0)

    def pause(self) -> None:
        self.paused = True
        self._cancel_timer()

    def resume(self) -> None:
        if not self.paused:
            return
        self.paused = False
        if self._fetch is not None and not (self._worker and self._worker.is_running):
            self._arm(0)

    def stop(self) -> None:
        self.retarget(None)

    def restart(self) -> None:
        """Abandon the request in flight (if any) and poll again now, same target."""
        if self._fetch is None or self.paused:
            return
        if self._worker is not None and self._worker.is_running:
            self._worker.cancel()
        self._worker = None
        self._cancel_timer()
        self._arm(0)

    def age(self) -> float | None:
        """Seconds since the last good answer for the current target (None: none yet)."""
        return None if self.last_ok is None else self.clock() - self.last_ok

    @property
    def targeted(self) -> bool:
        """Whether the loop has something to poll."""
        return self._fetch is not None

    @property
    def busy(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def next_delay(self) -> float | None:
        """Seconds until the next poll: the interval, or the backoff after failures."""
        if self.failures:
            base = self.interval or 5.0
            delay = min(base * (2 ** (self.failures - 1)), self.max_backoff)
            delay *= random.uniform(0.9, 1.1)
            retry_after = getattr(self.last_error, "retry_after", None)  # 429 Retry-After
            return max(delay, retry_after or 0.0)
        return self.interval

    def in_flight(self) -> float | None:
        """Seconds the current request has been waiting (None: nothing in flight)."""
        if self._started is None or not self.busy:
            return None
        return self.clock() - self._started

    # -- internals -----------------------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _arm(self, delay: float) -> None:
        if delay <= 0:
            self._fire()
        else:
            self._timer = self.owner.set_timer(delay, self._fire, name=f"poll-{self.key}")

    def _fire(self) -> None:
        self._timer = None
        if self._fetch is None or self.paused or self.busy:
            return
        # A callable, not a coroutine: if the app closes before the worker starts, no coroutine
        # is left un-awaited.
        self._worker = self.owner.run_worker(
            partial(self._run, self._fetch, self.generation),
            group=f"poll-{self.key}",
            exit_on_error=False,
        )

    async def _run(self, fetch: Fetch, generation: int) -> None:
        started = self._started = self.clock()
        try:
            if self.timeout is None:
                data = await fetch()
            else:
                try:
                    data = await asyncio.wait_for(fetch(), self.timeout)
                except asyncio.TimeoutError:
                    raise ApiTimeout(f"no answer in {self.timeout:.0f} s") from None
        except Exception as error:  # noqa: BLE001 - every failure becomes a state, never a crash
            if generation != self.generation:
                return
            self.failures += 1
            self.last_error = error
            self.owner.post_message(Polled(self.key, generation, error=error))
        else:
            if generation != self.generation:
                return
            self.failures = 0
            self.last_error = None
            self.last_ok = self.clock()
            self.last_duration = self.last_ok - started
            self.owner.post_message(Polled(self.key, generation, data=data))
        if generation != self.generation or self.paused:
            return
        if self._again:
            self._again = False
            self._timer = self.owner.set_timer(0.01, self._fire)
            return
        delay = self.next_delay()
        if delay is not None:
            self._timer = self.owner.set_timer(delay, self._fire, name=f"poll-{self.key}")
