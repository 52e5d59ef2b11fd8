"""AirflowClient: URL normalization, version detection, retries, paging, quoting."""

import httpx
import pytest

from astro_tui.airflow import AirflowClient, BearerAuth, errors as E
from astro_tui.airflow.urls import normalize_root_url
from tests.unit.api_fake import (
    ROOT,
    V1_DAG,
    V1_RUN,
    V2_DAG,
    V2_RUN,
    V2_TI,
    FakeAirflow,
    body,
    html,
    jresp,
    problem,
)


@pytest.mark.parametrize("url, root", [
    ("http://h:8080", "http://h:8080"),
    ("http://h:8080/", "http://h:8080"),
    ("https://org.astronomer.run/d8fe2wmv/home", "https://org.astronomer.run/d8fe2wmv"),
    ("https://org.astronomer.run/d8fe2wmv?orgId=org_1", "https://org.astronomer.run/d8fe2wmv"),
    ("org.astronomer.run/d8fe2wmv/api/v1", "https://org.astronomer.run/d8fe2wmv"),
    ("https://h/base/api/v2/", "https://h/base"),
    ("HTTP://User:pw@H:1/x/home/", "http://h:1/x"),
    ("http://[::1]:8080/api/v2", "http://[::1]:8080"),
])
def test_normalize_root_url(url, root):
    assert normalize_root_url(url) == root


def test_normalize_rejects_bad_urls():
    for bad in ("", "ftp://h", "http://"):
        with pytest.raises(ValueError):
            normalize_root_url(bad)


async def test_connect_detects_v2_and_strips_astro_suffix():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/version", {"version": "3.1.7+astro.1", "git_version": None})
    client = await AirflowClient.connect(ROOT + "/api/v2/?orgId=x", transport=fake.transport)
    async with client:
        assert client.version.as_tuple == (3, 1, 7) and client.version.raw == "3.1.7+astro.1"
        assert client.api_prefix == "/api/v2" and client.root_url == ROOT
    assert len(fake.requests) == 1


async def test_connect_falls_through_to_v1():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/version", html(404))  # Flask's HTML 404
    fake.route("GET", "/api/v1/version", {"git_version": "", "version": "2.11.2"})
    async with await AirflowClient.connect(ROOT, transport=fake.transport) as client:
        assert client.version.major == 2 and client.api_prefix == "/api/v1"


async def test_connect_html_200_everywhere_is_not_airflow():
    fake = FakeAirflow()
    fake.route("GET", "/.*", html(200))  # an Airflow 3 SPA under the wrong base path, or a portal
    with pytest.raises(E.NotAirflow) as info:
        await AirflowClient.connect(ROOT + "/wrong", transport=fake.transport)
    assert "URL" in info.value.message
    assert [r.url.path for r in fake.requests] == ["/wrong/api/v2/version", "/wrong/api/v1/version"]


async def test_connect_json_without_version_is_ignored():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/version", {"status": "ok"})
    fake.route("GET", "/api/v1/version", jresp(404, {"error": "/api/v1 has been removed in Airflow 3"}))
    with pytest.raises(E.NotAirflow):
        await AirflowClient.connect(ROOT, transport=fake.transport)


async def test_connect_auth_error_wins():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/version", jresp(401, {"detail": "Not authenticated"}))
    fake.route("GET", "/api/v1/version", jresp(404, {"error": "/api/v1 has been removed"}))
    with pytest.raises(E.Unauthorized):
        await AirflowClient.connect(ROOT, transport=fake.transport, auth=BearerAuth("t"))
    assert fake.requests[0].headers["authorization"] == "Bearer t"


async def test_connect_unreachable():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
    with pytest.raises(E.Unreachable) as info:
        await AirflowClient.connect(ROOT, transport=httpx.MockTransport(refuse))
    assert "airflow.test" in info.value.message and info.value.kind == "unreachable"


