"""A small fault-injecting HTTP proxy on 127.0.0.1, between the app and a real Airflow.

It runs its own asyncio loop in a thread. Tests switch `proxy.fault` at runtime; every request is
logged (method, path, fault applied) so tests can assert, e.g., that no POST was ever retried.

Faults:
  None             forward to the real server
  "refuse"         close the listening socket: connections are refused
  "hang"           accept and read the request, never answer
  "trickle"        answer slowly, a few bytes at a time
  "reset"          send the status line and part of the body, then reset the connection
  "truncated"      a complete 200 answer whose JSON body is cut in half
  "html"           200 text/html, as a wrong URL or a login page gives
  401 … 504        that status, with a JSON body (429 adds Retry-After); `proxy.body` replaces
                   the default body (e.g. a hostile error message)
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass

import httpx

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-encoding",
               "content-length", "proxy-connection", "upgrade"}
REASONS = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}


@dataclass
class Logged:
    at: float
    method: str
    path: str
    fault: object


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.fault: object = None
        self.body: bytes | None = None  # the body of status faults (None: a plain detail)
        self.log: list[Logged] = []
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._client: httpx.AsyncClient | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._open())
        return self

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def set(self, fault: object) -> None:
        """Switch the fault; "refuse" closes the port, anything else (re)opens it."""
        if fault == "refuse":
            self._call(self._close_listener())
        elif self._server is None:
            self._call(self._listen())
        self.fault = fault

    def requests(self, since: float = 0.0, method: str | None = None) -> list[Logged]:
        return [r for r in self.log if r.at >= since and (method is None or r.method == method)]

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)

    async def _open(self) -> None:
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(60.0))
        await self._listen()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port,
                                                  reuse_address=True)

    async def _close_listener(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _close(self) -> None:
        await self._close_listener()
        if self._client is not None:
            await self._client.aclose()

    # -- one connection = one request (we answer with Connection: close) ----------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
        length = int(next((v for k, v in headers.items() if k.lower() == "content-length"), 0))
        body = await reader.readexactly(length) if length else b""
        fault = self.fault
        self.log.append(Logged(time.monotonic(), method, target.split("?")[0], fault))
        try:
            await self._answer(writer, fault, method, target, headers, body)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            try:
                writer.close()
            except RuntimeError:
                pass

    async def _answer(self, writer, fault, method, target, headers, body) -> None:
        if fault == "hang":
            await asyncio.sleep(3600)
            return
        if fault == "html":
            self._write(writer, 200, b"<!doctype html><html><body>Sign in</body></html>",
                        {"content-type": "text/html; charset=utf-8"})
            return
        if isinstance(fault, int):
            extra = {"retry-after": "2"} if fault == 429 else {}
            self._write(writer, fault, self.body or b'{"detail": "injected fault"}',
                        {"content-type": "application/json", **extra})
            return
        assert self._client is not None
        fwd = {k: v for k, v in headers.items() if k.lower() not in HOP_HEADERS | {"host"}}
        resp = await self._client.request(method, self.upstream + target, headers=fwd,
                                          content=body)
        out = {k: v for k, v in resp.headers.items() if k.lower() not in HOP_HEADERS}
        content = resp.content
        if fault == "truncated":
            content = content[: max(1, len(content) // 2)]
        if fault == "reset":
            status = f"HTTP/1.1 {resp.status_code} OK\r\ncontent-length: {len(content)}\r\n\r\n"
            writer.write(status.encode() + content[: len(content) // 3])
            await writer.drain()
            writer.transport.abort()
            return
        if fault == "trickle":
            data = self._raw(resp.status_code, content, out)
            for i in range(0, len(data), 256):  # about 1.3 KB/s
                writer.write(data[i:i + 256])
                await writer.drain()
                await asyncio.sleep(0.2)
            return
        self._write(writer, resp.status_code, content, out)

    def _raw(self, status: int, content: bytes, headers: dict) -> bytes:
        head = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head += [f"content-length: {len(content)}", "connection: close", "", ""]
        return "\r\n".join(head).encode("latin-1") + content

    def _write(self, writer, status: int, content: bytes, headers: dict) -> None:
        writer.write(self._raw(status, content, headers))
