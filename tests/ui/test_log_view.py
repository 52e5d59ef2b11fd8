"""Pilot tests of the log pane: following a running try, the "N new lines" indicator, search,
level filter, folding, tries, wrap, save, copy URL and hostile text."""

from __future__ import annotations

import asyncio

from textual.scrollbar import ScrollBarRender

from astro_tui.tui.messages import TasksUpdated
from astro_tui.tui.screens.save_log import SaveLogScreen
from astro_tui.tui.widgets.log.base import EndThumb
from astro_tui.watch.events import TasksChanged
from tests.conftest import wait_for
from tests.ui.fake import FakeDeployment, make_app
from tests.ui.log_fake import LogFake
from tests.ui.test_main_screen import loaded

FAIL_RUN = "manual__2026-11-25T10:06:45.688918+00:00"


async def open_log(pilot, dag_id: str, task_key: str, ended: bool = True):
    app = pilot.app
    await loaded(pilot, app)
    main = app.main
    main.dag_table.select_key(dag_id)
    await pilot.press("enter")
    await wait_for(pilot, lambda: main.run_table.row_count >= 1, what="runs")
    await pilot.press("enter")
    await wait_for(pilot, lambda: task_key in main.task_table.keys, what="tasks")
    main.task_table.select_key(task_key)
    await pilot.press("enter")
    view = main.log_view
    if ended:
        await wait_for(pilot, lambda: view.ended, what="end of log")
    await pilot.pause(0.1)
    return view


def subtitle(view) -> str:
    return view.status.plain


def shown(view) -> list[str]:
    """The text of the rows on screen (not those under a horizontal scrollbar)."""
    height = view.scrollable_content_region.height
    return [view.render_line(y).text.rstrip() for y in range(height)]


def ticks(view) -> list[int]:
    return [int(t.split("tick ")[1].split()[0]) for t in view.lines if "tick " in t]


async def test_following_a_running_try_fetches_only_new_lines_and_stops_at_the_end():
    fake = LogFake()
    fake.grow(5)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: ticks(view) == [1, 2, 3, 4, 5], what="first ticks")
        assert "following" in view.context and not view.ended
        for n in (3, 1, 4):
            fake.grow(n)
            total = len(fake.ticks)
            await wait_for(pilot, lambda total=total: ticks(view)[-1:] == [total],
                           what=f"tick {total}")
        assert ticks(view) == list(range(1, 14))  # every line once, in order
        fake.finish()
        await wait_for(pilot, lambda: view.ended, what="end of log")
        assert "end of log" in view.context and view.lines[-1] == "— end of log —"
        reads = len(fake.reads)
        await pilot.pause(0.8)  # several poll intervals (0.2 s): no more log reads
        assert len(fake.reads) == reads
    # Only the first read has no token; later ones return the new entries only.
    assert fake.reads[0][0] is None and fake.reads[0][1] == 3 + 5
    assert all(token is not None for token, _, _ in fake.reads[1:])
    assert sum(n for _, n, _ in fake.reads[1:]) == 8
    assert max(size for _, _, size in fake.reads[1:]) < 1000


async def test_scrolled_up_view_stays_and_counts_new_lines():
    fake = LogFake()
    fake.grow(60)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 60, what="60 ticks")
        await pilot.pause(0.1)
        assert view.is_vertical_scroll_end and "tick 60 of 300" in shown(view)[-1]
        await pilot.press("pageup")
        top = view.scroll_y
        assert top < view.max_scroll_y and not view.tail
        fake.grow(7)
        await wait_for(pilot, lambda: "7 new lines ↓" in subtitle(view), what="indicator")
        assert view.scroll_y == top  # the view did not move
        fake.grow(2)
        await wait_for(pilot, lambda: "9 new lines ↓" in subtitle(view), what="9 new lines")
        await pilot.press("G")
        await pilot.pause(0.1)
        assert "new line" not in subtitle(view) and view.is_vertical_scroll_end
        fake.grow(1)  # at the bottom again: new lines scroll into view
        await wait_for(pilot, lambda: ticks(view)[-1] == 70, what="tick 70")
        await pilot.pause(0.1)
        assert "tick 70 of 300" in shown(view)[-1] and "new line" not in subtitle(view)


