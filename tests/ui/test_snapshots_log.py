"""Snapshots of the log pane: folded groups, search, level filter, an older try, wrap, and the
"N new lines" indicator of a followed try. Time is injected (fixed `now`, frozen clock, UTC).

Regenerate with `scripts/test tests/ui/test_snapshots_log.py --snapshot-update`.
"""

from __future__ import annotations

from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.log_fake import LogFake
from tests.ui.test_log_view import open_log, ticks


def frozen_app(fake: FakeDeployment):
    return make_app(fake, clock=lambda: 1000.0)


def test_folded_groups(snap_compare):
    async def run_before(pilot):
        await open_log(pilot, "example_fail", "boom")
        await pilot.press("g")

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=(80, 24),
                        run_before=run_before)


def test_search(snap_compare):
    async def run_before(pilot):
        await open_log(pilot, "example_fail", "boom")
        await pilot.press("g", "z", "slash", *"dag", "enter", "n")

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=(120, 40),
                        run_before=run_before)


def test_level_filter_errors(snap_compare):
    async def run_before(pilot):
        await open_log(pilot, "example_fail", "boom")
        await pilot.press("l", "l")

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=(120, 40),
                        run_before=run_before)


def test_older_try(snap_compare):
    async def run_before(pilot):
        view = await open_log(pilot, "example_fail", "boom")
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: view.ended, what="try 1")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=(120, 40),
                        run_before=run_before)


def test_wrapped_hostile_log(snap_compare):
    async def run_before(pilot):
        await open_log(pilot, "example_hostile", "shout")
        await pilot.press("z", "w", "g")

    assert snap_compare(frozen_app(FakeDeployment()), terminal_size=(80, 24),
                        run_before=run_before)


def test_new_lines_indicator(snap_compare):
    fake = LogFake()
    fake.grow(40)

    async def run_before(pilot):
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 40, what="40 ticks")
        await pilot.pause(0.1)
        await pilot.press("pageup")
        fake.grow(12)
        await wait_for(pilot, lambda: "12 new lines" in view.status.plain, what="indicator")
        await pilot.pause(0.2)

    assert snap_compare(frozen_app(fake), terminal_size=(120, 40), run_before=run_before)
