"""The Airflow API layer: pure asyncio + httpx, never Textual.

    client = await AirflowClient.connect(url, auth=BearerAuth(token))
    dags = await client.list_dags()
"""

# Loaded on first use (PEP 562): importing a submodule (models, urls) does not bring httpx and
# the client, which keeps the first paint from a saved DAG list quick.
_WHERE = {
    "Airflow3PasswordAuth": "astro_tui.airflow.auth",
    "BasicAuth": "astro_tui.airflow.auth",
    "BearerAuth": "astro_tui.airflow.auth",
    "AirflowClient": "astro_tui.airflow.client",
    "Dialect": "astro_tui.airflow.dialect",
    "DialectV1": "astro_tui.airflow.dialect",
    "DialectV2": "astro_tui.airflow.dialect",
    "dialect_for": "astro_tui.airflow.dialect",
    "ApiError": "astro_tui.airflow.errors",
    "Conflict": "astro_tui.airflow.errors",
    "Forbidden": "astro_tui.airflow.errors",
    "Invalid": "astro_tui.airflow.errors",
    "NotAirflow": "astro_tui.airflow.errors",
    "NotFound": "astro_tui.airflow.errors",
    "RateLimited": "astro_tui.airflow.errors",
    "ServerError": "astro_tui.airflow.errors",
    "Timeout": "astro_tui.airflow.errors",
    "Unauthorized": "astro_tui.airflow.errors",
    "Unreachable": "astro_tui.airflow.errors",
    "error_from_response": "astro_tui.airflow.errors",
    "LogFollower": "astro_tui.airflow.logs",
    "ComponentHealth": "astro_tui.airflow.models",
    "Dag": "astro_tui.airflow.models",
    "DagDetails": "astro_tui.airflow.models",
    "DagImportError": "astro_tui.airflow.models",
    "DagRun": "astro_tui.airflow.models",
    "Health": "astro_tui.airflow.models",
    "LogChunk": "astro_tui.airflow.models",
    "LogLine": "astro_tui.airflow.models",
    "ParamSpec": "astro_tui.airflow.models",
    "TaskInstance": "astro_tui.airflow.models",
    "Version": "astro_tui.airflow.models",
    "normalize_root_url": "astro_tui.airflow.urls",
}


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'astro_tui.airflow' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
