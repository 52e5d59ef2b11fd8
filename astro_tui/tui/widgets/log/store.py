"""The log pane's data: display lines kept compact, groups, folding, level filter, wrap and search.

No Textual here (the widget in log_view.py renders it). Memory per line is the display string plus
10 bytes (a meta byte, a width and a row entry): 200k lines ≈ 30 MB. `LineFormatter` turns
`LogLine`s into a `Batch` of display lines in a worker thread; `LogStore.extend` adds a batch on
the event loop, in time proportional to the batch (rows are extended, not rebuilt).

Every string is sanitized here (`astro_tui.text`): no escape sequence, C0/C1 control byte or bidi
override from a log survives, and nothing is ever parsed as markup. SGR colours of the task's own
output are kept as `rich` spans (sparse: only for lines that had them).
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import tzinfo
from itertools import islice

from rich.cells import cell_len
from rich.text import Span

from astro_tui.airflow.log_parse import LEVEL_ALIASES, PLAIN_ENTRY_KEYS, entry_to_line
from astro_tui.airflow.models import LogLine, parse_datetime
from astro_tui.present.logs import QUIET_LOGGERS, short_logger
from astro_tui.text import ansi_text, clean

LEVELS = {"debug": 1, "info": 2, "warning": 3, "error": 4, "critical": 5}
LEVEL_NAMES = ("", "debug", "info", "warning", "error", "critical")
LEVEL_MASK = 7
DETAIL = 8  # a continuation line (traceback, rest of a multi-line event, unprefixed v1 line)
HEADER = 16  # the title line of a ::group::
NOTE = 32  # a line of ours ("— end of log —"), shown whatever the level filter
MAX_LINE = 20_000  # longer lines are cut (one 1 MB line would make every repaint slow)
INF = 1 << 62

# A timestamp's fraction of a second (after "YYYY-MM-DDTHH:MM:SS"): "HH:MM:SS" does not depend
# on it, so plain entries look the time up without it.
_FRACTION = re.compile(r"\.[0-9]{1,9}")

# Keys the Airflow UI does not show either (source location, channel).
_QUIET_EXTRAS = frozenset({"filename", "lineno", "loc", "chan"})


def _safe(s: str) -> tuple[str, list[Span] | None]:
    """Untrusted text -> (printable text, SGR colour spans or None)."""
    if s.isprintable() and len(s) <= MAX_LINE:
        return s, None
    if "\x1b" in s:
        text = ansi_text(s, max_len=MAX_LINE, newline=" ")
        return text.plain, (text.spans or None)
    return clean(s, MAX_LINE, newline=" "), None


def _width(s: str) -> int:
    return len(s) if s.isascii() else cell_len(s)


@dataclass
class Batch:
    """Display lines made from one poll's LogLines (see LineFormatter)."""

    texts: list[str] = field(default_factory=list)
    meta: bytearray = field(default_factory=bytearray)
    widths: array = field(default_factory=lambda: array("i"))
    spans: dict[int, list[Span]] = field(default_factory=dict)  # by index in this batch
    groups: list[tuple[int, bool]] = field(default_factory=list)  # (index, True=start/False=end)
    entries: int = 0  # LogLines consumed


