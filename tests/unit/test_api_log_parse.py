"""Log payload parsing for big logs (streamed v2 bodies, the v1 repr fast path, the text-line fast
path), error_detail tracebacks, LogFollower.poll_with, and the Airflow UI log URL."""

from __future__ import annotations

import ast
import json

import pytest

from astro_tui.airflow import log_body, log_parse, logs
from tests.unit.api_fake import FakeAirflow, jresp

# -- error_detail ----------------------------------------------------------------------------

FRAME = {"filename": "/d/etl.py", "lineno": 12, "name": "load"}


def test_error_detail_cause_chain_is_rendered_oldest_first_like_python():
    # structlog: the exception raised last comes first; is_cause marks the one that caused it.
    detail = [
        {"exc_type": "RuntimeError", "exc_value": "outer", "is_cause": False, "frames": [FRAME]},
        {"exc_type": "KeyError", "exc_value": "'k'", "is_cause": True,
         "frames": [{"filename": "/d/etl.py", "lineno": 3, "name": "read"}]},
    ]
    lines = logs.render_error_detail(detail)
    assert lines == [
        "Traceback (most recent call last):",
        '  File "/d/etl.py", line 3, in read',
        "KeyError: 'k'",
        "",
        "The above exception was the direct cause of the following exception:",
        "",
        "Traceback (most recent call last):",
        '  File "/d/etl.py", line 12, in load',
        "RuntimeError: outer",
    ]
    detail[1]["is_cause"] = False  # an implicit context instead
    assert "During handling of the above exception, another exception occurred:" in \
        logs.render_error_detail(detail)


def test_error_detail_frames_keep_indentation_and_extras():
    detail = [{
        "exc_type": "ValueError", "exc_value": "bad\nvalue", "exc_notes": ["note 1"],
        "frames": [FRAME, {"filename": "", "lineno": -1, "name": "Skipped frames: 40"},
                   {"filename": "/d/x.py", "lineno": 7, "name": "f", "locals": {"n": "3"}}],
    }]
    lines = logs.render_error_detail(detail)
    assert lines == [
        "Traceback (most recent call last):",
        '  File "/d/etl.py", line 12, in load',
        "  ... Skipped frames: 40",
        '  File "/d/x.py", line 7, in f',
        "    n = 3",
        "ValueError: bad",  # a multi-line value becomes several lines, never one with "\n"
        "value",
        "note 1",
    ]


def test_error_detail_syntax_error_and_exception_group():
    syntax = [{"exc_type": "SyntaxError", "exc_value": "'(' was never closed", "frames": [],
               "syntax_error": {"filename": "/d/bad.py", "lineno": 3, "line": "    foo(\n",
                                "offset": 8, "msg": "'(' was never closed"}}]
    assert logs.render_error_detail(syntax) == [
        '  File "/d/bad.py", line 3', "    foo(", "       ^",
        "SyntaxError: '(' was never closed",
    ]
    group = [{"exc_type": "ExceptionGroup", "exc_value": "two (2 sub-exceptions)",
              "is_group": True, "frames": [FRAME],
              "exceptions": [[{"exc_type": "ValueError", "exc_value": "a", "frames": []}],
                             [{"exc_type": "TypeError", "exc_value": "b", "frames": [FRAME]}]]}]
    lines = logs.render_error_detail(group)
    assert lines[0] == "Exception Group Traceback (most recent call last):"
    assert "ExceptionGroup: two (2 sub-exceptions)" in lines
    assert "+---------------- 1 ----------------" in lines and "| ValueError: a" in lines
    assert '|   File "/d/etl.py", line 12, in load' in lines and "| TypeError: b" in lines
    # hostile nesting is bounded
    deep: list = [{"exc_type": "E", "exc_value": "0", "frames": []}]
    for i in range(50):
        deep = [{"exc_type": "ExceptionGroup", "exc_value": str(i), "is_group": True,
                 "exceptions": [deep]}]
    assert any("nested exceptions not shown" in line for line in logs.render_error_detail(deep))


