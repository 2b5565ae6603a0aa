"""The brokers a benchmark compares: Apache Kafka, Tansu and pystream itself.

Each peer starts on loopback ephemeral ports in its own work directory and
is stopped afterwards. A peer that cannot start raises `PeerNotStarted` with
the reason, which the comparison reports instead of skipping it silently.
"""

from benchmarks.peers.base import Peer, PeerNotStarted
from benchmarks.peers.kafka import KafkaPeer
from benchmarks.peers.pystream_broker import PystreamPeer
from benchmarks.peers.tansu import TansuPeer

PEERS: dict[str, type[Peer]] = {
    "pystream": PystreamPeer,
    "tansu": TansuPeer,
    "kafka": KafkaPeer,
}

__all__ = ["PEERS", "KafkaPeer", "Peer", "PeerNotStarted", "PystreamPeer", "TansuPeer"]
