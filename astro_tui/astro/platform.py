"""The Astro Platform API **v1**: which organizations and Deployments a token can see.

Facts from ``shared/reference/astro-api.md`` (its source tags in brackets):

* base URL ``https://api.astronomer.io/v1`` [doc-versioning]; for an ``astro login`` context, the
  CLI derives it from the context's domain [cli ``GetPublicRESTAPIURL``]. ``ASTRO_API_URL``
  overrides both (tests, private installs).
* ``Authorization: Bearer <token>``: an organization, workspace or deployment API token, or the
  user token of ``astro login`` [doc-overview].
* ``GET /organizations`` and ``GET /organizations/{id}/deployments``; offset paging with
  ``offset``/``limit`` and the envelope ``{<items>, limit, offset, totalCount}`` [spec; cli-gen].
  Pages are walked until an empty page or ``totalCount`` items, at most 100 pages [cli
  ``pagination.Collect``]; the offset advances by what a page *returned* (a server may cap limit).
* errors are ``{"message", "requestId", "statusCode"}`` [cli-gen ``Error``]; 429 means back off
  [ae-conv]: these reads honour ``Retry-After``, a bounded number of times.
* the Airflow API URL of a Deployment: ``apiUrl``, else ``webServerAirflowApiUrl``, else
  ``webServerUrl``; normalized to a root, then ``/api/v1`` for Airflow 2 and ``/api/v2`` for 3
  [reference section 5, "Recommended recipe"].

The token stays inside :class:`AstroToken` and the httpx auth object: never in a message, a
``repr`` or a log. Server text in messages is cut short; printing sanitizes it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx

from astro_tui.airflow.auth import BearerAuth, jwt_expiry
from astro_tui.airflow.errors import (
    ApiError,
    Forbidden,
    NotFound,
    RateLimited,
    ServerError,
    Unauthorized,
    parse_retry_after,
)
from astro_tui.airflow.transport import make_http, transport_error
from astro_tui.airflow.urls import normalize_root_url, quote_segment
from astro_tui.config import ConfigError, is_loopback_host

__all__ = [
    "API_URL_ENV",
    "TOKEN_ENV",
    "DEFAULT_API_URL",
    "AstroToken",
    "AstroClient",
    "Organization",
    "Deployment",
    "Discovery",
    "find_token",
    "discover",
    "discover_from_env",
    "astro_config_path",
    "api_url_for_domain",
]

API_URL_ENV = "ASTRO_API_URL"
TOKEN_ENV = "ASTRO_API_TOKEN"
DEFAULT_API_URL = "https://api.astronomer.io/v1"
#: page sizes: the CLI asks 100 organizations and 1000 Deployments a page [cli]; flowrs 100
ORG_PAGE = 100
DEPLOYMENT_PAGE = 1000
MAX_PAGES = 100
#: 429 handling of these GET reads: at most this many retries, none longer than MAX_WAIT
RETRIES = 3
MAX_WAIT = 60.0
LOGIN_HINT = "run `astro login`"

Sleep = Callable[[float], Awaitable[None]]


def _sleep(seconds: float) -> Awaitable[None]:
    """The wait before a retry (tests replace it: never a real sleep there)."""
    return asyncio.sleep(seconds)


# -- the token -------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AstroToken:
    """An Astro bearer token and where it came from. ``repr`` and ``str`` never show it."""

    source: str  # "ASTRO_API_TOKEN", or "the astro login session (context …)"
    api_url: str  # the Platform API base, e.g. https://api.astronomer.io/v1
    from_login: bool = False
    #: the organization of the astro CLI context, if any (a hint; discovery lists them all)
    organization: str | None = None
    _value: str = field(default="", compare=False)

    def reveal(self) -> str:
        """The token itself: only for an auth object or the keyring, never for output."""
        return self._value

    def claimed_organizations(self) -> list[str]:
        """Organization ids named in the token's claims (read unverified, best effort: the
        CLI reads ``permissions: ["organizationId:<id>", …]`` and ``org_id``) [cli setup.go]."""
        claims = _jwt_claims(self._value)
        found = [str(claims["org_id"])] if isinstance(claims.get("org_id"), str) else []
        perms = claims.get("permissions")
        for perm in perms if isinstance(perms, list) else []:
            if isinstance(perm, str) and perm.startswith("organizationId:"):
                found.append(perm.split(":", 1)[1])
        return list(dict.fromkeys(x for x in found if x))

    def __repr__(self) -> str:
        return f"AstroToken(source={self.source!r}, api_url={self.api_url!r}, token=***)"

    __str__ = __repr__


def _jwt_claims(token: str) -> dict[str, Any]:
    if token.count(".") != 2:
        return {}
    payload = token.split(".")[1]
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _strip_bearer(value: str) -> str:
    value = value.strip()
    return value[7:].strip() if value[:7].lower() == "bearer " else value


def api_url_for_domain(domain: str | None) -> str:
    """The Platform API base the astro CLI uses for a context domain [cli config/cloud.go
    ``GetPublicRESTAPIURL``, pkg/domainutil]: ``astronomer.io`` -> ``https://api.astronomer.io/v1``
    (a ``cloud.`` prefix dropped), ``localhost`` -> ``http://localhost:8888/v1``, a PR preview
    ``prNNNN.astronomer-dev.io`` -> ``https://prNNNN.api.astronomer-dev.io/v1``."""
    domain = (domain or "astronomer.io").strip().lower() or "astronomer.io"
    domain = domain.removeprefix("cloud.")
    if domain == "localhost":
        return "http://localhost:8888/v1"
    if m := re.fullmatch(r"(pr\d+)\.(astronomer-dev\.io)", domain):
        return f"https://{m.group(1)}.api.{m.group(2)}/v1"
    return f"https://api.{domain}/v1"


