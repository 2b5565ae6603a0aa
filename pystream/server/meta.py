"""`meta.properties` in the data dir: the broker's node id and cluster id.

Written once, on the first start, in Kafka's KRaft format (version 1), and
checked on every later start so a data dir is never served under another
identity by mistake.
"""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from pystream.server.config import ConfigError, parse_properties

META_FILE = "meta.properties"


def random_uuid_base64() -> str:
    """Kafka's textual Uuid: 16 random bytes, URL-safe base64, no padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


@dataclass(frozen=True)
class MetaProperties:
    node_id: int
    cluster_id: str
    directory_id: str

    def render(self) -> str:
        return (
            "#\n"
            f"node.id={self.node_id}\n"
            f"directory.id={self.directory_id}\n"
            "version=1\n"
            f"cluster.id={self.cluster_id}\n"
        )


def load_or_create(data_dir: Path, node_id: int, cluster_id: str = "") -> MetaProperties:
    """Reads `meta.properties`, or writes it when the data dir is new.

    A configured node.id or cluster.id that disagrees with the stored one is
    an error, as in Kafka.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / META_FILE
    if path.exists():
        props = parse_properties(path.read_text())
        try:
            stored = MetaProperties(
                node_id=int(props["node.id"]),
                cluster_id=props["cluster.id"],
                directory_id=props.get("directory.id", ""),
            )
        except (KeyError, ValueError) as e:
            raise ConfigError(f"{path}: malformed ({e})") from None
        if node_id >= 0 and node_id != stored.node_id:
            raise ConfigError(
                f"{path}: node.id {stored.node_id} does not match configured {node_id}"
            )
        if cluster_id and cluster_id != stored.cluster_id:
            raise ConfigError(
                f"{path}: cluster.id {stored.cluster_id} does not match configured {cluster_id}"
            )
        return stored
    meta = MetaProperties(
        node_id=node_id if node_id >= 0 else 1,
        cluster_id=cluster_id or random_uuid_base64(),
        directory_id=random_uuid_base64(),
    )
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        f.write(meta.render())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return meta
