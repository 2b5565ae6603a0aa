from pathlib import Path

import pytest

from pystream.server.config import BrokerConfig, ConfigError, Listener, parse_properties


def test_properties_parsing_handles_comments_separators_and_continuations() -> None:
    text = "# comment\n! also\nnum.partitions=3\nlog.dirs : /tmp/x\nlisteners=PLAINTEXT://a:1,\\\n  SSL://b:2\n"
    assert parse_properties(text) == {
        "num.partitions": "3",
        "log.dirs": "/tmp/x",
        "listeners": "PLAINTEXT://a:1,SSL://b:2",
    }


def test_load_precedence_and_types(tmp_path: Path) -> None:
    props = tmp_path / "server.properties"
    props.write_text("num.partitions=3\nauto.create.topics.enable=false\n")
    cfg = BrokerConfig.load(props, ["num.partitions=5"])
    assert cfg["num.partitions"] == 5
    assert cfg["auto.create.topics.enable"] is False
    assert cfg["message.max.bytes"] == 1048588
    assert "num.partitions" in cfg.explicit


@pytest.mark.parametrize(
    "override, fragment",
    [
        ("num.partitions=abc", "num.partitions"),
        ("auto.create.topics.enable=maybe", "auto.create.topics.enable"),
        ("num.partitions=0", "num.partitions"),
        ("novalue", "key=value"),
        ("socket.send.buffer.bytes=0", "socket.send.buffer.bytes"),
        ("socket.receive.buffer.bytes=-2", "socket.receive.buffer.bytes"),
    ],
)
def test_bad_values_name_the_key(override: str, fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        BrokerConfig.load(None, [override])


def test_missing_properties_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        BrokerConfig.load(tmp_path / "nope.properties")


def test_listener_parsing() -> None:
    assert Listener.parse("127.0.0.1:9092") == Listener("PLAINTEXT", "127.0.0.1", 9092)
    assert Listener.parse("PLAINTEXT://[::1]:19092") == Listener("PLAINTEXT", "::1", 19092)
    with pytest.raises(ConfigError):
        Listener.parse("localhost")
    with pytest.raises(ConfigError):
        Listener.parse("h:99999")


def test_topic_defaults_use_topic_names() -> None:
    cfg = BrokerConfig({"log.segment.bytes": "1024", "log.retention.ms": "5"})
    d = cfg.topic_defaults()
    assert d["segment.bytes"] == 1024
    assert d["retention.ms"] == 5
    assert d["max.message.bytes"] == 1048588


def test_socket_buffer_sizes_reach_the_client_sockets(tmp_path: Path) -> None:
    import socket
    import time

    from pystream.testing import EmbeddedBroker

    config = {"socket.send.buffer.bytes": "65536", "socket.receive.buffer.bytes": "131072"}
    with EmbeddedBroker(tmp_path, config=config) as broker:
        assert broker.broker is not None
        with socket.create_connection(("127.0.0.1", broker.port)):
            deadline = time.monotonic() + 5
            while not broker.broker.dispatcher.connections:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            [conn] = broker.broker.dispatcher.connections
            assert conn._transport is not None
            sock = conn._transport.get_extra_info("socket")
            # Linux doubles the requested size for its bookkeeping.
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == 2 * 65536
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 2 * 131072