def test_error_detail_odd_shapes():
    assert logs.render_error_detail(None) == []
    assert logs.render_error_detail("Traceback...\nValueError: x") == ["Traceback...",
                                                                        "ValueError: x"]
    assert logs.render_error_detail({"exc_type": "E", "exc_value": ""}) == ["E"]
    assert logs.render_error_detail(42) == ["42"]
    assert logs.render_error_detail(["plain"]) == ["plain"]


# -- v1 repr fast path, text line fast path --------------------------------------------------

TRICKY = [
    "plain\nlines\n",
    "it's \"quoted\" and \\backslashed\\ and \\'both\\'",
    "tab\there, cr\r, nul \x00 esc \x1b[31m c1 \x9b bell \x07",
    "unicode: é ü ß 日本 🚀 \u202e rtl \ud800 lone surrogate",
    "ends with a backslash \\",
    "'), ('fake', 'tuple inside the text",
    "",
]


@pytest.mark.parametrize("text", TRICKY)
def test_v1_fast_path_matches_literal_eval(text):
    content = repr([("127.0.0.1", text)])
    assert log_parse._v1_single_text(content) == text  # the fast path, not literal_eval
    assert logs.v1_content_text(content) == ast.literal_eval(content)[0][1] == text


def test_v1_several_hosts_fall_back_to_literal_eval():
    content = repr([("a", "one'"), ("b", "two")])
    assert log_parse._v1_single_text(content) is None
    assert logs.v1_content_text(content) == "one'\ntwo"


@pytest.mark.parametrize("line", [
    "[2026-11-25T10:26:53.583+0000] {logging_mixin.py:190} INFO - line 1",
    "[2026-11-25T10:26:53.583+0000] {taskinstance.py:3313} ERROR - Task failed",
    "[2026-11-25T10:26:53.583+0000] {x.py:1} INFO - ::group::Pre task execution logs",
    "[2026-11-25T10:26:53.583+0000] {x.py:1} INFO - ::endgroup::",
    "[2026-11-25T10:26:53.583+0000] {x.py:1} WARN -  two spaces",
    "[2026-11-25T10:26:53.583+0000] {} CRITICAL - no source",
    "[2026-11-25T10:26:53.583+0000] {x.py:1} NOTALEVEL - x",
    "[2026-11-25 10:26:53,583] {x.py:1} INFO - other time format",
    "[short] {x} INFO - not a time",
    "[2026-11-25T10:26:53.583+0000] {a}b} INFO - brace in source",
    "  File \"/x.py\", line 3, in f",
])
def test_text_line_fast_path_agrees_with_the_regex(line, monkeypatch):
    fast = logs.parse_text_line(line)
    monkeypatch.setattr(log_parse, "_parse_usual", lambda _line: None)
    slow = logs.parse_text_line(line)
    assert fast == slow and fast.raw == line


# -- streamed v2 bodies ----------------------------------------------------------------------

ENTRIES = [{"event": "::group::Log message source details"}, {"event": "/l/attempt=1.log"},
           {"event": "::endgroup::"}, "a plain string", {"event": "x ] , \"}", "level": "info"},
           {"event": "unicode é 🚀", "n": [1, {"a": None}]}]


@pytest.mark.parametrize("dumps", [
    lambda d: json.dumps(d, separators=(",", ":")),
    lambda d: json.dumps(d, indent=2),
    lambda d: json.dumps(d),
])
@pytest.mark.parametrize("token", [None, "eyJsb2dfcG9zIjo2fQ.sig"])
def test_v2_body_is_streamed_entry_by_entry(dumps, token):
    raw = dumps({"content": ENTRIES, "continuation_token": token}).encode()
    body = logs.parse_log_body(raw)
    assert body.entries is not None and body.content is None and body.token == token
    assert list(body.entries) == ENTRIES


def test_other_bodies_are_parsed_whole():
    empty = logs.parse_log_body(b'{"content":[],"continuation_token":null}')
    assert list(empty.entries or []) == [] and empty.token is None
    swapped = logs.parse_log_body(b'{"continuation_token":"t","content":[{"event":"x"}]}')
    assert swapped.entries is None and swapped.content == [{"event": "x"}]
    v1 = logs.parse_log_body(json.dumps({"content": "[('h', 'a')]",
                                         "continuation_token": "t"}).encode())
    assert v1.content == "[('h', 'a')]" and v1.token == "t"
    with pytest.raises(ValueError):
        logs.parse_log_body(b"<html>SPA</html>")
    with pytest.raises(ValueError):
        logs.parse_log_body(b"[1, 2]")
    broken = logs.parse_log_body(b'{"content":[{"event":"a"} {"event":"b"}],'
                                 b'"continuation_token":null}')
    with pytest.raises(ValueError):
        list(broken.entries or [])


