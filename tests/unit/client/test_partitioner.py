import pytest

from pystream.client.partitioner import murmur2, murmur2_partition


@pytest.mark.parametrize(
    "data, expected",
    # Values from Apache Kafka's own tests of Utils.murmur2.
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"", 275646681),
    ],
)
def test_matches_java(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


def test_partition_in_range() -> None:
    for i in range(200):
        assert 0 <= murmur2_partition(f"k{i}".encode(), 7) < 7
