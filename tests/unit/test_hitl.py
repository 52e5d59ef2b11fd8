"""Human-in-the-loop (Airflow 3.1+): the model, the client's list/respond, the `hitl` commands and
the `awaiting_input` state, against the fake transport.

The HITL JSON below is built from the Airflow 3.3.2 spec (shared/reference/openapi/
airflow-3.3.2-v2.yaml: `HITLDetail`, `HITLDetailCollection`, `HITLUser`, `HITLDetailResponse`,
`UpdateHITLDetailPayload`), with the task instance as observed on 3.3.2 (api_fake.V2_TI)."""

from __future__ import annotations

import json
import os
import re
from types import SimpleNamespace

import httpx
import pytest

from astro_tui import cli, session
from astro_tui.airflow import AirflowClient, BearerAuth, Version
from astro_tui.airflow.errors import Unsupported
from astro_tui.airflow.models import HitlDetail
from astro_tui.airflow.urls import quote_segment
from astro_tui.config import resolve_secret
from astro_tui.present.states import STATE_STYLES, UNKNOWN_STATE, state_style
from tests.unit.api_fake import V2_TI, FakeAirflow, body, jresp

TOKEN = "tok-Secret-4f9a8b7c6d5e"
HTTPS_ROOT = "https://airflow.test"  # a token over plain http to a non-local host is refused
RUN = "manual__2026-11-25T10:00:00+00:00"
LIST = "/api/v2/dags/~/dagRuns/~/hitlDetails"
ONE = re.escape(f"/api/v2/dags/example_hitl/dagRuns/{quote_segment(RUN)}"
                "/taskInstances/approve/-1/hitlDetails")


def hitl_json(**over) -> dict:
    """A `HITLDetail` (3.3.2 spec), pending: no response yet, the task awaiting input."""
    ti = {**V2_TI, "task_id": "approve", "dag_id": "example_hitl", "dag_run_id": RUN,
          "state": "awaiting_input", "end_date": None, "duration": None,
          "operator": "HITLOperator", "operator_name": "HITLOperator",
          "task_display_name": "approve"}
    data = {
        "task_instance": ti,
        "options": ["Approve", "Reject"],
        "subject": "Ship the nightly report?",
        "body": "The report is ready.\n\n**Approve** ships it.",
        "defaults": None,
        "multiple": False,
        "params": {"note": {"value": "", "description": "a note", "schema": {"type": "string"},
                            "source": "task"}},
        "assigned_users": [],
        "created_at": "2026-11-25T10:00:05.123456Z",
        "responded_by_user": None,
        "responded_at": None,
        "chosen_options": None,
        "params_input": {},
        "response_received": False,
    }
    data.update(over)
    return data


def collection(*items: dict) -> dict:
    return {"hitl_details": list(items), "total_entries": len(items)}


def response_json(options=("Approve",), params=None) -> dict:
    """A `HITLDetailResponse` (3.3.2 spec)."""
    return {"responded_by": {"id": "1", "name": "admin"},
            "responded_at": "2026-11-25T10:01:00Z", "chosen_options": list(options),
            "params_input": params or {}}


# -- the state --------------------------------------------------------------------------------------


def test_awaiting_input_is_a_known_state_with_a_glyph_of_its_own():
    glyph, style = state_style("awaiting_input")
    assert (glyph, style) != UNKNOWN_STATE and glyph != "?" and style
    others = [g for state, (g, _) in STATE_STYLES.items() if state != "awaiting_input"]
    assert glyph not in others  # NO_COLOR / 16 colours: the glyph alone tells it apart
    assert len(glyph) == 1


# -- the model --------------------------------------------------------------------------------------


def test_hitl_detail_parses_the_spec_shape():
    h = HitlDetail.from_json(hitl_json(
        assigned_users=[{"id": "7", "name": "ops"}], defaults=["Reject"], multiple=True))
    ti = h.task_instance
    assert (ti.dag_id, ti.run_id, ti.task_id, ti.map_index, ti.state) == (
        "example_hitl", RUN, "approve", -1, "awaiting_input")
    assert h.key == ("example_hitl", RUN, "approve", -1)
    assert h.options == ("Approve", "Reject") and h.defaults == ("Reject",) and h.multiple
    assert h.params["note"].schema == {"type": "string"} and h.params["note"].value == ""
    assert [(u.id, u.name) for u in h.assigned_users] == [("7", "ops")]
    assert h.created_at is not None and h.created_at.tzinfo is not None
    assert not h.response_received and h.responded_by is None and h.chosen_options is None


