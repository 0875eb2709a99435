"""One generation worker with a bounded queue: a llama.cpp context is not thread-safe, so every answer is made
by the same thread, one at a time. Requests wait in line (depth and waits are measured for the dashboard); a
request whose client went away is skipped, or stopped at its next token."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any


class QueueFull(Exception):
    """More requests are waiting than ``queue_max`` allows."""


class Cancelled(Exception):
    """The client went away; raised inside the generation (from ``on_token``) to stop it."""


_DONE = object()


class Job:
    """A generation request. ``fn(job)`` runs on the worker thread; it may ``emit`` events (thread-safe) that
    the request handler reads with ``events()``; its return value is the last event."""

    def __init__(self, fn: Callable[[Job], Any], loop: asyncio.AbstractEventLoop | None) -> None:
        self.fn = fn
        self.loop = loop
        self.cancelled = threading.Event()
        self.submitted = time.monotonic()
        self.started: float | None = None
        self._events: asyncio.Queue | None = asyncio.Queue() if loop is not None else None
        self._done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def emit(self, event: Any) -> None:
        """Send an event to the waiting request (from the worker thread); raises Cancelled once the client left."""
        if self.cancelled.is_set():
            raise Cancelled()
        if self._events is not None and self.loop is not None:
            self.loop.call_soon_threadsafe(self._events.put_nowait, event)

    def cancel(self) -> None:
        self.cancelled.set()

    def _finish(self) -> None:
        self._done.set()
        if self._events is not None and self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._events.put_nowait, _DONE)

    async def events(self):
        """Events as they come, until the job ends (then raise its error, if any)."""
        assert self._events is not None
        while True:
            event = await self._events.get()
            if event is _DONE:
                break
            yield event
        if self.error is not None:
            raise self.error

    async def wait(self) -> Any:
        """The job's result (its events are dropped)."""
        async for _ in self.events():
            pass
        return self.result

    def wait_blocking(self, timeout: float | None = None) -> Any:
        self._done.wait(timeout)
        if self.error is not None:
            raise self.error
        return self.result


class GenerationQueue:
    """A single worker thread running jobs in order."""

    def __init__(self, max_waiting: int = 32, timeout_s: float = 300.0, history: int = 500) -> None:
        self.max_waiting = max_waiting
        self.timeout_s = timeout_s
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._busy = False
        self._waits: deque[float] = deque(maxlen=history)
        self._runs: deque[float] = deque(maxlen=history)
        self.completed = 0
        self.cancelled = 0
        self.failed = 0
        self._thread = threading.Thread(target=self._work, name="ragtune-generation", daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[[Job], Any], stream: bool = True) -> Job:
        """Queue ``fn``; with ``stream`` its events are delivered to the calling event loop."""
        with self._lock:
            if self._waiting >= self.max_waiting:
                raise QueueFull(f"{self._waiting} generation requests are waiting (server.queue_max = "
                                f"{self.max_waiting}); try again shortly")
            self._waiting += 1
        loop = None
        if stream:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        job = Job(fn, loop)
        self._queue.put(job)
        return job

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                self._waiting -= 1
                self._busy = True
            job.started = time.monotonic()
            waited = job.started - job.submitted
            try:
                if job.cancelled.is_set():
                    self.cancelled += 1
                    continue
                if waited > self.timeout_s:
                    job.error = QueueFull(f"waited {waited:.0f} s for the generator (server.queue_timeout_s = "
                                          f"{self.timeout_s:g})")
                    self.failed += 1
                    continue
                self._waits.append(waited)
                job.result = job.fn(job)
                self.completed += 1
            except Cancelled:
                self.cancelled += 1
            except BaseException as e:  # handed to the request, which reports it
                job.error = e
                self.failed += 1
            finally:
                self._runs.append(time.monotonic() - job.started)
                with self._lock:
                    self._busy = False
                job._finish()

    def stats(self) -> dict[str, Any]:
        """Depth (waiting now), busy, and wait/run seconds (p50, p95) of recent jobs."""
        with self._lock:
            waiting, busy = self._waiting, self._busy
        return {"waiting": waiting, "busy": busy, "completed": self.completed, "cancelled": self.cancelled,
                "failed": self.failed, "wait_s": _quantiles(list(self._waits)), "run_s": _quantiles(list(self._runs))}

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)


def _quantiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    s = sorted(values)

    def q(p: float) -> float:
        return round(s[min(len(s) - 1, int(p * len(s)))], 4)

    return {"p50": q(0.5), "p95": q(0.95), "max": round(s[-1], 4), "n": len(s)}