# -- poll_with -------------------------------------------------------------------------------

TI_PATH = r"/api/v[12]/dags/d/dagRuns/r/taskInstances/t"


@pytest.mark.parametrize("thread", [False, True])
async def test_poll_with_streams_to_the_sink_and_counts_bytes(thread):
    content = [{"event": f"line {i}", "level": "info"} for i in range(1000)]
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, {"task_id": "t", "try_number": 1, "state": "success"})
    fake.route("GET", TI_PATH + "/logs/1", {"content": content, "continuation_token": None})
    seen: list[str] = []

    def sink(lines):
        for line in lines:
            seen.append(line.text)
        return len(seen)

    async with fake.client("3.3.2") as client:
        follower = logs.LogFollower(client, "d", "r", "t", 1)
        assert await follower.poll_with(sink, thread=thread) == 1000
        assert follower.finished and follower.requests == 1
        assert follower.bytes_received == follower.last_bytes > 20_000
        assert await follower.poll_with(sink, thread=thread) == 1000  # finished: nothing more
    assert seen == [f"line {i}" for i in range(1000)]


async def test_poll_with_reports_a_non_json_body_as_not_airflow():
    from astro_tui.airflow.errors import NotAirflow

    fake = FakeAirflow()
    fake.route("GET", TI_PATH, {"task_id": "t", "try_number": 1, "state": "success"})
    fake.route("GET", TI_PATH + "/logs/1", lambda r: jresp(200, "a json string, not an object"))
    async with fake.client("3.3.2") as client:
        with pytest.raises(NotAirflow):
            await logs.LogFollower(client, "d", "r", "t", 1).poll()


# -- the UI address --------------------------------------------------------------------------

def test_ui_log_url():
    run = "manual__2026-11-25T10:06:45+00:00"
    assert logs.ui_log_url("https://af.example.com/", 3, "etl", run, "load", -1, 2) == (
        "https://af.example.com/dags/etl/runs/manual__2026-11-25T10%3A06%3A45%2B00%3A00"
        "/tasks/load?try_number=2")
    assert logs.ui_log_url("http://h:8080/sub", 3, "etl", "r", "g.t", 4, None) == (
        "http://h:8080/sub/dags/etl/runs/r/tasks/g.t/mapped/4")
    assert logs.ui_log_url("http://h", 2, "etl", run, "load", 1, 1) == (
        "http://h/dags/etl/grid?dag_run_id=manual__2026-11-25T10%3A06%3A45%2B00%3A00"
        "&task_id=load&map_index=1&tab=logs")
    hostile = logs.ui_log_url("http://h", 3, "d\x1b]0;x\x07", "r/../x", "[t]", -1, 1)
    assert "\x1b" not in hostile and "/../" not in hostile and "[" not in hostile


def test_ui_url_of_a_dag_a_run_and_a_task():
    run = "manual__2026-11-25T10:06:45+00:00"
    quoted = "manual__2026-11-25T10%3A06%3A45%2B00%3A00"
    assert logs.ui_url("https://af.example.com/", 3, "etl") == "https://af.example.com/dags/etl"
    assert logs.ui_url("http://h", 3, "etl", run) == f"http://h/dags/etl/runs/{quoted}"
    assert logs.ui_url("http://h", 3, "etl", run, "g.t", 4) == (
        f"http://h/dags/etl/runs/{quoted}/tasks/g.t/mapped/4")
    assert logs.ui_url("http://h", 2, "etl") == "http://h/dags/etl/grid"
    assert logs.ui_url("http://h", 2, "etl", run, "load") == (
        f"http://h/dags/etl/grid?dag_run_id={quoted}&task_id=load")
    hostile = logs.ui_url("http://h", 3, "d\x1b]0;x\x07", "r/../x", "[t]")
    assert "\x1b" not in hostile and "/../" not in hostile and "[" not in hostile


