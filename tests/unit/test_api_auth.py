"""Auth classes: headers, Airflow 3 login/relogin/refresh, and secret redaction."""

import asyncio
import base64
import json
import time
import traceback

import httpx
import pytest

from astro_tui.airflow import Airflow3PasswordAuth, BasicAuth, BearerAuth, errors as E
from astro_tui.airflow.auth import jwt_expiry
from tests.unit.api_fake import ROOT, V2_RUN, FakeAirflow, body, html, jresp

PASSWORD = "s3cr3t-pa55word"


def make_jwt(exp: float, sub: str = "admin") -> str:
    def enc(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{enc({'alg': 'HS512', 'typ': 'JWT'})}.{enc({'sub': sub, 'exp': int(exp)})}.c2lnbmF0dXJl"


class TokenServer(FakeAirflow):
    """/auth/token hands out numbered JWTs; the API accepts only `valid` tokens."""

    def __init__(self, lifetime: float = 86400):
        super().__init__()
        self.issued: list[str] = []
        self.valid: set[str] = set()
        self.lifetime = lifetime
        self.route("POST", "/auth/token", self.login)
        self.route("GET", "/api/v2/dags/d/dagRuns/r", self.api)
        self.route("POST", "/api/v2/dags/d/dagRuns", self.api)

    def login(self, request):
        creds = body(request)
        if creds != {"username": "admin", "password": PASSWORD}:
            return jresp(401, {"detail": "Invalid credentials"})
        token = make_jwt(time.time() + self.lifetime, sub=f"admin{len(self.issued)}")
        self.issued.append(token)
        self.valid.add(token)
        return jresp(201, {"access_token": token})

    def api(self, request):
        header = request.headers.get("authorization", "")
        if not header:
            return jresp(401, {"detail": "Not authenticated"})
        if header.removeprefix("Bearer ") not in self.valid:
            return jresp(403, {"detail": "Invalid JWT token"})
        return jresp(200, V2_RUN)


def auth(**kw):
    return Airflow3PasswordAuth(ROOT + "/home", "admin", PASSWORD, **kw)


def test_bearer_and_basic_headers():
    req = httpx.Request("GET", ROOT)
    next(BearerAuth("tok").auth_flow(req))
    assert req.headers["authorization"] == "Bearer tok"
    req = httpx.Request("GET", ROOT)
    next(BasicAuth("admin", PASSWORD).auth_flow(req))
    assert req.headers["authorization"] == "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()


def test_secrets_not_in_repr_or_str():
    for a in (BearerAuth(PASSWORD), BasicAuth("admin", PASSWORD), auth()):
        assert PASSWORD not in repr(a) and PASSWORD not in str(a)
        assert "***" in repr(a)
    assert auth().token_url == ROOT + "/auth/token"
    with pytest.raises(TypeError):
        __import__("pickle").dumps(auth())


def test_jwt_expiry():
    assert jwt_expiry(make_jwt(1234567890)) == 1234567890
    assert jwt_expiry("nope") is None and jwt_expiry(None) is None


async def test_login_once_then_reuse():
    server = TokenServer()
    a = auth()
    async with server.client(auth=a) as client:
        await client.get_run("d", "r")
        await client.get_run("d", "r")
    assert a.logins == 1 and len(server.calls("POST", "/auth/token")) == 1
    login = server.calls("POST", "/auth/token")[0]
    assert login.url == ROOT + "/auth/token" and "authorization" not in login.headers


async def test_concurrent_requests_share_one_login():
    server = TokenServer()
    a = auth()
    async with server.client(auth=a) as client:
        await asyncio.gather(*(client.get_run("d", "r") for _ in range(5)))
    assert a.logins == 1


@pytest.mark.parametrize("status, detail", [(401, "Token Expired"), (403, "Invalid JWT token")])
async def test_relogin_and_replay_once(status, detail):
    server = TokenServer()
    a = auth()
    async with server.client(auth=a) as client:
        await client.get_run("d", "r")
        server.valid.clear()  # the server forgets (restart with a new secret, or expiry)
        original_api = server.api

        def api(request):
            if request.headers["authorization"].removeprefix("Bearer ") not in server.valid:
                return jresp(status, {"detail": detail})
            return original_api(request)
        server.route("GET", "/api/v2/dags/d/dagRuns/r", api)
        run = await client.get_run("d", "r")
    assert run.state == "success" and a.logins == 2


async def test_relogin_replays_a_post_body():
    server = TokenServer()
    a = auth()
    async with server.client(auth=a) as client:
        await client.get_run("d", "r")
        server.valid.clear()
        await client.trigger("d", {"n": 1})
    posts = server.calls("POST", "/dagRuns")
    assert len(posts) == 2 and body(posts[-1]) == {"logical_date": None, "conf": {"n": 1}}


async def test_forbidden_is_not_a_relogin():
    server = TokenServer()
    server.route("GET", "/api/v2/dags/d/dagRuns/r", jresp(403, {"detail": "Forbidden"}))
    a = auth()
    async with server.client(auth=a) as client:
        with pytest.raises(E.Forbidden):
            await client.get_run("d", "r")
    assert a.logins == 1


async def test_relogin_only_once_per_request():
    server = TokenServer()
    server.route("GET", "/api/v2/dags/d/dagRuns/r", jresp(401, {"detail": "Token Expired"}))
    a = auth()
    async with server.client(auth=a) as client:
        with pytest.raises(E.Unauthorized):
            await client.get_run("d", "r")
    assert a.logins == 2 and len(server.calls("GET")) == 2


async def test_proactive_refresh_near_expiry(monkeypatch):
    import astro_tui.airflow.auth as auth_mod

    server = TokenServer(lifetime=30)
    a = auth()
    async with server.client(auth=a) as client:
        await client.get_run("d", "r")
        await client.get_run("d", "r")
        assert a.logins == 1  # 30 s left: far from expiry
        now = time.time()
        monkeypatch.setattr(auth_mod.time, "time", lambda: now + 26)  # 4 s left: renew first
        await client.get_run("d", "r")
    assert a.logins == 2


async def test_short_lived_tokens_do_not_mean_a_login_per_request():
    server = TokenServer(lifetime=5)  # a server with [api_auth] jwt_expiration_time = 5
    a = auth()
    async with server.client(auth=a) as client:
        for _ in range(5):
            await client.get_run("d", "r")
    assert a.logins == 1


async def test_wrong_password_message_has_no_secret():
    server = TokenServer()
    a = Airflow3PasswordAuth(ROOT, "admin", "wrong-" + PASSWORD)
    async with server.client(auth=a) as client:
        with pytest.raises(E.Unauthorized) as info:
            await client.get_run("d", "r")
    text = "".join(traceback.format_exception(info.value)) + repr(info.value)
    assert "Invalid credentials" in info.value.message and "'admin'" in info.value.message
    assert PASSWORD not in text


async def test_no_token_endpoint_hint():
    fake = FakeAirflow()
    fake.route("POST", "/auth/token", html(404))
    async with fake.client(auth=auth()) as client:
        with pytest.raises(E.Unauthorized) as info:
            await client.get_run("d", "r")
    assert "no Airflow 3 login" in info.value.message


async def test_connect_with_password_auth_against_airflow3():
    server = TokenServer()
    server.route("GET", "/api/v2/version", {"version": "3.3.2"})
    from astro_tui.airflow import AirflowClient
    a = auth()
    async with await AirflowClient.connect(ROOT, auth=a, transport=server.transport) as client:
        assert client.version.major == 3
        await client.get_run("d", "r")
    assert a.logins == 1
    for request in server.requests:  # the JWT is only ever sent as a header
        assert PASSWORD not in str(request.url)
