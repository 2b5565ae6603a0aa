"""Fuzz the request decoder: random bytes and mutated valid frames go into
`decode_request`; only ProtocolError subclasses may come out.

The default run is a short pass (a few hundred examples); set
PYSTREAM_FUZZ_EXAMPLES for a long one, e.g. PYSTREAM_FUZZ_EXAMPLES=200000.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pystream.protocol import API_BY_KEY, ProtocolError, decode_request

FIXTURES = sorted(
    (Path(__file__).resolve().parents[1] / "unit" / "protocol" / "fixtures").glob("*.bin")
)
SEEDS = [p.read_bytes() for p in FIXTURES]
EXAMPLES = int(os.environ.get("PYSTREAM_FUZZ_EXAMPLES", "300"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _decode(frame: bytes) -> None:
    try:
        decode_request(frame)
    except ProtocolError:
        pass


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes(frame: bytes) -> None:
    _decode(frame)


@FUZZ
@given(
    api_key=st.sampled_from(sorted(API_BY_KEY)),
    version=st.integers(0, 20),
    body=st.binary(max_size=256),
)
def test_valid_header_random_body(api_key: int, version: int, body: bytes) -> None:
    # Header v1 (client id null) or v2 (plus empty tagged fields): lets the fuzzer
    # reach every API's body decoder, not just the header parser.
    header = struct.pack(">hhih", api_key, version, 1, -1)
    _decode(header + body)
    _decode(header + b"\x00" + body)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate"]))
        if not frame:
            break
        i = draw(st.integers(0, len(frame) - 1))
        if op == "flip":
            frame[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            frame[i] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF]))
        elif op == "insert":
            frame[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del frame[i : i + draw(st.integers(1, 8))]
        else:
            del frame[i:]
    return bytes(frame)


@FUZZ
@given(mutated())
def test_mutated_client_frames(frame: bytes) -> None:
    _decode(frame)