@pytest.mark.parametrize("size", [1, 3, 7, 64])
@pytest.mark.parametrize("text", TRICKY + [
    "a\\nb\nc\\\\\nd\\\\\\ne\n" * 20,  # literal backslash-n next to real line breaks
    "line\n" * 50 + "no final newline",
])
def test_v1_text_is_decoded_in_pieces_that_end_at_line_breaks(text, size, monkeypatch):
    monkeypatch.setattr(log_parse, "_CHUNK", size)
    pieces = list(log_parse.v1_content_chunks(repr([("127.0.0.1", text)])))
    assert "".join(pieces) == text
    assert all(piece.endswith("\n") for piece in pieces[:-1])
    assert list(log_parse.v1_content_chunks("plain, not a repr")) == ["plain, not a repr"]


@pytest.mark.parametrize("cuts", [[0, 5, 40, 41, 80, 200], [0, 200]])
async def test_follower_v1_pieces_give_the_same_lines(cuts, monkeypatch):
    """Airflow 2 text cut in small decoding pieces and in odd network chunks: same lines."""
    monkeypatch.setattr(log_parse, "_CHUNK", 4)
    text = "".join(f"[2026-01-01T00:00:{i:02d}.000+0000] {{x.py:1}} INFO - tick {i}\n"
                   for i in range(1, 8))
    cuts = cuts + [len(text)]
    state = {"polls": 0}

    def ti(request):
        return jresp(200, {"task_id": "t", "try_number": 1,
                           "state": "success" if state["polls"] >= len(cuts) else "running"})

    def log(request):
        token = request.url.params.get("token")
        pos = logs.decode_token(token)["log_pos"] if token else 0
        upto = cuts[min(state["polls"], len(cuts) - 1)]
        state["polls"] += 1
        done = state["polls"] >= len(cuts)
        tok = _token(upto, done)
        return jresp(200, {"content": repr([("h", text[pos:upto])]), "continuation_token": tok})

    fake = FakeAirflow()
    fake.route("GET", TI_PATH, ti)
    fake.route("GET", TI_PATH + "/logs/1", log)
    async with fake.client("2.11.2") as client:
        follower = logs.LogFollower(client, "d", "r", "t", 1, interval=0)
        lines = [line async for batch in follower for line in batch]
    assert [l.text for l in lines] == [f"tick {i}" for i in range(1, 8)]


def _token(pos: int, end: bool) -> str:
    import base64
    raw = json.dumps({"end_of_log": end, "log_pos": pos}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + ".sig"


@pytest.mark.parametrize("window", [1, 2, 3, 5, 16, 100, 1000, 1 << 22])
@pytest.mark.parametrize("indent", [None, 3, "compact"])
def test_v2_body_is_decoded_a_window_at_a_time(window, indent, monkeypatch):
    """"compact": as Airflow sends it ("},{" between entries, which the decoder parses a window
    at a time in one go), with "},{" also inside strings and nested values, where it must not."""
    monkeypatch.setattr(log_body, "_WINDOW", window)
    entries = ENTRIES * 3 + [{"event": "é" * 40 + "🚀" * 7, "k": "x" * 60}, "日本語 ,]}",
                             {"event": 'a "},{" b', "nested": [{"a": 1}, {"b": [{}, {}]}]},
                             "},{", {"event": "last"}]
    shape = {"separators": (",", ":")} if indent == "compact" else {"indent": indent}
    raw = json.dumps({"content": entries, "continuation_token": None}, ensure_ascii=False,
                     **shape).encode()
    assert list(logs.parse_log_body(raw).entries or []) == entries
    raw = json.dumps({"content": entries, "continuation_token": "t"}).encode()  # \u escapes
    assert list(logs.parse_log_body([raw]).entries or []) == entries
    broken = raw.replace(b'{"event": "a plain', b'{"event": "a plain" "x', 1)
    with pytest.raises(ValueError):
        list(logs.parse_log_body(broken.replace(b'"a plain string"', b'"a" "b"')).entries or [])
