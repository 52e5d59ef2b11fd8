"""Error-body parsing for both API versions, and the error taxonomy."""

import httpx
import pytest

from astro_tui.airflow import errors as E
from tests.unit.api_fake import html, jresp, problem


def build(resp: httpx.Response) -> E.ApiError:
    resp.request = httpx.Request("GET", "http://airflow.test/api/v2/dags?x=1")
    return E.error_from_response(resp)


@pytest.mark.parametrize(
    "status, cls",
    [(400, E.Invalid), (401, E.Unauthorized), (403, E.Forbidden), (404, E.NotFound),
     (409, E.Conflict), (422, E.Invalid), (429, E.RateLimited), (500, E.ServerError),
     (502, E.ServerError), (503, E.ServerError), (405, E.Invalid), (418, E.ApiError)],
)
def test_status_maps_to_class(status, cls):
    err = build(jresp(status, {"detail": "something"}))
    assert type(err) is cls
    assert err.status == status
    assert "something" in err.message
    assert str(err) == err.message


def test_v1_problem_json_detail():
    err = build(problem(404, "DAG not found", "DAG with dag_id: 'x' not found"))
    assert isinstance(err, E.NotFound)
    assert err.message == "HTTP 404 Not Found: DAG with dag_id: 'x' not found"
    assert err.kind == "not_found"


def test_v1_problem_json_null_detail_uses_title():
    err = build(problem(403, "Forbidden", None))
    assert isinstance(err, E.Forbidden)
    assert err.message.startswith("HTTP 403 Forbidden") and "wrong username or password" in err.message


def test_v2_detail_string():
    err = build(jresp(401, {"detail": "Token Expired"}))
    assert isinstance(err, E.Unauthorized) and "Token Expired" in err.message


def test_v2_detail_list_is_flattened_without_input():
    body = {"detail": [
        {"type": "missing", "loc": ["body", "logical_date"], "msg": "Field required",
         "input": {"conf": {}, "password": "hunter2"}},
        {"type": "extra_forbidden", "loc": ["body", "execution_date"], "msg": "Extra inputs are not permitted",
         "input": "2025"},
    ]}
    err = build(jresp(422, body))
    assert isinstance(err, E.Invalid)
    assert "body.logical_date: Field required" in err.message
    assert "body.execution_date: Extra inputs are not permitted" in err.message
    assert "hunter2" not in err.message
    assert "\n" not in err.message


def test_v2_detail_dict_conflict():
    body = {"detail": {"reason": "Unique constraint violation", "statement": "INSERT ...",
                       "orig_error": "UNIQUE constraint failed: dag_run.dag_id, dag_run.run_id",
                       "message": "Serious error when handling your request. Check logs for more details"}}
    err = build(jresp(409, body))
    assert isinstance(err, E.Conflict)
    assert "Unique constraint violation" in err.message


def test_error_key_for_non_route_404():
    err = build(jresp(404, {"error": "/api/v1 has been removed in Airflow 3, please use its upgraded version /api/v2 instead."}))
    assert isinstance(err, E.NotFound)
    assert "/api/v1 has been removed" in err.message


def test_plain_text_500_uses_first_200_chars():
    resp = httpx.Response(500, text="Internal Server Error " + "x" * 500,
                          headers={"content-type": "text/plain"})
    err = build(resp)
    assert isinstance(err, E.ServerError)
    assert "Internal Server Error" in err.message
    assert len(err.message) < 260


def test_html_200_is_not_airflow_with_hint():
    err = build(html(200))
    assert isinstance(err, E.NotAirflow)
    assert err.kind == "not_airflow"
    assert "URL is probably wrong" in err.message and "login page" in err.message
    assert "?x=1" not in err.message  # no query string (could carry an org id or worse)


def test_html_404_is_not_airflow():
    assert isinstance(build(html(404)), E.NotAirflow)


def test_html_401_is_unauthorized():
    assert isinstance(build(html(401)), E.Unauthorized)


def test_rate_limited_retry_after():
    err = build(jresp(429, {"detail": "slow down"}, **{"Retry-After": "7"}))
    assert isinstance(err, E.RateLimited) and err.retry_after == 7.0


def test_retry_after_http_date_and_garbage():
    assert E.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert E.parse_retry_after("soon") is None
    assert E.parse_retry_after(None) is None


def test_messages_are_scrubbed_of_credentials():
    jwt = "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
    err = build(jresp(400, {"detail": f"bad header Authorization: Bearer {jwt} and password=hunter2"}))
    assert jwt not in err.message
    assert "hunter2" not in err.message
    assert "Bearer ***" in err.message
    assert jwt not in repr(err)


def test_scrub_leaves_prose_alone():
    assert E.scrub("use basic auth or a Bearer token") == "use basic auth or a Bearer token"
    assert E.scrub("Authorization: Basic YWRtaW46YWRtaW4=") == "Authorization: Basic ***"
    assert E.scrub("Bearer abcDEFghi") == "Bearer ***"


def test_a_transport_error_names_host_and_port():
    """Issue 18, papercut 3: "cannot reach 127.0.0.1" left out the port."""
    import httpx

    from astro_tui.airflow.transport import host_port, transport_error

    assert host_port("http://127.0.0.1:8080/api/v2") == "127.0.0.1:8080"
    assert host_port("https://x.astronomer.run/abc") == "x.astronomer.run:443"
    assert host_port("http://airflow.local") == "airflow.local:80"
    assert host_port("http://[::1]:9000/") == "[::1]:9000"
    request = httpx.Request("GET", "http://127.0.0.1:8080/api/v2/dags")
    err = transport_error(httpx.ConnectError("refused", request=request), str(request.url))
    assert str(err).startswith("cannot reach 127.0.0.1:8080: ")
    slow = transport_error(httpx.ConnectTimeout("slow", request=request), str(request.url))
    assert str(slow) == "timed out connecting to 127.0.0.1:8080"
