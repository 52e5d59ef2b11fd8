"""Normalized, frozen models parsed tolerantly from v1 (Airflow 2) and v2 (Airflow 3) JSON.

Unknown fields are ignored and missing optional fields become None, so a new server release or a
trimmed-down response does not break the UI. Each ``from_json`` accepts the shapes of both API
versions: the field names that differ are looked up in order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Literal, overload

__all__ = [
    "Version",
    "ComponentHealth",
    "Health",
    "Dag",
    "ParamSpec",
    "DagDetails",
    "DagRun",
    "TaskInstance",
    "DagImportError",
    "HitlUser",
    "HitlDetail",
    "HitlResponse",
    "LogLine",
    "LogChunk",
    "parse_datetime",
    "TERMINAL_TI_STATES",
    "TERMINAL_RUN_STATES",
]

TERMINAL_RUN_STATES = frozenset({"success", "failed"})
TERMINAL_TI_STATES = frozenset({"success", "failed", "skipped", "upstream_failed", "removed"})


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 (``Z`` or ``+00:00``) → aware datetime; anything unparsable → None."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


@overload
def _int(value: Any, default: int) -> int: ...


@overload
def _int(value: Any, default: None = None) -> int | None: ...


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return default
    return default


def _float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _first(data: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = data.get(key)
        if value is not None:
            return value
    return None


def _duration(data: Mapping[str, Any], start: datetime | None, end: datetime | None) -> float | None:
    duration = _float(data.get("duration"))
    if duration is None and start is not None and end is not None:
        duration = max(0.0, (end - start).total_seconds())
    return duration


_VERSION_RE = re.compile(r"^\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


@dataclass(frozen=True, slots=True, order=True)
class Version:
    major: int
    minor: int = 0
    patch: int = 0
    raw: str = field(default="", compare=False)

    @classmethod
    def parse(cls, raw: str) -> Version:
        """Parse "3.1.7+astro.1", "2.10.5", "3.0.0rc1", "3.0.0.dev0"; raises ValueError."""
        text = str(raw).split("+", 1)[0]
        match = _VERSION_RE.match(text)
        if not match:
            raise ValueError(f"not a version: {raw!r}")
        major, minor, patch = (int(g) if g else 0 for g in match.groups())
        return cls(major, minor, patch, str(raw))

    @property
    def as_tuple(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def __str__(self) -> str:
        return self.raw or f"{self.major}.{self.minor}.{self.patch}"


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    status: str | None
    latest_heartbeat: datetime | None = None


@dataclass(frozen=True, slots=True)
class Health:
    components: dict[str, ComponentHealth]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Health:
        components = {}
        for name, value in (data or {}).items():
            if not isinstance(value, Mapping):
                continue
            beat = next((v for k, v in value.items() if k.endswith("heartbeat")), None)
            components[name] = ComponentHealth(_str(value.get("status")), parse_datetime(beat))
        return cls(components)

    @property
    def healthy(self) -> bool:
        """True when every component that reports a status reports "healthy"."""
        return all(c.status in (None, "healthy") for c in self.components.values())

    def status_of(self, component: str) -> str | None:
        comp = self.components.get(component)
        return comp.status if comp else None


def _tags(value: Any) -> list[str]:
    tags = []
    for tag in value or ():
        if isinstance(tag, Mapping):
            name = tag.get("name")
            if name is not None:
                tags.append(str(name))
        elif tag is not None:
            tags.append(str(tag))
    return tags


def _render_schedule_interval(value: Any) -> str | None:
    """v1 ``schedule_interval`` ({"__type": "CronExpression", ...}) → short text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        return str(value)
    kind = value.get("__type")
    if kind == "CronExpression":
        return _str(value.get("value"))
    if kind in ("TimeDelta", "RelativeDelta"):
        parts = {k: v for k, v in value.items() if k != "__type" and v}
        if kind == "TimeDelta":
            td = timedelta(
                days=parts.get("days", 0) or 0,
                seconds=parts.get("seconds", 0) or 0,
                microseconds=parts.get("microseconds", 0) or 0,
            )
            return f"every {td}"
        return "every " + ", ".join(f"{v} {k}" for k, v in parts.items())
    return _str(value.get("value")) or kind