class LineFormatter:
    """LogLine -> display lines. Airflow 3 entries become ``HH:MM:SS LEVEL logger: event k=v``
    (time in `tz`, None = local), detail lines (a traceback) are indented below; Airflow 2 text
    lines are shown as sent. Lines without a level of their own (a v1 traceback) inherit the
    level of the line above, so the level filter keeps a traceback with its error.

    Keeps state between batches (the inherited level), so use one per followed try.
    """

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self.level = 0
        self._times: dict[int, str] = {}
        # plain entries (_plain): a timestamp without its fraction -> "HH:MM:SS" ("" if none);
        # (level, logger) as sent -> (the prefix after the time, the level's flag)
        self._stamps: dict[str, str] = {}
        self._tails: dict[tuple[str | None, str | None], tuple[str, int]] = {}

    def _time(self, ts) -> str:
        key = int(ts.timestamp())
        text = self._times.get(key)
        if text is None:
            if len(self._times) > 50_000:
                self._times.clear()
            local = ts.astimezone(self.tz)
            text = self._times[key] = f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
        return text

    def __call__(self, lines: Iterable[LogLine]) -> Batch:
        batch = Batch()
        texts, meta, widths, spans = batch.texts, batch.meta, batch.widths, batch.spans
        entries = 0

        def add(text: str, flags: int, colours: list[Span] | None = None) -> None:
            if colours:
                spans[len(texts)] = colours
            texts.append(text)
            meta.append(flags)
            widths.append(_width(text))

        plain = self._plain
        for line in lines:
            entries += 1
            if line.__class__ is not LogLine:  # an Airflow 3 entry as decoded (raw_entries)
                if line.__class__ is dict:
                    made = plain(line)
                    if made is not None:
                        text, level, colours = made
                        if colours:
                            spans[len(texts)] = colours
                        texts.append(text)
                        meta.append(level)
                        widths.append(_width(text))
                        self.level = level
                        continue
                line = entry_to_line(line)
            level = LEVELS.get(line.level, 0) if line.level else 0
            if line.group == "end":
                batch.groups.append((len(texts), False))
                continue
            if line.raw is not None and line.group is None:
                if not level:
                    level = self.level  # continuation of the line above
                    flags = level | DETAIL if line.timestamp is None else level
                else:
                    flags = level
                text, colours = _safe(line.raw)
                add(text, flags, colours)
            elif line.group == "start":
                batch.groups.append((len(texts), True))
                add(_safe(line.text)[0], level | HEADER)
            else:
                prefix = self._prefix(line)
                text, colours = _safe(line.text)
                if line.extras:
                    text += _extras(line.extras)
                if colours and prefix:
                    colours = [Span(s.start + len(prefix), s.end + len(prefix), s.style)
                               for s in colours]
                add(prefix + text, level, colours)
            self.level = level
            for extra in line.detail:
                text, colours = _safe(extra)
                if colours:
                    colours = [Span(s.start + 4, s.end + 4, s.style) for s in colours]
                add("    " + text, level | DETAIL, colours)
        batch.entries = entries
        return batch

    def chunked(self, lines: Iterable[LogLine], emit: Callable[[Batch], object],
                size: int = 20_000) -> Batch:
        """Format `lines` in batches of `size`, handing each full one to `emit` as it is done
        (a big log shows up while the rest is formatted); returns the last, partial batch."""
        lines = iter(lines)
        while True:
            batch = self(islice(lines, size))
            if batch.entries < size:
                return batch
            emit(batch)

    def _plain(self, entry: dict) -> tuple[str, int, list[Span] | None] | None:
        """A plain entry's display line, level flag and colours, made as `entry_to_line` and
        the general case of `__call__` would make them (the same text), but without a LogLine or
        a datetime per line: a 200k-line log formats in about half the time. None: not plain."""
        if not entry.keys() <= PLAIN_ENTRY_KEYS:
            return None
        event = entry.get("event")
        if event.__class__ is not str or "\n" in event or event.startswith("::"):
            return None
        level, logger = entry.get("level"), entry.get("logger")
        if (level is not None and level.__class__ is not str) or \
                (logger is not None and logger.__class__ is not str):
            return None
        tail = self._tails.get((level, logger))
        if tail is None:
            tail = self._tails[(level, logger)] = self._tail(level, logger)
        after, flag = tail
        stamp = entry.get("timestamp")
        if stamp is None:
            time = ""
        elif stamp.__class__ is str:
            match = _FRACTION.match(stamp, 19)
            key = stamp[:19] + stamp[match.end():] if match else stamp
            cached = self._stamps.get(key)
            if cached is None:
                if len(self._stamps) > 50_000:
                    self._stamps.clear()
                ts = parse_datetime(stamp)
                cached = self._stamps[key] = "" if ts is None else self._time(ts)
            time = cached
        else:
            return None
        prefix = (time + " " + after + " " if after else time + " ") if time else \
            (after + " " if after else "")
        text, colours = _safe(event)
        if colours and prefix:
            colours = [Span(s.start + len(prefix), s.end + len(prefix), s.style)
                       for s in colours]
        return prefix + text, flag, colours

    @staticmethod
    def _tail(level: str | None, logger: str | None) -> tuple[str, int]:
        """The prefix's level and logger part (as _prefix makes it) and the level's flag."""
        name = LEVEL_ALIASES.get(level.lower(), level.lower()) if level is not None else None
        parts = []
        if name:
            parts.append(f"{name.upper():<5}")
        if logger and logger not in QUIET_LOGGERS:
            parts.append(clean(short_logger(logger), 60, newline=" ") + ":")
        return " ".join(parts), LEVELS.get(name, 0) if name else 0

    def _prefix(self, line: LogLine) -> str:
        parts = []
        if line.timestamp is not None:
            parts.append(self._time(line.timestamp))
        if line.level:
            parts.append(f"{line.level.upper():<5}")
        logger = line.logger
        if logger and logger not in QUIET_LOGGERS:
            parts.append(clean(short_logger(logger), 60, newline=" ") + ":")
        return " ".join(parts) + " " if parts else ""


