"""A FakeDeployment whose running task (example_long's `tick`, try 1) writes its log while the
test watches: `grow(n)` appends n "tick" entries, `finish()` ends the try. The log route behaves
like Airflow 3.3.2 (continuation tokens carry the line position; a null token is the end), and
every log read is recorded with the number of entries and bytes it returned.

`gate` (an asyncio.Event) holds log reads back until it is set: for the loading indicator.
"""

from __future__ import annotations

import asyncio
import base64
import json

import httpx

from tests.ui.fake import FakeDeployment, _json

HEADER = [
    {"event": "::group::Log message source details"},
    {"event": "/airflow/logs/dag_id=example_long/task_id=tick/attempt=1.log"},
    {"event": "::endgroup::"},
]


def make_token(pos: int) -> str:
    raw = json.dumps({"end_of_log": False, "log_pos": pos}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=") + ".c2lnbmF0dXJl"


def tick(i: int, level: str = "info") -> dict:
    return {"timestamp": f"2026-11-25T10:07:{i % 60:02d}.{i:06d}Z", "event": f"tick {i} of 300",
            "level": level, "logger": "example_long"}


class LogFake(FakeDeployment):
    def __init__(self) -> None:
        super().__init__()
        self.long_run = self.run("example_long")["dag_run_id"]
        self.ticks: list[dict] = []
        self.reads: list[tuple[str | None, int, int]] = []  # (token sent, entries, bytes)
        self.gate: asyncio.Event | None = None

    @property
    def tick_ti(self) -> dict:
        return self.tis[f"example_long {self.long_run}"][0]

    def grow(self, n: int, level: str = "info") -> None:
        start = len(self.ticks) + 1
        self.ticks.extend(tick(i, level) for i in range(start, start + n))

    def finish(self, state: str = "success") -> None:
        self.tick_ti.update(state=state, end_date="2026-11-25T10:08:00Z", duration=75.0)

    def _task_instances(self, dag_id: str, run_id: str, rest: list[str], params):
        if dag_id == "example_long" and rest[:1] == ["tick"]:
            if len(rest) >= 3 and rest[1] == "logs":
                return self._tick_log(params.get("token"))
            return _json(200, self.tick_ti)
        return super()._task_instances(dag_id, run_id, rest, params)

    def _tick_log(self, token: str | None) -> httpx.Response:
        if token is None:
            pos, content = 0, HEADER + self.ticks
        else:
            payload = token.split(".")[0]
            pos = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))[
                "log_pos"]
            content = self.ticks[pos:]
        done = self.tick_ti["state"] != "running"
        body = {"content": content,
                "continuation_token": None if done else make_token(len(self.ticks))}
        response = _json(200, body)
        self.reads.append((token, len(content), len(response.content)))
        return response

    async def _async_handler(self, request: httpx.Request) -> httpx.Response:
        if self.gate is not None and "/logs/" in request.url.path:
            await self.gate.wait()
        return self.handler(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self._async_handler)
