"""A small fake of the Astro Platform API **v1**: a real HTTP server on 127.0.0.1 in a thread.

Built from the published shapes gathered in ``shared/reference/astro-api.md`` (its source tags in
brackets; [spec] = the Astro API v1.0 OpenAPI, [cli-gen] = the astro CLI's generated v1 client):

* ``GET /v1/organizations`` -> ``OrganizationsPaginated {organizations[], limit, offset,
  totalCount}``; an organization as in the reference's section 7 example [cli-gen
  ``Organization``, ``OrganizationsPaginated``].
* ``GET /v1/organizations/{organizationId}/deployments`` -> ``DeploymentsPaginated
  {deployments[], limit, offset, totalCount}`` with ``offset``/``limit`` paging and the
  form-exploded ``workspaceIds`` filter [spec path block; cli-gen ``ListDeploymentsParams``,
  ``DeploymentsPaginated``]. The Deployment objects carry every field the spec lists as required
  plus the optional ones of section 7 (``workspaceName``, ``scalingStatus.hibernationStatus``,
  ``isDevelopmentMode``, …) [spec ``components.schemas.Deployment``; cli-gen ``Deployment``].
  URL fields follow the spec's examples: ``apiUrl`` with a scheme and ``/api/vN``, ``uiUrl`` and
  ``webServerUrl`` with ``?orgId=``, ``webServerAirflowApiUrl`` without a scheme [spec examples;
  doc-changelog-0730].
* errors: ``{"message", "requestId", "statusCode"}`` [cli-gen ``Error``]; the 401 body is the
  reference's section 7 example ``{"message": "Unauthorized", …}``; the exact 403 text is not
  published (**VERIFY** in the reference), so "Forbidden" here.
* 429 with ``Retry-After``: the reference says to expect 429 and back off [ae-conv]; no
  rate-limit headers are documented, so the header is the standard HTTP one.

Test devices that are not API facts: ``max_limit`` caps a page below the requested ``limit`` (the
spec states no maximum for Deployments), so that a handful of Deployments spans two pages and the
client must follow ``totalCount``; scripted failures (``fail_next``) for the error paths.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

ORG_ID = "cma1b2c3d00000001orgaaaa1"
OLD_ORG_ID = "cma1b2c3d00000002orgbbbb2"
WS_DATA = "cma9z8y7x00000001wsbbbb2"
WS_ML = "cma9z8y7x00000002wscccc3"


def organization(**over: Any) -> dict[str, Any]:
    """The reference's section 7 organization [cli-gen ``Organization``]."""
    org = {"id": ORG_ID, "name": "Acme Data", "status": "ACTIVE", "product": "HOSTED",
           "productPlans": [], "allowEnhancedSupportAccess": False,
           "hasAllowedIpAddressRanges": False, "isBlockedEnableAiFeatures": False,
           "isScimEnabled": False, "shouldEnforceDedicatedClusters": False,
           "createdAt": "2025-01-01T00:00:00Z", "createdBy": {"id": "u1"},
           "updatedAt": "2026-01-01T00:00:00Z", "updatedBy": {"id": "u1"}}
    return org | over


def deployment(dep_id: str, name: str, *, path: str, airflow: str, runtime: str,
               api: str = "v2", workspace: tuple[str, str] = (WS_DATA, "data-platform"),
               host: str = "acme-data.astronomer.run", **over: Any) -> dict[str, Any]:
    """A v1 Deployment as in the reference's section 7 (the etl-prod example, every required
    field of the spec present); `path` is the ``d`` + last-7 segment of the observed pattern."""
    d = {
        "id": dep_id, "name": name, "description": "",
        "organizationId": ORG_ID, "workspaceId": workspace[0], "workspaceName": workspace[1],
        "namespace": f"cosmic-nebula-{dep_id[-4:]}", "type": "STANDARD", "executor": "ASTRO",
        "cloudProvider": "AWS", "region": "us-east-1",
        "status": "HEALTHY", "airflowVersion": airflow,
        "astroRuntimeVersion": runtime, "runtimeVersion": runtime,
        "apiUrl": f"https://{host}/{path}/api/{api}",
        "uiUrl": f"https://{host}/{path}?orgId=org_AbCdEf123456",
        "webServerUrl": f"{host}/{path}?orgId=org_AbCdEf123456",
        "webServerAirflowApiUrl": f"{host}/{path}/api/{api}",
        "webServerIngressHostname": f"{host}/{path}",
        "imageRepository": f"images.astronomer.cloud/cosmic-nebula-{dep_id[-4:]}/airflow",
        "imageTag": "deploy-2026-08-30T12-01-44",
        "isCicdEnforced": False, "isDagDeployEnabled": True, "isDevelopmentMode": False,
        "isHighAvailability": False,
        "schedulerCpu": "1", "schedulerMemory": "2Gi", "schedulerReplicas": 2,
        "webServerCpu": "0.5", "webServerMemory": "1Gi",
        "createdAt": "2026-03-02T09:15:00Z",
        "createdBy": {"id": "cma00user0000001userxxxx1", "subjectType": "USER"},
        "updatedAt": "2026-08-30T12:02:10Z",
        "updatedBy": {"id": "cma00tokn0000001tokenxxx1", "subjectType": "SERVICEKEY",
                      "apiTokenName": "ci-deploy"},
    }
    return d | over


