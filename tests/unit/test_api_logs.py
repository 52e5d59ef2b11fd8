"""Log parsing (v1 repr text, v2 structured entries, tokens) and LogFollower strategies."""

import base64
import json
import zlib

import pytest

from astro_tui.airflow import logs
from astro_tui.airflow.dialect import DialectV1, DialectV2
from astro_tui.airflow.models import Version
from tests.unit.api_fake import FakeAirflow, jresp


def make_token(payload: dict, compressed: bool = False) -> str:
    raw = json.dumps(payload, separators=(",", ":")).encode()
    if compressed:
        return "." + base64.urlsafe_b64encode(zlib.compress(raw)).decode().rstrip("=") + ".c2ln"
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + ".c2lnbmF0dXJl"


# -- tokens ----------------------------------------------------------------------------------

def test_decode_token_plain_and_compressed():
    assert logs.decode_token("eyJlbmRfb2ZfbG9nIjp0cnVlfQ.sig") == {"end_of_log": True}
    payload = {"end_of_log": False, "log_pos": 1234, "download_logs": False}
    assert logs.decode_token(make_token(payload)) == payload
    assert logs.decode_token(make_token(payload, compressed=True)) == payload
    assert logs.v1_end_of_log(make_token({"end_of_log": True, "log_pos": 3}, compressed=True))
    assert not logs.v1_end_of_log(make_token(payload))
    assert logs.decode_token("garbage!!") is None and logs.decode_token(None) is None
    assert not logs.v1_end_of_log("not.a.token")


# -- v1 text -------------------------------------------------------------------------------

V1_TEXT = (
    " INFO - ::group::Log message source details\n*** Found local files:\n***   * /l/attempt=1.log\n"
    " INFO - ::endgroup::\n"
    "[2026-11-25T08:48:39.502+0000] {logging_mixin.py:190} INFO - transform: sum=6\n"
    "[2026-11-25T08:48:39.600+0000] {taskinstance.py:3313} ERROR - Task failed with exception\n"
    "Traceback (most recent call last):\n"
    "RuntimeError: it's 'quoted'\n"
    "[2026-11-25T08:48:40.000+0000] {x.py:1} WARNING - careful"
)


def test_v1_content_is_python_repr_of_host_text_tuples():
    content = repr([("127.0.0.1", V1_TEXT)])
    assert logs.v1_content_text(content) == V1_TEXT
    two = repr([("a", "one"), ("b", "two")])
    assert logs.v1_content_text(two) == "one\ntwo"
    assert logs.v1_content_text("plain text, not a repr") == "plain text, not a repr"
    assert logs.v1_content_text("[broken (repr") == "[broken (repr"
    assert logs.v1_content_text(None) == ""


def test_v1_lines_levels_groups_timestamps():
    lines = logs.text_to_lines(V1_TEXT)
    assert lines[0].group == "start" and lines[0].text == "Log message source details"
    assert lines[0].level == "info"
    assert lines[1].text == "*** Found local files:" and lines[1].level is None
    assert lines[3].group == "end"
    assert lines[4].level == "info" and lines[4].text == "transform: sum=6"
    assert lines[4].logger == "logging_mixin.py:190" and lines[4].timestamp.year == 2026
    assert lines[5].level == "error"
    assert lines[6].text == "Traceback (most recent call last):" and lines[6].level is None
    assert lines[8].level == "warning"


def test_dialect_v1_parse_log():
    token = make_token({"end_of_log": True, "log_pos": 10})
    chunk = DialectV1(Version(2, 11, 2)).parse_log(
        {"content": repr([("h", "a\nb")]), "continuation_token": token})
    assert [l.text for l in chunk.lines] == ["a", "b"] and chunk.end_of_log and chunk.token == token


# -- v2 entries ------------------------------------------------------------------------------

V2_CONTENT = [
    {"event": "::group::Log message source details", "sources": ["/l/attempt=1.log"], "timestamp": None},
    {"event": "::endgroup::", "timestamp": None},
    {"timestamp": "2026-11-25T08:32:29.803948Z", "event": "::group::Pre Execute", "level": "info",
     "logger": "task", "filename": "task_runner.py", "lineno": 2412},
    {"timestamp": "2026-11-25T08:32:29.9Z", "event": "CONF={\"count\": 2}", "level": "info",
     "logger": "task.stdout", "dag_id": "d", "ti_id": "x", "chan": "stdout"},
    {"timestamp": "2026-11-25T08:32:30Z", "event": "Task failed with exception", "level": "error",
     "logger": "task", "error_detail": [
         {"exc_type": "ValueError", "exc_value": "inner", "exc_notes": [], "is_cause": False,
          "frames": [{"filename": "/d/etl.py", "lineno": 3, "name": "f"}]},
         {"exc_type": "RuntimeError", "exc_value": "example_fail: intentional failure",
          "exc_notes": ["a note"], "syntax_error": None, "is_cause": True,
          "frames": [{"filename": "/d/etl.py", "lineno": 12, "name": "load"}]}]},
    "a plain string entry",
    {"event": "two\nlines", "level": "WARNING", "custom": 1},
    {"event": "pre-rendered", "error_detail": "Traceback...\nValueError: x"},
]


