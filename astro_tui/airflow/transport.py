"""The HTTP layer under the client: the one httpx client (TLS, proxies, timeouts) and the
translation of transport failures (refused, timed out, TLS handshake) into plain-words errors."""

from __future__ import annotations

import os
import ssl

import httpx

from astro_tui import __version__
from astro_tui.airflow.errors import ApiError, Timeout, TlsError, Unreachable

__all__ = ["DEFAULT_TIMEOUT", "make_http", "ssl_cause", "transport_error"]

DEFAULT_TIMEOUT = httpx.Timeout(10.0, read=30.0)


def make_http(
    *,
    auth: httpx.Auth | None,
    verify: bool | str | ssl.SSLContext,
    transport: httpx.AsyncBaseTransport | None,
) -> httpx.AsyncClient:
    """The one httpx client. ``verify``: True (system/certifi CAs; ``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` are honoured), False, an SSLContext, or a CA bundle path (turned into an
    SSLContext here: httpx 0.28 deprecates path strings). ``trust_env`` stays on, so the
    standard HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY variables apply, as in curl."""
    if isinstance(verify, str):
        verify = (ssl.create_default_context(capath=verify) if os.path.isdir(verify)
                  else ssl.create_default_context(cafile=verify))
    try:
        return httpx.AsyncClient(
            auth=auth,
            verify=verify,
            transport=transport,
            trust_env=True,
            timeout=DEFAULT_TIMEOUT,
            follow_redirects=False,
            headers={"Accept": "application/json", "User-Agent": f"astro-tui/{__version__}"},
        )
    except (ValueError, ImportError) as exc:  # a socks:// proxy without socksio, ftp://, …
        # httpx shows a proxy URL's password as [secure]; scrub() catches the rest.
        raise ApiError(f"cannot use the proxy set in the environment (HTTPS_PROXY, HTTP_PROXY,"
                       f" ALL_PROXY): {exc}") from None


def ssl_cause(exc: BaseException) -> ssl.SSLError | None:
    """The ssl error behind an httpx error (httpx → httpcore → ssl), if there is one."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, ssl.SSLError):
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def _tls_error(err: ssl.SSLError, host: str) -> TlsError:
    """Plain words for a failed handshake; the one fix the user can make comes last."""
    if isinstance(err, ssl.SSLCertVerificationError):
        detail = err.verify_message or err.reason or "verification failed"
        code = err.verify_code
        if "hostname mismatch" in detail.lower() or "ip address mismatch" in detail.lower():
            return TlsError(f"TLS certificate of {host} is for another host ({detail}):"
                            " check the URL's host name")
        if code == 10 or "expired" in detail.lower():  # X509_V_ERR_CERT_HAS_EXPIRED
            return TlsError(f"TLS certificate of {host} has expired ({detail}): the server"
                            " needs a new certificate")
        return TlsError(f"TLS certificate not trusted: {host} ({detail}); set ca_bundle in the"
                        " profile to the CA that signed it")
    reason = err.reason or type(err).__name__
    hint = (": is it really an https server? check the URL's scheme and port"
            if reason.upper() in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE",
                                  "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_EOF_WHILE_READING")
            else "")
    return TlsError(f"TLS handshake with {host} failed ({reason.lower().replace('_', ' ')})"
                    f"{hint}")


def host_port(url: str) -> str:
    """`host:port` of a URL, the port always shown (the default one of its scheme too), an
    IPv6 host in brackets; the URL itself if it has no host."""
    try:
        u = httpx.URL(url)
    except httpx.InvalidURL:
        return url
    if not u.host:
        return url
    port = u.port or (443 if u.scheme == "https" else 80)
    host = f"[{u.host}]" if ":" in u.host else u.host
    return f"{host}:{port}"


def transport_error(exc: httpx.HTTPError, url: str) -> ApiError:
    host = host_port(url)
    if isinstance(exc, httpx.TimeoutException):
        what = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return Timeout(f"timed out {what} {host}")
    ssl_err = ssl_cause(exc)
    if ssl_err is not None:  # (a certificate is about the host name, whatever the port)
        return _tls_error(ssl_err, httpx.URL(url).host or url)
    reason = str(exc) or type(exc).__name__
    return Unreachable(f"cannot reach {host}: {reason}")
