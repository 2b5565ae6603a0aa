"""Sans-IO entry points: split a byte stream into frames, decode a request frame
(header then body), encode a response frame, and the client direction.

A frame on the wire is an int32 size followed by that many bytes. The functions
here take or produce frames; none of them touches a socket.
"""

from __future__ import annotations

import struct
from typing import Any

from pystream.protocol.api import (
    API_BY_KEY,
    ApiSpec,
    request_header_version,
    response_header_version,
)
from pystream.protocol.codec import Chunk, Reader, Writer
from pystream.protocol.errors import (
    EncodeError,
    FrameTooLargeError,
    InvalidRequestError,
    UnknownApiKeyError,
    UnsupportedVersionError,
)
from pystream.protocol.messages.request_header import RequestHeader
from pystream.protocol.messages.response_header import ResponseHeader
from pystream.protocol.types import FileSlice

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "FrameDecoder",
    "decode_request",
    "decode_request_header",
    "decode_response",
    "encode_request",
    "encode_response",
]

DEFAULT_MAX_FRAME_SIZE = 104_857_600
"""Kafka's default `socket.request.max.bytes` (100 MiB)."""

_SIZE = struct.Struct(">i")
_MAX_FRAME = 0x7FFFFFFF


def _read_header(r: Reader) -> RequestHeader:
    if r.remaining() < 4:
        raise InvalidRequestError(f"request of {r.remaining()} bytes is too short for a header")
    api_key = r.int16()
    api_version = r.int16()
    if api_key not in API_BY_KEY:
        correlation_id = r.int32() if r.remaining() >= 4 else None
        raise UnknownApiKeyError(api_key, api_version, correlation_id)
    r.pos -= 4
    header = RequestHeader.decode(r, request_header_version(api_key, api_version))
    if header.client_id is None:
        # Kafka treats a null client id as the empty string.
        header.client_id = ""
    return header


def decode_request_header(frame: bytes | bytearray | memoryview) -> tuple[RequestHeader, int]:
    """The request header of `frame` (no size prefix) and the offset of the body.

    Raises UnknownApiKeyError for an API key this codec lacks and
    InvalidRequestError for a malformed header. The version is not checked here.
    """
    r = Reader(frame)
    header = _read_header(r)
    return header, r.pos


def decode_request(frame: bytes | bytearray | memoryview) -> tuple[RequestHeader, Any]:
    """Decode one request frame (without its size prefix) into header and body.

    Raises UnknownApiKeyError, UnsupportedVersionError (with `.header` set, so the
    server can answer ApiVersions with UNSUPPORTED_VERSION as Kafka does), or
    InvalidRequestError. `records` fields are zero-copy slices of `frame`.
    """
    r = Reader(frame)
    header = _read_header(r)
    spec = API_BY_KEY[header.request_api_key]
    version = header.request_api_version
    if not spec.min_version <= version <= spec.max_version:
        raise UnsupportedVersionError(
            f"{spec.name} version {version} is not supported "
            f"(valid: {spec.min_version}-{spec.max_version})",
            header,
        )
    try:
        body = spec.request_class.decode(r, version)
    except InvalidRequestError as e:
        raise InvalidRequestError(f"{spec.name}Request v{version}: {e}") from None
    return header, body


def _checked_spec(api_key: int, version: int, message: Any, kind: str) -> ApiSpec:
    spec = API_BY_KEY.get(api_key)
    if spec is None:
        raise UnknownApiKeyError(api_key, version, None)
    if not spec.min_version <= version <= spec.max_version:
        raise UnsupportedVersionError(f"{spec.name} version {version} is not supported")
    cls = spec.request_class if kind == "request" else spec.response_class
    if type(message) is not cls:
        raise EncodeError(f"expected a {cls.__name__}, got {type(message).__name__}")
    return spec


