"""A broker process started for a benchmark: free ports, readiness, logs, clean stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


class PeerNotStarted(RuntimeError):
    """The peer could not be started; the message is the reason shown in the report."""


def free_port() -> int:
    """An ephemeral loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def log_tail(path: Path, lines: int = 2) -> str:
    """The last lines of a log file, for error messages."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


class Peer(ABC):
    """One broker under test. Use as a context manager: `with peer.started(dir) as bootstrap:`."""

    name: str = ""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path: Path | None = None
        self.bootstrap = ""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Version, storage and durability settings, for the report."""

    @abstractmethod
    def start(self, work_dir: Path) -> str:
        """Start the broker under `work_dir`; return its bootstrap address or raise PeerNotStarted."""

    def launch(
        self, argv: Sequence[str], work_dir: Path, env: dict[str, str] | None = None
    ) -> None:
        """Start `argv` with output to `work_dir/<name>.log`, in its own process group."""
        work_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = work_dir / f"{self.name}.log"
        with self.log_path.open("wb") as log:
            try:
                self.process = subprocess.Popen(
                    list(argv),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=work_dir,
                    env={**os.environ, **(env or {})},
                    start_new_session=True,
                )
            except OSError as exc:
                raise PeerNotStarted(f"cannot run {argv[0]}: {exc}") from exc

    def wait_ready(self, port: int, timeout_s: float = READY_TIMEOUT_S) -> None:
        """Wait until the broker answers a metadata request on `port`, or fail with its log."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self._check_alive()
            if _port_open(port) and _answers_metadata(f"127.0.0.1:{port}"):
                return
            time.sleep(0.2)
        self.stop()
        raise PeerNotStarted(
            f"{self.name} did not answer on port {port} within {timeout_s:.0f}s"
            + (f": {log_tail(self.log_path)}" if self.log_path else "")
        )

    def _check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            tail = log_tail(self.log_path) if self.log_path else ""
            self.process = None
            raise PeerNotStarted(f"{self.name} exited with code {code}: {tail}")

    def stop(self) -> None:
        """SIGTERM the broker's process group, then SIGKILL it if it does not exit in time."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(STOP_TIMEOUT_S)

    def __enter__(self) -> Peer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(process: subprocess.Popen[bytes], sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _answers_metadata(bootstrap: str) -> bool:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        metadata = AdminClient({"bootstrap.servers": bootstrap, "log_level": "0"}).list_topics(
            timeout=2.0
        )
    except KafkaException:
        return False
    return bool(metadata.brokers)
