"""httpx authentication for Airflow: Bearer tokens, HTTP basic, and Airflow 3 username/password.

Secrets live only inside these objects (name-mangled attributes) and never show up in ``repr()``,
``str()``, or exception messages.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx

from astro_tui.airflow.errors import NotAirflow, Unauthorized, body_message, error_from_response
from astro_tui.airflow.urls import normalize_root_url

__all__ = ["BearerAuth", "BasicAuth", "Airflow3PasswordAuth", "jwt_expiry"]

#: 403 details of Airflow 3 that mean "log in again" (401 always does)
RELOGIN_DETAILS = ("invalid jwt token", "token expired", "not authenticated")


def jwt_expiry(token: str | None) -> float | None:
    """``exp`` (epoch seconds) of a JWT, read without verifying; None if absent/unreadable."""
    if not token or token.count(".") != 2:
        return None
    payload = token.split(".")[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return None
    exp = data.get("exp") if isinstance(data, dict) else None
    return float(exp) if isinstance(exp, (int, float)) and not isinstance(exp, bool) else None


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>``: Astro API tokens or a pre-issued Airflow 3 JWT."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("empty token")
        self.__header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.__header
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"

    __str__ = __repr__


class BasicAuth(httpx.Auth):
    """HTTP basic auth (Airflow 2 with the basic_auth API backend)."""

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.__inner = httpx.BasicAuth(username, password)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        yield from self.__inner.auth_flow(request)

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password=***)"

    __str__ = __repr__


class Airflow3PasswordAuth(httpx.Auth):
    """OSS Airflow 3: ``POST {root}/auth/token`` for a JWT, sent as a Bearer token.

    The JWT is cached and renewed when it is within ``refresh_margin`` seconds of its ``exp``.
    On 401, or a 403 whose detail says the token is invalid/expired, it logs in again once and
    replays the request. Concurrent requests share one login (an asyncio lock).
    The login request goes through the client's own transport, so proxies/TLS settings apply.
    """

    def __init__(
        self, root_url: str, username: str, password: str, *, refresh_margin: float = 60.0
    ) -> None:
        self.root_url = normalize_root_url(root_url)
        self.username = username
        self.__password = password
        self.__token: str | None = None
        self._expires_at: float | None = None
        self._lifetime = 86400.0  # seconds from login to expiry, measured at each login
        self._generation = 0
        self._locks: dict[int, asyncio.Lock] = {}
        self.refresh_margin = refresh_margin
        #: number of logins done (tests and diagnostics)
        self.logins = 0

    def __repr__(self) -> str:
        return (
            f"Airflow3PasswordAuth(root_url={self.root_url!r}, username={self.username!r}, "
            "password=***)"
        )

    __str__ = __repr__

    @property
    def token_url(self) -> str:
        return f"{self.root_url}/auth/token"

    @property
    def has_token(self) -> bool:
        return self.__token is not None

    def forget_token(self) -> None:
        self.__token = None
        self._expires_at = None

    def _lock(self) -> asyncio.Lock:
        loop_id = id(asyncio.get_running_loop())
        lock = self._locks.get(loop_id)
        if lock is None:
            self._locks = {loop_id: asyncio.Lock()}  # one loop at a time: drop stale ones
            lock = self._locks[loop_id]
        return lock

    def _needs_login(self) -> bool:
        if self.__token is None:
            return True
        if self._expires_at is None:
            return False
        # Renew ahead of expiry, by at most a fifth of the token's lifetime (a server with
        # 5-second tokens must not make us log in before every request).
        margin = min(self.refresh_margin, self._lifetime / 5)
        return self._expires_at - time.time() < margin

    def _login_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            json={"username": self.username, "password": self.__password},
            headers={"Accept": "application/json"},
        )

    async def _accept_login(self, response: httpx.Response) -> None:
        await response.aread()
        status = response.status_code
        if status in (200, 201):
            try:
                data = response.json()
            except ValueError:
                data = None
            token = data.get("access_token") if isinstance(data, dict) else None
            if not isinstance(token, str) or not token:
                raise NotAirflow(
                    f"{self.token_url} did not return an access token: the URL is probably "
                    "not an Airflow 3 API server",
                    status=status,
                )
            self.__token = token
            self._expires_at = jwt_expiry(token)
            if self._expires_at is not None:
                self._lifetime = max(0.0, self._expires_at - time.time())
            self._generation += 1
            self.logins += 1
            return
        if status in (404, 405):
            raise Unauthorized(
                f"{self.token_url} answered {status}: this server has no Airflow 3 login "
                "(Airflow 2 or Astro?); use basic auth or an API token",
                status=status,
            )
        if status in (400, 401, 403, 422):
            text, _ = body_message(response)
            raise Unauthorized(
                f"Airflow login as {self.username!r} failed (HTTP {status}): {text or 'denied'}",
                status=status,
            )
        raise error_from_response(response)

    @staticmethod
    async def _wants_relogin(response: httpx.Response) -> bool:
        if response.status_code == 401:
            return True
        if response.status_code != 403:
            return False
        await response.aread()
        text, _ = body_message(response)
        return text.strip().lower() in RELOGIN_DETAILS

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        raise RuntimeError("Airflow3PasswordAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._needs_login():
            async with self._lock():
                if self._needs_login():
                    response = yield self._login_request()
                    await self._accept_login(response)
        generation = self._generation
        request.headers["Authorization"] = f"Bearer {self.__token}"
        response = yield request
        if await self._wants_relogin(response):
            async with self._lock():
                if self._generation == generation:  # nobody logged in meanwhile
                    login = yield self._login_request()
                    await self._accept_login(login)
            request.headers["Authorization"] = f"Bearer {self.__token}"
            yield request

    def __getstate__(self) -> Any:  # no pickling of secrets by accident
        raise TypeError("Airflow3PasswordAuth cannot be pickled")
