"""Loopback TLS and proxy helpers for the TLS/proxy tests: real sockets, no mocks of httpx.

* :func:`make_pki` makes a throwaway CA and a server certificate (openssl CLI) valid for
  127.0.0.1, localhost and any extra DNS names, e.g. a made-up "airflow.example.com".
* :class:`TlsTerminator` listens on 127.0.0.1 with that certificate and relays the decrypted
  bytes to a plain-http upstream (the real Airflow): an https front door, as a load balancer gives.
* :class:`ForwardProxy` is an HTTP forward proxy: CONNECT tunnels and absolute-URI requests
  (``GET http://host/path``). It logs every request, and routes host names through ``routes``
  (``{"airflow.example.com:443": ("127.0.0.1", 8443)}``) so that made-up remote names work
  offline; a host that is neither routed nor loopback is refused (502), so nothing leaves the box.

Each helper runs its own asyncio loop in a daemon thread; ``stop()`` closes every socket and joins.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

OPENSSL = "openssl"


@dataclass(frozen=True)
class Pki:
    ca: Path  # the CA certificate (what a profile's ca_bundle points at)
    cert: Path  # the server certificate
    key: Path  # the server key
    other_ca: Path  # an unrelated CA: a bundle that does NOT trust the server


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    if proc.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed: {proc.stderr.strip()}")


def _make_ca(d: Path, name: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
             "-subj", f"/CN=astro-tui test {name}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign",
             "-addext", "subjectKeyIdentifier=hash", cwd=d)


def make_pki(directory: Path, dns_names: tuple[str, ...] = ()) -> Pki:
    """A throwaway CA, a server certificate it signed (SAN IP:127.0.0.1, DNS:localhost and
    ``dns_names``), and a second CA that signed nothing."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    _make_ca(d, "ca")
    _make_ca(d, "other-ca")
    san = ",".join(["IP:127.0.0.1", "DNS:localhost", *(f"DNS:{n}" for n in dns_names)])
    (d / "server.ext").write_text(
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n"
        f"subjectAltName={san}\n")
    _openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1",
             cwd=d)
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem",
             cwd=d)
    return Pki(ca=d / "ca.pem", cert=d / "server.pem", key=d / "server.key",
               other_ca=d / "other-ca.pem")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                seen: bytearray | None = None, limit: int = 1 << 20) -> None:
    try:
        while chunk := await reader.read(65536):
            if seen is not None and len(seen) < limit:
                seen += chunk[: limit - len(seen)]
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, OSError, asyncio.IncompleteReadError):
        pass
    finally:
        with contextlib.suppress(Exception):
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()


async def _relay(a_reader, a_writer, b_reader, b_writer, seen: bytearray | None = None) -> None:
    """Bytes both ways until both sides are done; then close both."""
    try:
        await asyncio.gather(_pipe(a_reader, b_writer, seen), _pipe(b_reader, a_writer))
    finally:
        for w in (a_writer, b_writer):
            with contextlib.suppress(Exception):
                w.close()


class _LoopThread:
    """An asyncio loop in a daemon thread, with a set of live connection tasks to cancel."""

    def __init__(self, name: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.set_exception_handler(lambda loop, context: None)  # handshake noise
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task] = set()
        self.port = 0

    def _call(self, coro, timeout: float = 10):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def _track(self) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _listen(self, handler, ssl_ctx: ssl.SSLContext | None = None) -> None:
        self._server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=ssl_ctx,
                                                  ssl_handshake_timeout=5 if ssl_ctx else None)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    def start(self, handler, ssl_ctx: ssl.SSLContext | None = None) -> None:
        self._thread.start()
        self._call(self._listen(handler, ssl_ctx))

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        with contextlib.suppress(Exception):
            self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