def test_hitl_detail_with_an_answer_and_tolerant_parsing():
    h = HitlDetail.from_json(hitl_json(
        responded_by_user={"id": "1", "name": "admin"}, responded_at="2026-11-25T10:01:00Z",
        chosen_options=["Approve"], params_input={"note": "ok"}, response_received=True,
        params={"plain": 3}, unknown_future_field={"x": 1}))
    assert h.response_received and h.responded_by is not None and h.responded_by.name == "admin"
    assert h.chosen_options == ("Approve",) and h.params_input == {"note": "ok"}
    assert h.params["plain"].value == 3  # 3.1.0-3.1.2 sent bare values
    bare = HitlDetail.from_json({"subject": "s"})
    assert bare.options == () and bare.task_instance.task_id == "" and bare.params == {}


# -- the client -------------------------------------------------------------------------------------


async def test_list_hitl_on_3_3_asks_for_pending_requests_in_both_waiting_states():
    fake = FakeAirflow()
    fake.route("GET", LIST, collection(hitl_json()))
    async with fake.client("3.3.2") as client:
        assert client.has_hitl
        items, total = await client.list_hitl(limit=25, offset=50)
    assert total == 1 and items[0].subject == "Ship the nightly report?"
    (req,) = fake.requests
    q = req.url.params
    assert q["response_received"] == "false" and q["limit"] == "25" and q["offset"] == "50"
    assert q.get_list("state") == ["deferred", "awaiting_input"]


async def test_list_hitl_on_3_1_asks_for_deferred_only_and_all_means_no_filter():
    fake = FakeAirflow()
    fake.route("GET", LIST, collection())
    async with fake.client("3.1.8") as client:
        assert await client.list_hitl() == ([], 0)
        await client.list_hitl(pending=False)
    first, second = (r.url.params for r in fake.requests)
    assert first.get_list("state") == ["deferred"] and first["response_received"] == "false"
    assert "state" not in second and "response_received" not in second


@pytest.mark.parametrize("version", ["2.11.2", "3.0.6"])
async def test_servers_without_hitl_list_nothing_without_a_request(version):
    fake = FakeAirflow()
    async with fake.client(version) as client:
        assert not client.has_hitl
        assert await client.list_hitl() == ([], 0)
        with pytest.raises(Unsupported, match="Airflow 3.1"):
            await client.respond_hitl("d", "r", "t", -1, ["Approve"], None)
        with pytest.raises(Unsupported):
            await client.get_hitl("d", "r", "t")
    assert fake.requests == []


async def test_respond_hitl_patches_once_and_is_never_retried():
    fake = FakeAirflow()
    fake.route("PATCH", ONE, jresp(200, response_json(params={"note": "ok"})))
    async with fake.client("3.3.2") as client:
        r = await client.respond_hitl("example_hitl", RUN, "approve", -1, ["Approve"],
                                      {"note": "ok"})
    assert r.chosen_options == ("Approve",) and r.responded_by is not None
    assert r.responded_by.name == "admin" and r.params_input == {"note": "ok"}
    (req,) = fake.requests
    assert body(req) == {"chosen_options": ["Approve"], "params_input": {"note": "ok"}}

    down = FakeAirflow()
    down.route("PATCH", ONE, jresp(503, {"detail": "unavailable"}))
    async with down.client("3.3.2", attempts=3) as client:
        with pytest.raises(Exception, match="unavailable"):
            await client.respond_hitl("example_hitl", RUN, "approve", -1, ["Approve"], None)
    assert len(down.requests) == 1


# -- the commands -----------------------------------------------------------------------------------