async def test_get_retried_on_503_then_succeeds():
    fake = FakeAirflow()
    answers = [jresp(503, {"detail": "busy"}), jresp(502, {}), jresp(200, V2_RUN)]
    fake.route("GET", "/api/v2/dags/d/dagRuns/r", lambda req: answers.pop(0))
    slept = []

    async def sleep(s):
        slept.append(s)
    async with fake.client(sleep=sleep, backoff=0.5) as client:
        run = await client.get_run("d", "r")
    assert run.state == "success" and len(fake.requests) == 3
    assert len(slept) == 2 and 0.5 <= slept[0] <= 0.75 and 1.0 <= slept[1] <= 1.5


async def test_get_gives_up_after_three_attempts():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/dags/d/dagRuns/r", jresp(503, {"detail": "busy"}))
    async with fake.client() as client:
        with pytest.raises(E.ServerError) as info:
            await client.get_run("d", "r")
    assert len(fake.requests) == 3 and "busy" in info.value.message


async def test_429_honours_retry_after_capped():
    fake = FakeAirflow()
    answers = [jresp(429, {"detail": "slow"}, **{"Retry-After": "3"}),
               jresp(429, {}, **{"Retry-After": "9999"}), jresp(200, V2_RUN)]
    fake.route("GET", "/api/v2/dags/d/dagRuns/r", lambda req: answers.pop(0))
    slept = []

    async def sleep(s):
        slept.append(s)
    async with fake.client(sleep=sleep) as client:
        await client.get_run("d", "r")
    assert slept == [3.0, 30.0]


async def test_get_retried_on_connect_error():
    calls = []

    def handler(request):
        calls.append(request)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return jresp(200, {"dags": [], "total_entries": 0})
    client = AirflowClient(ROOT, __import__("astro_tui.airflow", fromlist=["Version"]).Version(3, 3, 2),
                           transport=httpx.MockTransport(handler), backoff=0)
    async with client:
        assert await client.list_dags() == []
    assert len(calls) == 2


def _ssl_failure(err):
    """A handler that fails as httpx does on a bad handshake: httpx → httpcore → ssl error."""
    calls = []

    def handler(request):
        calls.append(request)
        try:
            raise err
        except Exception as cause:
            raise httpx.ConnectError(str(err), request=request) from cause
    return handler, calls


def _cert_error(code, message):
    import ssl

    err = ssl.SSLCertVerificationError(1, f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}")
    err.verify_code, err.verify_message, err.reason = code, message, "CERTIFICATE_VERIFY_FAILED"
    return err


@pytest.mark.parametrize("err, words", [
    (_cert_error(20, "unable to get local issuer certificate"),
     ["TLS certificate not trusted: airflow.test (unable to get local issuer certificate)",
      "set ca_bundle in the profile"]),
    (_cert_error(18, "self-signed certificate"), ["TLS certificate not trusted", "ca_bundle"]),
    (_cert_error(10, "certificate has expired"), ["TLS certificate of airflow.test has expired"]),
    (_cert_error(62, "Hostname mismatch, certificate is not valid for 'airflow.test'."),
     ["is for another host", "check the URL"]),
], ids=["untrusted", "self-signed", "expired", "hostname"])
async def test_certificate_failures_are_plain_words_and_not_retried(err, words):
    handler, calls = _ssl_failure(err)
    with pytest.raises(E.TlsError) as info:
        await AirflowClient.connect(ROOT, transport=httpx.MockTransport(handler))
    assert info.value.kind == "tls" and isinstance(info.value, E.Unreachable)
    for word in words:
        assert word in info.value.message
    assert "_ssl.c" not in info.value.message and "\n" not in info.value.message
    from astro_tui.airflow import Version
    handler, calls = _ssl_failure(err)
    async with AirflowClient(ROOT, Version(3, 3, 2), transport=httpx.MockTransport(handler),
                             backoff=0) as client:
        with pytest.raises(E.TlsError):
            await client.list_dags()  # a read, normally retried on a connect error
    assert len(calls) == 1


async def test_https_to_a_plain_http_server_is_named():
    import ssl

    err = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)")
    err.reason = "WRONG_VERSION_NUMBER"
    handler, _ = _ssl_failure(err)
    with pytest.raises(E.TlsError) as info:
        await AirflowClient.connect(ROOT, transport=httpx.MockTransport(handler))
    assert info.value.message == ("TLS handshake with airflow.test failed (wrong version number):"
                                  " is it really an https server? check the URL's scheme and port")


