"""`Poll` (astro_tui/watch/schedule.py) under plain asyncio: never overlapping, retarget, backoff,
restart, pause/resume, interval None, close.

Every test waits for a state (a count reached, an answer delivered) with a deadline, never for a
fixed time. "Nothing happened" is shown by letting a reference poll with the same interval run a
few more times meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from astro_tui.airflow.errors import RateLimited, Timeout as ApiTimeout
from astro_tui.watch.schedule import Poll, backoff
from tests.conftest import until

DEADLINE = 10.0


class Answers:
    """A `done` callback that records every answer."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, BaseException | None]] = []

    def __call__(self, data: Any, error: BaseException | None) -> None:
        self.items.append((data, error))

    @property
    def data(self) -> list[Any]:
        return [d for d, e in self.items if e is None]

    @property
    def errors(self) -> list[BaseException]:
        return [e for _, e in self.items if e is not None]


class Counter:
    """A fetch that answers its call number at once."""

    def __init__(self, value: str = "n") -> None:
        self.calls = 0
        self.value = value

    async def __call__(self) -> str:
        self.calls += 1
        return f"{self.value}{self.calls}"


class Blocking:
    """A fetch that waits for `release` (one event per call); counts calls, concurrency and
    cancellations."""

    def __init__(self) -> None:
        self.calls = 0
        self.active = 0
        self.peak = 0
        self.cancelled = 0
        self.finished = 0
        self.events: list[asyncio.Event] = []

    async def __call__(self) -> str:
        self.calls += 1
        n = self.calls
        event = asyncio.Event()
        self.events.append(event)
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await event.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.active -= 1
        self.finished += 1
        return f"b{n}"

    def release(self, n: int) -> None:
        self.events[n - 1].set()


@pytest.fixture
async def polls():
    """Polls made by a test, closed at its end."""
    made: list[Poll] = []

    def make(*args: Any, **kwargs: Any) -> Poll:
        poll = Poll(*args, **kwargs)
        made.append(poll)
        return poll

    yield make
    for poll in made:
        await closed(poll)


async def closed(poll: Poll) -> None:
    """`poll.aclose()`, which must not hang."""
    await asyncio.wait_for(poll.aclose(), DEADLINE)


async def ticks(n: int, polls) -> None:
    """Let a reference poll at 0.02 s answer `n` times: the time in which a poll with that
    interval would certainly have run again."""
    ref = Counter("ref")
    poll = polls("ref", 0.02, lambda d, e: None)
    poll.retarget(ref)
    await until(lambda: ref.calls >= n, f"{n} polls of the reference poll")
    await closed(poll)


async def test_answers_are_delivered_and_repeat_at_the_interval(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 0.02, answers)
    assert not poll.targeted
    poll.retarget(fetch)
    await until(lambda: len(answers.data) >= 3, "three answers")
    assert answers.data[:3] == ["n1", "n2", "n3"]
    assert poll.failures == 0 and poll.last_error is None
    assert poll.age() is not None and poll.last_duration is not None
    state = poll.state
    assert state.targeted and not state.paused and state.interval == 0.02
    assert state.next_delay == 0.02


async def test_never_overlaps_and_a_poke_while_busy_runs_once_after(polls):
    answers = Answers()
    fetch = Blocking()
    poll = polls("p", None, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls == 1, "the first request")
    assert poll.busy and poll.in_flight() is not None
    # Pokes while the request is in flight: no second request meanwhile...
    poll.poke()
    poll.poke()
    poll.poke()
    await ticks(5, polls)
    assert fetch.calls == 1 and fetch.peak == 1
    # ... but exactly one more as soon as it answers.
    fetch.release(1)
    await until(lambda: fetch.calls == 2, "the request owed to the pokes")
    assert answers.data == ["b1"]
    fetch.release(2)
    await until(lambda: answers.data == ["b1", "b2"], "the second answer")
    await ticks(5, polls)
    assert fetch.calls == 2, "three pokes during one request must give one more request, not 3"
    assert fetch.peak == 1


async def test_a_slow_fetch_with_a_short_interval_never_overlaps(polls):
    answers = Answers()
    fetch = Blocking()
    poll = polls("p", 0.001, answers)
    poll.retarget(fetch)
    for n in range(1, 5):
        await until(lambda n=n: fetch.calls == n, f"request {n}")
        await ticks(2, polls)
        assert fetch.active == 1 and fetch.calls == n
        fetch.release(n)
    await until(lambda: len(answers.data) == 4, "the fourth answer")
    assert fetch.peak == 1
    assert answers.data == ["b1", "b2", "b3", "b4"]