def test_v2_entries():
    lines = logs.entries_to_lines(V2_CONTENT)
    assert lines[0].group == "start" and lines[0].detail == ("/l/attempt=1.log",)
    assert lines[1].group == "end"
    assert lines[2].group == "start" and lines[2].text == "Pre Execute"
    assert lines[2].extras == {"filename": "task_runner.py", "lineno": 2412}
    conf = lines[3]
    assert conf.text == 'CONF={"count": 2}' and conf.logger == "task.stdout" and conf.extras == {}
    err = lines[4]
    assert err.level == "error"
    assert err.detail[0] == "Traceback (most recent call last):"
    assert '  File "/d/etl.py", line 12, in load' in err.detail
    assert "RuntimeError: example_fail: intentional failure" in err.detail
    assert "a note" in err.detail and "ValueError: inner" in err.detail
    assert lines[5].text == "a plain string entry" and lines[5].timestamp is None
    assert lines[6].text == "two" and lines[6].detail == ("lines",) and lines[6].level == "warning"
    assert lines[6].extras == {"custom": 1}
    assert lines[7].detail == ("Traceback...", "ValueError: x")
    assert lines[4].lines()[0] == "Task failed with exception"


def test_dialect_v2_parse_log_end_is_null_token():
    d = DialectV2(Version(3, 3, 2))
    assert d.parse_log({"content": [], "continuation_token": None}).end_of_log
    assert not d.parse_log({"content": ["x"], "continuation_token": "t"}).end_of_log


def test_header_length():
    assert logs.header_length(V2_CONTENT) == 2
    four = [{"event": "::group::Log message source details"}, {"event": "/p"},
            {"event": "Could not read served logs"}, {"event": "::endgroup::"}, {"event": "x"}]
    assert logs.header_length(four) == 4
    assert logs.header_length([{"event": "x"}]) == 0 and logs.header_length([]) == 0


@pytest.mark.parametrize("version, mode", [
    ("2.11.2", "text"), ("3.0.6", "poll"), ("3.1.8", "poll"), ("3.2.2", "poll"),
    ("3.3.0", "poll"), ("3.3.1", "token"), ("3.3.2", "token"), ("3.4.0", "token"),
])
def test_follow_mode_by_version(version, mode):
    from astro_tui.airflow.dialect import dialect_for
    assert dialect_for(Version.parse(version)).follow_mode() == mode


# -- LogFollower against simulated running tasks ---------------------------------------------

TI_PATH = r"/api/v[12]/dags/d/dagRuns/r/taskInstances/t"
LOG_PATH = TI_PATH + r"/logs/1"


class RunningTaskV2:
    """A task writing `total` entries, `step` more per poll, on a server of `behaviour`:
    "3.0" (a token returns the whole log again), "3.2" (a token gives 500), "3.3" (works)."""

    def __init__(self, behaviour: str, total: int = 20, step: int = 3, header: int = 4):
        self.behaviour, self.total, self.step, self.header = behaviour, total, step, header
        self.entries = [{"timestamp": f"2026-01-01T00:00:{i:02d}Z", "event": f"tick {i}",
                         "level": "info", "logger": "task"} for i in range(1, total + 1)]
        self.written = 0
        self.tokens_sent = 0

    @property
    def done(self):
        return self.written >= self.total

    def ti(self, request):
        self.written = min(self.total, self.written + self.step)
        return jresp(200, {"dag_id": "d", "dag_run_id": "r", "task_id": "t", "map_index": -1,
                           "try_number": 1, "state": "success" if self.done else "running"})

    def log(self, request):
        token = request.url.params.get("token")
        head = [{"event": "::group::Log message source details", "timestamp": None}]
        head += [{"event": f"source {i}"} for i in range(self.header - 2)]
        head += [{"event": "::endgroup::", "timestamp": None}]
        next_token = None if self.done else make_token({"end_of_log": False, "log_pos": self.written})
        if token is None:
            return jresp(200, {"content": head + self.entries[: self.written], "continuation_token": next_token})
        self.tokens_sent += 1
        if self.behaviour == "3.2":
            return jresp(500, {"detail": "Internal Server Error"})
        if self.behaviour == "3.0":
            return jresp(200, {"content": self.entries[: self.written], "continuation_token": next_token})
        pos = logs.decode_token(token)["log_pos"]
        return jresp(200, {"content": self.entries[pos: self.written], "continuation_token": next_token})


async def follow_all(client, **kw):
    follower = logs.LogFollower(client, "d", "r", "t", 1, interval=0, **kw)
    batches = [batch async for batch in follower]
    return follower, [line for batch in batches for line in batch]