@pytest.mark.parametrize("var, value, words", [
    ("ALL_PROXY", "socks5://127.0.0.1:1080", "socksio"),
    ("HTTPS_PROXY", "ftp://bob:hunter2@127.0.0.1:21", "Unknown scheme"),
])
async def test_an_unusable_proxy_variable_is_one_line_not_a_crash(monkeypatch, var, value, words):
    if words == "socksio":
        try:
            import socksio  # noqa: F401
            pytest.skip("socksio is installed: socks proxies work")
        except ImportError:
            pass
    monkeypatch.setenv(var, value)
    with pytest.raises(E.ApiError) as info:
        await AirflowClient.connect("https://airflow.test")
    message = info.value.message
    assert "proxy set in the environment" in message and words in message
    assert "hunter2" not in message and "\n" not in message


@pytest.mark.parametrize("status", [502, 503, 504, 429])
async def test_trigger_is_never_retried(status):
    fake = FakeAirflow()
    fake.route("POST", "/api/v2/dags/d/dagRuns", jresp(status, {"detail": "gateway"}))
    async with fake.client() as client:
        with pytest.raises(E.ApiError):
            await client.trigger("d", {"x": 1})
    assert len(fake.calls("POST")) == 1


async def test_trigger_connect_error_not_retried():
    calls = []

    def handler(request):
        calls.append(request)
        raise httpx.ConnectError("refused", request=request)
    from astro_tui.airflow import Version
    async with AirflowClient(ROOT, Version(3, 3, 2), transport=httpx.MockTransport(handler), backoff=0) as c:
        with pytest.raises(E.Unreachable):
            await c.trigger("d", {})
    assert len(calls) == 1


async def test_writes_are_never_retried():
    fake = FakeAirflow()
    fake.route("POST", "/api/v2/dags/d/clearTaskInstances", jresp(503, {}))
    fake.route("PATCH", "/api/v2/dags/d.*", jresp(503, {}))
    async with fake.client() as client:
        for call in (client.clear_task_instances("d", "r", ["t"], dry_run=False),
                     client.set_task_state("d", "r", "t", "success"),
                     client.set_run_state("d", "r", "failed"), client.set_paused("d", True)):
            with pytest.raises(E.ServerError):
                await call
    assert len(fake.requests) == 4


async def test_batch_list_post_is_retried():
    fake = FakeAirflow()
    answers = [jresp(503, {}), jresp(200, {"dag_runs": [V2_RUN], "total_entries": 1})]
    fake.route("POST", "/api/v2/dags/~/dagRuns/list", lambda req: answers.pop(0))
    async with fake.client() as client:
        runs, total = await client.list_runs_batch(["example_params"], states=["success"])
    assert total == 1 and runs[0].dag_id == "example_params" and len(fake.requests) == 2
    assert body(fake.requests[-1])["dag_ids"] == ["example_params"]


async def test_timeout_maps_to_timeout():
    def handler(request):
        raise httpx.ReadTimeout("timed out", request=request)
    from astro_tui.airflow import Version
    async with AirflowClient(ROOT, Version(3, 3, 2), transport=httpx.MockTransport(handler)) as c:
        with pytest.raises(E.Timeout):
            await c.get_run("d", "r")


async def test_list_dags_pages_until_total_entries():
    fake = FakeAirflow()
    all_dags = [dict(V2_DAG, dag_id=f"dag_{i:03d}") for i in range(250)]

    def handler(request):
        limit = int(request.url.params["limit"])
        offset = int(request.url.params["offset"])
        assert limit == 100  # never 0
        return jresp(200, {"dags": all_dags[offset: offset + limit], "total_entries": 250})
    fake.route("GET", "/api/v2/dags", handler)
    async with fake.client() as client:
        dags = await client.list_dags(pattern="dag_", tags=["demo"], paused=True)
    assert [d.dag_id for d in dags] == [d["dag_id"] for d in all_dags]
    assert [r.url.params["offset"] for r in fake.requests] == ["0", "100", "200"]
    first = fake.requests[0].url.params
    assert first["dag_id_pattern"] == "dag_" and first.get_list("tags") == ["demo"]
    assert first["paused"] == "true" and first["exclude_stale"] == "true"