def _extras(extras: dict) -> str:
    parts = [f"{clean(k, 40, newline=' ')}={clean(v, 200, newline=' ')}"
             for k, v in extras.items() if k not in _QUIET_EXTRAS]
    return "  " + " ".join(parts) if parts else ""


@dataclass
class Group:
    header: int  # line index of the title line
    end: int  # index of the first line after the group (INF while it is open)
    parent: int  # index in LogStore.groups, or -1
    expanded: bool = False


class LogStore:
    """All display lines of one try, and the rows currently shown (after folding, the level
    filter and wrapping). Lines are addressed by index; `rows[r]` is the line shown on row r
    and `segs[r]` which wrapped piece of it (wrap mode only)."""

    def __init__(self, max_lines: int = 1_000_000) -> None:
        self.max_lines = max_lines
        self.texts: list[str] = []
        self.meta = bytearray()
        self.widths = array("i")
        self.spans: dict[int, list[Span]] = {}
        self.groups: list[Group] = []
        self.header_group: dict[int, int] = {}
        self._open: list[int] = []  # stack of open group ids
        self.dropped = 0  # lines pruned from the start (over max_lines)
        self.level_min = 0
        self.wrap_width: int | None = None
        self.rows = array("i")
        self.segs: array | None = None
        self.max_width = 0

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def open_group(self) -> bool:
        """A group is open: its header's line count changes as lines are added."""
        return bool(self._open)

    # -- adding ------------------------------------------------------------------------------

    def extend(self, batch: Batch) -> int:
        """Add a batch; returns how many rows were added (or -1 if all rows were rebuilt)."""
        start = len(self.texts)
        self.texts.extend(batch.texts)
        self.meta.extend(batch.meta)
        self.widths.extend(batch.widths)
        for index, colours in batch.spans.items():
            self.spans[start + index] = colours
        for index, is_start in batch.groups:
            self._mark_group(start + index, is_start)
        if batch.widths:
            self.max_width = max(self.max_width, max(batch.widths))
        if len(self.texts) > self.max_lines:
            self._prune(len(self.texts) - self.max_lines * 9 // 10)
            self.rebuild()
            return -1
        before = len(self.rows)
        self._add_rows(start, len(self.texts))
        return len(self.rows) - before

    def note(self, text: str) -> int:
        text = clean(text, MAX_LINE, newline=" ")
        return self.extend(Batch([text], bytearray([NOTE]), array("i", [_width(text)])))

    def _mark_group(self, line: int, is_start: bool) -> None:
        if is_start:
            parent = self._open[-1] if self._open else -1
            self.groups.append(Group(line, INF, parent))
            self.header_group[line] = len(self.groups) - 1
            self._open.append(len(self.groups) - 1)
        elif self._open:
            self.groups[self._open.pop()].end = line

    def _prune(self, count: int) -> None:
        del self.texts[:count]
        del self.meta[:count]
        del self.widths[:count]
        self.dropped += count
        self.spans = {i - count: s for i, s in self.spans.items() if i >= count}
        old, self.groups, self.header_group = self.groups, [], {}
        renumber: dict[int, int] = {}
        for gid, g in enumerate(old):
            if g.header < count:
                continue
            renumber[gid] = len(self.groups)
            parent = renumber.get(g.parent, -1)
            end = g.end - count if g.end != INF else INF
            self.groups.append(Group(g.header - count, end, parent, g.expanded))
            self.header_group[g.header - count] = len(self.groups) - 1
        self._open = [renumber[g] for g in self._open if g in renumber]
        self.max_width = max(self.widths, default=0)

    # -- rows --------------------------------------------------------------------------------

    def hidden_ranges(self) -> list[tuple[int, int]]:
        """Line ranges [a, b) hidden by folded groups (outermost folded groups only)."""
        out = []
        skip_until = -1
        for g in self.groups:
            if g.header < skip_until:
                continue
            if not g.expanded:
                out.append((g.header + 1, g.end))
                skip_until = g.end
        return out

    def visible(self, line: int) -> bool:
        if self.level_min:
            return self.level_ok(line)
        return not any(a <= line < b for a, b in self.hidden_ranges())

    def level_ok(self, line: int) -> bool:
        m = self.meta[line]
        return (m & LEVEL_MASK) >= self.level_min or bool(m & NOTE)

    def rebuild(self) -> None:
        self.rows = array("i")
        self.segs = array("i") if self.wrap_width else None
        self._add_rows(0, len(self.texts))

    def _add_rows(self, start: int, stop: int) -> None:
        if self.level_min:
            ok = self.level_ok
            lines: Iterable[int] = [i for i in range(start, stop) if ok(i)]
        else:
            lines = array("i")
            pos = start
            for a, b in self.hidden_ranges():
                if b <= pos or a >= stop:
                    continue
                if a > pos:
                    lines.extend(range(pos, a))
                pos = max(pos, min(b, stop))
            if pos < stop:
                lines.extend(range(pos, stop))
        if self.wrap_width and self.segs is not None:
            width, widths, rows, segs = self.wrap_width, self.widths, self.rows, self.segs
            for i in lines:
                pieces = max(1, -(-widths[i] // width))
                if pieces == 1:
                    rows.append(i)
                    segs.append(0)
                else:
                    rows.extend([i] * pieces)
                    segs.extend(range(pieces))
        else:
            self.rows.extend(lines)

    def row_of(self, line: int) -> int:
        """The first row at or after `line` (len(rows) if none)."""
        return bisect_left(self.rows, line)

    def set_view(self, *, level_min: int | None = None, wrap_width: int | None | bool = False
                 ) -> None:
        if level_min is not None:
            self.level_min = level_min
        if wrap_width is not False:
            self.wrap_width = wrap_width or None
        self.rebuild()

    # -- folding -----------------------------------------------------------------------------

    def group_at(self, line: int) -> int | None:
        """The group whose title is `line`, else the innermost group containing it."""
        if line in self.header_group:
            return self.header_group[line]
        best = None
        for gid, g in enumerate(self.groups):
            if g.header < line < g.end:
                best = gid
            elif g.header > line:
                break
        return best

    def group_size(self, gid: int) -> int:
        g = self.groups[gid]
        return min(g.end, len(self.texts)) - g.header - 1

    def toggle(self, gid: int) -> None:
        self.groups[gid].expanded = not self.groups[gid].expanded
        self.rebuild()

    def set_all(self, expanded: bool) -> None:
        for g in self.groups:
            g.expanded = expanded
        self.rebuild()

    def reveal(self, line: int) -> bool:
        """Expand every folded group around `line`; True if something changed."""
        changed = False
        for g in self.groups:
            if g.header < line < g.end and not g.expanded:
                g.expanded = changed = True
        if changed:
            self.rebuild()
        return changed

    # -- search ------------------------------------------------------------------------------

    def search(self, pattern: re.Pattern[str], start: int = 0) -> list[int]:
        find = pattern.search
        return [i for i, text in enumerate(self.texts[start:], start) if find(text)]


def search_pattern(query: str) -> re.Pattern[str] | None:
    """Plain-text search, case-insensitive unless the query has a capital letter."""
    if not query:
        return None
    flags = 0 if any(c.isupper() for c in query) else re.IGNORECASE
    return re.compile(re.escape(query), flags)
