"""A DataTable that is refreshed by keyed diffs, so idle refreshes repaint nothing.

`sync(rows)` takes the whole wanted table (key -> cells) and touches only what changed: changed
cells get `update_cell`, vanished rows are removed, new rows are added. Only when the order of
existing rows changes is the table rebuilt, and then the cursor is put back on the same key.
A filter (the `/` key) hides rows whose text does not contain the filter string.

With `fit=True` the columns fit the table's width instead of scrolling out of sight: each is as
wide as its content (up to its `width`), a `flex` column takes the room the others leave, and
when the room runs out columns are dropped by `priority` (highest number first; empty columns
always). A cell wider than its column is cut with "…", in the middle for `cut="middle"` (ids,
whose distinguishing part is often the end). `cells(key)` always gives the whole row.

`set_marks(keys)` puts `MARK` before the first cell of those rows (what the person watches).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from astro_tui.tui.actions import bindings

Cell = Text | str
#: before the first cell of a marked row (a watched DAG, run or task)
MARK = Text("◉ ", style="bold yellow")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int | None = None  # fixed; with fit=True the most it takes (None: its content)
    priority: int = 0  # fit=True: the columns that stay when the table is narrow (lowest first)
    flex: bool = False  # fit=True: takes the room the others leave, at least `min_width`
    min_width: int = 8
    #: a flex column grows to its content's width before the columns of a higher priority
    #: number than this are placed (None: it only gets what they leave)
    grow_priority: float | None = None
    cut: Literal["end", "middle"] = "end"


def cut_cell(cell: Cell, width: int, where: str = "end") -> Cell:
    """`cell` in at most `width` characters, styles kept, "…" where it was cut."""
    text = cell if isinstance(cell, Text) else Text(cell)
    size = len(text.plain)
    if size <= width:
        return cell
    if width <= 1:
        return Text("…"[:width])
    keep = width - 1
    back = max(1, round(keep * 0.6)) if where == "middle" else 0
    front = keep - back
    ellipsis = Text("…", style="dim")
    return text[:front] + ellipsis + (text[size - back:] if back else Text(""))


def _same(a: Cell, b: Cell) -> bool:
    if a is b:
        return True
    if isinstance(a, Text) and isinstance(b, Text):
        return a.plain == b.plain and str(a.style) == str(b.style) and a.spans == b.spans
    return type(a) is type(b) and a == b


def _plain(cell: Cell) -> str:
    return cell.plain if isinstance(cell, Text) else str(cell)


class KeyedTable(DataTable):
    """Rows are identified by string keys; see the module docstring."""

    BINDINGS = bindings("table")

    def __init__(self, columns: Sequence[Column], *, fit: bool = False, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._columns_spec = list(columns)
        self._fit = fit
        #: what is shown: (index in the row, width) per column, in table order
        self._plan: list[tuple[int, int | None]] = [(i, c.width) for i, c in enumerate(columns)]
        self._naturals: list[int] | None = None  # content widths (fit=True), per sync
        self._wanted: list[tuple[str, tuple[Cell, ...]]] = []
        #: per wanted row, its key and cells' plain text in lower case (made when a filter
        #: first needs them after a sync): a keystroke is one substring test per row
        self._haystacks: list[str] | None = None
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self._order: list[str] = []
        self.filter_text = ""
        self.marks: frozenset[str] = frozenset()
        self._quiet = False  # while True, update_cell's whole-table refresh is skipped
        #: told the keys of the rows in view whenever they change (scrolling, new rows, a
        #: filter, a resize)
        self.on_view: Callable[[list[str]], None] | None = None
        self._view: tuple[str, ...] = ()
        self.repaints = 0  # cells written since mount: lets tests prove idle refreshes are free

    def on_mount(self) -> None:
        self._add_columns()

    def _add_columns(self) -> None:
        for i, width in self._plan:
            col = self._columns_spec[i]
            self.add_column(col.label, key=col.key, width=width)

    def on_resize(self) -> None:
        if self._fit:
            self._apply()
        self._view_changed()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._view_changed()

    def keys_in_view(self) -> list[str]:
        """The keys of the rows that fit in the table's height from its scroll position."""
        top = max(0, int(self.scroll_y))
        rows = self.size.height - (self.header_height if self.show_header else 0)
        return self._order[top: top + max(0, rows)]

    def _view_changed(self) -> None:
        if self.on_view is None:
            return
        keys = tuple(self.keys_in_view())
        if keys != self._view:
            self._view = keys
            self.on_view(list(keys))

    # -- fitting (fit=True) --------------------------------------------------------------------

    def _natural(self) -> list[int]:
        if self._naturals is None:
            widths = [0] * len(self._columns_spec)
            for key, cells in self._wanted:
                for i, cell in enumerate(cells):
                    n = len(_plain(cell)) + (len(MARK) if i == 0 and key in self.marks else 0)
                    if n > widths[i]:
                        widths[i] = n
            self._naturals = [
                min(w, c.width) if c.width is not None and not c.flex else w
                for w, c in zip(widths, self._columns_spec, strict=True)
            ]
        return self._naturals

    def _fit_plan(self) -> list[tuple[int, int | None]]:
        room = self.size.width - 2  # the vertical scroll bar
        if room <= 0:
            return self._plan
        pad = 2 * self.cell_padding
        natural = self._natural()
        specs = self._columns_spec
        # (an empty column is dropped, once there are rows to tell)
        width = [0 if self._wanted and not natural[i] else max(natural[i], len(c.label))
                 for i, c in enumerate(specs)]
        chosen: set[int] = set()
        given = [0] * len(specs)
        used = 0
        # (priority, column, growing): a flex column is placed at its min width, and may grow
        # to its content at its grow_priority
        steps: list[tuple[float, int, bool]] = [
            (c.priority, i, False) for i, c in enumerate(specs)]
        steps += [(c.grow_priority, i, True) for i, c in enumerate(specs)
                  if c.flex and c.grow_priority is not None]
        for _, i, growing in sorted(steps, key=lambda s: (s[0], s[2])):
            if growing:
                if i in chosen:
                    extra = min(width[i] - given[i], room - used)
                    given[i] += max(0, extra)
                    used += max(0, extra)
                continue
            if not width[i]:
                continue  # nothing to show in it
            need = min(specs[i].min_width, width[i]) if specs[i].flex else width[i]
            if used + need + pad <= room:
                chosen.add(i)
                given[i] = need
                used += need + pad
        plan: list[tuple[int, int | None]] = []
        for i, col in enumerate(specs):
            if i not in chosen:
                continue
            w = given[i]
            if col.flex:  # what is left over
                w = min(width[i], w + room - used)
                used += w - given[i]
            plan.append((i, w))
        return plan

    def _project(self, key: str, cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        if key in self.marks and cells:
            first = cells[0] if isinstance(cells[0], Text) else Text(cells[0])
            cells = (MARK + first, *cells[1:])
        if not self._fit:
            return cells
        specs = self._columns_spec
        return tuple(
            cut_cell(cells[i], w, specs[i].cut) if w is not None else cells[i]
            for i, w in self._plan if i < len(cells))

    @property
    def shown_columns(self) -> list[str]:
        """The keys of the columns shown, in order."""
        return [self._columns_spec[i].key for i, _ in self._plan]

    def is_cut(self, key: str, column: str) -> bool:
        """Whether `key`'s cell in `column` is shown cut (or not at all)."""
        cells = self.cells(key)
        index = next((n for n, c in enumerate(self._columns_spec) if c.key == column), None)
        if cells is None or index is None:
            return False
        width = dict(self._plan).get(index)
        return index not in dict(self._plan) or (
            width is not None and len(_plain(cells[index])) > width)

    # -- public --------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        if not self._order or self.cursor_row < 0 or self.cursor_row >= len(self._order):
            return None
        return self._order[self.cursor_row]

    @property
    def keys(self) -> list[str]:
        """The keys of the rows shown (filtered), top to bottom."""
        return list(self._order)

    def cells(self, key: str) -> tuple[Cell, ...] | None:
        """The cells of `key`'s row (shown or filtered out), None if there is no such row."""
        for k, cells in self._wanted:
            if k == key:
                return cells
        return None

    @property
    def total_rows(self) -> int:
        return len(self._wanted)

    def sync(self, rows: Sequence[tuple[str, Sequence[Cell]]]) -> None:
        """Make the table show `rows` (filtered), changing as few cells as possible."""
        self._wanted = [(key, tuple(cells)) for key, cells in rows]
        self._haystacks = None
        self._naturals = None
        self._apply()
        self._view_changed()

    def set_filter(self, text: str) -> None:
        text = text.replace("\0", "").strip().lower()  # (NUL separates the cells: _visible)
        if text != self.filter_text:
            self.filter_text = text
            self._apply()
            self._view_changed()

    def set_marks(self, keys: set[str] | frozenset[str]) -> None:
        """Mark these rows (and unmark the others)."""
        marks = frozenset(keys)
        if marks != self.marks:
            self.marks = marks
            self._naturals = None
            self._apply()

    def select_key(self, key: str) -> bool:
        if key in self._order:
            self.move_cursor(row=self._order.index(key))
            return True
        return False

    def action_first(self) -> None:
        if self._order:
            self.move_cursor(row=0)

    def action_last(self) -> None:
        if self._order:
            self.move_cursor(row=len(self._order) - 1)

    # -- diffing -------------------------------------------------------------------------------

    def _visible(self) -> list[tuple[str, tuple[Cell, ...]]]:
        if not self.filter_text:
            return self._wanted
        f = self.filter_text
        if self._haystacks is None:
            # NUL between the parts (the filter has none): a match never spans two cells
            self._haystacks = ["\0".join([k, *(_plain(c) for c in cells)]).lower()
                               for k, cells in self._wanted]
        return [row for row, hay in zip(self._wanted, self._haystacks, strict=True) if f in hay]

    def _apply(self) -> None:
        if self._fit and self.is_mounted:
            plan = self._fit_plan()
            if plan != self._plan:
                self._plan = plan
                self._rebuild(self._visible(), columns=True)
                return
        visible = self._visible()
        keys = [k for k, _ in visible]
        if keys == self._order:
            self._update_changed(visible)
            return
        wanted = set(keys)
        kept = [k for k in self._order if k in wanted]
        # Cheap path: a few rows vanish, or new rows are appended after the kept ones. Many
        # rows vanishing (a filter over 5,000 DAGs) is cheaper as a rebuild: each remove_row
        # re-indexes the whole table (seconds for thousands of rows).
        vanish = len(self._order) - len(kept)
        if keys[: len(kept)] == kept and vanish <= max(20, len(kept) // 10):
            for gone in [k for k in self._order if k not in wanted]:
                self.remove_row(gone)
                del self._shown[gone]
            self._order = kept
            self._update_changed(visible[: len(kept)])
            for key, cells in visible[len(kept):]:
                cells = self._project(key, cells)
                self.add_row(*cells, key=key)
                self._shown[key] = cells
                self._order.append(key)
                self.repaints += len(cells)
            return
        self._rebuild(visible)

    def refresh(self, *regions, **kwargs):
        if getattr(self, "_quiet", False) and not regions and not kwargs:
            return self
        return super().refresh(*regions, **kwargs)

    def _update_changed(self, visible: list[tuple[str, tuple[Cell, ...]]]) -> None:
        """Changed cells only; then repaint only their rows. DataTable.update_cell repaints the
        whole table (and its scroll bars): a ticking duration would rewrite every row."""
        col_keys = [self._columns_spec[i].key for i, _ in self._plan]
        changed_rows: list[int] = []
        self._quiet = True
        try:
            for index, (key, full) in enumerate(visible):
                cells = self._project(key, full)
                old = self._shown.get(key, ())
                changed = False
                for i, cell in enumerate(cells):
                    if i < len(old) and _same(old[i], cell):
                        continue
                    try:
                        self.update_cell(key, col_keys[i], cell)
                    except CellDoesNotExist:
                        continue
                    self.repaints += 1
                    changed = True
                self._shown[key] = cells
                if changed:
                    changed_rows.append(index)
        finally:
            self._quiet = False
        for index in changed_rows:
            self.refresh_row(index)

    def _rebuild(self, visible: list[tuple[str, tuple[Cell, ...]]], *,
                 columns: bool = False) -> None:
        keep = self.cursor_key
        scroll_y = self.scroll_y
        with self.app.batch_update():
            self.clear(columns=columns)
            if columns:
                self._add_columns()
            self._shown = {}
            self._order = []
            for key, full in visible:
                cells = self._project(key, full)
                self.add_row(*cells, key=key)
                self._shown[key] = cells
                self._order.append(key)
                self.repaints += len(cells)
            self.scroll_to(y=scroll_y, animate=False, immediate=True)
            if keep in self._order:
                # Same row as before, by key; scrolls only if it would be out of view.
                self.move_cursor(row=self._order.index(keep), animate=False)