class TlsTerminator(_LoopThread):
    """https://127.0.0.1:PORT in front of a plain-http upstream (host, port)."""

    def __init__(self, upstream: tuple[str, int], cert: Path, key: Path) -> None:
        super().__init__("tls-terminator")
        self.upstream = upstream
        self.ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ctx.load_cert_chain(cert, key)
        #: connections whose TLS handshake completed (a failed handshake never reaches us)
        self.connections = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self) -> TlsTerminator:  # type: ignore[override]
        super().start(self._handle, self.ctx)
        return self

    async def _handle(self, reader, writer) -> None:
        self._track()
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        await _relay(reader, writer, up_reader, up_writer)


@dataclass
class ProxyLog:
    at: float
    method: str  # CONNECT, GET, POST, ...
    target: str  # "host:port" for CONNECT, the absolute URI otherwise
    headers: dict[str, str] = field(default_factory=dict)
    #: bytes the client sent through a CONNECT tunnel (TLS records: must not show a secret)
    tunnelled: bytearray = field(default_factory=bytearray)


class ForwardProxy(_LoopThread):
    """An HTTP forward proxy on 127.0.0.1 that logs each request and tunnel."""

    def __init__(self, routes: dict[str, tuple[str, int]] | None = None) -> None:
        super().__init__("forward-proxy")
        self.routes = dict(routes or {})
        self.log: list[ProxyLog] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ForwardProxy:  # type: ignore[override]
        super().start(self._handle)
        return self

    def clear(self) -> None:
        self.log.clear()

    def _route(self, host: str, port: int) -> tuple[str, int] | None:
        hit = self.routes.get(f"{host}:{port}")
        if hit:
            return hit
        if host in ("127.0.0.1", "localhost", "::1"):
            return host, port
        return None  # never leave the machine

    async def _handle(self, reader, writer) -> None:
        self._track()
        try:
            await self._serve(reader, writer)
        except (ConnectionError, OSError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _serve(self, reader, writer) -> None:
        while True:  # one absolute-URI request after another on a kept-alive connection
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                return
            lines = head.decode("latin-1").split("\r\n")
            method, target, version = lines[0].split(" ", 2)
            headers: dict[str, str] = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            entry = ProxyLog(time.monotonic(), method, target, headers)
            self.log.append(entry)
            if method == "CONNECT":
                await self._tunnel(entry, reader, writer)
                return
            if not await self._forward(method, target, version, headers, reader, writer):
                return

    async def _refuse(self, writer, status: str) -> None:
        writer.write(f"HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                     .encode())
        await writer.drain()

    async def _tunnel(self, entry: ProxyLog, reader, writer) -> None:
        host, _, port = entry.target.rpartition(":")
        dest = self._route(host.strip("[]"), int(port))
        if dest is None:
            await self._refuse(writer, "502 Bad Gateway")
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*dest)
        except OSError:
            await self._refuse(writer, "502 Bad Gateway")
            return
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()
        await _relay(reader, writer, up_reader, up_writer, entry.tunnelled)

    async def _forward(self, method, target, version, headers, reader, writer) -> bool:
        """One absolute-URI request: sent upstream with Connection: close, the answer relayed
        whole. Returns whether the client connection may carry another request."""
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        if parts.scheme != "http" or not parts.hostname:
            await self._refuse(writer, "400 Bad Request")
            return False
        dest = self._route(parts.hostname, parts.port or 80)
        if dest is None:
            await self._refuse(writer, "502 Bad Gateway")
            return False
        length = int(headers.get("content-length", "0") or 0)
        body = await reader.readexactly(length) if length else b""
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        drop = {"proxy-connection", "connection", "keep-alive", "proxy-authorization"}
        out = [f"{method} {path} {version}"]
        out += [f"{k}: {v}" for k, v in headers.items() if k not in drop]
        out += ["connection: close", "", ""]
        try:
            up_reader, up_writer = await asyncio.open_connection(*dest)
        except OSError:
            await self._refuse(writer, "502 Bad Gateway")
            return False
        try:
            up_writer.write("\r\n".join(out).encode("latin-1") + body)
            await up_writer.drain()
            answer = await up_reader.read()  # upstream closes after the answer
        finally:
            up_writer.close()
        writer.write(answer)  # carries the upstream's "connection: close" too
        await writer.drain()
        return False
