"""URL helpers shared by the client and the auth classes."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["normalize_root_url", "quote_segment"]

_TAIL_RE = re.compile(r"(?:/home|/api/v[12])$", re.IGNORECASE)
_API_PATH = re.compile(r"/api/v[12](?:/|$)", re.IGNORECASE)


def normalize_root_url(url: str) -> str:
    """The Airflow root URL from whatever the user pasted.

    Strips a query string and fragment, user info (credentials belong in the profile, not in a
    URL that ends up in titles and error messages), trailing slashes, ``/home``, ``/api/v1`` and
    ``/api/v2`` (and anything after them). A URL without a scheme gets ``https://`` (Astro's
    ``webServerAirflowApiUrl``).
    """
    url = url.strip()
    if not url:
        raise ValueError("empty URL")
    if "://" not in url:
        url = "https://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {parts.scheme!r}: use http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL has no host name")
    netloc = parts.hostname
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    path = parts.path
    if match := _API_PATH.search(path):  # a pasted endpoint URL: keep what is before /api/vN
        path = path[: match.start()]
    path = path.rstrip("/")
    while True:
        stripped = _TAIL_RE.sub("", path).rstrip("/")
        if stripped == path:
            break
        path = stripped
    return urlunsplit((parts.scheme.lower(), netloc.lower(), path, "", ""))


def quote_segment(segment: object) -> str:
    """Quote one path segment: run ids contain ``+`` and ``:``, task ids contain dots."""
    return quote(str(segment), safe="")
