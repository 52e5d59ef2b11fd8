"""The Watcher's events as Textual messages: one class per event, handled with `@on(...)`.

The Watcher calls back on the app's event loop; `post_event` wraps the event in its message and
posts it to the widget that subscribed, so handlers run in Textual's message order.
"""

from __future__ import annotations

from textual.message import Message
from textual.message_pump import MessagePump

from astro_tui.watch.events import (
    Connected,
    DagsChanged,
    Event,
    HealthChanged,
    ImportErrorsChanged,
    InboxChanged,
    LogRead,
    PollFailed,
    RunEnded,
    RunsChanged,
    TasksChanged,
)


class WatchConnected(Message):
    def __init__(self, event: Connected) -> None:
        super().__init__()
        self.event = event


class DagsUpdated(Message):
    def __init__(self, event: DagsChanged) -> None:
        super().__init__()
        self.event = event


class RunsUpdated(Message):
    def __init__(self, event: RunsChanged) -> None:
        super().__init__()
        self.event = event


class TasksUpdated(Message):
    def __init__(self, event: TasksChanged) -> None:
        super().__init__()
        self.event = event


class LogUpdated(Message):
    def __init__(self, event: LogRead) -> None:
        super().__init__()
        self.event = event


class HealthUpdated(Message):
    def __init__(self, event: HealthChanged) -> None:
        super().__init__()
        self.event = event


class ImportErrorsUpdated(Message):
    def __init__(self, event: ImportErrorsChanged) -> None:
        super().__init__()
        self.event = event


class InboxUpdated(Message):
    def __init__(self, event: InboxChanged) -> None:
        super().__init__()
        self.event = event


class RunFinished(Message):
    def __init__(self, event: RunEnded) -> None:
        super().__init__()
        self.event = event


class WatchFailed(Message):
    def __init__(self, event: PollFailed) -> None:
        super().__init__()
        self.event = event


def to_message(event: Event) -> Message:
    if isinstance(event, DagsChanged):
        return DagsUpdated(event)
    if isinstance(event, RunsChanged):
        return RunsUpdated(event)
    if isinstance(event, TasksChanged):
        return TasksUpdated(event)
    if isinstance(event, LogRead):
        return LogUpdated(event)
    if isinstance(event, HealthChanged):
        return HealthUpdated(event)
    if isinstance(event, ImportErrorsChanged):
        return ImportErrorsUpdated(event)
    if isinstance(event, InboxChanged):
        return InboxUpdated(event)
    if isinstance(event, PollFailed):
        return WatchFailed(event)
    if isinstance(event, RunEnded):
        return RunFinished(event)
    return WatchConnected(event)


def poster(target: MessagePump):
    """A Watcher callback that posts each event to `target` as its message."""

    def post(event: Event) -> None:
        target.post_message(to_message(event))

    return post
