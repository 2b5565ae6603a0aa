"""pystream's own broker (`pystream broker --data-dir D --listen 127.0.0.1:PORT`)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from benchmarks.peers.base import Peer, PeerNotStarted, free_port


def find_pystream() -> Path | None:
    """The `pystream` script beside the running interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / "pystream"
    if beside.is_file():
        return beside
    found = shutil.which("pystream")
    return Path(found) if found else None


class PystreamPeer(Peer):
    name = "pystream"

    def __init__(self) -> None:
        super().__init__()
        self.script = find_pystream()
        self.data_dir: Path | None = None

    def describe(self) -> dict[str, Any]:
        try:
            from pystream import __version__ as version
        except ImportError:
            version = "unknown"
        return {
            "name": self.name,
            "version": version,
            "script": str(self.script) if self.script else None,
            "storage": str(self.data_dir) if self.data_dir else "data dir under the work dir",
            "durability": "the broker's defaults (see its flush settings)",
        }

    def start(self, work_dir: Path) -> str:
        if self.script is None:
            raise PeerNotStarted("the pystream script is not installed (make install)")
        port = free_port()
        self.data_dir = work_dir / "pystream-data"
        self.launch(
            [
                str(self.script),
                "broker",
                "--data-dir",
                str(self.data_dir),
                "--listen",
                f"127.0.0.1:{port}",
            ],
            work_dir,
        )
        self.wait_ready(port)
        self.bootstrap = f"127.0.0.1:{port}"
        return self.bootstrap
