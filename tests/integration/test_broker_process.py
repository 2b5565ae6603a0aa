"""`pystream broker` as a user runs it: a real process, SIGTERM, restart."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ck = pytest.importorskip("confluent_kafka")

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(data: Path, port: int, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "pystream.cli.main", "broker", "--data-dir", str(data),
         "--listen", f"127.0.0.1:{port}", *extra],
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(
                    f"broker exited: {proc.stderr.read() if proc.stderr else ''}"
                ) from None
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("broker did not start listening")


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    return err


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_shuts_down_cleanly_and_restart_recovers(tmp_path: Path, sig: int) -> None:
    data, port = tmp_path / "data", _free_port()
    proc = _start(data, port, "-o", "num.partitions=2")
    bootstrap = f"127.0.0.1:{port}"
    p = ck.Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
    for i in range(200):
        p.produce("sig", key=str(i).encode(), value=f"v{i}".encode())
    assert p.flush(20) == 0
    err = _stop(proc, sig)
    assert "shutting down" in err and "stopped cleanly" in err
    # Kafka's layout: meta.properties, <topic>-<n>/ with 20-digit segments.
    assert (data / "meta.properties").exists()
    assert sorted(d.name for d in data.iterdir() if d.is_dir() and d.name.startswith("sig")) == [
        "sig-0",
        "sig-1",
    ]
    assert (data / "sig-0" / "00000000000000000000.log").exists()

    proc = _start(data, port)
    try:
        c = ck.Consumer(
            {"bootstrap.servers": bootstrap, "group.id": "x", "enable.auto.commit": False}
        )
        c.assign([ck.TopicPartition("sig", n, ck.OFFSET_BEGINNING) for n in range(2)])
        got = set()
        for _ in range(100):
            for m in c.consume(200, timeout=0.5):
                assert m.error() is None
                got.add(m.value())
            if len(got) == 200:
                break
        c.close()
        assert got == {f"v{i}".encode() for i in range(200)}
    finally:
        _stop(proc)


def test_bad_config_is_a_clear_cli_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pystream.cli.main", "broker", "--data-dir", str(tmp_path),
         "-o", "num.partitions=many"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "num.partitions" in proc.stderr and "Traceback" not in proc.stderr


def test_port_in_use_is_a_clear_cli_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "pystream.cli.main", "broker", "--data-dir", str(tmp_path),
             "--listen", f"127.0.0.1:{port}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert proc.returncode == 1
    assert "cannot start broker" in proc.stderr and "Traceback" not in proc.stderr
