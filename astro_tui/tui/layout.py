"""Which pane of a screen is active, and which panes are shown.

A screen of panes (the drill-down, the overview) keeps one `PaneLayout`. It moves the focus
between the panes (Tab, Shift+Tab, Esc), opens their filters, and on a small terminal (or when
zoomed, `Z`) shows the active pane alone. Only shown panes poll: after every change the layout
calls the screen's `changed` callback, which tells the panes' subscriptions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from textual.screen import Screen
from textual.widget import Widget

from astro_tui.tui.widgets.pane import Pane

#: below this width or height the drill-down shows one pane at a time
COMPACT_BELOW = (100, 28)


class PaneLayout:
    def __init__(self, screen: Screen[object], panes: Mapping[str, Pane], *, active: str,
                 changed: Callable[[], None], groups: Mapping[str, tuple[str, ...]] | None = None,
                 compact_below: tuple[int, int] | None = None) -> None:
        """`groups`: container selector → the panes it holds (a compact layout hides the
        containers without the active pane). `compact_below`: (width, height) under which only
        the active pane is shown; None: never."""
        self._screen = screen
        self.panes = dict(panes)
        self.order = tuple(panes)
        self.active = active
        self._changed = changed
        self._groups = dict(groups or {})
        self._compact_below = compact_below
        self.compact = False
        self.zoomed = False  # Z: the active pane alone, as on a small terminal
        self.covered = False  # another screen is in front: nothing here is shown

    def visible(self, pane: str) -> bool:
        return not self.covered and (not self.compact or pane == self.active)

    def fit(self, width: int, height: int) -> None:
        """The terminal's size (on mount and resize)."""
        small = self._compact_below is not None and (
            width < self._compact_below[0] or height < self._compact_below[1])
        self.compact = self.zoomed or small
        self._screen.set_class(self.compact, "compact")
        self._show()
        self._changed()

    def zoom(self) -> None:
        self.zoomed = not self.zoomed
        self.fit(self._screen.size.width, self._screen.size.height)
        self.panes[self.active].body.focus()

    def cover(self, covered: bool) -> None:
        self.covered = covered
        self._changed()

    def activate(self, pane: str) -> None:
        self.active = pane
        self._show()
        self.panes[pane].body.focus()
        self._changed()

    def step(self, delta: int) -> None:
        """The next (1) or previous (-1) pane."""
        self.activate(self.order[(self.order.index(self.active) + delta) % len(self.order)])

    def focused(self, widget: Widget) -> None:
        """A widget got the focus (a click, a modal closing): its pane becomes the active one."""
        for name, pane in self.panes.items():
            if widget in (pane.body, pane.filter_input) and name != self.active:
                self.active = name
                self._show()
                self._changed()

    def open_filter(self) -> None:
        pane = self.panes[self.active]
        if pane.filterable:
            pane.open_filter()

    def close_filter(self) -> bool:
        """Esc: close (and clear) the active pane's filter; False if it was not open."""
        pane = self.panes[self.active]
        if not pane.filtering:
            return False
        pane.close_filter(clear=True)
        return True

    def _show(self) -> None:
        for name, pane in self.panes.items():
            pane.set_class(name == self.active, "active")
        for selector, members in self._groups.items():
            shown = not self.compact or self.active in members
            self._screen.query_one(selector).display = shown