def _api_url(env: Mapping[str, str], domain: str | None) -> str:
    override = (env.get(API_URL_ENV) or "").strip()
    url = override.rstrip("/") if override else api_url_for_domain(domain)
    parts = httpx.URL(url) if re.match(r"^https?://", url, re.I) else None
    if parts is None or not parts.host:
        raise ConfigError(f"{API_URL_ENV} must be an http:// or https:// URL, not {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.host):
        raise ConfigError(f"refusing to send the Astro token over plain http:// to {parts.host}:"
                          f" use https:// in {API_URL_ENV}")
    return url


def astro_config_path(env: Mapping[str, str] | None = None) -> Path:
    """``$ASTRO_HOME/.astro/config.yaml``, else ``~/.astro/config.yaml`` [cli config.go
    ``initHome``]."""
    env = os.environ if env is None else env
    home = env.get("ASTRO_HOME")
    return (Path(home).expanduser() if home else Path.home()) / ".astro" / "config.yaml"


def find_token(env: Mapping[str, str] | None = None, *,
               now: datetime | None = None) -> AstroToken:
    """``ASTRO_API_TOKEN``; else the current context of the astro CLI's config (read only).

    ConfigError (one line, never the token) when it is set but empty, when there is neither,
    or when the ``astro login`` session has expired."""
    env = os.environ if env is None else env
    if TOKEN_ENV in env:
        value = _strip_bearer(env[TOKEN_ENV])
        if not value:
            raise ConfigError(f"{TOKEN_ENV} is set but empty: give it the token (or unset it)")
        return AstroToken(source=TOKEN_ENV, api_url=_api_url(env, None), _value=value)
    path = astro_config_path(env)
    session = _read_session(path)
    if session is None:
        raise ConfigError(f"no Astro credentials: set {TOKEN_ENV} (an organization, workspace"
                          f" or deployment API token), or {LOGIN_HINT}")
    name, ctx = session
    where = f"context {name} in {path}"
    value = _strip_bearer(str(ctx.get("token") or ""))
    if not value:
        raise ConfigError(f"the astro CLI has no session ({where}): {LOGIN_HINT}, or set"
                          f" {TOKEN_ENV}")
    expires = _parse_time(ctx.get("expiresin"))
    exp = expires.timestamp() if expires else jwt_expiry(value)
    now = now or datetime.now(timezone.utc)
    if exp is not None and exp <= now.timestamp():
        raise ConfigError(f"the astro login session has expired ({where}): {LOGIN_HINT}"
                          f" (or set {TOKEN_ENV})")
    domain = ctx.get("domain") if isinstance(ctx.get("domain"), str) else name
    org = ctx.get("organization")
    return AstroToken(source=f"the astro login session ({where})",
                      api_url=_api_url(env, str(domain)), from_login=True,
                      organization=org if isinstance(org, str) and org else None, _value=value)


def _read_session(path: Path) -> tuple[str, dict[str, Any]] | None:
    """(context name, its table) of the astro CLI's current context, or None if there is none.
    The file is read, never written."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(f"cannot read the astro CLI's config {path}: {why}") from None
    data = parse_simple_yaml(text)
    current = data.get("context")
    contexts = data.get("contexts")
    if not isinstance(current, str) or not current or not isinstance(contexts, dict):
        return None
    # contexts are keyed by the domain with '.' -> '_' [cli config/context.go GetContextKey]
    ctx = contexts.get(current.replace(".", "_"), contexts.get(current))
    return (current, ctx) if isinstance(ctx, dict) else None


def _parse_time(value: Any) -> datetime | None:
    """``expiresin``: an ISO timestamp with an offset (Go may write nanoseconds)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip()).replace("Z", "+00:00")
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


