"""The Airflow API layer: pure asyncio + httpx, never Textual.

    client = await AirflowClient.connect(url, auth=BearerAuth(token))
    dags = await client.list_dags()
"""

from astro_tui.airflow.auth import Airflow3PasswordAuth, BasicAuth, BearerAuth
from astro_tui.airflow.client import AirflowClient
from astro_tui.airflow.dialect import Dialect, DialectV1, DialectV2, dialect_for
from astro_tui.airflow.errors import (
    ApiError,
    Conflict,
    Forbidden,
    Invalid,
    NotAirflow,
    NotFound,
    RateLimited,
    ServerError,
    Timeout,
    Unauthorized,
    Unreachable,
    error_from_response,
)
from astro_tui.airflow.logs import LogFollower
from astro_tui.airflow.models import (
    ComponentHealth,
    Dag,
    DagDetails,
    DagImportError,
    DagRun,
    Health,
    LogChunk,
    LogLine,
    ParamSpec,
    TaskInstance,
    Version,
)
from astro_tui.airflow.urls import normalize_root_url

__all__ = [
    "AirflowClient",
    "Airflow3PasswordAuth",
    "BasicAuth",
    "BearerAuth",
    "Dialect",
    "DialectV1",
    "DialectV2",
    "dialect_for",
    "ApiError",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotAirflow",
    "NotFound",
    "RateLimited",
    "ServerError",
    "Timeout",
    "Unauthorized",
    "Unreachable",
    "error_from_response",
    "LogFollower",
    "ComponentHealth",
    "Dag",
    "DagDetails",
    "DagImportError",
    "DagRun",
    "Health",
    "LogChunk",
    "LogLine",
    "ParamSpec",
    "TaskInstance",
    "Version",
    "normalize_root_url",
]
