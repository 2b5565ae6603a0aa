"""Per-topic config overrides stored in the data dir, so they survive
restarts: `<data dir>/topic-configs/<topic>.properties`, one `name=value`
line per override (Java properties syntax, no escapes: Kafka config names
and values have none). Written to a temp file, fsynced, renamed.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_NAME = "topic-configs"
SUFFIX = ".properties"


class TopicConfigStore:
    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / DIR_NAME

    def _path(self, topic: str) -> Path:
        if not topic or "/" in topic or topic in (".", ".."):
            raise ValueError(f"illegal topic name {topic!r}")
        return self.dir / f"{topic}{SUFFIX}"

    def load_all(self) -> dict[str, dict[str, str]]:
        """Every stored topic's overrides."""
        if not self.dir.is_dir():
            return {}
        out = {}
        for p in sorted(self.dir.glob(f"*{SUFFIX}")):
            out[p.name[: -len(SUFFIX)]] = self._parse(p)
        return out

    @staticmethod
    def _parse(path: Path) -> dict[str, str]:
        out = {}
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", "!")):
                continue
            name, sep, value = line.partition("=")
            if not sep:
                raise ValueError(f"{path}: malformed line {raw!r}")
            out[name.strip()] = value.strip()
        return out

    def save(self, topic: str, overrides: dict[str, str]) -> None:
        path = self._path(topic)
        self.dir.mkdir(parents=True, exist_ok=True)
        text = "".join(f"{k}={v}\n" for k, v in sorted(overrides.items()))
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(self.dir)

    def delete(self, topic: str) -> None:
        path = self._path(topic)
        if path.exists():
            path.unlink()
            _fsync_dir(self.dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
