"""A counting TCP relay on 127.0.0.1: what a client costs the server, on the wire.

Bytes are relayed untouched (gzip stays gzip, keep-alive stays keep-alive), so the counts are what
the client really sends and receives. HTTP/1.1 requests are recognised by their request line in
the client's stream; since neither httpx nor flowrs pipelines, the bytes the server sends between
two requests on one connection are the answer to the first, and are added to it.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass

REQUEST_LINE = re.compile(rb"(GET|POST|PATCH|PUT|DELETE|HEAD|OPTIONS) (\S+) HTTP/1\.[01]\r\n")


@dataclass
class Request:
    at: float
    method: str
    path: str
    up: int = 0    # bytes client -> server (request line, headers, body)
    down: int = 0  # bytes server -> client (the answer, as sent: compressed if gzip)


class Relay:
    """`mode` (tests of a deployment in trouble): "relay" (normal), "hang" (requests are
    swallowed: the server looks hung), "refuse" (every connection is cut at once: down)."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.requests: list[Request] = []
        self.connections = 0
        self.mode = "relay"
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> Relay:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def set_mode(self, mode: str) -> None:
        """Switch to `mode`; "refuse" and "hang" also cut the open connections (a hung server
        answers nothing more on them either)."""
        assert mode in ("relay", "hang", "refuse"), mode
        self.mode = mode

        async def cut() -> None:
            for writer in list(self._open):
                writer.transport.abort()

        if mode != "relay":
            asyncio.run_coroutine_threadsafe(cut(), self._loop).result(10)

    def since(self, t0: float, path_part: str = "") -> list[Request]:
        return [r for r in list(self.requests) if r.at >= t0 and path_part in r.path]

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def _handle(self, creader: asyncio.StreamReader, cwriter: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "refuse":
            cwriter.transport.abort()
            return
        if self.mode == "hang":
            self._open.add(cwriter)
            try:
                while await creader.read(65536):
                    pass  # swallowed: no answer ever
            except (ConnectionError, OSError):
                pass
            finally:
                self._open.discard(cwriter)
            return
        try:
            sreader, swriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            cwriter.close()
            return
        current: list[Request | None] = [None]
        self._open.update((cwriter, swriter))

        async def client_to_server() -> None:
            while data := await creader.read(65536):
                starts = list(REQUEST_LINE.finditer(data))
                pos = 0
                for m in starts:
                    if current[0] is not None:
                        current[0].up += m.start() - pos
                    req = Request(time.monotonic(), m.group(1).decode(),
                                  m.group(2).decode("latin-1").split("?")[0])
                    self.requests.append(req)
                    current[0] = req
                    pos = m.start()
                if current[0] is not None:
                    current[0].up += len(data) - pos
                swriter.write(data)
                await swriter.drain()
            swriter.close()

        async def server_to_client() -> None:
            while data := await sreader.read(65536):
                if current[0] is not None:
                    current[0].down += len(data)
                cwriter.write(data)
                await cwriter.drain()
            cwriter.close()

        try:
            await asyncio.gather(client_to_server(), server_to_client())
        except (ConnectionError, OSError):
            pass
        finally:
            self._open.difference_update((cwriter, swriter))
            for w in (cwriter, swriter):
                try:
                    w.close()
                except RuntimeError:
                    pass