def thumb_rows(segments) -> list[int]:
    """The rows of a rendered vertical scrollbar that show its thumb (reversed, or a glyph)."""
    rows = [seg for seg in segments.segments if seg.text != "\n"]
    return [i for i, seg in enumerate(rows) if seg.style.reverse or seg.text.strip()]


def test_the_end_thumb_is_one_row_at_the_bottom_and_the_scaled_one_is_not():
    args = dict(size=10, virtual_size=100, window_size=10, position=90)
    assert thumb_rows(EndThumb.render_bar(**args)) == [9]
    assert thumb_rows(ScrollBarRender.render_bar(**args)) == [9]  # the same at 1/10 ...
    args = dict(size=10, virtual_size=20, window_size=10, position=10)
    assert thumb_rows(EndThumb.render_bar(**args)) == [9]
    assert thumb_rows(ScrollBarRender.render_bar(**args)) == [5, 6, 7, 8, 9]  # ... not at 1/2
    args = dict(size=10, virtual_size=10, window_size=0, position=0)  # all in view: none
    assert thumb_rows(EndThumb.render_bar(**args)) == []


async def test_a_growing_log_at_its_end_has_the_one_row_thumb():
    """Following a log that grows, the scrollbar's thumb is one row at the bottom (it moves up
    with the rows the terminal scrolls, so only its old row is painted again: issue 19's quiet
    log); scrolled up, or once the log has ended, it is drawn to scale again."""
    fake = LogFake()
    fake.grow(60)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 60, what="60 ticks")
        bar = view.vertical_scrollbar
        assert view.tail and bar.renderer is EndThumb
        await pilot.press("pageup")
        assert not view.tail and bar.renderer is ScrollBarRender
        await pilot.press("G")
        await wait_for(pilot, lambda: view.tail, what="back at the end")
        assert bar.renderer is EndThumb
        fake.finish()
        await wait_for(pilot, lambda: view.ended, what="end of log")
        assert view.tail and bar.renderer is ScrollBarRender


async def test_f_pauses_and_resumes_following():
    fake = LogFake()
    fake.grow(2)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 2, what="ticks")
        await pilot.press("f")
        assert "follow off" in subtitle(view)
        reads = len(fake.reads)
        fake.grow(3)
        await pilot.pause(0.8)
        assert len(fake.reads) == reads and len(ticks(view)) == 2
        await pilot.press("f")
        await wait_for(pilot, lambda: len(ticks(view)) == 5, what="resumed")
        assert "follow off" not in subtitle(view)


async def test_loading_indicator_until_the_first_answer():
    """A slow first answer shows "loading…" and never takes the focus away from the log (it
    did, with Textual's `loading`, which disables the widget: a flaky snapshot under load)."""
    fake = LogFake()
    fake.grow(3)
    fake.gate = asyncio.Event()
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: view.waiting, what="loading indicator")
        assert view.placeholder() == "loading…"
        assert view.has_focus
        fake.gate.set()
        await wait_for(pilot, lambda: not view.waiting and len(ticks(view)) == 3, what="loaded")
        assert view.has_focus


async def test_search_highlights_counts_and_n_N_move_between_matches():
    fake = LogFake()
    fake.grow(30)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 30, what="ticks")
        main = pilot.app.main
        await pilot.press("g")  # search forward from the top
        await pilot.press("slash")
        search = main.panes["log"].filter_input
        assert main.panes["log"].filtering and pilot.app.focused is search
        await pilot.press(*"tick 2")  # tick 2, 20..29
        assert len(view.matches) == 11 and "match 1/11" in subtitle(view)
        assert view.lines[view.cursor].startswith("10:07:02 INFO  example_long: tick 2 ")
        await pilot.press("enter")
        assert pilot.app.focused is view and view.search_text == "tick 2"
        await pilot.press("n", "n")
        assert "match 3/11" in subtitle(view) and "tick 21 " in view.lines[view.cursor]
        await pilot.press("N", "N", "N")
        assert "match 11/11" in subtitle(view)  # wraps around
        await pilot.press("escape")  # clears the search first...
        assert view.search_text == "" and not view.matches and main.pane_layout.active == "log"
        await pilot.press("escape")  # ...then goes back as usual
        assert main.pane_layout.active == "tasks"


