"""A poll that never overlaps itself, re-arms after each answer and backs off while it fails.

Plain asyncio (no Textual): a poll is a task that awaits its fetch, then sleeps for the interval
(or the backoff) and fetches again. At most one request of a poll is ever in flight, so a slow
server simply gets polled less often. `retarget` switches what is polled; answers for an old
target are dropped. How many requests of a deployment are on the wire at once is the client's
business (`AirflowClient(max_in_flight=1)`, issue 13), not the poll's.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from astro_tui.airflow.errors import RateLimited, Timeout as ApiTimeout

Fetch = Callable[[], Awaitable[Any]]
#: when the next request is due is real time; the injected clock only dates answers (ages)
_now = time.monotonic
Done = Callable[[Any, BaseException | None], None]


def backoff(interval: float | None, failures: int, error: BaseException | None,
            max_backoff: float) -> float | None:
    """Seconds until the next request: the interval (None: none until poked), or after
    `failures` failures in a row, exponential backoff from the interval (5 s without one) up to
    `max_backoff`, +-10 % jitter, and never sooner than a 429's Retry-After."""
    if not failures:
        return interval
    base = interval or 5.0
    delay = min(base * (2.0 ** (failures - 1)), max_backoff) * random.uniform(0.9, 1.1)
    retry_after = error.retry_after if isinstance(error, RateLimited) else None
    return max(delay, retry_after or 0.0)


@dataclass(frozen=True)
class PollState:
    """What a poll looks like from outside (read-only; see `Poll.state`)."""

    name: str
    targeted: bool
    paused: bool
    busy: bool
    failures: int
    last_error: BaseException | None
    last_ok: float | None  # clock time of the last good answer for this target
    last_duration: float | None  # seconds the last good answer took
    in_flight: float | None  # seconds the current request has waited
    interval: float | None
    generation: int
    next_delay: float | None  # seconds until the next request after an answer (with backoff)


