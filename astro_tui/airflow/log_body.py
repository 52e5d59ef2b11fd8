"""Decoding a log response body without holding it all in memory twice: the v2 entries are decoded
one by one from ~4 MB windows of the raw bytes. Pure Python; no Textual.
"""

from __future__ import annotations

import json
import json.scanner
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

__all__ = ["LogBody", "parse_log_body"]

_V2_HEAD = re.compile(rb'\s*\{\s*"content"\s*:\s*\[\s*')
_V2_TAIL = re.compile(rb'\s*\]\s*,\s*"continuation_token"\s*:\s*(null|"[^"\\]*")\s*\}\s*\Z')
_WS = re.compile(r"[ \t\r\n]*")
# typeshed types the context as a make_scanner; CPython reads the decoder's attributes from it.
_SCAN = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_WINDOW = 1 << 22  # bytes of a v2 body decoded at a time


@dataclass
class LogBody:
    """A decoded log response. ``content`` is what the JSON holds (v1: the repr text; v2: the
    list of entries), or None when ``entries`` streams the v2 entries one by one instead."""

    content: Any
    token: str | None
    entries: Iterator[Any] | None = None


def parse_log_body(body: bytes | str | list[bytes | str]) -> LogBody:
    """Decode a log response body.

    A v2 body of the usual shape ``{"content": [...], "continuation_token": ...}`` is not parsed
    up front: ``entries`` decodes one entry at a time, so a 200k-entry log never exists as 200k
    dicts at once (about 110 MB for 31 MB of JSON). Anything else is parsed with ``json.loads``.
    Raises ValueError if the body is not a JSON object. `body` may be a one-item list, which is
    emptied: the body can then be freed as soon as it is decoded.
    """
    if isinstance(body, list):
        body = body.pop()
    if isinstance(body, str):  # lone surrogates become JSON escapes, which decode back to them
        body = body.encode("utf-8", "backslashreplace")
    head = _V2_HEAD.match(body)
    if head is not None:
        tail = _V2_TAIL.search(body, max(head.end() - 1, len(body) - 4096))
        if tail is not None and tail.start() >= head.end() - 1:
            raw_token = tail.group(1)
            token = None if raw_token == b"null" else json.loads(raw_token)
            start, end = head.end(), max(head.end(), tail.start())
            return LogBody(None, token or None, _iter_entries(bytes(body), start, end))
    text = body.decode("utf-8", "replace")
    del body  # (with the one-item list, the last reference: freed before parsing)
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the log response is not a JSON object")
    return LogBody(data.get("content"), data.get("continuation_token") or None)


def _iter_entries(body: bytes, start: int, end: int) -> Iterator[Any]:
    """The JSON values in body[start:end] (separated by commas), decoded ~4 MB at a time: never
    the whole body as text (a 1M-line log is 160 MB of JSON)."""
    ws = _WS.match
    window = _WINDOW
    after_value = False  # the window starts between a value and its comma
    while start < end:
        cut = min(end, start + window)
        while start < cut < end and body[cut] >= 0x80:  # cut before an ASCII byte: whole chars
            cut -= 1
        text = body[start:cut].decode("utf-8", "surrogateescape")
        pos = ws(text, 0).end()  # type: ignore[union-attr]
        if after_value and pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"invalid JSON in the log response near byte {start}")
            pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
        done = pos
        last = cut >= end
        # Most of a window in one json.loads (C): up to its last "},{" (or the whole rest in
        # the last window). A cut inside a string or a nested value leaves the array unclosed,
        # so a successful parse is always whole values; otherwise the scanner below does it.
        fast_end = len(text) if last else text.rfind("},{", pos) + 1
        if fast_end > pos:
            try:
                values = json.loads("[" + text[pos:fast_end] + "]")
            except ValueError:
                values = None
            if values is not None:
                yield from values
                pos, after_value = _past_comma(text, fast_end, start)
                done = pos
        while pos < len(text):
            try:
                value, pos = _SCAN(text, pos)
            except (StopIteration, ValueError):  # ValueError: e.g. a string cut in the middle
                if last:
                    raise ValueError(f"invalid JSON in the log response after byte "
                                     f"{start + done}") from None
                break  # cut inside this entry: next window
            if pos >= len(text) and not last:
                break  # maybe cut just after it: read it again with what follows
            yield value
            pos, after_value = _past_comma(text, pos, start)
            done = pos
        if last and done >= len(text):
            return
        consumed = done if text.isascii() else len(text[:done].encode("utf-8",
                                                                     "surrogateescape"))
        if consumed == 0:
            window *= 2  # one entry bigger than the window
        else:
            after_value = after_value and done == len(text)
        start += consumed


def _past_comma(text: str, pos: int, start: int) -> tuple[int, bool]:
    """After a value at `pos`: where the next one starts (past blanks, a comma, blanks), and
    whether the text ended first. `start`: the text's offset in the body (for the error)."""
    pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
    if pos >= len(text):
        return pos, True
    if text[pos] != ",":
        raise ValueError(f"invalid JSON in the log response near byte {start}")
    return _WS.match(text, pos + 1).end(), False  # type: ignore[union-attr]