_YAML_KEY = re.compile(r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"][^:#]*?)\s*:(?:\s+(?P<value>.*))?$""")


def _yaml_scalar(raw: str) -> str | None:
    raw = raw.strip()
    if raw.startswith('"'):
        end = re.match(r'"(?:[^"\\]|\\.)*"', raw)
        if end:
            try:
                return str(json.loads(end.group()))
            except ValueError:
                return end.group()[1:-1]
    if raw.startswith("'"):
        end = re.match(r"'(?:[^']|'')*'", raw)
        if end:
            return end.group()[1:-1].replace("''", "'")
    raw = re.split(r"\s+#", raw, maxsplit=1)[0].strip()
    return None if raw in ("", "~", "null", "Null", "NULL") else raw


def parse_simple_yaml(text: str) -> dict[str, Any]:
    """The block mappings of a YAML file (what viper writes for the astro CLI): nested
    ``key: value`` tables, quoted or plain scalars (kept as strings), comments. Sequences and
    anything fancier are skipped: only ``context`` and ``contexts.<name>.*`` are read."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(-1, root)]
    for line in text.splitlines():
        body = line.strip()
        if not body or body.startswith("#") or body in ("---", "...") or body.startswith("- "):
            continue
        indent = len(line) - len(line.lstrip(" "))
        m = _YAML_KEY.match(body)
        if m is None:
            continue
        key = _yaml_scalar(m.group("key")) or ""
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        value = m.group("value")
        if value is None or not value.strip() or value.strip().startswith("#"):
            child: dict[str, Any] = {}
            parent[key] = child
            stack.append((indent, child))
        else:
            parent[key] = _yaml_scalar(value)
    return root


# -- models ---------------------------------------------------------------------------------------


def _str(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Organization:
    """[cli-gen ``Organization``]: id, name, status ACTIVE|INACTIVE|SUSPENDED, product."""

    id: str
    name: str | None = None
    status: str | None = None
    product: str | None = None

    @classmethod
    def from_api(cls, data: Mapping[str, Any]) -> Organization:
        return cls(id=_str(data, "id") or "", name=_str(data, "name"),
                   status=_str(data, "status"), product=_str(data, "product"))

    @property
    def active(self) -> bool:
        return self.status in (None, "ACTIVE")


@dataclass(frozen=True)
class Deployment:
    """The fields of a v1 ``Deployment`` that discovery shows [spec; cli-gen ``Deployment``]."""

    id: str
    name: str
    organization_id: str
    organization_name: str | None
    workspace_id: str | None
    workspace_name: str | None
    status: str | None
    status_reason: str | None
    #: ``airflowVersion`` as the API gives it (None when absent or "NA")
    airflow_version: str | None
    runtime_version: str | None
    hibernating: bool
    #: the next hibernation event, e.g. ("WAKE", "2026-09-01T07:00:00Z")
    next_event: tuple[str, str] | None
    #: the Airflow root (what a profile's url is) and the API URL (root + /api/vN), if known
    root_url: str | None
    airflow_api_url: str | None
    development: bool = False

    @classmethod
    def from_api(cls, data: Mapping[str, Any], org: Organization) -> Deployment:
        hib: Any = data.get("scalingStatus")
        hib = hib.get("hibernationStatus") if isinstance(hib, dict) else None
        hib = hib if isinstance(hib, dict) else {}
        status = _str(data, "status")
        version = _str(data, "airflowVersion")
        version = None if version is None or version.upper() == "NA" else version
        runtime = _str(data, "astroRuntimeVersion") or _str(data, "runtimeVersion")
        event = (_str(hib, "nextEventType"), _str(hib, "nextEventAt"))
        root, api = airflow_urls(data, version, runtime)
        return cls(
            id=_str(data, "id") or "", name=_str(data, "name") or _str(data, "id") or "?",
            organization_id=_str(data, "organizationId") or org.id,
            organization_name=org.name,
            workspace_id=_str(data, "workspaceId"), workspace_name=_str(data, "workspaceName"),
            status=status, status_reason=_str(data, "statusReason"),
            airflow_version=version, runtime_version=runtime,
            hibernating=status == "HIBERNATING" or hib.get("isHibernating") is True,
            next_event=(event[0], event[1]) if event[0] and event[1] else None,
            root_url=root, airflow_api_url=api,
            development=data.get("isDevelopmentMode") is True)

    @property
    def airflow_major(self) -> int | None:
        return _major(self.airflow_version, self.runtime_version)


def _major(version: str | None, runtime: str | None) -> int | None:
    """Airflow's major version: from ``airflowVersion`` (``3.1.7+astro.1``), else from a
    new-format runtime ``X.Y-Z`` whose X.Y is Airflow's [cli runtime_versions.go]."""
    if version and (m := re.match(r"(\d+)\.", version)):
        return int(m.group(1))
    if runtime and (m := re.fullmatch(r"(\d+)\.\d+-\d+", runtime)):
        return int(m.group(1))
    return None