@pytest.fixture
def env(monkeypatch, tmp_path):
    for var in list(os.environ):
        if var.startswith(("ASTRO_", "AIRFLOW_")):
            monkeypatch.delenv(var)
    monkeypatch.setenv("ASTRO_TUI_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("ASTRO_TUI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_API_URL", HTTPS_ROOT)
    monkeypatch.setenv("AIRFLOW_AUTH_TOKEN", TOKEN)
    return tmp_path


def serve(monkeypatch, version: str) -> FakeAirflow:
    fake = FakeAirflow()

    async def open_client(profile):
        auth = BearerAuth(resolve_secret(profile.secret)) if profile.secret else None
        return AirflowClient(HTTPS_ROOT, Version.parse(version), auth=auth, transport=fake.transport,
                             backoff=0)

    monkeypatch.setattr(session, "open_client", open_client)
    return fake


@pytest.fixture
def af3(monkeypatch, env) -> FakeAirflow:
    return serve(monkeypatch, "3.3.2")


def run(capsys, *argv: str) -> SimpleNamespace:
    code = cli.main(list(argv))
    cap = capsys.readouterr()
    return SimpleNamespace(code=code, out=cap.out, err=cap.err)


def one_error(r: SimpleNamespace, code: int, *needles: str) -> str:
    assert r.code == code, r
    lines = [line for line in r.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("astro-tui: error: "), r.err
    assert "Traceback" not in r.err and TOKEN not in r.err + r.out
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_hitl_list_json_and_table(af3, capsys):
    af3.route("GET", LIST, collection(hitl_json()))
    r = run(capsys, "hitl", "list", "--json")
    assert r.code == 0, r
    (item,) = json.loads(r.out)
    assert (item["dag_id"], item["run_id"], item["task_id"], item["map_index"]) == (
        "example_hitl", RUN, "approve", -1)
    assert item["state"] == "awaiting_input" and item["options"] == ["Approve", "Reject"]
    assert item["response_received"] is False and item["params"]["note"]["value"] == ""
    r = run(capsys, "hitl", "list")
    assert r.code == 0, r
    header, row = r.out.splitlines()
    assert header.split()[:5] == ["DAG_ID", "RUN_ID", "TASK", "SUBJECT", "OPTIONS"]
    assert "example_hitl" in row and "Approve / Reject" in row and "anyone" in row


def test_hitl_list_pages_until_the_total(af3, capsys):
    items = [hitl_json(task_instance={**V2_TI, "dag_id": "d", "dag_run_id": f"r{i}",
                                      "task_id": "t", "state": "deferred"}) for i in range(150)]

    def page(req: httpx.Request) -> httpx.Response:
        off, lim = int(req.url.params["offset"]), int(req.url.params["limit"])
        return jresp(200, {"hitl_details": items[off:off + min(lim, 100)], "total_entries": 150})

    af3.route("GET", LIST, page)
    r = run(capsys, "hitl", "list", "--json")
    assert r.code == 0 and len(json.loads(r.out)) == 100  # --limit defaults to 100
    r = run(capsys, "hitl", "list", "--json", "--limit", "500")
    assert len(json.loads(r.out)) == 150


def test_hitl_list_sanitizes_server_text(af3, capsys):
    af3.route("GET", LIST, collection(hitl_json(
        subject="ok\x1b]52;c;ZXZpbA==\x07 \x1b[31mred", body="line1\nline2\x9b2J",
        options=["A\x1b[2J", "B\u202e"])))
    r = run(capsys, "hitl", "list")
    assert r.code == 0
    for bad in ("\x1b", "\x9b", "\u202e", "\x07"):
        assert bad not in r.out
    r = run(capsys, "hitl", "list", "--json")
    assert "\x1b" not in r.out and "\u202e" not in r.out
    assert json.loads(r.out)[0]["subject"].startswith("ok\x1b")  # data kept, escaped in JSON


@pytest.mark.parametrize("version", ["2.11.2", "3.0.6"])
def test_hitl_list_on_servers_without_hitl_is_empty_with_exit_0(monkeypatch, env, capsys,
                                                                 version):
    fake = serve(monkeypatch, version)
    r = run(capsys, "hitl", "list", "--json")
    assert r.code == 0 and json.loads(r.out) == [] and r.err == ""
    r = run(capsys, "hitl", "list")
    assert r.code == 0 and r.out == "" and "needs Airflow 3.1+" in r.err
    assert fake.requests == []
    r = run(capsys, "hitl", "respond", "d", "r", "t", "--option", "x")
    one_error(r, 2, "Airflow 3.1")
    assert fake.requests == []


def route_one(fake: FakeAirflow, **over) -> None:
    fake.route("GET", ONE, hitl_json(**over))


def test_hitl_respond_answers_with_the_options_and_params(af3, capsys):
    route_one(af3)
    af3.route("PATCH", ONE, lambda req: jresp(200, response_json(
        body(req)["chosen_options"], body(req)["params_input"])))
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve",
            "--params", '{"note": "ship it"}')
    assert r.code == 0, r
    assert r.out == f"answered example_hitl {RUN} approve: Approve\n"
    (patch,) = af3.calls("PATCH")
    assert body(patch) == {"chosen_options": ["Approve"], "params_input": {"note": "ship it"}}
    # Without --params the request's defaults are sent; --json prints the answer.
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Reject",
            "--json")
    assert r.code == 0 and json.loads(r.out)["chosen_options"] == ["Reject"]
    assert body(af3.calls("PATCH")[-1]) == {"chosen_options": ["Reject"],
                                           "params_input": {"note": ""}}


