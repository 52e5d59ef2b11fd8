"""Turning one stored log line into a styled `Strip` (level colours, group titles, search matches).

Text is never parsed as markup: every line is a `rich.text.Text` built from the sanitized string,
with spans added here (level colours, dimmed time/source) or kept from the task's SGR colours.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.console import Console
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

from astro_tui.tui.widgets.log.store import DETAIL, HEADER, LEVEL_MASK, NOTE, LogStore

STYLE_NAMES = (
    "time", "logger", "debug", "info", "warning", "error", "critical", "group", "note",
    "warning-text", "error-text",
    "match", "match-current", "cursor", "placeholder", "indicator",
)
COMPONENT_CLASSES = {f"log-view--{name}" for name in STYLE_NAMES}
LEVEL_STYLE = {1: "debug", 2: "info", 3: "warning", 4: "error", 5: "critical"}

_LEVEL_TOKEN = re.compile(r"\b(CRITICAL|ERROR|WARNING|WARN|INFO|DEBUG|FATAL|EXCEPTION)\b")
_V2_TIME = re.compile(r"\d\d:\d\d:\d\d ")
_V1_HEAD = re.compile(r"\s*\[[^\]]{10,40}\]\s*(?:\{[^}]*\}\s*)?")
_LOGGER = re.compile(r" +([^\s:]{1,60}):(?= )")


def _colour_line(text: Text, plain: str, meta: int, styles: dict[str, Style]) -> None:
    level = meta & LEVEL_MASK
    level_style = styles.get(LEVEL_STYLE.get(level, ""))
    text_style = styles["error-text"] if level >= 4 else styles["warning-text"]
    if meta & DETAIL:
        if level >= 3:
            text.stylize(text_style)
        return
    head = _V2_TIME.match(plain) or _V1_HEAD.match(plain)
    start = head.end() if head else 0
    if head:
        text.stylize(styles["time"], 0, head.end())
    token = _LEVEL_TOKEN.search(plain, start, start + 40) if level else None
    if token is None:
        return
    if level_style is not None:
        text.stylize(level_style, token.start(), token.end())
    rest = token.end()
    logger = _LOGGER.match(plain, rest)
    if logger is not None and head is not None and head.re is _V2_TIME:
        text.stylize(styles["logger"], logger.start(1), logger.end(1))
        rest = logger.end()
    if level >= 3:
        text.stylize(text_style, rest)


def line_strip(
    store: LogStore,
    line: int,
    base: Style,
    styles: dict[str, Style],
    console: Console,
    pattern: re.Pattern[str] | None = None,
    current_match: bool = False,
) -> Strip:
    """The whole (uncropped) styled line `line` of `store`."""
    plain = store.texts[line]
    meta = store.meta[line]
    offset = 0
    if meta & HEADER:
        gid = store.header_group.get(line)
        group = store.groups[gid] if gid is not None else None
        expanded = group is None or group.expanded
        text = Text(("▾ " if expanded else "▸ ") + plain, style=base + styles["group"])
        offset = 2
        if group is not None and not expanded:
            size = store.group_size(gid)  # type: ignore[arg-type]
            text.append(f"  ({size} line{'' if size == 1 else 's'})", style=styles["time"])
    elif meta & NOTE:
        text = Text(plain, style=base + styles["note"])
    else:
        text = Text(plain, style=base)
        colours = store.spans.get(line)
        if colours:
            text.spans = list(colours)
        _colour_line(text, plain, meta, styles)
    if pattern is not None:
        style = styles["match-current" if current_match else "match"]
        for match in pattern.finditer(plain):
            text.stylize(style, match.start() + offset, match.end() + offset)
    return Strip(text.render(console), text.cell_len)


_WITH_BACKGROUND = frozenset({"match", "match-current", "cursor", "critical"})


def _foreground(style: Style) -> Style:
    """The colour and attributes of `style` without its background (which would hide the
    cursor's). Full styles are used because partial ones lose alpha blending ($text-muted)."""
    return Style(color=style.color, bold=style.bold, dim=style.dim, italic=style.italic,
                 underline=style.underline, strike=style.strike, reverse=style.reverse)


def resolve_styles(get: Callable[[str], Style]) -> dict[str, Style]:
    styles = {}
    for name in STYLE_NAMES:
        style = get(f"log-view--{name}")
        styles[name] = style if name in _WITH_BACKGROUND else _foreground(style)
    return styles