async def test_retarget_drops_the_old_answer_without_cancelling_its_request(polls):
    answers = Answers()
    old = Blocking()
    new = Counter("new")
    poll = polls("p", None, answers)
    poll.retarget(old)
    await until(lambda: old.calls == 1, "the old target's request")
    generation = poll.state.generation
    poll.retarget(new)
    assert poll.state.generation > generation
    await ticks(3, polls)
    # The request in flight is left alone (not cancelled), and nothing overlaps it.
    assert old.cancelled == 0 and old.active == 1
    assert new.calls == 0
    old.release(1)
    await until(lambda: new.calls == 1, "the new target's request after the old one ends")
    await until(lambda: answers.items, "an answer")
    assert old.finished == 1 and old.cancelled == 0
    assert answers.data == ["new1"], "the old target's answer must be dropped"


async def test_retarget_delay_is_a_debounce(polls):
    answers = Answers()
    first, second = Counter("a"), Counter("b")
    poll = polls("p", None, answers)
    poll.retarget(first, delay=30)
    poll.retarget(second, delay=0.05)
    await until(lambda: answers.data, "the answer of the last target")
    await ticks(5, polls)
    assert first.calls == 0 and answers.data == ["b1"]


async def test_retarget_to_none_stops_polling(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 0.02, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls >= 2, "two requests")
    poll.retarget(None)
    calls = fetch.calls
    assert not poll.targeted
    await ticks(6, polls)
    assert fetch.calls == calls
    poll.poke()  # nothing to poll: a no-op
    await ticks(3, polls)
    assert fetch.calls == calls


async def test_failures_back_off_exponentially_and_success_resets(polls):
    answers = Answers()
    calls: list[float] = []
    failing = True

    async def fetch() -> str:
        calls.append(time.monotonic())
        if failing:
            raise ConnectionError("down")
        return "up"

    poll = polls("p", 0.05, answers, max_backoff=0.4)
    poll.retarget(fetch)
    await until(lambda: len(calls) >= 6, "six failed requests")
    assert poll.failures >= 5 and isinstance(poll.last_error, ConnectionError)
    assert all(isinstance(e, ConnectionError) for e in answers.errors)
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    # 0.05, 0.1, 0.2, 0.4 (capped), 0.4 with +-10 % jitter: each gap at least its delay.
    for i, expected in enumerate([0.05, 0.1, 0.2, 0.4, 0.4]):
        assert gaps[i] >= expected * 0.9 - 0.005, (i, gaps)
    failing = False
    await until(lambda: answers.data, "the first good answer")
    assert poll.failures == 0 and poll.last_error is None
    assert poll.next_delay() == 0.05


def test_backoff_grows_is_capped_and_honours_retry_after():
    assert backoff(2.0, 0, None, 30.0) == 2.0
    for failures, base in [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0), (5, 30.0), (9, 30.0)]:
        for _ in range(20):
            assert base * 0.9 <= backoff(2.0, failures, ConnectionError("down"), 30.0) <= base * 1.1
    assert backoff(2.0, 1, RateLimited("slow down", retry_after=45.0), 30.0) == 45.0
    assert backoff(None, 0, None, 60.0) is None
    assert 9.0 <= backoff(None, 2, ConnectionError("down"), 60.0) <= 11.0  # from 5 s


def test_a_new_poll_waits_its_interval_or_for_a_poke():
    assert Poll("p", 2.0, lambda d, e: None, max_backoff=30.0).next_delay() == 2.0
    assert Poll("once", None, lambda d, e: None).next_delay() is None


async def test_poke_forgets_the_backoff(polls):
    answers = Answers()
    calls = 0

    async def fetch() -> None:
        nonlocal calls
        calls += 1
        raise ConnectionError("down")

    poll = polls("p", 30, answers)
    poll.retarget(fetch)
    await until(lambda: poll.failures == 1 and not poll.busy, "the first failure")
    assert poll.next_delay() >= 27
    poll.poke()
    await until(lambda: calls == 2, "the poked request (not 30 s later)")


async def test_timeout_abandons_a_hung_request_as_a_failure(polls):
    answers = Answers()
    fetch = Blocking()
    poll = polls("p", None, answers, timeout=0.05)
    poll.retarget(fetch)
    await until(lambda: answers.errors, "the timeout")
    assert isinstance(answers.errors[0], ApiTimeout)
    assert fetch.cancelled == 1 and poll.failures == 1 and not poll.busy


