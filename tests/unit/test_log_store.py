"""The log pane's data (no Textual app): formatting, sanitizing, groups, level filter, wrap,
pruning and search."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from astro_tui.airflow.logs import entries_to_lines, text_to_lines
from astro_tui.airflow.models import LogLine
from astro_tui.tui.widgets.log.store import (
    DETAIL,
    HEADER,
    LEVEL_MASK,
    NOTE,
    Batch,
    LineFormatter,
    LogStore,
    search_pattern,
)

UTC = timezone.utc
TS = "2026-11-25T10:06:56.598130Z"


def store_of(lines, tz=UTC, **kw) -> LogStore:
    store = LogStore(**kw)
    store.extend(LineFormatter(tz)(lines))
    return store


def test_structured_entries_become_time_level_logger_event():
    lines = entries_to_lines([
        {"timestamp": TS, "event": "Task failed", "level": "error", "logger": "task",
         "filename": "task_runner.py", "lineno": 3, "bundle_name": "dags-folder",
         "error_detail": [{"exc_type": "RuntimeError", "exc_value": "boom", "frames": [
             {"filename": "/d/f.py", "lineno": 29, "name": "boom"}]}]},
        {"timestamp": TS, "event": "printed", "level": "info", "logger": "task.stdout"},
        {"timestamp": TS, "event": "m", "level": "warning",
         "logger": "unusual_prefix_0123abcd_example_fail"},
    ])
    batch = LineFormatter(UTC)(lines)
    assert batch.texts == [
        "10:06:56 ERROR task: Task failed  bundle_name=dags-folder",
        "    Traceback (most recent call last):",
        '      File "/d/f.py", line 29, in boom',
        "    RuntimeError: boom",
        "10:06:56 INFO  printed",
        "10:06:56 WARNING example_fail: m",
    ]
    assert [m & LEVEL_MASK for m in batch.meta] == [4, 4, 4, 4, 2, 3]
    assert [bool(m & DETAIL) for m in batch.meta] == [False, True, True, True, False, False]
    # times are shown in the app's time zone
    plus2 = LineFormatter(timezone(timedelta(hours=2)))(lines[1:2]).texts
    assert plus2 == ["12:06:56 INFO  printed"]


def test_airflow2_lines_are_shown_as_sent_and_continuations_inherit_the_level():
    text = (" INFO - ::group::Log message source details\n*** Found local files:\n"
            " INFO - ::endgroup::\n"
            "[2026-11-25T10:06:30.032+0000] {taskinstance.py:3337} ERROR - Task failed\n"
            "Traceback (most recent call last):\n"
            '  File "/x.py", line 1, in f\n'
            "[2026-11-25T10:06:31.000+0000] {x.py:1} INFO - after")
    batch = LineFormatter(UTC)(text_to_lines(text))
    assert batch.texts == [
        "Log message source details", "*** Found local files:",
        "[2026-11-25T10:06:30.032+0000] {taskinstance.py:3337} ERROR - Task failed",
        "Traceback (most recent call last):", '  File "/x.py", line 1, in f',
        "[2026-11-25T10:06:31.000+0000] {x.py:1} INFO - after",
    ]
    assert batch.meta[0] & HEADER and batch.groups == [(0, True), (2, False)]
    assert [m & LEVEL_MASK for m in batch.meta] == [2, 2, 4, 4, 4, 2]
    assert batch.meta[3] & DETAIL and not batch.meta[5] & DETAIL


HOSTILE = [
    "markup [/] [bold]bold?[/bold] [@click=app.quit]click to quit[/]",
    "ansi \x1b[31mred\x1b[0m \x1b[2J\x1b[H",
    "osc \x1b]0;pwned-title\x07 \x1b]52;c;ZXZpbA==\x07 st \x1b]0;x\x1b\\",
    "control nul:\x00 bel:\x07 bs:\x08 c1:\x9b31m \x9d0;x\x9c del:\x7f",
    "unicode RTL: \u05e9\u05dc bidi: \u202eevil\u202c",
    "long " + "x" * 30000,
]


@pytest.mark.parametrize("raw", [False, True])
def test_hostile_text_is_sanitized_and_markup_stays_literal(raw):
    if raw:
        lines = text_to_lines("\n".join(HOSTILE))
    else:
        lines = entries_to_lines([{"event": e, "level": "info", "timestamp": TS,
                                   "logger": "task.stdout"} for e in HOSTILE])
    store = store_of(lines)
    joined = "\n".join(store.texts)
    bad = [c for c in joined if c != "\n" and (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)]
    assert not bad and "\u202e" not in joined
    assert "[@click=app.quit]click to quit[/]" in joined and "[bold]bold?[/bold]" in joined
    assert "pwned" not in joined and "ZXZpbA" not in joined
    ansi = next(i for i, t in enumerate(store.texts) if "ansi" in t)
    assert "red" in store.texts[ansi] and store.spans[ansi]  # the SGR colour is kept
    span = store.spans[ansi][0]
    assert store.texts[ansi][span.start:span.end] == "red"
    assert max(len(t) for t in store.texts) <= 20_000 + len("10:06:56 INFO  ")


def group_lines(n_inner: int = 3) -> list[LogLine]:
    out = [LogLine("::group::x", group="start", level="info")]
    out[0].text = "Pre"
    out += [LogLine(f"in {i}") for i in range(n_inner)]
    out += [LogLine("", group="end"), LogLine("after", level="error")]
    return out


def test_groups_are_folded_by_default_and_expandable():
    store = store_of(group_lines())
    assert store.texts == ["Pre", "in 0", "in 1", "in 2", "ERROR after"]
    assert list(store.rows) == [0, 4]
    gid = store.group_at(0)
    assert gid == store.group_at(2) == 0 and store.group_size(0) == 3
    store.toggle(0)
    assert list(store.rows) == [0, 1, 2, 3, 4]
    store.set_all(False)
    assert list(store.rows) == [0, 4]
    assert store.reveal(2) and list(store.rows) == [0, 1, 2, 3, 4]


def test_nested_and_open_groups_and_incremental_rows():
    store = LogStore()
    fmt = LineFormatter(UTC)
    outer = LogLine("Outer", group="start")
    inner = LogLine("Inner", group="start")
    store.extend(fmt([outer, LogLine("a"), inner, LogLine("b")]))
    assert list(store.rows) == [0]  # the open outer group is folded
    store.groups[0].expanded = True
    store.rebuild()
    assert list(store.rows) == [0, 1, 2]  # the inner one still is
    store.extend(fmt([LogLine("c"), LogLine("", group="end"), LogLine("d"),
                      LogLine("", group="end"), LogLine("e")]))
    assert store.texts[-1] == "e" and list(store.rows) == [0, 1, 2, 5, 6]
    assert store.group_size(1) == 2 and store.group_size(0) == 5


def test_level_filter_keeps_tracebacks_and_notes():
    store = store_of(group_lines() + [LogLine("warned", level="warning")])
    store.note("— end of log —")
    store.set_view(level_min=4)
    assert [store.texts[i] for i in store.rows] == ["ERROR after", "— end of log —"]
    store.set_view(level_min=3)
    assert [store.texts[i] for i in store.rows] == ["ERROR after", "WARNING warned",
                                                      "— end of log —"]
    assert store.meta[-1] & NOTE
    store.set_view(level_min=0)
    assert list(store.rows) == [0, 4, 5, 6]


def test_wrap_maps_rows_to_pieces_of_lines():
    store = store_of([LogLine("x" * 25), LogLine("short")])
    store.set_view(wrap_width=10)
    assert list(store.rows) == [0, 0, 0, 1] and list(store.segs) == [0, 1, 2, 0]
    assert store.row_of(1) == 3
    store.extend(LineFormatter(UTC)([LogLine("y" * 11)]))
    assert list(store.rows)[-2:] == [2, 2] and list(store.segs)[-2:] == [0, 1]
    store.set_view(wrap_width=None)
    assert store.segs is None and list(store.rows) == [0, 1, 2]


def test_pruning_keeps_the_newest_lines_and_the_groups_consistent():
    store = LogStore(max_lines=100)
    fmt = LineFormatter(UTC)
    store.extend(fmt([LogLine("old", group="start")] + [LogLine(f"o{i}") for i in range(50)]
                     + [LogLine("", group="end")]))
    assert store.extend(fmt([LogLine("G", group="start")] + [LogLine(f"n{i}") for i in range(60)]
                            + [LogLine("", group="end"), LogLine("last")])) == -1
    assert len(store) <= 100 and store.dropped > 0 and store.texts[-1] == "last"
    assert "G" in store.texts
    header = store.texts.index("G")
    assert store.header_group[header] == 0 and len(store.groups) == 1
    assert store.groups[0].end == len(store) - 1
    assert list(store.rows) == [i for i in range(len(store)) if not header < i < len(store) - 1]


def test_search_is_smart_case_and_literal():
    store = store_of([LogLine("Error: x"), LogLine("no error"), LogLine("a.b [x]")])
    assert store.search(search_pattern("error")) == [0, 1]
    assert store.search(search_pattern("Error")) == [0]
    assert store.search(search_pattern("[x]")) == [2] and store.search(search_pattern(".")) == [2]
    assert search_pattern("") is None


def test_time_cache_and_batch_defaults():
    fmt = LineFormatter(UTC)
    t0 = datetime(2026, 1, 1, 23, 59, 59, 999_000, tzinfo=UTC)
    texts = fmt([LogLine("a", timestamp=t0), LogLine("b", timestamp=t0 + timedelta(seconds=1))]
                ).texts
    assert texts == ["23:59:59 a", "00:00:00 b"]
    assert Batch().entries == 0


def test_chunked_hands_over_full_batches_as_they_are_done():
    emitted: list[Batch] = []
    last = LineFormatter(UTC).chunked((LogLine(f"l{i}") for i in range(25)), emitted.append, 10)
    assert [b.texts[0] for b in emitted] == ["l0", "l10"] and last.texts == [f"l{i}" for i in
                                                                          range(20, 25)]
    assert sum(b.entries for b in emitted) + last.entries == 25
    empty = LineFormatter(UTC).chunked(iter([]), emitted.append, 10)
    assert empty.entries == 0 and len(emitted) == 2


# Entries as Airflow 3 sends them (example_biglog, example_hostile) and odd ones: the plain ones
# take LineFormatter's direct path, the others its LogLine path.
RAW_ENTRIES = [
    {"event": "::group::Log message source details"}, {"event": "/logs/attempt=1.log"},
    {"event": "::endgroup::"},
    {"timestamp": TS, "event": "printed", "level": "info", "logger": "task.stdout"},
    {"timestamp": "2026-11-25T10:06:56Z", "event": "no fraction", "level": "INFO",
     "logger": "airflow.task", "ti_id": "0193", "dag_id": "d", "chan": "stdout"},
    {"timestamp": "2026-11-25T10:06:56.5+02:00", "event": "offset", "level": "warn",
     "logger": "unusual_prefix_0123abcd_example_fail"},
    {"timestamp": "2026-11-25T10:06:56.123456789Z", "event": "nanoseconds", "level": "fatal"},
    {"timestamp": "2026-11-25T10:06:56.Z", "event": "a dot alone", "level": "debug"},
    {"timestamp": "2026-11-25", "event": "a date", "level": "exception", "logger": ""},
    {"timestamp": "yesterday", "event": "not a time", "level": "", "logger": None},
    {"timestamp": None, "event": "[bold red]markup[/] \x1b[31mred\x1b[0m \x1b]0;title\x07",
     "level": "error", "logger": "task"},
    {"timestamp": TS, "event": "\u202eevil bidi\u202c \x07bell", "level": "odd-level"},
    {"timestamp": TS, "event": "x" * 25_000, "level": "info"},
    {"timestamp": TS, "event": "two\nlines", "level": "info", "logger": "task"},
    {"timestamp": TS, "event": "with extras", "level": "info", "user_key": "[b]v[/b]"},
    {"timestamp": 1700000000, "event": "a number as the time", "level": "info"},
    {"timestamp": TS, "event": 42, "level": ["info"], "logger": {"a": 1}},
    {"timestamp": TS, "event": "error", "level": "error", "error_detail": [
        {"exc_type": "ValueError", "exc_value": "bad", "frames": []}]},
    {"timestamp": TS, "event": "sources", "sources": ["/a.log"]},
    "a plain string entry", None, 7,
    {"timestamp": TS, "event": "after the others", "level": "critical", "logger": "task"},
]


@pytest.mark.parametrize("tz", [UTC, timezone(timedelta(hours=-7))], ids=["utc", "utc-7"])
def test_entries_as_decoded_format_as_their_loglines_do(tz):
    """The LogView hands Airflow 3's entries to the formatter as decoded (no LogLine per line
    for the plain ones): every display line, level, colour and group comes out the same."""
    fast, slow = LineFormatter(tz)(RAW_ENTRIES * 2), LineFormatter(tz)(entries_to_lines(RAW_ENTRIES * 2))
    assert fast.texts == slow.texts
    assert (fast.meta, list(fast.widths), fast.groups, fast.entries) == \
        (slow.meta, list(slow.widths), slow.groups, slow.entries)
    assert {i: [(s.start, s.end, str(s.style)) for s in v] for i, v in fast.spans.items()} == \
        {i: [(s.start, s.end, str(s.style)) for s in v] for i, v in slow.spans.items()}
    assert fast.spans  # the SGR colours of the hostile line were kept (as spans)
    # the cases: plain lines took the direct path, the others were made as LogLines
    formatter = LineFormatter(tz)
    plain = [e for e in RAW_ENTRIES if isinstance(e, dict) and formatter._plain(e) is not None]
    assert len(plain) == 12 and {"printed", "nanoseconds", "not a time"} <= {e["event"] for e in plain}
