"""The log pane's core: one try's lines in a `LogStore`, drawn on demand, with the view state
(follow, tail, cursor, wrap, level, search). Reading the log is the Watcher's job (view.py).

A line-API `ScrollView` over a `LogStore` (store.py): rows are rendered on demand from compact
display strings, so a 200k-line log costs ~30 MB and one screen of rendering, and a 1M-line log
stays usable (the store keeps the last `max_lines` lines). New lines scroll into view only while
the view is at the bottom; otherwise the pane's bottom border says "N new lines ↓".

The log pane is four classes in a line: LogBase (here) ← LogStatus (status.py: its words) ←
LogKeys (keys.py: keys and mouse) ← LogView (view.py: the Watcher subscription and bindings).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

from rich.color import Color
from rich.segment import Segments
from rich.style import Style
from rich.text import Text
from textual import events
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widgets import Input

from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import TaskInstance
from astro_tui.tui.widgets.log.render import COMPONENT_CLASSES, line_strip, resolve_styles
from astro_tui.tui.widgets.log.store import Batch, LineFormatter, LogStore
from astro_tui.tui.widgets.pane import Pane

#: Following a log, let the terminal scroll the log's rows (DECSTBM scroll regions, which
#: xterm, tmux, screen and every VT100 heir have) and paint only the new rows;
#: ASTRO_TUI_SCROLL_REGIONS=0 repaints the whole pane instead.
SCROLL_REGIONS = os.environ.get("ASTRO_TUI_SCROLL_REGIONS", "1") != "0"


DEFAULT_BACK, DEFAULT_BAR = Color.parse("#555555"), Color.parse("bright_magenta")  # Textual's


class EndThumb(ScrollBarRender):
    """The vertical scrollbar of a view at the end of its log: a one-row thumb at the bottom.
    A thumb drawn to scale shrinks a little with every new line and has to be repainted with
    it (a third of what a followed line cost on the wire); this one moves up with the rows the
    terminal scrolls and only its old row is painted again."""

    @classmethod
    def render_bar(cls, size: int = 25, virtual_size: float = 50, window_size: float = 20,
                   position: float = 0, thickness: int = 1, vertical: bool = True,
                   back_color: Color = DEFAULT_BACK, bar_color: Color = DEFAULT_BAR) -> Segments:
        if vertical and size and virtual_size > window_size > 0:
            window_size = virtual_size / size  # a thumb of exactly one row ...
            position = virtual_size - window_size  # ... at the bottom
        return super().render_bar(size, virtual_size, window_size, position, thickness,
                                  vertical, back_color, bar_color)


class LogBase(ScrollView, can_focus=True):
    """Scrollable, tail-following lines of one task try, and the view's state."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES = COMPONENT_CLASSES
    DEFAULT_CSS = """
    LogBase {
        background: $surface; color: $text; overflow-y: scroll; overflow-x: auto;
        &:focus { background-tint: $foreground 5%; }
        & > .log-view--time { color: $text-muted; }
        & > .log-view--logger { color: $text-muted; }
        & > .log-view--debug { color: $text-muted; }
        & > .log-view--info { color: $success; }
        & > .log-view--warning { color: $warning; }
        & > .log-view--error { color: $error; text-style: bold; }
        & > .log-view--warning-text { color: $warning; }
        & > .log-view--error-text { color: $error; }
        & > .log-view--critical { color: $text; background: $error; text-style: bold; }
        & > .log-view--group { color: $accent; text-style: bold; }
        & > .log-view--note { color: $text-muted; text-style: italic; }
        & > .log-view--match { background: $warning 35%; }
        & > .log-view--match-current { background: $warning; color: $background; }
        & > .log-view--cursor { background: $accent 25%; }
        & > .log-view--placeholder { color: $text-muted; text-style: italic; }
        & > .log-view--indicator { color: $accent; text-style: bold; }
    }
    """

    def __init__(self, max_lines: int = 1_000_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.store = LogStore(max_lines)
        self.formatter = LineFormatter()
        self.ti: TaskInstance | None = None
        self.follow = True  # the user's `f`: poll for new lines
        self._ended = False
        self.entries = 0
        self.latest_try = 0  # the newest try known (a pinned older try stays shown)
        self.new_lines = 0  # rows added while the user was scrolled up
        self._tail = True  # the view follows the end (until the user scrolls up)
        self.cursor: int | None = None  # line index
        self.wrap = False
        self.error: str | None = None
        self.search_text = ""
        self.pattern: re.Pattern[str] | None = None
        self.matches: list[int] = []
        self.match_index = -1
        self._cache: dict[int, Strip] = {}
        self._styles: dict[str, Style] | None = None
        # Our own "loading…" (not Textual's `loading`, which disables the widget and so takes
        # the focus away from a pane the user just opened on a slow server).
        self.waiting = False
        self._subtitle: Text | None = None
        #: the terminal scrolled the rows, the new ones are not painted yet (_scroll_quietly)
        self._unpainted = False


    @property
    def tail(self) -> bool:
        """The view follows the end (until the user scrolls up)."""
        return self._tail

    @tail.setter
    def tail(self, value: bool) -> None:
        self._tail = value
        self._sync_thumb()

    @property
    def ended(self) -> bool:
        """The try's log has ended (no more lines will come)."""
        return self._ended

    @ended.setter
    def ended(self, value: bool) -> None:
        self._ended = value
        self._sync_thumb()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        bar = super().vertical_scrollbar
        self._sync_thumb(bar)
        return bar

    def _sync_thumb(self, bar: ScrollBar | None = None) -> None:
        """At the end of a log that still grows, the one-row thumb (`EndThumb`), else Textual's
        (set per instance, as `ScrollBar.renderer` documents)."""
        bar = bar or self._vertical_scrollbar
        if bar is None:
            return
        renderer = EndThumb if self._tail and not self._ended else ScrollBarRender
        if bar.renderer is not renderer:
            setattr(bar, "renderer", renderer)  # noqa: B010 - a ClassVar, per instance here
            bar.refresh()

    # -- what subclasses provide -------------------------------------------------------------

    @property
    def follower(self) -> LogFollower | None:
        """What reads the shown try (view.py)."""
        return None

    @property
    def connected(self) -> bool:
        """Whether there is a server to read from (view.py)."""
        return False

    def show(self, ti: TaskInstance | None, try_number: int | None = None) -> None:
        raise NotImplementedError  # view.py

    def placeholder(self) -> str:
        return ""  # status.py

    def _retitle(self) -> None:
        return None  # status.py

    # -- the pane around it ------------------------------------------------------------------

    @property
    def pane(self) -> Pane | None:
        """The pane around the view (its title and its input, the log search), if any."""
        return self.parent if isinstance(self.parent, Pane) else None

    @property
    def search_input(self) -> Input | None:
        pane = self.pane
        return pane.filter_input if pane is not None else None


    @property
    def lines(self) -> list[str]:
        """Every display line held (whatever is folded or filtered)."""
        return self.store.texts
    def _reset(self) -> None:
        level_min = self.store.level_min  # view preferences outlive the task shown
        self.store = LogStore(self.store.max_lines)
        self.store.wrap_width = self._wrap_width() if self.wrap else None
        self.store.level_min = level_min
        self.formatter = LineFormatter(self.formatter.tz)
        self.entries = 0
        self.ended = False
        self.follow = True
        self.error = None
        self.new_lines = 0
        self.cursor = None
        self.matches, self.match_index = [], -1
        self._cache.clear()
        self._loaded()
        self._resize_virtual()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.tail = True  # after the scroll to the top, which looks like the user scrolling up
        self.refresh()

    def _loaded(self) -> None:
        if self.waiting:
            self.waiting = False
            self.refresh()


    def _append(self, batch: Batch | None, note: str | None = None) -> None:
        store = self.store
        at_end = self.tail or not store.rows
        cursor_at_end = self.cursor is not None and store.rows and self.cursor == store.rows[-1]
        start, dropped, top = len(store), store.dropped, self._top_line()
        # Following the end: the terminal may scroll the rows itself (_scroll_quietly)
        band = self._scroll_band() if at_end and store.rows and self.cursor is None and \
            self.pattern is None and not store.open_group else None
        if note is not None:
            added = store.note(note)
        else:
            assert batch is not None
            added = store.extend(batch)
        for header in store.header_group:  # open groups' line counts changed
            self._cache.pop(header, None)
        if added < 0:  # over max_lines: the oldest lines were dropped, every index moved
            shift = store.dropped - dropped
            self._cache.clear()
            if self.cursor is not None:
                self.cursor = self.cursor - shift if self.cursor >= shift else None
            if self.pattern is not None:
                self._research()
            if not at_end:
                self.scroll_to(y=store.row_of(max(0, top - shift)), animate=False,
                               immediate=True)
        elif self.pattern is not None:
            self.matches.extend(self._matching(start))
        if band is not None and added > 0 and not store.open_group and \
                self._scroll_quietly(band):
            return
        self._resize_virtual()
        if at_end:
            if cursor_at_end and store.rows:
                self.cursor = store.rows[-1]
            self._stick()
            self.call_after_refresh(self._stick)  # a scrollbar may appear: the end moves
        elif note is None:
            self.new_lines += max(added, 0)
        self.refresh()

    def _scroll_band(self) -> Region | None:
        """The terminal rows this view's lines fill, when the terminal can scroll them itself
        (a DECSTBM scroll region): a real terminal, the view on the top screen and wholly in
        view, and nothing in those rows but the view, its scrollbar and the sides of the panes
        around it (the same on every row). None: repaint as usual."""
        app = self.app
        if not SCROLL_REGIONS or app.is_headless or self.screen is not app.screen:
            return None
        band = self.scrollable_content_region
        if app._driver is None or band.height < 3 or self._repaint_regions or \
                self._unpainted or not self.show_vertical_scrollbar:
            return None  # (a repaint not written yet: the rows on screen are not the last)
        try:
            shown = self.screen._compositor.visible_widgets
        except Exception:  # noqa: BLE001 - Textual's internals moved: no scroll regions
            return None
        mine = shown.get(self)
        if mine is None or mine[1].intersection(mine[0]) != mine[0]:
            return None  # partly hidden
        rows = Region(0, band.y, self.screen.size.width, band.height)
        allowed = {self, *self.ancestors_with_self, self._vertical_scrollbar,
                   self._horizontal_scrollbar, self._scrollbar_corner}
        for widget, (region, clip) in shown.items():
            if widget not in allowed and rows.overlaps(region.intersection(clip)):
                return None  # a toast, a tooltip, a pane beside it
        return band

    def _scroll_quietly(self, band: Region) -> bool:
        """New rows at the end of a view that follows it: the terminal scrolls the view's rows
        up (a DECSTBM scroll region, then line feeds at its bottom margin) and only the new
        rows, and the scrollbar's thumb, are painted. A line costs one row on the wire instead
        of the whole pane (issue 19). False (nothing done) when it does not apply: the view is
        not at its very end, the lines got wider, or a whole pane of rows is new.

        The scroll position, the virtual size and the scrollbar are set without their watchers
        (which repaint everything); the rendered-line cache is marked stale, so any later
        repaint draws the rows anew."""
        store, old = self.store, self.virtual_size
        width = 0 if store.wrap_width else store.max_width + 1
        top, height = int(self.scroll_y), len(store.rows)
        if width != old.width or top != self.max_scroll_y:
            return False
        new_top = max(0, height - band.height)
        shift = new_top - top
        if not 0 < shift < band.height:
            return False
        bar = self.vertical_scrollbar
        self.set_reactive(LogBase.virtual_size, Size(width, height))
        self.set_reactive(LogBase.scroll_target_y, float(new_top))
        self.set_reactive(LogBase.scroll_y, float(new_top))
        bar.set_reactive(ScrollBar.window_virtual_size, height)
        bar.set_reactive(ScrollBar.position, float(new_top))
        self._styles_cache.clear()
        self._styles_cache.set_dirty(self.size.region)
        driver = self.app._driver
        assert driver is not None
        first, last = band.y + 1, band.bottom  # 1-based, inclusive
        driver.write(f"\x1b[{first};{last}r\x1b[{last};1H" + "\n" * shift + "\x1b[r")
        # the new rows whole (the panes' sides, the scrollbar with its one-row thumb at the
        # bottom: EndThumb), and the row the old thumb moved up with the rows
        self.screen.refresh(Region(0, band.bottom - shift, self.screen.size.width, shift))
        # (not EndThumb: the log has just ended, and switching the renderer asked for the
        # whole bar already)
        if bar.renderer is EndThumb:
            bar.refresh(Region(0, max(0, bar.size.height - shift - 1), bar.size.width, 1))
        self._unpainted = True  # until those rows are written, no other scroll
        self.call_after_refresh(self._painted)
        return True

    def _painted(self) -> None:
        self._unpainted = False

    def _matching(self, start: int) -> list[int]:
        if self.pattern is None:
            return []
        found = self.store.search(self.pattern, start)
        if self.store.level_min:
            found = [i for i in found if self.store.level_ok(i)]
        return found

    def _research(self) -> None:
        self.matches = self._matching(0)
        self.match_index = -1

    def _top_line(self) -> int:
        rows = self.store.rows
        top = int(self.scroll_y)
        return rows[top] if top < len(rows) else 0

    def scroll_to_line(self, line: int, center: bool = False) -> None:
        row = self.store.row_of(line)
        height = self.size.height or 1
        top = int(self.scroll_y)
        if top <= row < top + height:
            return
        y = row - height // 2 if center else (row if row < top else row - height + 1)
        self.scroll_to(y=max(0, y), animate=False, immediate=True)

    # -- geometry ------------------------------------------------------------------------------

    def _wrap_width(self) -> int:
        return max(10, self.scrollable_content_region.width or self.size.width or 80)

    def _resize_virtual(self) -> None:
        store = self.store
        width = 0 if store.wrap_width else store.max_width + 1
        self.virtual_size = Size(width, len(store.rows))

    def on_resize(self, event: events.Resize) -> None:
        if self.wrap and self.store.wrap_width != self._wrap_width():
            self._rebuild(lambda: self.store.set_view(wrap_width=self._wrap_width()))

    def _stick(self) -> None:
        if self.tail:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        at_end = new_value >= self.max_scroll_y
        if at_end:
            self.tail = True
            if self.new_lines:
                self.new_lines = 0
                self._retitle()
        elif new_value < old_value:
            self.tail = False  # the user scrolled up: new lines must not move the view

    def _rebuild(self, change: Callable[[], object]) -> None:
        """Apply a change that rebuilds the rows, keeping the line at the top (or the cursor)
        where it was on screen."""
        store = self.store
        at_end = self.tail and bool(store.rows)
        top = int(self.scroll_y)
        anchor = self.cursor
        if anchor is None or not (top <= store.row_of(anchor) < top + self.size.height):
            anchor = store.rows[top] if top < len(store.rows) else None
        offset = store.row_of(anchor) - top if anchor is not None else 0
        change()
        self._cache.clear()
        self._resize_virtual()
        if at_end and anchor is None:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif anchor is not None:
            self.scroll_to(y=max(0, store.row_of(anchor) - offset), animate=False,
                           immediate=True)
        self.refresh()

    # -- rendering -----------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._cache.clear()

    def _get_styles(self) -> dict[str, Style]:
        if self._styles is None:
            self._styles = resolve_styles(self.get_component_rich_style)
        return self._styles

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        row = scroll_y + y
        width = self.size.width
        base = self.rich_style
        store = self.store
        if row >= len(store.rows):
            if row == 0 and (text := self.placeholder()):
                strip = Strip(Text(text, style=base + self._get_styles()["placeholder"])
                              .render(self.app.console))
                return strip.crop_extend(0, width, base)
            return Strip.blank(width, base)
        line = store.rows[row]
        cursor = line == self.cursor and self.has_focus
        if cursor:  # a background under the line's own colours and search matches
            base = base + self._get_styles()["cursor"]
        cached = None if cursor else self._cache.get(line)
        if cached is not None:
            strip = cached
        else:
            if len(self._cache) > 2000:
                self._cache.clear()
            current = self.match_index >= 0 and self.matches[self.match_index] == line
            strip = line_strip(store, line, base, self._get_styles(), self.app.console,
                               self.pattern, current)
            if not cursor:
                self._cache[line] = strip
        start = store.segs[row] * store.wrap_width if store.segs is not None and \
            store.wrap_width else scroll_x
        return strip.crop_extend(start, start + width, base)

    def on_focus(self) -> None:
        self._refresh_cursor()

    def on_blur(self) -> None:
        self._refresh_cursor()

    def _refresh_cursor(self) -> None:
        if self.cursor is not None:
            self.refresh()