async def test_list_dags_stops_on_short_page_or_clamped_server():
    fake = FakeAirflow()
    fake.route("GET", "/api/v1/dags", lambda req: jresp(200, {
        "dags": [V1_DAG] * 50 if req.url.params["offset"] == "0" else [], "total_entries": 120}))
    async with fake.client("2.11.2") as client:
        dags = await client.list_dags()
    # After the first page, the rest (offsets 50, 100) are fetched at once; empty pages end it.
    assert len(dags) == 50 and len(fake.requests) == 3


async def test_path_segments_are_quoted():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/.*", lambda req: jresp(200, V2_TI))
    run_id = "manual__2026-11-25T08:32:27.979092+00:00"
    async with fake.client() as client:
        await client.get_task_instance("my dag", run_id, "group.inner/x", 3)
    raw = fake.requests[0].url.raw_path.decode()
    assert raw == ("/api/v2/dags/my%20dag/dagRuns/manual__2026-11-25T08%3A32%3A27.979092%2B00%3A00"
                   "/taskInstances/group.inner%2Fx/3")


async def test_list_runs_returns_total_and_newest_first():
    fake = FakeAirflow()
    fake.route("GET", "/api/v1/dags/d/dagRuns", {"dag_runs": [V1_RUN], "total_entries": 42})
    async with fake.client("2.11.2") as client:
        runs, total = await client.list_runs("d", limit=25, states=["failed"])
    assert total == 42 and runs[0].run_id.startswith("manual__")
    params = fake.requests[0].url.params
    assert params["order_by"] == "-execution_date" and params["limit"] == "25"
    assert params.get_list("state") == ["failed"]


async def test_task_instances_paged_and_deduplicated():
    fake = FakeAirflow()
    tis = [dict(V2_TI, task_id="square", map_index=i) for i in range(150)]

    def handler(req):
        off = int(req.url.params["offset"])
        return jresp(200, {"task_instances": tis[off: off + 100] + ([tis[0]] if off else []),
                           "total_entries": 150})
    fake.route("GET", "/api/v2/dags/d/dagRuns/r/taskInstances", handler)
    async with fake.client() as client:
        got = await client.list_task_instances("d", "r")
    assert [t.map_index for t in got] == list(range(150))


async def test_clear_returns_affected_tis_v1_reference_shape():
    fake = FakeAirflow()
    fake.route("POST", "/api/v1/dags/d/clearTaskInstances", {"task_instances": [
        {"dag_id": "d", "dag_run_id": "r", "execution_date": "2026-01-01T00:00:00+00:00", "task_id": "boom"},
        {"dag_id": "d", "dag_run_id": "r", "execution_date": "2026-01-01T00:00:00+00:00", "task_id": "never"}]})
    async with fake.client("2.11.2") as client:
        tis = await client.clear_task_instances("d", "r", ["boom"], dry_run=True, include_downstream=True)
    assert [t.task_id for t in tis] == ["boom", "never"]
    sent = body(fake.requests[0])
    assert sent["dry_run"] is True and sent["reset_dag_runs"] is True and sent["only_failed"] is False


async def test_v1_trigger_error_body():
    fake = FakeAirflow()
    fake.route("POST", "/api/v1/dags/d/dagRuns", problem(400, "Bad Request", "'None' is not an instance of 'str'"))
    async with fake.client("2.11.2") as client:
        with pytest.raises(E.Invalid) as info:
            await client.trigger("d", {})
    assert "'None' is not an instance" in info.value.message


async def test_non_json_success_is_not_airflow():
    fake = FakeAirflow()
    fake.route("GET", "/api/v2/dags/d/dagRuns/r", html(200))
    async with fake.client() as client:
        with pytest.raises(E.NotAirflow):
            await client.get_run("d", "r")


