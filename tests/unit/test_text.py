"""astro_tui.text: hostile strings must be shown literally and never reach the terminal raw."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console
from rich.text import Text
from textual.app import App, ComposeResult
from textual.content import Content
from textual.geometry import Region
from textual.widgets import DataTable, Label, Static

from astro_tui.text import (
    ELLIPSIS,
    NEWLINE_MARK,
    PLACEHOLDER,
    ansi_text,
    clean,
    escape_markup,
    redact,
    safe_text,
)

ESC = "\x1b"
MARKUP = "[/] [bold]bold?[/bold] [@click=app.quit]click to quit[/]"
HOSTILE = {
    "markup_close": "done [/] weird",
    "markup_bold": "[bold]x",
    "markup_click": "[@click=app.quit]quit[/]",
    "markup_mix": MARKUP,
    "markup_textual_only": "[$accent]x [B]y [ bold ]z",
    "ansi": f"{ESC}[31mred{ESC}[0m {ESC}[1;38;2;255;0;0mrgb{ESC}[m",
    "csi_2j": f"before{ESC}[2J{ESC}[H{ESC}[?1049h{ESC}[>4;2mafter",
    "osc0_bel": f"{ESC}]0;pwned-title\x07visible",
    "osc0_st": f"{ESC}]0;pwned-title{ESC}\\visible",
    "osc52": f"{ESC}]52;c;ZXZpbA==\x07",
    "osc8_link": f"{ESC}]8;;http://evil.example{ESC}\\link{ESC}]8;;{ESC}\\",
    "osc_unterminated": f"ok {ESC}]52;c;ZXZpbA==",
    "dcs": f"{ESC}P1$qm{ESC}\\x",
    "c1": "c1:\x9b31m \x9d0;x\x9c \x9b2J \x90dcs\x9c \x85nel \x80",
    "controls": "nul:\x00 bel:\x07 bs:\x08 vt:\x0b ff:\x0c cr:\rX so:\x0e del:\x7f esc-end:" + ESC,
    "lone_esc": f"a{ESC}\x00b{ESC}é",
    "surrogate": "bad\ud800surrogate\udfff",
    "long": "x" * 10_000,
    "unicode": "RTL: \u05e9\u05dc\u05d5\u05dd combining: e\u0301 emoji: \U0001f680\U0001f469\u200d\U0001f4bb",
    "bidi": "bidi: \u202eevil\u202c \u2066iso\u2069 \u202a\u202b\u202d\u2067\u2068",
    "tabs_newlines": "a\tb\r\nc\nd\re\u2028f\u2029g",
}
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# What Rich itself emits for styled text: SGR only.
RICH_SGR = re.compile(r"\x1b\[[0-9;]*m")


def assert_printable(s: str, allow_newline: bool = False) -> None:
    s = s.replace("\n", "") if allow_newline else s
    bad = FORBIDDEN.findall(s)
    assert not bad, f"control/escape chars left: {bad!r} in {s[:200]!r}"


def render_ansi(renderable: object) -> str:
    console = Console(
        file=io.StringIO(), force_terminal=True, color_system="truecolor", width=200, soft_wrap=True
    )
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_clean_removes_every_control_and_escape(payload: str) -> None:
    assert_printable(clean(payload))
    assert_printable(clean(payload, newline=" "))
    assert_printable(clean(payload, newline="\n"), allow_newline=True)
    assert_printable(clean(payload, 20))
    assert len(clean(payload, 20)) <= 20


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_safe_text_is_literal(payload: str) -> None:
    text = safe_text(payload, style="bold")
    assert isinstance(text, Text)
    assert text.plain == clean(payload)
    assert text.spans == []  # nothing parsed from the payload


@pytest.mark.parametrize("payload", HOSTILE.values(), ids=HOSTILE.keys())
def test_ansi_text_output_only_has_rich_sgr(payload: str) -> None:
    text = ansi_text(payload)
    assert_printable(text.plain)
    out = render_ansi(text)
    leftover = RICH_SGR.sub("", out)
    assert_printable(leftover, allow_newline=True)
    assert ESC + "]" not in out and "\x9b" not in out and "\x9d" not in out
    assert ESC + "[2J" not in out
    for link_style in (span.style for span in text.spans):
        assert not getattr(link_style, "link", None)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (f"{ESC}[31mred{ESC}[0m", "red"),
        (f"{ESC}]52;c;ZXZpbA==\x07", ""),
        (f"{ESC}]52;c;ZXZpbA=={ESC}\\", ""),
        (f"{ESC}]0;title\x07x", "x"),
        (f"a{ESC}[2Jb", "ab"),
        ("a\x9b2Jb", "ab"),
        ("a\x9d0;title\x9cb", "ab"),
        (f"ok {ESC}]52;c;ZXZpbA==", "ok "),
        (f"ok {ESC}]0;t\nnext", f"ok {NEWLINE_MARK}next"),  # unterminated OSC stops at a newline
        ("nul\x00", "nul" + PLACEHOLDER),
        ("del\x7f", "del" + PLACEHOLDER),
        ("bel\x07", "bel" + PLACEHOLDER),
        ("c1\x85", "c1" + PLACEHOLDER),
        ("esc at end" + ESC, "esc at end" + PLACEHOLDER),
        ("a\tb", "a   b"),
        ("a\r\nb\rc\nd", f"a{NEWLINE_MARK}b{NEWLINE_MARK}c{NEWLINE_MARK}d"),
        ("\u202eevil\u202c", "evil"),
        ("\u05e9\u05dc\u05d5\u05dd e\u0301 \U0001f680", "\u05e9\u05dc\u05d5\u05dd e\u0301 \U0001f680"),
        (MARKUP, MARKUP),
        (None, ""),
        (b"bytes \xff", "bytes \ufffd"),
        (42, "42"),
    ],
)
def test_clean_examples(payload: object, expected: str) -> None:
    assert clean(payload) == expected


def test_newline_modes() -> None:
    assert clean("a\nb", newline=" ") == "a b"
    assert clean("a\r\nb", newline="\n") == "a\nb"
    with pytest.raises(ValueError):
        clean("a\nb", newline="\x1b")


def test_plain_text_is_returned_unchanged() -> None:
    s = "example_dag.task-1 (ok)"
    assert clean(s) is s


def test_hostile_str_does_not_crash() -> None:
    class Evil:
        def __str__(self) -> str:
            raise RuntimeError("boom")

    assert clean(Evil()) == PLACEHOLDER


def test_truncation() -> None:
    long = HOSTILE["long"]
    assert clean(long) == long
    cut = clean(long, 100)
    assert len(cut) == 100 and cut.endswith(ELLIPSIS)
    assert clean("short", 100) == "short"
    assert clean("abcdef", 1) == ELLIPSIS
    assert clean("abcdef", 0) == ""
    # never split a base letter from its combining mark
    assert clean("abe\u0301cd", 4) == "ab" + ELLIPSIS
    # escapes before the cut do not count
    assert clean(f"{ESC}[31m" * 500 + "visible", 7) == "visible"
    assert len(clean("z" * 10_000_000, 80)) == 80  # huge values are cut before any work


def test_ansi_text_keeps_colours_and_drops_the_rest() -> None:
    text = ansi_text(f"INFO {ESC}[1;31mred{ESC}[0m {ESC}]0;t\x07{ESC}[2J\x9b2Jdone")
    assert text.plain == "INFO red done"
    (span,) = text.spans
    assert text.plain[span.start : span.end] == "red"
    assert span.style.bold and span.style.color is not None
    out = render_ansi(text)
    assert "\x1b[1;31mred" in out


def test_ansi_text_neutralises_conceal_blink_and_links() -> None:
    text = ansi_text(f"{ESC}[8mhidden{ESC}[0m {ESC}[5mblink{ESC}[0m {ESC}]8;;http://x{ESC}\\l")
    assert text.plain == "hidden blink l"
    for span in text.spans:
        assert not span.style.conceal and not span.style.blink and not span.style.link
    out = render_ansi(text)
    assert "\x1b[8m" not in out and "\x1b[5m" not in out


def test_ansi_text_truncates_and_expands_tabs() -> None:
    text = ansi_text(f"{ESC}[32m" + "y" * 50, max_len=10)
    assert text.plain == "y" * 9 + ELLIPSIS
    assert ansi_text(f"{ESC}[32ma\tb").plain == "a   b"
    assert ansi_text("no escapes\x00").plain == "no escapes" + PLACEHOLDER


@pytest.mark.parametrize(
    "payload",
    [*HOSTILE.values(), "x\\", "\\[bold]y", "a\\[b", "[[x]]", "[link='http://e']l[/link]"],
)
def test_escape_markup_round_trips_through_textual_markup(payload: str) -> None:
    escaped = escape_markup(payload)
    assert_printable(escaped)
    content = Content.from_markup(f"[b]{escaped}[/b] tail")
    assert content.plain.replace("\u200b", "") == clean(payload) + " tail"


def test_redact() -> None:
    msg = (
        "401 for Authorization: Bearer eyJhbGciOi.eyJzdWIiOi.sig and Basic dXNlcjpwYXNz; "
        "password=hunter2 url=https://u:hunter%402@h; Basic auth, Bearer authentication failed"
    )
    out = redact(msg, ["hunter2", "hunter@2", None, ""])
    assert "eyJ" not in out and "dXNlcjpwYXNz" not in out and "hunter" not in out
    assert "Bearer ***" in out and "Basic ***" in out
    assert "Basic auth, Bearer authentication failed" in out  # prose survives
    assert redact("nothing secret", []) == "nothing secret"


# --- Textual widgets -----------------------------------------------------------------------


class HostileApp(App[None]):
    def compose(self) -> ComposeResult:
        for i, payload in enumerate(HOSTILE.values()):
            yield Label(safe_text(payload, max_len=300), id=f"label{i}")
        yield Static(safe_text(MARKUP), id="static")
        yield DataTable(id="table")


def screen_text(app: App[None]) -> str:
    lines: list[str] = []
    for widget in app.query("Label, Static, DataTable"):
        width, height = widget.size
        lines.extend(strip.text for strip in widget.render_lines(Region(0, 0, width, height)))
    return "\n".join(lines)


async def test_widgets_show_hostile_text_literally() -> None:
    app = HostileApp()
    async with app.run_test(size=(160, 60)) as pilot:
        table = app.query_one(DataTable)
        table.add_column(safe_text("dag [/]"), key="dag")
        table.add_column("description", key="description")
        for key, payload in HOSTILE.items():
            table.add_row(safe_text(key), safe_text(payload, max_len=80), key=key)
        table.update_cell("markup_click", "description", safe_text("[/bold] updated"))
        static = app.query_one("#static", Static)
        static.border_title = escape_markup(MARKUP)
        static.update(safe_text("done [/] weird"))
        app.notify(escape_markup(MARKUP), title=escape_markup("[/]"))
        await pilot.pause()

        text = screen_text(app)
        assert "done [/] weird" in text
        assert "[@click=app.quit]quit[/]" in text
        assert "[/bold] updated" in text
        assert "red" in text and "visible" in text
        assert_printable(text, allow_newline=True)
        assert app.is_running  # no MarkupError, no action ran

        # The bytes Textual would write to the terminal for the whole screen.
        update = app.screen._compositor.render_full_update()
        out = update.render_segments(app.console)
        assert ESC + "]" not in out and ESC + "[2J" not in out and ESC + "P" not in out
        assert "\x9b" not in out and "\x9d" not in out and "\x00" not in out
        assert "pwned-title" not in out and "ZXZpbA" not in out