async def test_search_input_escape_clears_and_no_match_is_said():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_fail", "boom")
        await pilot.press("slash", *"zzz-nothing")
        assert "no match" in subtitle(view)
        await pilot.press("escape")
        assert not pilot.app.main.panes["log"].filtering and view.search_text == ""
        assert pilot.app.focused is view


async def test_level_filter_cycles_warning_error_all():
    fake = LogFake()
    fake.grow(3)
    fake.grow(1, level="warning")
    fake.grow(1, level="error")
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 5, what="ticks")
        await pilot.press("l")
        rows = [view.lines[i] for i in view.store.rows]
        assert [ticks_of(r) for r in rows] == [4, 5] and "≥ warning" in subtitle(view)
        await pilot.press("l")
        assert [ticks_of(view.lines[i]) for i in view.store.rows] == [5]
        assert "≥ error" in subtitle(view)
        await pilot.press("l")
        assert len(view.store.rows) > 5 and "≥" not in subtitle(view)


def ticks_of(text: str) -> int:
    return int(text.split("tick ")[1].split()[0])


async def test_groups_fold_and_unfold_with_enter_space_z_and_click():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_fail", "boom")
        await pilot.press("g")  # the top, and the cursor on the first row
        screen = shown(view)
        assert screen[0] == "▸ Log message source details  (1 line)"
        assert "▸ Pre Execute  (3 lines)" in screen
        assert not any("DagBag" in row for row in screen)
        await pilot.press("enter")
        assert shown(view)[0] == "▾ Log message source details"
        assert "/airflow/logs/dag_id=example_fail" in shown(view)[1]
        await pilot.press("space")
        assert shown(view)[0].startswith("▸ Log message source details")
        await pilot.press("z")  # everything open
        assert any("Filling up the DagBag" in row for row in shown(view))
        assert all(g.expanded for g in view.store.groups)
        await pilot.press("z")
        assert not any(g.expanded for g in view.store.groups)
        pre = shown(view).index("▸ Pre Execute  (3 lines)")
        await pilot.click(view, offset=(3, pre))
        assert shown(view)[pre] == "▾ Pre Execute"


async def test_brackets_switch_tries_and_the_choice_sticks():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_fail", "boom")
        main = pilot.app.main
        assert "try 2/2" in view.context
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: view.ended, what="try 1")
        assert "try 1/2" in view.context and view.follower.try_number == 1
        assert "attempt=1.log" in "\n".join(view.lines)
        handled = []
        # a task poll's answer, as the Watcher delivers it
        main.post_message(TasksUpdated(TasksChanged(main.selection.dag_id, main.selection.run_id,
                                                    list(main.selection.tis.values()))))
        main.call_after_refresh(handled.append, True)
        await wait_for(pilot, lambda: handled, what="the tasks message handled")
        assert view.follower.try_number == 1  # not dragged back to the latest try
        await pilot.press("left_square_bracket")  # no try 0
        assert view.follower.try_number == 1
        await pilot.press("right_square_bracket")
        await wait_for(pilot, lambda: view.ended, what="try 2")
        assert "try 2/2" in view.context and "attempt=2.log" in "\n".join(view.lines)


async def test_a_retry_that_starts_is_followed():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_fail", "boom")
        main = pilot.app.main
        await pilot.press("left_square_bracket")
        await wait_for(pilot, lambda: view.ended and view.follower.try_number == 1, what="try 1")
        ti = dict(main.selection.tis)["boom"]
        newer = type(ti)(**{**{f: getattr(ti, f) for f in ti.__dataclass_fields__},
                            "try_number": 3, "state": "running"})
        assert not view.following(newer)


