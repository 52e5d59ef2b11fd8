"""The one sanitizer for untrusted text (DAG ids, descriptions, tags, confs, log lines, errors).

Everything that comes from an Airflow server or a task is untrusted. Before a widget sees it, it
goes through one of these helpers:

* ``clean(s)``        -> ``str`` with no escape sequences, no control bytes (C0, DEL, C1), no bidi
                         overrides/isolates and no lone surrogates. Use for ``Log.write_lines``.
* ``safe_text(s)``    -> ``rich.text.Text`` built from ``clean(s)`` *without* markup parsing.
                         Use for Label/Static/DataTable cells/border titles.
* ``escape_markup(s)``-> ``clean(s)`` escaped for *Textual* markup, for the few sinks that insist
                         on markup (``notify()``, ``border_title``, markup with trusted tags).
* ``ansi_text(s)``    -> ``Text`` that keeps SGR colours from a log line and drops everything else.
* ``redact(s, secrets)`` -> the string with secrets and Authorization header values as ``***``.

Lone control bytes become ``PLACEHOLDER`` (U+FFFD), everywhere. Newlines become ``NEWLINE_MARK``
("⏎") by default; pass ``newline=" "`` for single-line cells or ``newline="\\n"`` to keep lines.
This module must not import Textual: the API layer uses ``redact``.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import quote

from rich.style import Style
from rich.text import Span, Text

__all__ = [
    "PLACEHOLDER",
    "NEWLINE_MARK",
    "ELLIPSIS",
    "clean",
    "safe_text",
    "escape_markup",
    "ansi_text",
    "redact",
]

PLACEHOLDER = "\ufffd"  # shown for every lone control byte, lone ESC and lone surrogate
NEWLINE_MARK = "\u23ce"  # ⏎
ELLIPSIS = "\u2026"  # …
TAB_SIZE = 4

# ECMA-48 sequences, 7-bit and 8-bit (C1) introducers. A sequence without its terminator is
# stripped up to the end of the line (a terminal would swallow even more).
_ESC_SEQ = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?"  # CSI (final byte may be missing)
    # OSC, DCS, SOS, PM, APC strings, ended by BEL or ST (or, unterminated, by a newline)
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x2f]*[\x30-\x7e]"  # any other ESC sequence (charset, ESC c reset, ESC 7, ...)
)
# The only sequence ansi_text keeps: 7-bit SGR without private markers or ':' sub-parameters.
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# Anything that may need work; if absent, clean() returns its input unchanged (fast path).
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_NEWLINES = re.compile(r"\r\n|[\r\u2028\u2029]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")  # keeps \t and \n
_NEUTER = Style(blink=False, blink2=False, conceal=False)  # SGR 5/6/8 must not hide or flash text


def _to_str(s: object) -> str:
    if isinstance(s, str):
        return s
    if s is None:
        return ""
    if isinstance(s, (bytes, bytearray)):
        return bytes(s).decode("utf-8", "replace")
    try:
        return str(s)
    except Exception:  # a hostile __str__ must not crash a widget
        return PLACEHOLDER


def _pre_cut(s: str, max_len: int | None) -> str:
    """Bound the work on huge values: escapes shrink and tabs grow, so keep a generous margin."""
    if max_len is not None and len(s) > max_len * 8 + 4096:
        return s[: max_len * 8 + 4096]
    return s


def _scrub(s: str, newline: str, tabs: bool) -> str:
    """Text with no escape sequences left in it -> text with no control characters."""
    if not _UNSAFE.search(s):
        return s
    s = _NEWLINES.sub("\n", s)
    if tabs and "\t" in s:
        s = s.expandtabs(TAB_SIZE)
    if newline != "\n":
        s = s.replace("\n", newline)
    s = _BIDI.sub("", s)
    return _CONTROL.sub(PLACEHOLDER, s)


def _cut_point(s: str, n: int) -> int:
    """Index <= n that does not split a base char from its combining marks / ZWJ / selectors."""
    while n > 0 and (
        unicodedata.combining(s[n]) or s[n] in "\u200d\ufe0e\ufe0f" or s[n - 1] == "\u200d"
    ):
        n -= 1
    return n


def _truncate(s: str, max_len: int | None) -> str:
    if max_len is None or len(s) <= max_len:
        return s
    if max_len <= 0:
        return ""
    return s[: _cut_point(s, max_len - 1)] + ELLIPSIS


def _check_newline(newline: str) -> None:
    if newline != "\n" and _UNSAFE.search(newline):
        raise ValueError("newline replacement must be '\\n' or printable text")


def clean(s: object, max_len: int | None = None, *, newline: str = NEWLINE_MARK) -> str:
    """Return printable text: no ESC/CSI/OSC/DCS sequences, no C0/DEL/C1, no bidi overrides.

    ``None`` gives ``""``; bytes are decoded as UTF-8 (with replacement); other values go
    through ``str()``. Tabs become spaces; CRLF/CR/LF/U+2028/U+2029 become ``newline``
    (default "⏎"; pass " " for single-line cells, "\\n" to keep the line breaks). Every other
    control byte becomes U+FFFD. RTL letters, combining marks and emoji are kept. If ``max_len``
    is given, the result has at most ``max_len`` characters and ends with "…" when cut.
    """
    _check_newline(newline)
    s = _pre_cut(_to_str(s), max_len)
    if _UNSAFE.search(s):
        s = _scrub(_ESC_SEQ.sub("", s), newline, tabs=True)
    elif "\t" in s:
        s = s.expandtabs(TAB_SIZE)
    return _truncate(s, max_len)


def safe_text(
    s: object,
    style: str | Style | None = None,
    max_len: int | None = None,
    *,
    newline: str = NEWLINE_MARK,
) -> Text:
    """A ``Text`` of ``clean(s)``, never parsed as markup: "[/]", "[@click=…]" stay literal."""
    return Text(clean(s, max_len, newline=newline), style=style or "")


def escape_markup(s: object, max_len: int | None = None, *, newline: str = NEWLINE_MARK) -> str:
    """``clean(s)`` escaped for Textual markup (``notify()``, ``border_title``, markup strings).

    Textual 8 parses *every* unescaped "[" as a tag ("[B]", "[$accent]", "[ bold ]" included),
    so ``rich.markup.escape`` is not enough: every "[" becomes "\\[". Textual has no escape
    for a backslash, so a trailing one gets a zero-width space to keep it from escaping a
    trusted tag that the caller appends.
    """
    out = clean(s, max_len, newline=newline).replace("[", "\\[")
    return out + "\u200b" if out.endswith("\\") else out


def ansi_text(
    s: object,
    style: str | Style | None = None,
    max_len: int | None = None,
    *,
    newline: str = NEWLINE_MARK,
) -> Text:
    """A log line -> ``Text`` that keeps SGR colours/bold/italic/underline and nothing else.

    Every non-SGR sequence (OSC title/clipboard, clear screen, cursor moves, 8-bit C1 CSI,
    OSC 8 hyperlinks) and every control byte is dropped or replaced exactly as in ``clean``.
    Blink and conceal attributes are removed so that no text is hidden. ``Text.plain`` contains
    no ESC, C0 (except "\\n" when ``newline="\\n"``), DEL or C1.
    """
    _check_newline(newline)
    raw = _pre_cut(_to_str(s), max_len)
    if "\x1b" not in raw:
        return safe_text(raw, style, max_len, newline=newline)
    parts: list[str] = []
    pos = 0
    for m in _ESC_SEQ.finditer(raw):
        if m.start() > pos:
            parts.append(_scrub(raw[pos : m.start()], newline, tabs=False))
        sgr = _SGR.fullmatch(m.group())
        if sgr is not None:
            parts.append(m.group())
        pos = m.end()
    if pos < len(raw):
        parts.append(_scrub(raw[pos:], newline, tabs=False))
    try:
        text = Text.from_ansi("".join(parts), style=style or "", end="")
    except Exception:  # defensive: a decoder bug must not crash the log view
        return safe_text(raw, style, max_len, newline=newline)
    text.spans = [
        Span(sp.start, sp.end, sp.style + _NEUTER) if isinstance(sp.style, Style) else sp
        for sp in text.spans
    ]
    if "\t" in text.plain:
        text.expand_tabs(TAB_SIZE)
    if max_len is not None and len(text.plain) > max_len:
        if max_len <= 0:
            return Text("", style=style or "")
        text = text[: _cut_point(text.plain, max_len - 1)]
        text.append(ELLIPSIS)
    return text


# "Bearer <token>": the token must look like one (a digit or . _ - + / =), so prose such as
# "Bearer authentication failed" survives. "Basic <b64>": only if it decodes to "user:password".
_BEARER = re.compile(r"\b(Bearer)(\s+)([A-Za-z0-9\-._~+/]+=*)", re.IGNORECASE)
_BASIC = re.compile(r"\b(Basic)(\s+)([A-Za-z0-9+/]+=*)", re.IGNORECASE)


def _bearer_sub(m: re.Match[str]) -> str:
    token = m.group(3)
    if len(token) >= 8 and re.search(r"[0-9.\-_+/=~]", token):
        return f"{m.group(1)}{m.group(2)}***"
    return m.group()


def _basic_sub(m: re.Match[str]) -> str:
    value = m.group(3)
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return m.group()
    if b":" in decoded:
        return f"{m.group(1)}{m.group(2)}***"
    return m.group()


def redact(s: object, secrets: Iterable[str | None] = ()) -> str:
    """Replace every given secret (and its URL-quoted form) and Bearer/Basic values with ``***``."""
    text = _to_str(s)
    needles: set[str] = set()
    for secret in secrets:
        if secret:
            needles.add(secret)
            needles.add(quote(secret, safe=""))
    for needle in sorted(needles, key=len, reverse=True):
        text = text.replace(needle, "***")
    text = _BEARER.sub(_bearer_sub, text)
    return _BASIC.sub(_basic_sub, text)
