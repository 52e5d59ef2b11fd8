"""The log pane's keys and mouse: cursor, folding, follow, level filter, wrap, tries, search,
save and copy-URL (part of the log pane, see base.py)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from textual import events

from astro_tui.tui.widgets.log.status import LogStatus
from astro_tui.tui.widgets.log.store import HEADER, search_pattern

LEVEL_CYCLE = {0: 3, 3: 4, 4: 0}


class LogKeys(LogStatus):
    """The log pane's keys and mouse."""

    # -- cursor --------------------------------------------------------------------------------

    def _cursor_row(self) -> int | None:
        """The cursor's row if the cursor is on screen, else None."""
        rows = self.store.rows
        if self.cursor is None:
            return None
        row = self.store.row_of(self.cursor)
        top = int(self.scroll_y)
        if row >= len(rows) or rows[row] != self.cursor or not top <= row < top + self.size.height:
            return None
        return row

    def _place(self, row: int) -> None:
        rows = self.store.rows
        row = max(0, min(row, len(rows) - 1))
        self.cursor = rows[row]
        top, height = int(self.scroll_y), max(1, self.size.height)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + height:
            self.scroll_to(y=row - height + 1, animate=False, immediate=True)
        self.refresh()

    def _move(self, delta: int) -> None:
        rows = self.store.rows
        if not rows:
            return
        row = self._cursor_row()
        top, height = int(self.scroll_y), max(1, self.size.height)
        if row is None:  # first press: the cursor appears at the edge of the screen
            self._place(top if delta > 0 else min(len(rows), top + height) - 1)
            return
        if delta > 0:
            while row < len(rows) - 1 and rows[row] == self.cursor:  # past wrapped pieces
                row += 1
            if rows[row] == self.cursor:
                return
        else:
            if row == 0:
                return
            row = self.store.row_of(rows[row - 1])
        self._place(row)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page(self, direction: int) -> None:
        rows = self.store.rows
        if not rows:
            return
        height = max(1, self.size.height - 1)
        row = self._cursor_row()
        self.scroll_to(y=max(0, int(self.scroll_y) + direction * height), animate=False,
                       immediate=True)
        self._place((row if row is not None else int(self.scroll_y)) + direction * height)

    def action_top(self) -> None:
        if self.store.rows:
            self.scroll_home(animate=False, immediate=True)
            self._place(0)

    def action_bottom(self) -> None:
        self.cursor = None
        self.new_lines = 0
        self.tail = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)
        self._retitle()
        self.refresh()

    # -- modes ---------------------------------------------------------------------------------

    def action_cycle_level(self) -> None:
        level = LEVEL_CYCLE.get(self.store.level_min, 0)
        self._rebuild(lambda: self.store.set_view(level_min=level))
        if self.pattern is not None:
            self._research()
        self._retitle()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        width = self._wrap_width() if self.wrap else None
        self.scroll_to(x=0, animate=False, immediate=True)
        self._rebuild(lambda: self.store.set_view(wrap_width=width))
        self._retitle()

    # -- folding -------------------------------------------------------------------------------

    def action_toggle_group(self) -> None:
        store = self.store
        line = self.cursor if self._cursor_row() is not None else None
        if line is None:  # no cursor on screen: the first group title on screen
            top = int(self.scroll_y)
            for row in range(top, min(len(store.rows), top + self.size.height)):
                if store.meta[store.rows[row]] & HEADER:
                    line = store.rows[row]
                    break
        gid = store.group_at(line) if line is not None else None
        if gid is None:
            return
        self.cursor = store.groups[gid].header
        self._rebuild(lambda: store.toggle(gid))
        self.scroll_to_line(self.cursor)

    def action_toggle_all_groups(self) -> None:
        store = self.store
        expand = any(not g.expanded for g in store.groups)
        self._rebuild(lambda: store.set_all(expand))

    # -- tries ---------------------------------------------------------------------------------

    def action_try(self, delta: int) -> None:
        f = self.follower
        if f is None or self.ti is None:
            return
        current = f.try_number or 1
        latest = max(self.latest_try, current)
        target = current + delta
        if not 1 <= target <= latest:
            self.app.bell()
            return
        self.show(self.ti, try_number=target)
        self.latest_try = max(self.latest_try, latest)
        self._retitle()

    # -- search --------------------------------------------------------------------------------

    def _search_changed(self, value: str) -> None:
        self.set_query(value)

    def set_query(self, query: str) -> None:
        self.search_text = query
        self.pattern = search_pattern(query)
        self._research()
        self._cache.clear()
        if self.matches:
            ref = self.cursor if self.cursor is not None else self._top_line()
            self.goto_match(bisect_left(self.matches, ref))
        self._retitle()
        self.refresh()

    def goto_match(self, index: int) -> None:
        if not self.matches:
            return
        self.match_index = index % len(self.matches)
        line = self.matches[self.match_index]
        if not self.store.level_min and not self.store.visible(line):
            self._rebuild(lambda: self.store.reveal(line))
        self._cache.clear()
        self.cursor = line
        self.scroll_to_line(line, center=True)
        self._retitle()
        self.refresh()

    def action_search(self) -> None:
        pane = self.pane
        if pane is not None:
            pane.open_filter()

    def action_next_match(self) -> None:
        if self.matches:
            ref = self.cursor if self.cursor is not None else self._top_line()
            self.goto_match(bisect_right(self.matches, ref))

    def action_prev_match(self) -> None:
        if self.matches:
            ref = self.cursor if self.cursor is not None else self._top_line()
            self.goto_match(bisect_left(self.matches, ref) - 1)

    def action_clear_search(self) -> None:
        search = self.search_input
        if search is not None and search.value:
            search.value = ""  # the watcher clears the search
        else:
            self.set_query("")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_search":
            return bool(self.search_text)  # else Esc goes to the screen (back)
        return True

    # -- mouse ---------------------------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        row = int(self.scroll_y) + offset.y
        if row >= len(self.store.rows):
            return
        line = self.store.rows[row]
        self.cursor = line
        if self.store.meta[line] & HEADER:
            self.action_toggle_group()
        self.refresh()