async def test_w_wraps_long_lines():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_hostile", "shout")
        rows = len(view.store.rows)
        assert view.virtual_size.width > 10_000
        await pilot.press("w")
        assert "wrap" in subtitle(view) and view.virtual_size.width == 0
        assert len(view.store.rows) > rows + 50
        long_rows = [y for y, row in enumerate(shown(view)) if row.endswith("xxxx")]
        assert len(long_rows) >= 2  # the long line continues on the next rows
        await pilot.press("w")
        assert len(view.store.rows) == rows and "wrap" not in subtitle(view)


async def test_s_saves_the_whole_try_to_a_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_fail", "boom")
        await pilot.press("s")
        assert isinstance(pilot.app.screen, SaveLogScreen)
        field = pilot.app.screen.query_one("#save-path")
        name = "example_fail__manual__2026-11-25T10_06_45.688918_00_00__boom__try2.log"
        assert field.value == str(tmp_path / name)
        await pilot.press("enter")
        target = tmp_path / name
        await wait_for(pilot, target.exists, what="the file")
        text = target.read_text()
        assert "RuntimeError: example_fail: intentional failure" in text
        assert "▾ Post Execute\n10:06:56 INFO  boom: about to fail" in text  # unfolded
        assert len(text.splitlines()) == len(view.lines)
        # A directory typed: the default name goes in it.
        (tmp_path / "out").mkdir()
        await pilot.press("s")
        field = pilot.app.screen.query_one("#save-path")
        field.value = str(tmp_path / "out")
        await pilot.press("enter")
        await wait_for(pilot, (tmp_path / "out" / name).exists, what="file in a directory")
        # An existing file: the first Enter warns, the second overwrites.
        target.write_text("old")
        await pilot.press("s", "enter")
        assert isinstance(pilot.app.screen, SaveLogScreen)
        assert "exists" in str(pilot.app.screen.query_one("#save-hint").render())
        await pilot.press("enter")
        await wait_for(pilot, lambda: target.read_text() != "old", what="overwritten")
        await pilot.press("s", "escape")
        assert not isinstance(pilot.app.screen, SaveLogScreen)


async def test_y_copies_the_airflow_ui_log_url(monkeypatch):
    app = make_app(FakeDeployment())
    copied: list[str] = []
    monkeypatch.setattr(app, "copy_to_clipboard", copied.append)
    async with app.run_test(size=(120, 40)) as pilot:
        await open_log(pilot, "example_fail", "boom")
        await pilot.press("y")
    assert copied == ["http://airflow.test/dags/example_fail/runs/"
                      "manual__2026-11-25T10%3A06%3A45.688918%2B00%3A00/tasks/boom?try_number=2"]


async def test_hostile_log_renders_literally_without_control_bytes():
    async with make_app(FakeDeployment()).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_hostile", "shout")
        await pilot.press("z", "w")  # everything visible
        rendered = "\n".join(shown(view))
        assert "[@click=app.quit]click to quit[/]" in rendered
        assert "[bold]bold?[/bold]" in rendered and "ansi red" in rendered
        bad = [c for c in rendered if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
        assert not bad and "pwned" not in rendered
        for y in range(view.size.height):  # no segment carries a control code either
            for segment in view.render_line(y):
                assert segment.control is None
        assert pilot.app.is_running


async def test_a_new_task_starts_at_its_end_even_after_scrolling_up_in_the_last_one():
    fake = LogFake()
    fake.grow(60)
    async with make_app(fake).run_test(size=(120, 40)) as pilot:
        view = await open_log(pilot, "example_long", "tick", ended=False)
        await wait_for(pilot, lambda: len(ticks(view)) == 60, what="60 ticks")
        await pilot.press("pageup")
        assert not view.tail
        main = pilot.app.main
        main.nav.select_task(None)
        main.dag_table.select_key("example_fail")
        await wait_for(pilot, lambda: "boom" in main.selection.tis, what="example_fail's tasks")
        main.task_table.select_key("boom")
        await wait_for(pilot, lambda: view.ended and "boom" in view.context, what="boom's log")
        await pilot.pause(0.1)
        assert view.tail and view.is_vertical_scroll_end and view.lines[-1] in shown(view)[-1]