class Poll:
    """One poll. `done(data, error)` is called (on the event loop) after every answer."""

    def __init__(
        self,
        name: str,
        interval: float | None,
        done: Done,
        *,
        max_backoff: float = 60.0,
        timeout: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._interval = interval  # None: fetch once per target, then wait for poke()
        self._max_backoff = max_backoff
        # A hung request is abandoned after this long (counted as a failure). It is a bound for
        # a dead connection, not a deadline for a slow answer: abandoning work that the server
        # is still doing only makes it do the work again (issue 13).
        self._timeout = timeout
        self._clock = clock
        self._done = done
        self._generation = 0
        self._failures = 0
        self._last_ok: float | None = None
        self._last_error: BaseException | None = None
        self._failed_sent: float | None = None  # clock time the last failed request was sent
        self._last_duration: float | None = None
        self._paused = False
        self._fetch: Fetch | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._started: float | None = None
        self._ended: float | None = None  # clock time of the last answer
        self._due: float | None = None  # clock time of the next request (None: wait for poke)
        self._busy = False
        self._again = False
        self._closed = False

    # -- reading -------------------------------------------------------------------------------

    @property
    def state(self) -> PollState:
        return PollState(self.name, self._fetch is not None, self._paused, self._busy,
                         self._failures, self._last_error, self._last_ok, self._last_duration,
                         self.in_flight(), self._interval, self._generation,
                         self.next_delay())

    @property
    def failures(self) -> int:
        return self._failures

    @property
    def busy(self) -> bool:
        return self._busy

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def targeted(self) -> bool:
        return self._fetch is not None

    @property
    def last_error(self) -> BaseException | None:
        return self._last_error

    @property
    def last_ok(self) -> float | None:
        """Clock time of the last good answer for the current target (None: none yet)."""
        return self._last_ok

    @property
    def failed_sent(self) -> float | None:
        """Clock time the last failed request was sent (None: none failed yet)."""
        return self._failed_sent

    @property
    def last_duration(self) -> float | None:
        return self._last_duration

    @property
    def interval(self) -> float | None:
        return self._interval

    def age(self) -> float | None:
        """Seconds since the last good answer for the current target (None: none yet)."""
        return None if self._last_ok is None else self._clock() - self._last_ok

    def in_flight(self) -> float | None:
        """Seconds the current request has been waiting (None: nothing in flight)."""
        if self._started is None or not self._busy:
            return None
        return self._clock() - self._started

    def next_delay(self) -> float | None:
        """Seconds until the next poll: the interval, or the backoff after failures."""
        return backoff(self._interval, self._failures, self._last_error, self._max_backoff)

    # -- control -------------------------------------------------------------------------------

    def retarget(self, fetch: Fetch | None, *, delay: float = 0.0,
                 interval: float | None | bool = False) -> None:
        """Poll something else from now on (None: nothing), after `delay` seconds (a debounce:
        a new retarget within the delay starts it again); `interval` too, if given. Answers for
        the old target are dropped. A request in flight for the old target is left to finish
        (its answer is ignored), not abandoned: the server has already done most of the work."""
        self._generation += 1
        self._fetch = fetch
        self._last_ok = None
        self._failures = 0
        self._last_error = None
        if interval is not False:
            self._interval = interval if isinstance(interval, (int, float)) else None
        self._again = False
        self._due = _now() + delay if fetch is not None else None
        self._kick()

    def set_interval(self, interval: float | None) -> None:
        """A new interval (None: no more polls until `poke`), counted from the last answer."""
        if interval == self._interval:
            return
        self._interval = interval
        if not self._busy and self._fetch is not None and self._ended is not None:
            delay = self.next_delay()
            self._due = None if delay is None else self._ended + delay
            self._kick()

    def poke(self) -> None:
        """Refresh now (forgetting any backoff). If a request is in flight, run again as soon
        as it finishes."""
        if self._fetch is None:
            return
        if self._busy:
            self._again = True
            return
        self._failures = 0
        self._due = _now()
        self._kick()

    def pause(self) -> None:
        if not self._paused:
            self._paused = True
            self._kick()

    def resume(self) -> None:
        """Poll again, starting now."""
        if not self._paused:
            return
        self._paused = False
        if self._fetch is not None and not self._busy:
            self._due = _now()  # the data may be old: refresh now
        self._kick()

    def restart(self) -> None:
        """Abandon a hung request (if any) and poll again now, same target."""
        if self._fetch is None:
            return
        self._generation += 1
        self._failures = 0
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._busy = False
        self._due = _now()
        self._kick()

    def close(self) -> None:
        self._closed = True
        self._fetch = None
        self._generation += 1
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def aclose(self) -> None:
        task = self._task
        self.close()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- internals -----------------------------------------------------------------------------

    def _kick(self) -> None:
        """Make the loop look at its schedule again (starting it if needed)."""
        if self._closed:
            return
        if self._task is None or self._task.done():
            if self._fetch is None:
                return
            self._task = asyncio.get_running_loop().create_task(self._loop(),
                                                                name=f"poll-{self.name}")
        self._wake.set()

    async def _sleep(self, delay: float | None) -> None:
        """Sleep `delay` seconds (None: until woken), or until the schedule changes."""
        self._wake.clear()
        if delay is None:
            await self._wake.wait()
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(0.0, delay))

    async def _loop(self) -> None:
        while not self._closed:
            fetch = self._fetch
            if self._paused or fetch is None or self._due is None:
                await self._sleep(None)
                continue
            wait = self._due - _now()
            if wait > 0:
                await self._sleep(wait)
                continue
            generation = self._generation
            self._due = None
            await self._once(fetch, generation)
            self._ended = _now()
            if self._again:
                self._again = False
                self._due = self._ended
            elif generation == self._generation:
                delay = self.next_delay()
                self._due = None if delay is None else self._ended + delay
            # else: retargeted meanwhile, and retarget() set the new schedule

    async def _once(self, fetch: Fetch, generation: int) -> None:
        if generation != self._generation:
            return
        self._busy = True
        started = self._started = self._clock()
        try:
            if self._timeout is None:
                data = await fetch()
            else:
                try:
                    data = await asyncio.wait_for(fetch(), self._timeout)
                except TimeoutError:
                    raise ApiTimeout(f"no answer in {self._timeout:.0f} s") from None
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - every failure is a state, never a crash
            if generation == self._generation:
                self._failures += 1
                self._last_error = error
                self._failed_sent = started
                self._deliver(None, error)
        else:
            if generation == self._generation:
                self._failures = 0
                self._last_error = None
                self._last_ok = self._clock()
                self._last_duration = self._last_ok - started
                self._deliver(data, None)
        finally:
            # A request abandoned by restart() may end after the new one started.
            if self._task is None or self._task is asyncio.current_task():
                self._busy = False

    def _deliver(self, data: Any, error: BaseException | None) -> None:
        self._done(data, error)