def _finish(w: Writer) -> list[Chunk]:
    """Patch the size prefix reserved at the start of `w` and return the chunks."""
    size = w.size() - 4
    if size > _MAX_FRAME:
        raise EncodeError(f"frame of {size} bytes exceeds the int32 size prefix")
    chunks = w.chunks()
    first = chunks[0]
    assert isinstance(first, memoryview)
    first[0:4] = _SIZE.pack(size)
    return chunks


def encode_response(
    header: RequestHeader, response: Any, version: int | None = None
) -> list[Chunk]:
    """The response frame for `header`'s request, size prefix included, as chunks:
    buffers and FileSlices (record data to sendfile) in wire order.

    `version` overrides the request's version; the server uses it to answer an
    unsupported ApiVersions request with a v0 response, as Kafka does.
    """
    api_key = header.request_api_key
    v = header.request_api_version if version is None else version
    _checked_spec(api_key, v, response, "response")
    w = Writer()
    w.int32(0)
    w.int32(header.correlation_id)
    if response_header_version(api_key, v) >= 1:
        w.tagged_fields(None, None)
    response.encode(w, v)
    return _finish(w)


def encode_request(header: RequestHeader, request: Any) -> bytes:
    """The request frame (size prefix included) for a client to send."""
    api_key = header.request_api_key
    v = header.request_api_version
    _checked_spec(api_key, v, request, "request")
    w = Writer()
    w.int32(0)
    header.encode(w, request_header_version(api_key, v))
    request.encode(w, v)
    chunks = _finish(w)
    if len(chunks) == 1:
        return bytes(chunks[0])  # type: ignore[arg-type]
    parts: list[bytes | memoryview] = []
    for c in chunks:
        if isinstance(c, FileSlice):
            raise EncodeError("encode_request cannot inline a FileSlice")
        parts.append(c)
    return b"".join(parts)


def decode_response(
    api_key: int, api_version: int, frame: bytes | bytearray | memoryview
) -> tuple[int, Any]:
    """Decode a response frame (no size prefix) to (correlation_id, response)."""
    spec = API_BY_KEY.get(api_key)
    if spec is None:
        raise UnknownApiKeyError(api_key, api_version, None)
    r = Reader(frame)
    header = ResponseHeader.decode(r, response_header_version(api_key, api_version))
    try:
        body = spec.response_class.decode(r, api_version)
    except InvalidRequestError as e:
        raise InvalidRequestError(f"{spec.name}Response v{api_version}: {e}") from None
    return header.correlation_id, body


class FrameDecoder:
    """Splits a byte stream into frames (size prefixes removed).

    Sizes are checked before anything is buffered for them: a negative size raises
    InvalidRequestError and one above `max_frame_size` FrameTooLargeError. After
    an error the stream cannot be resynchronised; close the connection.
    """

    __slots__ = ("_buf", "max_frame_size")

    def __init__(self, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> None:
        self.max_frame_size = max_frame_size
        self._buf = bytearray()

    def pending(self) -> int:
        """Bytes buffered towards the next frame."""
        return len(self._buf)

    def feed(self, data: bytes | bytearray | memoryview) -> list[bytes | memoryview]:
        """Add received bytes; return the frames they complete, in order."""
        buf = self._buf
        buf += data
        frames: list[bytes | memoryview] = []
        pos = 0
        n = len(buf)
        while n - pos >= 4:
            size = _SIZE.unpack_from(buf, pos)[0]
            if size < 0:
                raise InvalidRequestError(f"negative frame size {size}")
            if size > self.max_frame_size:
                raise FrameTooLargeError(
                    f"frame of {size} bytes exceeds the maximum of {self.max_frame_size}"
                )
            end = pos + 4 + size
            if end > n:
                break
            if pos == 0 and end == n:
                # The buffer holds exactly this frame: hand it over without a copy.
                frames.append(memoryview(buf)[4:])
                self._buf = bytearray()
                return frames
            frames.append(bytes(buf[pos + 4 : end]))
            pos = end
        if pos:
            del buf[:pos]
        return frames