def default_deployments() -> list[dict[str, Any]]:
    """Four Deployments: Airflow 3 (etl-prod), a hibernating Airflow 2 (etl-dev, from the
    reference's example), a second etl-prod in another workspace (Airflow 2, to test unique
    names), and one whose airflowVersion is "NA" (the spec example says it may be) with a
    new-format runtime ``3.0-7``."""
    return [
        deployment("cmb4q8x2r00aa01p9k7m2v5tz", "etl-prod", path="d7m2v5tz",
                   airflow="3.1.7", runtime="3.1-9"),
        deployment("cmc7w1n3k00bb01r2h6t8y4qe", "etl-dev", path="d6t8y4qe",
                   airflow="2.10.5", runtime="12.9.0", api="v1", status="HIBERNATING",
                   isDevelopmentMode=True,
                   scalingStatus={"hibernationStatus": {
                       "isHibernating": True, "nextEventType": "WAKE",
                       "nextEventAt": "2026-09-01T07:00:00Z",
                       "reason": "Hibernating by schedule"}}),
        deployment("cmd9k2m4p00cc01s3j5u7w9xa", "etl-prod", path="du7w9xa",
                   airflow="2.11.0", runtime="13.1.0", api="v1", workspace=(WS_ML, "ml"),
                   host="acme-ml.astronomer.run"),
        deployment("cme1a3c5e00dd01t4k6v8x0zb", "reporting", path="dv8x0zb",
                   airflow="NA", runtime="3.0-7", workspace=(WS_ML, "ml"),
                   host="acme-ml.astronomer.run", status="DEPLOYING"),
    ]


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    token: str | None


@dataclass
class Failure:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1
    path_part: str = ""


class FakeAstroApi:
    """Tokens: ``tokens[token] = set of organization ids it may read`` (None: all); an unknown
    or missing token gets 401. ``forbidden_orgs``: (token, org) pairs answered 403."""

    def __init__(self, *, max_limit: int = 3) -> None:
        self.organizations: list[dict[str, Any]] = [
            organization(),
            organization(id=OLD_ORG_ID, name="Old Corp", status="SUSPENDED"),
        ]
        self.deployments: dict[str, list[dict[str, Any]]] = {ORG_ID: default_deployments()}
        self.tokens: dict[str, set[str] | None] = {}
        self.cannot_list_orgs: set[str] = set()
        self.max_limit = max_limit
        self.seen: list[Seen] = []
        self.failures: list[Failure] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- scripting --
    def fail_next(self, status: int, message: str, *, times: int = 1, path_part: str = "",
                  headers: dict[str, str] | None = None) -> None:
        self.failures.append(Failure(status, self.error_body(status, message),
                                     dict(headers or {}), times, path_part))

    @staticmethod
    def error_body(status: int, message: str) -> dict[str, Any]:
        return {"message": message, "requestId": str(uuid.uuid4()), "statusCode": status}

    def seen_paths(self, part: str = "") -> list[Seen]:
        return [s for s in self.seen if part in s.path]

    # -- serving --
    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> str:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                status, body, headers = fake.answer(self.path, self.headers.get("Authorization"))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-astro-api",
                         daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the API --
    def answer(self, raw_path: str, auth: str | None) -> tuple[int, dict[str, Any], dict[str, str]]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        token = auth[7:] if auth and auth.startswith("Bearer ") else None
        with self._lock:
            self.seen.append(Seen("GET", parts.path, query, token))
            for f in self.failures:
                if f.times > 0 and f.path_part in parts.path:
                    f.times -= 1
                    return f.status, f.body, f.headers
        if token is None or token not in self.tokens:
            return 401, self.error_body(401, "Unauthorized"), {}
        allowed = self.tokens[token]
        segs = parts.path.strip("/").split("/")
        if segs[:1] != ["v1"]:
            return 404, self.error_body(404, "Not Found"), {}
        if segs[1:] == ["organizations"]:
            if token in self.cannot_list_orgs:
                return 403, self.error_body(403, "Forbidden"), {}
            orgs = [o for o in self.organizations if allowed is None or o["id"] in allowed]
            return 200, self.page("organizations", orgs, query), {}
        if len(segs) == 4 and segs[1] == "organizations" and segs[3] == "deployments":
            org = segs[2]
            if allowed is not None and org not in allowed:
                return 403, self.error_body(403, "Forbidden"), {}
            deps = self.deployments.get(org, [])
            if "workspaceIds" in query:
                deps = [d for d in deps if d["workspaceId"] in query["workspaceIds"]]
            return 200, self.page("deployments", deps, query), {}
        return 404, self.error_body(404, "Not Found"), {}

    def page(self, key: str, items: list[dict[str, Any]],
             query: dict[str, list[str]]) -> dict[str, Any]:
        offset = int(query.get("offset", ["0"])[0])
        limit = min(int(query.get("limit", ["20"])[0]), self.max_limit)
        return {key: items[offset:offset + limit], "limit": limit, "offset": offset,
                "totalCount": len(items)}


@contextmanager
def running(fake: FakeAstroApi | None = None) -> Iterator[FakeAstroApi]:
    fake = fake or FakeAstroApi()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
