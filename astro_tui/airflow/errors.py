"""One small error taxonomy for every failure of the Airflow API layer.

Every error carries a one-line human ``message`` (also its ``str()``), the HTTP ``status`` when
there was one, and a short machine ``kind``. Messages are built from response bodies only, never
from request headers, so they cannot contain the Authorization header; token-like strings that a
server might echo back are scrubbed anyway.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

__all__ = [
    "ApiError",
    "Unreachable",
    "TlsError",
    "Timeout",
    "Unauthorized",
    "Forbidden",
    "NotFound",
    "Conflict",
    "Invalid",
    "RateLimited",
    "ServerError",
    "NotAirflow",
    "Unsupported",
    "error_from_response",
    "parse_retry_after",
    "scrub",
]

_MAX_MESSAGE = 300

# Things that look like credentials: "Bearer <x>", "Basic <x>", JWTs, itsdangerous-like blobs are
# left alone (log tokens are not secrets), but JWT-shaped strings (three base64url parts starting
# with "eyJ") are treated as secrets.
_SECRET_PATTERNS = [
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r'(?i)("?(?:password|passwd|secret|token|access_token)"?\s*[:=]\s*)("[^"]*"|\'[^\']*\'|\S+)'),
]


def _scrub_scheme(match: re.Match[str]) -> str:
    """"Bearer <credential>" → "Bearer ***", but leave prose ("basic auth") alone."""
    value = match.group(0).split(None, 1)[1]
    plain_word = value.isalpha() and (value.islower() or value.isupper() or value.istitle())
    if plain_word and len(value) < 24:
        return match.group(0)
    return f"{match.group(1)} ***"


def scrub(text: str) -> str:
    """Remove credential-looking substrings and squash the text onto one line."""
    text = _SECRET_PATTERNS[0].sub(_scrub_scheme, text)
    text = _SECRET_PATTERNS[1].sub("***", text)
    text = _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}***", text)
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


class ApiError(Exception):
    """Base of all API errors. ``str(err)`` is the one-line message."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.message = scrub(message)
        self.status = status
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, message={self.message!r})"


class Unreachable(ApiError):
    """The server could not be reached (DNS, refused connection, TLS failure)."""

    kind = "unreachable"


class TlsError(Unreachable):
    """The TLS handshake failed: an untrusted, expired or wrong-host certificate, or a server
    that does not speak TLS. Retrying does not help; the profile (ca_bundle) or URL must change."""

    kind = "tls"


class Timeout(ApiError):
    """The server did not answer in time."""

    kind = "timeout"


class Unauthorized(ApiError):
    """401, or a login that failed: the credentials are missing, wrong or expired."""

    kind = "unauthorized"


class Forbidden(ApiError):
    """403: authenticated, but not allowed (or, on Airflow 2, bad credentials)."""

    kind = "forbidden"


class NotFound(ApiError):
    kind = "not_found"


class Conflict(ApiError):
    """409: e.g. a run with that id or logical date exists, or the TI already has that state."""

    kind = "conflict"


class Invalid(ApiError):
    """The server rejected the request (v1 400, v2 400/422), with field details in the message."""

    kind = "invalid"


class RateLimited(ApiError):
    kind = "rate_limited"

    def __init__(
        self, message: str, *, status: int | None = 429, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ServerError(ApiError):
    kind = "server_error"


class NotAirflow(ApiError):
    """The answer is not an Airflow API answer (HTML, a login page, plain text)."""

    kind = "not_airflow"


class Unsupported(ApiError):
    """The server's Airflow version lacks the feature (e.g. human-in-the-loop before 3.1).
    Raised before any request is sent."""

    kind = "unsupported"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())


def _flatten_validation(items: list[Any]) -> str:
    """v2 (pydantic) validation errors → "body.logical_date: Field required; …".

    Only ``loc`` and ``msg`` are used: ``input`` may echo the request body (passwords!).
    """
    parts = []
    for item in items:
        if isinstance(item, dict):
            loc = item.get("loc")
            msg = item.get("msg") or item.get("message") or item.get("type") or ""
            if isinstance(loc, (list, tuple)) and loc:
                where = ".".join(str(p) for p in loc)
                parts.append(f"{where}: {msg}" if msg else where)
            elif msg:
                parts.append(str(msg))
        elif item is not None:
            parts.append(str(item))
    return "; ".join(parts)


def _detail_text(detail: Any) -> str | None:
    if detail is None:
        return None
    if isinstance(detail, str):
        return detail or None
    if isinstance(detail, list):
        return _flatten_validation(detail) or None
    if isinstance(detail, dict):
        # 409 unique violation: {"reason", "statement", "orig_error", "message"}
        for key in ("message", "reason", "msg", "detail", "error"):
            value = detail.get(key)
            if isinstance(value, str) and value:
                reason = detail.get("reason")
                if key == "message" and isinstance(reason, str) and reason and reason not in value:
                    return f"{reason}: {value}"
                return value
        return json.dumps(detail, default=str)[:200]
    return str(detail)


def body_message(response: httpx.Response) -> tuple[str, bool]:
    """(message, is_json) from an error body, following the client rule of the API notes."""
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        data = None
    if isinstance(data, dict):
        text = _detail_text(data.get("detail"))
        if text is None:
            for key in ("error", "title", "message"):
                value = data.get(key)
                if isinstance(value, str) and value:
                    text = value
                    break
        if text is None:
            text = json.dumps(data, default=str)[:200]
        return text, True
    if data is not None:
        return json.dumps(data, default=str)[:200], True
    raw = response.text if response.content else ""
    return raw.strip()[:200], False


def _looks_like_json(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    return "json" in ctype


def not_airflow(response: httpx.Response) -> NotAirflow:
    ctype = response.headers.get("content-type", "").split(";")[0].strip() or "no content type"
    return NotAirflow(
        f"{response.request.url.copy_with(query=None)} answered {response.status_code} with "
        f"{ctype}, not the Airflow API: the URL is probably wrong, or a login page or proxy "
        "is in the way",
        status=response.status_code,
    )


_BY_STATUS: dict[int, type[ApiError]] = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def error_from_response(response: httpx.Response) -> ApiError:
    """Build the right ApiError for a non-2xx (or non-JSON) response."""
    status = response.status_code
    text, is_json = body_message(response)
    if not is_json and not _looks_like_json(response) and 200 <= status < 300:
        return not_airflow(response)
    if not is_json and "html" in response.headers.get("content-type", "").lower():
        if status in (401, 403):
            denied: type[ApiError] = Unauthorized if status == 401 else Forbidden
            return denied(f"HTTP {status}: access denied (the server answered with an HTML page)",
                          status=status)
        if status < 500 and status != 429:
            return not_airflow(response)
    reason = response.reason_phrase or ""
    message = f"HTTP {status} {reason}".strip()
    if text and text.strip().lower() != reason.lower():
        message = f"{message}: {text}"
    if status == 403 and "problem+json" in response.headers.get("content-type", ""):
        # Airflow 2 answers 403 (not 401) to a wrong or missing username/password.
        message += " (on Airflow 2 this also means a wrong username or password)"
    if status == 429:
        return RateLimited(
            message,
            status=status,
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    cls = _BY_STATUS.get(status)
    if cls is None:
        if status >= 500:
            cls = ServerError
        elif status in (405, 406, 413, 415):
            cls = Invalid
        else:
            cls = ApiError
    return cls(message, status=status)