def airflow_urls(data: Mapping[str, Any], version: str | None,
                 runtime: str | None) -> tuple[str | None, str | None]:
    """(root, Airflow API URL) of a Deployment: ``apiUrl`` (has a scheme), else
    ``webServerAirflowApiUrl``, else ``webServerUrl`` (no scheme, maybe ``?orgId=``); the
    prefix from the Airflow version, else from the URL's own ``/api/vN``."""
    for key in ("apiUrl", "webServerAirflowApiUrl", "webServerUrl"):
        raw = _str(data, key)
        if not raw:
            continue
        try:
            root = normalize_root_url(raw)
        except ValueError:
            continue
        major = _major(version, runtime)
        if major is not None:
            prefix: str | None = "/api/v1" if major < 3 else "/api/v2"
        else:
            m = re.search(r"/api/(v[12])(?:[/?#]|$)", raw)
            prefix = f"/api/{m.group(1)}" if m else None
        return root, root + prefix if prefix else root
    return None, None


@dataclass
class Discovery:
    """What one discovery found: for the CLI's table and JSON, and for the TUI."""

    api_url: str
    source: str
    organizations: list[Organization]
    deployments: list[Deployment]
    #: one-line notes, e.g. an organization that is not ACTIVE and was skipped
    notes: list[str] = field(default_factory=list)


# -- the client -----------------------------------------------------------------------------------