def test_hitl_respond_mapped_instance_uses_its_map_index(af3, capsys):
    path = ONE.replace("/approve/\\-1/", "/approve/3/")
    af3.route("GET", path, hitl_json(params={}))
    af3.route("PATCH", path, response_json())
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--map-index", "3",
            "--option", "Approve")
    assert r.code == 0, r
    assert r.out == f"answered example_hitl {RUN} approve[3]: Approve\n"


@pytest.mark.parametrize("status,detail,needle", [
    (409, "The Human-in-the-loop detail has already been updated", "already answered"),
    (403, "Forbidden", "not one of its assigned users"),
    (400, "Responses {'Maybe'} not in ['Approve', 'Reject']", "refused the answer"),
])
def test_hitl_respond_server_refusals_are_one_line_errors(af3, capsys, status, detail, needle):
    route_one(af3)
    af3.route("PATCH", ONE, jresp(status, {"detail": detail}))
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve")
    line = one_error(r, 1, needle, "example_hitl")
    assert str(status) in line or detail.split()[0] in line
    assert len(af3.calls("PATCH")) == 1


def test_hitl_respond_checks_the_answer_before_sending_it(af3, capsys):
    route_one(af3)
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Maybe")
    one_error(r, 2, "'Maybe' is not offered", "'Approve', 'Reject'")
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve",
            "--option", "Reject")
    one_error(r, 2, "takes one option")
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve",
            "--params", '{"nope": 1}')
    one_error(r, 2, "no param 'nope'", "note")
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve",
            "--params", "{bad")
    one_error(r, 2, "--params")
    assert af3.calls("PATCH") == []


def test_hitl_respond_already_answered_or_unknown(af3, capsys):
    route_one(af3, response_received=True, chosen_options=["Reject"],
              responded_by_user={"id": "2", "name": "ops\x1b[31m"},
              responded_at="2026-11-25T10:01:00Z")
    r = run(capsys, "hitl", "respond", "example_hitl", RUN, "approve", "--option", "Approve")
    line = one_error(r, 1, "already answered by ops", "Reject")
    assert "\x1b" not in line
    r = run(capsys, "hitl", "respond", "example_hitl", "other", "approve", "--option", "Approve")
    one_error(r, 1, "no human-in-the-loop request for example_hitl other approve")
    assert af3.calls("PATCH") == []


@pytest.mark.parametrize("argv", [
    ["--read-only", "hitl", "respond", "d", "r", "t", "--option", "Approve"],
    ["hitl", "respond", "d", "r", "t", "--option", "Approve", "--read-only"],
])
def test_hitl_respond_is_a_write_refused_under_read_only(af3, capsys, argv):
    r = run(capsys, *argv)
    one_error(r, 2, "--read-only", "refusing to respond")
    assert af3.requests == []


def test_hitl_list_is_a_read_allowed_under_read_only(af3, capsys):
    af3.route("GET", LIST, collection())
    r = run(capsys, "--read-only", "hitl", "list", "--json")
    assert r.code == 0 and json.loads(r.out) == []
