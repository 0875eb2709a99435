"""``ragtune tune loop`` run from the dashboard, in its own process (training must not share the server's
llama.cpp context); the server serves the new champion once the gate promotes one."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from fastapi import HTTPException


def loop_command(root: Path) -> list[str]:
    """One loop round on the project at ``root``, reported as JSON."""
    return [sys.executable, "-m", "ragtune.cli", "tune", "loop", "-p", str(root), "--rounds", "1", "--json"]


class LoopRun:
    """The loop round the dashboard started (one at a time): its process, start time and log."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.process: subprocess.Popen | None = None
        self.started: str | None = None
        self.log: Path | None = None

    def start(self, command: list[str], log: Path) -> None:
        with self.lock:
            if self.process is not None and self.process.poll() is None:
                raise HTTPException(409, "a loop round is already running")
            log.parent.mkdir(parents=True, exist_ok=True)
            self.log = log
            self.started = datetime.now(timezone.utc).isoformat(timespec="seconds")
            with log.open("wb") as out:
                self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            if self.process is None:
                return {"status": "idle"}
            code = self.process.poll()
            tail = self.log.read_text(encoding="utf-8", errors="replace")[-4000:] if self.log and self.log.exists() \
                else ""
            return {"status": "running" if code is None else "finished", "returncode": code, "started": self.started,
                    "pid": self.process.pid, "output": tail}