def _server_message(response: httpx.Response) -> str:
    """The ``message`` of a v1 error body [cli-gen ``Error``], cut short; else nothing."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        return ""
    text = data.get("message") if isinstance(data, dict) else None
    return " ".join(text.split())[:200] if isinstance(text, str) else ""


class AstroClient:
    """Async reads of the Platform API with one token. ``sleep`` waits before a 429 retry."""

    def __init__(self, token: AstroToken, *, transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Sleep | None = None, retries: int = RETRIES,
                 max_wait: float = MAX_WAIT) -> None:
        self.token_source = token.source
        self.from_login = token.from_login
        self.api_url = token.api_url.rstrip("/")
        self.retries = retries
        self.max_wait = max_wait
        self._sleep = sleep
        self._http = make_http(auth=BearerAuth(token.reveal()), verify=True,
                               transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AstroClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get(self, path: str, params: Mapping[str, Any] | None = None, *,
                  what: str = "this") -> dict[str, Any]:
        url = self.api_url + path
        tries = 0
        while True:
            tries += 1
            try:
                response = await self._http.get(url, params=dict(params or {}))
            except httpx.HTTPError as exc:
                err = transport_error(exc, url)
                # no profile here: a private CA goes in SSL_CERT_FILE, not a ca_bundle
                said = err.message.replace("set ca_bundle in the profile to",
                                           "set SSL_CERT_FILE to")
                raise type(err)(f"the Astro API: {said}"
                                f" (the base URL is {self.api_url}; {API_URL_ENV} sets it)"
                                ) from None
            if response.status_code == 429 and tries <= self.retries:
                wait = parse_retry_after(response.headers.get("retry-after"))
                wait = float(2 ** (tries - 1)) if wait is None else wait
                if wait <= self.max_wait:
                    await (self._sleep or _sleep)(wait)
                    continue
            if response.status_code >= 400 or response.status_code < 200:
                raise self._error(response, what, tries)
            try:
                data = response.json()
            except (ValueError, UnicodeDecodeError):
                data = None
            if not isinstance(data, dict):
                ctype = response.headers.get("content-type", "").split(";")[0] or "no type"
                raise ApiError(f"{url} answered {response.status_code} with {ctype}, not the"
                               f" Astro API v1: check {API_URL_ENV}",
                               status=response.status_code)
            return data

    def _error(self, response: httpx.Response, what: str, tries: int) -> ApiError:
        status = response.status_code
        said = _server_message(response)
        code = f"HTTP {status}: {said}" if said else f"HTTP {status}"
        login = f"; {LOGIN_HINT}" if self.from_login else ""
        if status == 401:
            return Unauthorized(f"the Astro API refused the token from {self.token_source}"
                                f" ({code}): it is invalid, expired or revoked{login}",
                                status=status)
        if status == 403:
            return Forbidden(f"the token from {self.token_source} has no access to {what}"
                             f" ({code}): give it a role that can read it, or use another"
                             " token", status=status)
        if status == 429:
            after = parse_retry_after(response.headers.get("retry-after"))
            when = f"try again in {after:.0f} s" if after is not None else "try again later"
            return RateLimited(f"the Astro API is rate-limiting this token ({code}) after"
                               f" {tries} tries: {when}", retry_after=after)
        if status == 404:
            return NotFound(f"the Astro API has no {what} ({code})", status=status)
        if status >= 500:
            return ServerError(f"the Astro API failed ({code}); try again later", status=status)
        return ApiError(f"the Astro API refused the request for {what} ({code})", status=status)

    async def collect(self, path: str, key: str, *, page: int,
                      params: Mapping[str, Any] | None = None, what: str) -> list[dict[str, Any]]:
        """Every item of an offset-paged list [cli pagination.Collect; flowrs]."""
        items: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            data = await self.get(path, {**(params or {}), "offset": offset, "limit": page},
                                  what=what)
            batch = data.get(key)
            if not isinstance(batch, list):
                raise ApiError(f"the Astro API's answer for {what} has no '{key}' list: check"
                               f" {API_URL_ENV}")
            items += [x for x in batch if isinstance(x, dict)]
            total = data.get("totalCount")
            if not batch or (isinstance(total, int) and len(items) >= total):
                return items
            offset += len(batch)
        raise ApiError(f"the Astro API gave more than {MAX_PAGES} pages of {what}; stopped")

    async def organizations(self) -> list[Organization]:
        rows = await self.collect("/organizations", "organizations", page=ORG_PAGE,
                                  what="the list of organizations")
        return [Organization.from_api(r) for r in rows if _str(r, "id")]

    async def deployments(self, org: Organization,
                          workspace_ids: Iterable[str] = ()) -> list[Deployment]:
        params = {"workspaceIds": list(workspace_ids)} if workspace_ids else None
        label = f"organization {org.name or org.id}"
        rows = await self.collect(f"/organizations/{quote_segment(org.id)}/deployments",
                                  "deployments", page=DEPLOYMENT_PAGE, params=params,
                                  what=f"the Deployments of {label}")
        return [Deployment.from_api(r, org) for r in rows if _str(r, "id")]


# -- discovery ------------------------------------------------------------------------------------


async def discover(token: AstroToken, *, organization_ids: Iterable[str] = (),
                   transport: httpx.AsyncBaseTransport | None = None,
                   sleep: Sleep | None = None) -> Discovery:
    """The organizations and Deployments `token` can see (a TUI can await this directly).

    Organizations come from ``GET /organizations`` (what the CLI does for API tokens); when
    that is forbidden (a narrow token), from the token's claims or `organization_ids`. With
    `organization_ids`, only those are read. Organizations that are not ACTIVE are skipped."""
    wanted = list(dict.fromkeys(organization_ids))
    notes: list[str] = []
    async with AstroClient(token, transport=transport, sleep=sleep) as client:
        try:
            orgs = await client.organizations()
        except Forbidden:
            fallback = wanted or token.claimed_organizations() or (
                [token.organization] if token.organization else [])
            if not fallback:
                raise
            orgs = [Organization(id=x) for x in fallback]
            notes.append("the token may not list organizations; using "
                         + ", ".join(fallback))
        if wanted:
            known = {o.id: o for o in orgs}
            orgs = [known.get(x) or Organization(id=x) for x in wanted]
        deployments: list[Deployment] = []
        for org in orgs:
            if not org.active:
                notes.append(f"organization {org.name or org.id} is {org.status}: skipped")
                continue
            deployments += await client.deployments(org)
    return Discovery(api_url=token.api_url, source=token.source, organizations=orgs,
                     deployments=deployments, notes=notes)


async def discover_from_env(env: Mapping[str, str] | None = None, *,
                            organization_ids: Iterable[str] = (),
                            transport: httpx.AsyncBaseTransport | None = None) -> Discovery:
    """:func:`find_token` then :func:`discover`: the one call for the TUI's palette.
    Raises ConfigError (no or expired credentials) or ApiError (one-line messages)."""
    return await discover(find_token(env), organization_ids=organization_ids,
                          transport=transport)