@pytest.mark.parametrize("behaviour, version", [("3.0", "3.0.6"), ("3.0", "3.1.8"), ("3.2", "3.2.2")])
async def test_follower_old_v2_polls_without_token_and_never_repeats(behaviour, version):
    sim = RunningTaskV2(behaviour)
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, sim.ti)
    fake.route("GET", LOG_PATH, sim.log)
    async with fake.client(version) as client:
        follower, lines = await follow_all(client)
    ticks = [l.text for l in lines if l.text.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(1, 21)]
    assert sim.tokens_sent == 0
    assert follower.finished and follower.mode == "poll"
    # the header is shown once, on the first read only
    assert [l.group for l in lines].count("start") == 1


async def test_follower_v2_33_uses_tokens():
    sim = RunningTaskV2("3.3")
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, sim.ti)
    fake.route("GET", LOG_PATH, sim.log)
    async with fake.client("3.3.2") as client:
        follower, lines = await follow_all(client)
    ticks = [l.text for l in lines if l.text.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(1, 21)]
    assert sim.tokens_sent >= 5 and follower.mode == "token"


async def test_follower_32_behaviour_would_fail_with_a_token():
    """Guard for the fake itself: sending a token to the "3.2" server is a 500."""
    sim = RunningTaskV2("3.2")
    fake = FakeAirflow()
    fake.route("GET", LOG_PATH, sim.log)
    from astro_tui.airflow.errors import ServerError
    async with fake.client("3.2.2", attempts=1) as client:
        with pytest.raises(ServerError):
            await client.read_log_raw("d", "r", "t", 1, token="x.y")


class RunningTaskV1:
    """Airflow 2: char offsets; chunks are slices of the "\\n"-joined log, cut anywhere."""

    def __init__(self, cuts):
        self.text = "\n".join(f"[2026-01-01T00:00:{i:02d}.000+0000] {{x.py:1}} INFO - tick {i}"
                              for i in range(1, 16))
        self.cuts = list(cuts) + [len(self.text)]
        self.written = 0
        self.polls = 0

    def ti(self, request):
        self.written = self.cuts[min(self.polls, len(self.cuts) - 1)]
        self.polls += 1
        done = self.written >= len(self.text)
        return jresp(200, {"dag_id": "d", "dag_run_id": "r", "task_id": "t", "map_index": -1,
                           "try_number": 1, "state": "success" if done else "running"})

    def log(self, request):
        token = request.url.params.get("token")
        done = self.written >= len(self.text)
        avail = self.text[: self.written]
        if token is None:
            text = " INFO - ::group::Log message source details\n*** Found local files:\n INFO - ::endgroup::\n" + avail
        else:
            text = avail[logs.decode_token(token)["log_pos"]:]
        tok = make_token({"end_of_log": done, "log_pos": len(avail)}, compressed=self.polls % 2 == 0)
        return jresp(200, {"content": repr([("127.0.0.1", text)]), "continuation_token": tok})


def _boundary(sim, n):
    """Offset of the n-th line break of the simulated log."""
    pos = -1
    for _ in range(n):
        pos = sim.text.index("\n", pos + 1)
    return pos


@pytest.mark.parametrize("cuts", [
    # cuts inside lines (held back until completed), and empty polls at line ends
    lambda s: [0, 120, 121, 300, _boundary(s, 7), _boundary(s, 7), 450, 555, _boundary(s, 13),
               _boundary(s, 13), 720],
    lambda s: [],  # finished before the first poll
])
async def test_follower_v1_joins_raw_text_and_handles_partial_lines(cuts):
    sim = RunningTaskV1([])
    sim.cuts = cuts(sim) + sim.cuts
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, sim.ti)
    fake.route("GET", LOG_PATH, sim.log)
    async with fake.client("2.11.2") as client:
        follower, lines = await follow_all(client)
    assert follower.mode == "text" and follower.finished
    ticks = [l.text for l in lines if l.level == "info" and l.text.startswith("tick")]
    assert ticks == [f"tick {i}" for i in range(1, 16)]
    assert all(l.text or l.group for l in lines)  # no blank lines from chunk joins


async def test_follower_waits_while_queued_and_reads_nothing():
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, {"task_id": "t", "try_number": 1, "state": "queued"})
    async with fake.client("3.3.2") as client:
        follower = logs.LogFollower(client, "d", "r", "t")
        assert await follower.poll() == [] and not follower.finished
    assert not fake.calls(contains="/logs/")
    assert follower.try_number == 1


async def test_follower_finished_try_reads_once():
    fake = FakeAirflow()
    fake.route("GET", TI_PATH, {"task_id": "t", "try_number": 2, "state": "success"})
    fake.route("GET", LOG_PATH, {"content": [{"event": "done"}], "continuation_token": None})
    async with fake.client("3.1.8") as client:
        follower, lines = await follow_all(client)
    assert [l.text for l in lines] == ["done"] and len(fake.calls(contains="/logs/")) == 1


