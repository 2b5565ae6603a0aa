"""pystream.protocol: a sans-IO codec for Kafka's wire protocol.

Generated message classes (`pystream.protocol.messages.<api>`), primitive
Reader/Writer, headers, the API table, error codes, and the framing entry points
a broker or client calls. Depends on nothing else in pystream.
"""

from pystream.protocol.api import (
    API_BY_KEY,
    ApiKey,
    ApiSpec,
    message_class,
    request_header_version,
    response_header_version,
)
from pystream.protocol.codec import Reader, Writer
from pystream.protocol.errors import (
    EncodeError,
    ErrorCode,
    FrameTooLargeError,
    InvalidRequestError,
    ProtocolError,
    UnknownApiKeyError,
    UnsupportedVersionError,
)
from pystream.protocol.frame import (
    DEFAULT_MAX_FRAME_SIZE,
    FrameDecoder,
    decode_request,
    decode_request_header,
    decode_response,
    encode_request,
    encode_response,
)
from pystream.protocol.headers import RequestHeader, ResponseHeader
from pystream.protocol.message import Field, Struct
from pystream.protocol.types import FileSlice, RawTaggedField

__all__ = [
    "API_BY_KEY",
    "DEFAULT_MAX_FRAME_SIZE",
    "ApiKey",
    "ApiSpec",
    "EncodeError",
    "ErrorCode",
    "Field",
    "FileSlice",
    "FrameDecoder",
    "FrameTooLargeError",
    "InvalidRequestError",
    "ProtocolError",
    "RawTaggedField",
    "Reader",
    "RequestHeader",
    "ResponseHeader",
    "Struct",
    "UnknownApiKeyError",
    "UnsupportedVersionError",
    "Writer",
    "decode_request",
    "decode_request_header",
    "decode_response",
    "encode_request",
    "encode_response",
    "message_class",
    "request_header_version",
    "response_header_version",
]
