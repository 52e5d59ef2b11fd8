"""A logging TCP relay: one JSON line per HTTP request, and whether the client gave up on it.

A copy of bench/relay.py's idea (bytes relayed untouched) that also parses the server's answer
enough to know when it is complete (Content-Length or chunked), so a client that closes its
connection before the answer is complete is recorded as an *abandoned* request.

    python -m bench.crash.relay_log --upstream 127.0.0.1:PORT --port 18080 --log /tmp/req.jsonl

Each line: {"t": seconds since relay start, "conn": connection number, "method", "path" (with
query), "status", "bytes", "dur": seconds to the complete answer (or to the abandon),
"abandoned": true if the client closed the connection first, "closed_by": "client" or
"server" when the connection closed before the answer was complete}. Open connections are logged as
{"event": "open"/"close", "conn", "t", "open_now"} so the peak concurrency shows too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import time

REQUEST_LINE = re.compile(rb"(GET|POST|PATCH|PUT|DELETE|HEAD|OPTIONS) (\S+) HTTP/1\.[01]\r\n")


class Answer:
    """Just enough HTTP/1.1 response parsing to tell when one answer is complete."""

    def __init__(self) -> None:
        self.buf = b""
        self.head_done = False
        self.status = None
        self.length: int | None = None
        self.chunked = False
        self.body = 0
        self.total = 0

    def feed(self, data: bytes) -> bytes:
        """Consume bytes of this answer; return bytes left over (the start of the next one)."""
        self.total += len(data)
        if not self.head_done:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return b""
            head, rest = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
            self.buf = b""
            self.head_done = True
            lines = head.split("\r\n")
            try:
                self.status = int(lines[0].split()[1])
            except (IndexError, ValueError):
                self.status = None
            for line in lines[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    self.length = int(v.strip())
                elif k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
                    self.chunked = True
            data = rest
            self.total -= len(rest)
            return self.feed(data) if data else b""
        if self.chunked:
            self.buf += data
            if self.buf.endswith(b"0\r\n\r\n"):
                self.body += len(self.buf)
                self.buf = b""
                self.length = self.body
            return b""
        need = (self.length or 0) - self.body
        self.body += min(need, len(data))
        return data[need:] if len(data) > need else b""

    @property
    def complete(self) -> bool:
        return self.head_done and self.length is not None and self.body >= self.length


class Relay:
    def __init__(self, upstream: tuple[str, int], port: int, log) -> None:
        self.upstream = upstream
        self.port = port
        self.log = log
        self.t0 = time.monotonic()
        self.conns = 0
        self.open_now = 0

    def emit(self, rec: dict) -> None:
        rec["t"] = round(time.monotonic() - self.t0, 3)
        self.log.write(json.dumps(rec) + "\n")
        self.log.flush()

    async def handle(self, creader, cwriter) -> None:
        self.conns += 1
        conn = self.conns
        try:
            sreader, swriter = await asyncio.open_connection(*self.upstream)
        except OSError:
            cwriter.close()
            return
        self.open_now += 1
        self.emit({"event": "open", "conn": conn, "open_now": self.open_now})
        pending: list[dict] = []  # requests sent, answers not complete yet (no pipelining: 0-1)

        def finish(req: dict, abandoned: bool, by: str | None = None) -> None:
            ans: Answer = req.pop("_ans")
            req.update(status=ans.status, bytes=ans.total, abandoned=abandoned, closed_by=by,
                       dur=round(time.monotonic() - req.pop("_t"), 3))
            self.emit(req)

        async def client_to_server() -> None:
            while data := await creader.read(65536):
                for m in REQUEST_LINE.finditer(data):
                    pending.append({"conn": conn, "method": m.group(1).decode(),
                                    "path": m.group(2).decode("latin-1"),
                                    "_t": time.monotonic(), "_ans": Answer()})
                swriter.write(data)
                await swriter.drain()
            # The client closed its side: anything unanswered is abandoned.
            while pending:
                finish(pending.pop(0), abandoned=True, by="client")
            swriter.close()

        async def server_to_client_raw() -> None:
            while data := await sreader.read(65536):
                cwriter.write(data)
                try:
                    await cwriter.drain()
                except (ConnectionError, OSError):
                    break
                rest = data
                while rest and pending:
                    rest = pending[0]["_ans"].feed(rest)
                    if pending[0]["_ans"].complete:
                        finish(pending.pop(0), abandoned=False)
            cwriter.close()

        try:
            await asyncio.gather(client_to_server(), server_to_client_raw(),
                                 return_exceptions=True)
        finally:
            while pending:  # the server closed (or died) before answering
                finish(pending.pop(0), abandoned=False, by="server")
            for w in (cwriter, swriter):
                try:
                    w.close()
                except RuntimeError:
                    pass
            self.open_now -= 1
            self.emit({"event": "close", "conn": conn, "open_now": self.open_now})

    async def serve(self) -> None:
        server = await asyncio.start_server(self.handle, "127.0.0.1", self.port)
        async with server:
            await server.serve_forever()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True, help="host:port of the api-server")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    host, _, port = args.upstream.rpartition(":")
    with open(args.log, "a") as log:
        relay = Relay((host, int(port)), args.port, log)
        print(f"relay 127.0.0.1:{args.port} -> {args.upstream}, log {args.log}", file=sys.stderr)
        try:
            asyncio.run(relay.serve())
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