async def test_restart_abandons_a_hung_request_and_polls_again(polls):
    answers = Answers()
    fetch = Blocking()
    poll = polls("p", None, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls == 1, "the first request")
    poll.restart()
    await until(lambda: fetch.calls == 2, "the request after the restart")
    assert fetch.cancelled == 1, "the hung request must be cancelled"
    assert poll.busy, "the new request is in flight"
    fetch.release(2)
    await until(lambda: answers.items, "the answer after the restart")
    assert answers.data == ["b2"] and poll.failures == 0
    assert not poll.busy


async def test_restart_keeps_busy_true_when_the_old_request_is_slow_to_cancel(polls):
    """A real connection takes a few loop turns to give up (httpcore closes it on cancel); the
    abandoned request must not mark the new one as not in flight when it finally ends."""
    answers = Answers()
    calls = 0
    release = asyncio.Event()

    async def fetch() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            try:
                await asyncio.Event().wait()  # hung
            except asyncio.CancelledError:
                for _ in range(5):  # cleanup that takes a few loop turns
                    await asyncio.sleep(0)
                raise
        await release.wait()
        return "fresh"

    poll = polls("p", None, answers)
    poll.retarget(fetch)
    await until(lambda: calls == 1, "the hung request")
    poll.restart()
    await until(lambda: calls == 2, "the request after the restart")
    await ticks(3, polls)  # the abandoned request has finished its cleanup by now
    assert poll.busy and poll.in_flight() is not None, \
        "the new request is in flight: busy/in_flight must say so"
    release.set()
    await until(lambda: answers.data == ["fresh"], "the answer")
    assert not poll.busy


async def test_pause_stops_polling_and_resume_polls_at_once(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 0.02, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls >= 2, "two requests")
    poll.pause()
    assert poll.paused and poll.state.paused
    await until(lambda: not poll.busy, "the request in flight (if any) to end")
    calls = fetch.calls
    await ticks(8, polls)
    assert fetch.calls == calls, "a paused poll must not poll"
    poll.resume()
    await until(lambda: fetch.calls > calls, "a request right after resume")


async def test_resume_polls_at_once_not_at_the_next_interval(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 60, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls == 1, "the first request")
    poll.pause()
    poll.resume()
    await until(lambda: fetch.calls == 2, "the request on resume (the interval is 60 s)")


async def test_paused_before_the_first_request_waits_for_resume(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 0.02, answers)
    poll.pause()
    poll.retarget(fetch)
    await ticks(5, polls)
    assert fetch.calls == 0
    poll.resume()
    await until(lambda: fetch.calls >= 1, "the first request after resume")


async def test_interval_none_fetches_once_then_waits_for_a_poke(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", None, answers)
    poll.retarget(fetch)
    await until(lambda: answers.data == ["n1"], "the one answer")
    await ticks(8, polls)
    assert fetch.calls == 1
    assert poll.next_delay() is None
    poll.poke()
    await until(lambda: answers.data == ["n1", "n2"], "the poked answer")
    await ticks(5, polls)
    assert fetch.calls == 2


async def test_set_interval_none_stops_and_a_number_starts_again(polls):
    answers = Answers()
    fetch = Counter()
    poll = polls("p", 0.02, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls >= 2, "two requests")
    poll.set_interval(None)
    await until(lambda: not poll.busy, "the request in flight to end")
    calls = fetch.calls
    await ticks(8, polls)
    assert fetch.calls <= calls + 1  # one may have been due already
    calls = fetch.calls
    await ticks(5, polls)
    assert fetch.calls == calls
    poll.set_interval(0.02)
    await until(lambda: fetch.calls >= calls + 2, "polling again")


async def test_close_cancels_the_request_and_stops_for_good(polls):
    answers = Answers()
    fetch = Blocking()
    before = asyncio.all_tasks()
    poll = polls("p", 0.02, answers)
    poll.retarget(fetch)
    await until(lambda: fetch.calls == 1, "the request")
    assert asyncio.all_tasks() - before, "the poll's task runs"
    await closed(poll)
    assert asyncio.all_tasks() - before == set()
    assert fetch.cancelled == 1 and answers.items == []
    # A closed poll cannot be revived.
    poll.retarget(Counter())
    poll.poke()
    poll.resume()
    await ticks(5, polls)
    assert asyncio.all_tasks() - before == set()
    assert fetch.calls == 1 and answers.items == []


async def test_close_while_idle_leaves_no_task(polls):
    before = asyncio.all_tasks()
    poll = Poll("p", 0.02, lambda d, e: None)
    fetch = Counter()
    poll.retarget(fetch)
    await until(lambda: fetch.calls >= 2, "two requests")
    await closed(poll)
    assert asyncio.all_tasks() - before == set()
