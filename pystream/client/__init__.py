"""pystream's Kafka client (admin, producer, consumer) over `pystream.protocol`.

Works against any Kafka-compatible broker. Used by the CLI tools, the
benchmarks and the stream processor.
"""

from pystream.client.admin import Admin
from pystream.client.cluster import Cluster, KafkaError
from pystream.client.connection import BrokerConnection, KafkaConnectionError
from pystream.client.consumer import EARLIEST, LATEST, Consumer, ConsumerRecord
from pystream.client.producer import Producer, RecordMetadata

__all__ = [
    "EARLIEST",
    "LATEST",
    "Admin",
    "BrokerConnection",
    "Cluster",
    "Consumer",
    "ConsumerRecord",
    "KafkaConnectionError",
    "KafkaError",
    "Producer",
    "RecordMetadata",
]