async def test_health_v1_falls_back_to_webserver_health():
    fake = FakeAirflow()
    fake.route("GET", "/api/v1/health", problem(404, "Not Found", None))
    fake.route("GET", "/health", {"metadatabase": {"status": "healthy"}, "scheduler": {"status": "healthy"}})
    async with fake.client("2.11.2") as client:
        health = await client.health()
    assert health.healthy and len(fake.requests) == 2


async def test_read_log_uses_json_accept_and_parses():
    fake = FakeAirflow()
    fake.route("GET", "/api/v1/dags/d/dagRuns/r/taskInstances/t/logs/1",
               {"content": repr([("h", "[2026-01-01T00:00:00.000+0000] {a.py:1} INFO - hi")]),
                "continuation_token": "eyJlbmRfb2ZfbG9nIjp0cnVlfQ.sig"})
    async with fake.client("2.11.2") as client:
        chunk = await client.read_log("d", "r", "t", 1, map_index=2)
    assert fake.requests[0].headers["accept"] == "application/json"
    assert fake.requests[0].url.params["map_index"] == "2"
    assert chunk.end_of_log and chunk.lines[0].text == "hi" and chunk.lines[0].level == "info"


async def test_clear_run_dry_run_lists_tis_and_real_clear_is_not_retried():
    fake = FakeAirflow()
    fake.route("POST", "/api/v2/dags/d/dagRuns/r%2B1/clear",
               lambda req: jresp(200, {"task_instances": [V2_TI], "total_entries": 1})
               if body(req)["dry_run"] else jresp(503, {}))
    async with fake.client() as client:
        tis = await client.clear_run("d", "r+1", dry_run=True)
        assert [t.task_id for t in tis] == ["extract"]
        with pytest.raises(E.ServerError):
            await client.clear_run("d", "r+1", dry_run=False)
    assert [body(r) for r in fake.requests] == [{"dry_run": True, "only_failed": False},
                                               {"dry_run": False, "only_failed": False}]


async def test_clear_run_real_answer_is_the_run():
    fake = FakeAirflow()
    fake.route("POST", "/api/v1/dags/d/dagRuns/r/clear", dict(V1_RUN, state="queued"))
    async with fake.client("2.11.2") as client:
        assert await client.clear_run("d", "r", dry_run=False) == []
    assert body(fake.requests[0]) == {"dry_run": False}


async def test_set_task_state_v1_empty_answer_reads_the_ti_back():
    fake = FakeAirflow()
    fake.route("PATCH", "/api/v1/dags/d/dagRuns/r/taskInstances/g.t", {})  # what 2.11.2 sends
    fake.route("GET", "/api/v1/dags/d/dagRuns/r/taskInstances/g.t",
               dict(V2_TI, task_id="g.t", state="failed"))
    async with fake.client("2.11.2") as client:
        tis = await client.set_task_state("d", "r", "g.t", "failed")
    assert [(t.task_id, t.state) for t in tis] == [("g.t", "failed")]
    assert body(fake.requests[0]) == {"new_state": "failed", "dry_run": False}
    assert [r.method for r in fake.requests] == ["PATCH", "GET"]


async def test_set_task_state_v2_collection():
    fake = FakeAirflow()
    fake.route("PATCH", "/api/v2/dags/d/dagRuns/r/taskInstances/t",
               {"task_instances": [dict(V2_TI, task_id="t", state="success")], "total_entries": 1})
    async with fake.client() as client:
        tis = await client.set_task_state("d", "r", "t", "success")
    assert [(t.task_id, t.state) for t in tis] == [("t", "success")] and len(fake.requests) == 1
    assert fake.requests[0].url.params["update_mask"] == "new_state"


async def test_ping_is_one_cheap_read_never_retried():
    from astro_tui.airflow import AirflowClient, ServerError, Version
    from tests.unit.api_fake import FakeAirflow, jresp

    fake = FakeAirflow()
    fake.route("GET", r"/api/v2/dags", lambda req: jresp(503, {"detail": "down"}))
    client = AirflowClient("http://airflow.test", Version.parse("3.3.2"),
                           transport=fake.transport, attempts=3, backoff=0)
    with pytest.raises(ServerError):
        await client.ping()
    assert len(fake.requests) == 1
    assert fake.requests[0].url.params["limit"] == "1"
    await client.aclose()