@dataclass(frozen=True, slots=True)
class DagsMark:
    """A cheap fingerprint of the DAG list (`AirflowClient.dags_mark`): None where unknown."""

    dags: int | None
    paused: int | None
    versions: int | None

    @classmethod
    def of(cls, dags: Sequence[Dag], versions: int | None) -> DagsMark:
        """The mark of a list read whole (`versions` counted before it was read)."""
        return cls(len(dags), sum(1 for d in dags if d.is_paused), versions)


@dataclass(frozen=True, slots=True)
class Dag:
    dag_id: str
    display_name: str
    is_paused: bool | None = None
    description: str | None = None
    owners: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    schedule: str | None = None
    next_run: datetime | None = None
    has_import_errors: bool | None = None
    fileloc: str | None = None

    @staticmethod
    def _common(data: Mapping[str, Any]) -> dict[str, Any]:
        dag_id = str(data.get("dag_id") or "")
        schedule = _first(data, "timetable_description", "timetable_summary")
        if schedule is None:
            schedule = _render_schedule_interval(data.get("schedule_interval"))
        return dict(
            dag_id=dag_id,
            display_name=str(data.get("dag_display_name") or dag_id),
            is_paused=_bool(data.get("is_paused")),
            description=_str(data.get("description")),
            owners=[str(o) for o in (data.get("owners") or ())],
            tags=_tags(data.get("tags")),
            schedule=_str(schedule),
            next_run=parse_datetime(
                _first(data, "next_dagrun_run_after", "next_dagrun_create_after", "next_dagrun")
            ),
            has_import_errors=_bool(data.get("has_import_errors")),
            fileloc=_str(data.get("fileloc")),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Dag:
        return cls(**cls._common(data))


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One DAG param: default ``value``, ``description`` and JSON ``schema`` (may be {})."""

    value: Any = None
    description: str | None = None
    schema: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> ParamSpec:
        # v1 / v2 3.0–3.1: {"__class": ..., "value", "description", "schema"};
        # v2 3.2+: {"value", "schema", "description", "source"}. Only three keys are read.
        if not isinstance(data, Mapping):
            return cls(value=data)
        schema = data.get("schema")
        return cls(
            value=data.get("value"),
            description=_str(data.get("description")),
            schema=dict(schema) if isinstance(schema, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class DagDetails(Dag):
    params: dict[str, ParamSpec] = field(default_factory=dict)
    doc_md: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DagDetails:
        raw = data.get("params")
        params = (
            {str(k): ParamSpec.from_json(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}
        )
        return cls(**cls._common(data), params=params, doc_md=_str(data.get("doc_md")))

    def default_conf(self) -> dict[str, Any]:
        """The conf a trigger form starts from: {name: default value}."""
        return {name: spec.value for name, spec in self.params.items()}


@dataclass(frozen=True, slots=True)
class DagRun:
    dag_id: str
    run_id: str
    state: str | None = None
    run_type: str | None = None
    logical_date: datetime | None = None
    run_after: datetime | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    conf: dict[str, Any] | None = None
    note: str | None = None
    triggered_by: str | None = None
    external_trigger: bool | None = None
    #: when the run was queued (v2 only; v1 runs do not say)
    queued_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DagRun:
        start = parse_datetime(data.get("start_date"))
        end = parse_datetime(data.get("end_date"))
        logical = parse_datetime(_first(data, "logical_date", "execution_date"))
        conf = data.get("conf")
        return cls(
            dag_id=str(data.get("dag_id") or ""),
            run_id=str(_first(data, "dag_run_id", "run_id") or ""),
            state=_str(data.get("state")),
            run_type=_str(data.get("run_type")),
            logical_date=logical,
            run_after=parse_datetime(data.get("run_after")) or logical,
            start_date=start,
            end_date=end,
            duration=_duration(data, start, end),
            conf=dict(conf) if isinstance(conf, Mapping) else None,
            note=_str(data.get("note")),
            triggered_by=_str(data.get("triggered_by")),
            external_trigger=_bool(data.get("external_trigger")),
            queued_at=parse_datetime(data.get("queued_at")),
        )

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_RUN_STATES


@dataclass(frozen=True, slots=True)
class TaskInstance:
    dag_id: str
    run_id: str
    task_id: str
    map_index: int = -1
    state: str | None = None
    try_number: int | None = None
    max_tries: int | None = None
    start_date: datetime | None = None
    end_date: datetime | None = None
    duration: float | None = None
    operator: str | None = None
    rendered_map_index: str | None = None
    task_display_name: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TaskInstance:
        start = parse_datetime(data.get("start_date"))
        end = parse_datetime(data.get("end_date"))
        state = data.get("state")
        return cls(
            dag_id=str(data.get("dag_id") or ""),
            run_id=str(_first(data, "dag_run_id", "run_id") or ""),
            task_id=str(data.get("task_id") or ""),
            map_index=_int(data.get("map_index"), -1),
            state=None if state in (None, "none") else str(state),
            try_number=_int(data.get("try_number")),
            max_tries=_int(data.get("max_tries")),
            start_date=start,
            end_date=end,
            duration=_duration(data, start, end),
            operator=_str(_first(data, "operator_name", "operator")),
            rendered_map_index=_str(data.get("rendered_map_index")),
            task_display_name=_str(data.get("task_display_name")),
            note=_str(data.get("note")),
        )

    @property
    def key(self) -> tuple[str, int]:
        return (self.task_id, self.map_index)

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_TI_STATES


@dataclass(frozen=True, slots=True)
class DagImportError:
    import_error_id: int | None
    filename: str | None
    stack_trace: str | None
    timestamp: datetime | None = None
    bundle_name: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DagImportError:
        return cls(
            import_error_id=_int(_first(data, "import_error_id", "id")),
            filename=_str(data.get("filename")),
            stack_trace=_str(_first(data, "stack_trace", "stacktrace")),
            timestamp=parse_datetime(data.get("timestamp")),
            bundle_name=_str(data.get("bundle_name")),
        )


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)):
        return ()
    return tuple(str(v) for v in value if v is not None)


@dataclass(frozen=True, slots=True)
class HitlUser:
    """A person of a human-in-the-loop request: an assigned user, or who answered."""

    id: str
    name: str

    @classmethod
    def from_json(cls, data: Any) -> HitlUser | None:
        if not isinstance(data, Mapping):
            return None
        user_id, name = _str(data.get("id")), _str(data.get("name"))
        if user_id is None and name is None:
            return None
        return cls(id=user_id or "", name=name or user_id or "")


def _users(value: Any) -> tuple[HitlUser, ...]:
    found = (HitlUser.from_json(u) for u in value) if isinstance(value, (list, tuple)) else ()
    return tuple(u for u in found if u is not None)


def _params(value: Any) -> dict[str, ParamSpec]:
    # 3.1.3+: {name: {"value", "schema", "description", "source"}}; 3.1.0-3.1.2: {name: value}
    if not isinstance(value, Mapping):
        return {}
    return {str(k): ParamSpec.from_json(v) for k, v in value.items()}


@dataclass(frozen=True, slots=True)
class HitlDetail:
    """A human-in-the-loop request (Airflow 3.1+ ``HITLDetail``) and its answer, if any."""

    task_instance: TaskInstance
    subject: str
    options: tuple[str, ...]
    body: str | None = None
    defaults: tuple[str, ...] | None = None
    multiple: bool = False
    params: dict[str, ParamSpec] = field(default_factory=dict)
    assigned_users: tuple[HitlUser, ...] = ()
    created_at: datetime | None = None
    response_received: bool = False
    responded_by: HitlUser | None = None
    responded_at: datetime | None = None
    chosen_options: tuple[str, ...] | None = None
    params_input: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HitlDetail:
        ti = data.get("task_instance")
        defaults, chosen = data.get("defaults"), data.get("chosen_options")
        params_input = data.get("params_input")
        responded_at = parse_datetime(data.get("responded_at"))
        received = _bool(data.get("response_received"))
        return cls(
            task_instance=TaskInstance.from_json(ti if isinstance(ti, Mapping) else {}),
            subject=str(data.get("subject") or ""),
            options=_strings(data.get("options")),
            body=_str(data.get("body")),
            defaults=None if defaults is None else _strings(defaults),
            multiple=bool(_bool(data.get("multiple"))),
            params=_params(data.get("params")),
            assigned_users=_users(data.get("assigned_users")),
            created_at=parse_datetime(data.get("created_at")),
            response_received=received if received is not None else responded_at is not None,
            responded_by=HitlUser.from_json(_first(data, "responded_by_user", "responded_by")),
            responded_at=responded_at,
            chosen_options=None if chosen is None else _strings(chosen),
            params_input=dict(params_input) if isinstance(params_input, Mapping) else {},
        )

    @property
    def key(self) -> tuple[str, str, str, int]:
        """(dag_id, run_id, task_id, map_index): what identifies the request."""
        ti = self.task_instance
        return (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)


@dataclass(frozen=True, slots=True)
class HitlResponse:
    """The server's answer to a response (``HITLDetailResponse``)."""

    responded_by: HitlUser | None
    responded_at: datetime | None
    chosen_options: tuple[str, ...]
    params_input: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HitlResponse:
        params_input = data.get("params_input")
        return cls(
            responded_by=HitlUser.from_json(_first(data, "responded_by", "responded_by_user")),
            responded_at=parse_datetime(data.get("responded_at")),
            chosen_options=_strings(data.get("chosen_options")),
            params_input=dict(params_input) if isinstance(params_input, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class DagWarning:
    """A DAG warning (v1 ``DagWarning``, v2 ``DagWarningResponse``): an asset conflict, a pool
    that does not exist, a runtime-varying value (3.2+)."""

    dag_id: str
    warning_type: str | None
    message: str | None
    timestamp: datetime | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DagWarning:
        return cls(
            dag_id=str(data.get("dag_id") or ""),
            warning_type=_str(data.get("warning_type")),
            message=_str(data.get("message")),
            timestamp=parse_datetime(data.get("timestamp")),
        )


@dataclass(slots=True)  # not frozen: 2.5x cheaper to build, and a big log has 1M of them
class LogLine:
    """One log entry, normalized (treat it as read-only).

    ``text`` never contains a newline: extra lines of the same entry (a rendered traceback from
    v2 ``error_detail``, or the rest of a multi-line event) are in ``detail``. ``group`` marks
    ``::group::`` ("start", text = the title) and ``::endgroup::`` ("end") markers. ``extras`` holds
    the entry's other keys (v2), to render as ``key=value``. ``raw`` is the line exactly as the
    server sent it, for plain-text lines (Airflow 2 logs, v2 string entries); None for structured
    entries.
    """

    text: str
    timestamp: datetime | None = None
    level: str | None = None
    logger: str | None = None
    group: Literal["start", "end"] | None = None
    detail: tuple[str, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)
    raw: str | None = None

    def lines(self) -> list[str]:
        """The display lines of this entry: its text, then its detail lines."""
        return [self.text, *self.detail]


@dataclass(frozen=True, slots=True)
class LogChunk:
    lines: list[LogLine]
    token: str | None = None
    end_of_log: bool = False
