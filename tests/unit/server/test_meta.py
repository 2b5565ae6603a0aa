from pathlib import Path

import pytest

from pystream.server.config import ConfigError
from pystream.server.meta import load_or_create, random_uuid_base64


def test_created_once_then_reused(tmp_path: Path) -> None:
    first = load_or_create(tmp_path, -1)
    assert first.node_id == 1
    assert len(first.cluster_id) == 22
    text = (tmp_path / "meta.properties").read_text()
    assert "version=1" in text and f"cluster.id={first.cluster_id}" in text
    assert load_or_create(tmp_path, -1) == first
    assert load_or_create(tmp_path, 1) == first


def test_mismatched_identity_is_refused(tmp_path: Path) -> None:
    load_or_create(tmp_path, 1)
    with pytest.raises(ConfigError, match=r"node\.id"):
        load_or_create(tmp_path, 2)
    with pytest.raises(ConfigError, match=r"cluster\.id"):
        load_or_create(tmp_path, 1, random_uuid_base64())


def test_malformed_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "meta.properties").write_text("node.id=x\n")
    with pytest.raises(ConfigError, match="malformed"):
        load_or_create(tmp_path, -1)
