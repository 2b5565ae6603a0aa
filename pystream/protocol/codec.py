"""Primitive wire types: `Reader` (bounds-checked decoding over a memoryview) and
`Writer` (encoding into a bytearray, with zero-copy chunks for record data).

Every length read from the wire is checked against the bytes remaining before
anything is allocated, and every failure surfaces as `InvalidRequestError`.
Variable-length types take a `flex` flag: True selects the compact encodings
(unsigned-varint lengths, length + 1) of flexible versions.
"""

from __future__ import annotations

import itertools
import struct
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from pystream.protocol.errors import EncodeError, InvalidRequestError
from pystream.protocol.types import FileSlice, RawTaggedField

_I8 = struct.Struct(">b")
_I16 = struct.Struct(">h")
_U16 = struct.Struct(">H")
_I32 = struct.Struct(">i")
_U32 = struct.Struct(">I")
_I64 = struct.Struct(">q")
_F64 = struct.Struct(">d")

_MAX_STRING = 0x7FFF
# Record blobs at least this large are passed through as their own chunk instead
# of being copied into the frame buffer.
ZERO_COPY_THRESHOLD = 16 * 1024

Records = bytes | bytearray | memoryview | FileSlice | None
Chunk = bytes | memoryview | FileSlice


class Reader:
    """Sequential decoder over one message. `pos` is the next byte to read."""

    __slots__ = ("buf", "pos")

    def __init__(self, data: bytes | bytearray | memoryview, pos: int = 0) -> None:
        mv = data if isinstance(data, memoryview) else memoryview(data)
        if mv.ndim != 1 or mv.format != "B":
            mv = mv.cast("B")
        self.buf = mv
        self.pos = pos

    def remaining(self) -> int:
        return len(self.buf) - self.pos

    def _short(self, need: int) -> InvalidRequestError:
        return InvalidRequestError(
            f"truncated message: needed {need} bytes at offset {self.pos}, "
            f"{max(len(self.buf) - self.pos, 0)} remain"
        )

    def _unpack(self, st: struct.Struct) -> Any:
        pos = self.pos
        try:
            value = st.unpack_from(self.buf, pos)[0]
        except struct.error:
            raise self._short(st.size) from None
        self.pos = pos + st.size
        return value

    # -- fixed-size types -------------------------------------------------------

    def unpack(self, st: struct.Struct) -> tuple[Any, ...]:
        """Several fixed-size fields at once (generated code groups them)."""
        pos = self.pos
        try:
            values = st.unpack_from(self.buf, pos)
        except struct.error:
            raise self._short(st.size) from None
        self.pos = pos + st.size
        return values

    def int8(self) -> int:
        return int(self._unpack(_I8))

    def int16(self) -> int:
        pos = self.pos
        try:
            value: int = _I16.unpack_from(self.buf, pos)[0]
        except struct.error:
            raise self._short(2) from None
        self.pos = pos + 2
        return value

    def int32(self) -> int:
        pos = self.pos
        try:
            value: int = _I32.unpack_from(self.buf, pos)[0]
        except struct.error:
            raise self._short(4) from None
        self.pos = pos + 4
        return value

    def int64(self) -> int:
        pos = self.pos
        try:
            value: int = _I64.unpack_from(self.buf, pos)[0]
        except struct.error:
            raise self._short(8) from None
        self.pos = pos + 8
        return value

    def uint16(self) -> int:
        return int(self._unpack(_U16))

    def uint32(self) -> int:
        return int(self._unpack(_U32))

    def float64(self) -> float:
        return float(self._unpack(_F64))

    def boolean(self) -> bool:
        return self._unpack(_I8) != 0

    def uuid(self) -> UUID:
        pos = self.pos
        end = pos + 16
        if end > len(self.buf):
            raise self._short(16)
        self.pos = end
        return UUID(bytes=bytes(self.buf[pos:end]))

    def uvarint(self) -> int:
        """Unsigned varint of at most 5 bytes (Kafka's 32-bit unsigned varint)."""
        buf = self.buf
        pos = self.pos
        try:
            b = buf[pos]
            if b < 0x80:
                self.pos = pos + 1
                return b
            value = b & 0x7F
            shift = 7
            while True:
                pos += 1
                b = buf[pos]
                value |= (b & 0x7F) << shift
                if b < 0x80:
                    break
                shift += 7
                if shift > 28:
                    raise InvalidRequestError(f"varint longer than 5 bytes at offset {self.pos}")
        except IndexError:
            raise self._short(1) from None
        if value > 0xFFFFFFFF:
            raise InvalidRequestError(f"varint out of 32-bit range at offset {self.pos}")
        self.pos = pos + 1
        return value

    # -- lengths ----------------------------------------------------------------

    def _length(self, flex: bool, wide: bool) -> int:
        """A length prefix: -1 for null. `wide` selects int32 (bytes, arrays) over
        int16 (strings) in non-flexible versions."""
        if flex:
            return self.uvarint() - 1
        n = self.int32() if wide else self.int16()
        return n if n >= 0 else -1

    def _take(self, n: int) -> memoryview:
        pos = self.pos
        end = pos + n
        if end > len(self.buf):
            raise self._short(n)
        self.pos = end
        return self.buf[pos:end]

    def array_len(self, flex: bool) -> int:
        """Element count of a non-nullable array."""
        n = self._length(flex, True)
        if n < 0:
            raise InvalidRequestError(f"non-nullable array was null at offset {self.pos}")
        if n > len(self.buf) - self.pos:
            raise self._array_too_long(n)
        return n

    def nullable_array_len(self, flex: bool) -> int:
        """Element count of a nullable array, or -1 for null."""
        n = self._length(flex, True)
        if n > len(self.buf) - self.pos:
            raise self._array_too_long(n)
        return n

    def _array_too_long(self, n: int) -> InvalidRequestError:
        # Every element takes at least one byte, so a count above the bytes left
        # is impossible; refusing it here bounds what a decoder can allocate.
        return InvalidRequestError(
            f"array of {n} elements at offset {self.pos} but only "
            f"{len(self.buf) - self.pos} bytes remain"
        )

    # -- strings and bytes --------------------------------------------------------

    def _utf8(self, n: int) -> str:
        if n > _MAX_STRING:
            raise InvalidRequestError(f"string length {n} at offset {self.pos} exceeds 32767")
        try:
            return str(self._take(n), "utf-8")
        except UnicodeDecodeError as e:
            raise InvalidRequestError(
                f"string at offset {self.pos - n} is not UTF-8: {e}"
            ) from None

    def string(self, flex: bool) -> str:
        n = self._length(flex, False)
        if n < 0:
            raise InvalidRequestError(f"non-nullable string was null at offset {self.pos}")
        return self._utf8(n)

    def nullable_string(self, flex: bool) -> str | None:
        n = self._length(flex, False)
        return None if n < 0 else self._utf8(n)

    def bytes_(self, flex: bool) -> bytes:
        n = self._length(flex, True)
        if n < 0:
            raise InvalidRequestError(f"non-nullable bytes were null at offset {self.pos}")
        return bytes(self._take(n))

    def nullable_bytes(self, flex: bool) -> bytes | None:
        n = self._length(flex, True)
        return None if n < 0 else bytes(self._take(n))

    def records(self, flex: bool) -> memoryview | None:
        """Record data as a zero-copy slice of the input, or None."""
        n = self._length(flex, True)
        return None if n < 0 else self._take(n)

    def records_(self, flex: bool) -> memoryview:
        """Non-nullable record data."""
        n = self._length(flex, True)
        if n < 0:
            raise InvalidRequestError(f"non-nullable records were null at offset {self.pos}")
        return self._take(n)

    def raw(self, n: int) -> bytes:
        return bytes(self._take(n))

    # -- arrays of primitives -----------------------------------------------------

    def _fixed_array(self, code: str, size: int, n: int) -> list[Any]:
        pos = self.pos
        end = pos + n * size
        if end > len(self.buf):
            raise self._short(n * size)
        self.pos = end
        return list(struct.unpack_from(f">{n}{code}", self.buf, pos))

    def int8_array(self, n: int) -> list[int]:
        return self._fixed_array("b", 1, n)

    def int16_array(self, n: int) -> list[int]:
        return self._fixed_array("h", 2, n)

    def int32_array(self, n: int) -> list[int]:
        return self._fixed_array("i", 4, n)

    def int64_array(self, n: int) -> list[int]:
        return self._fixed_array("q", 8, n)

    def uuid_array(self, n: int) -> list[UUID]:
        return [self.uuid() for _ in range(n)]

    def string_array(self, n: int, flex: bool) -> list[str]:
        return [self.string(flex) for _ in range(n)]

    # -- tagged fields --------------------------------------------------------------

    def sub(self, n: int) -> Reader:
        """A reader over the next `n` bytes (one tagged field's value)."""
        return Reader(self._take(n))

    def expect_end(self, what: str) -> None:
        if self.pos != len(self.buf):
            raise InvalidRequestError(
                f"{what}: {len(self.buf) - self.pos} unread bytes in a tagged field"
            )

    def unknown_tags(self, n: int) -> list[RawTaggedField]:
        """A tagged-field section of `n` fields, none of them known."""
        fields: list[RawTaggedField] = []
        for _ in range(n):
            tag = self.uvarint()
            fields.append(RawTaggedField(tag, self.raw(self.uvarint())))
        return fields

    def unknown_tag(
        self, fields: list[RawTaggedField] | None, tag: int, size: int
    ) -> list[RawTaggedField]:
        if fields is None:
            fields = []
        fields.append(RawTaggedField(tag, self.raw(size)))
        return fields


def _pack(st: struct.Struct, value: Any, what: str) -> bytes:
    try:
        return st.pack(value)
    except struct.error as e:
        raise EncodeError(f"cannot encode {value!r} as {what}: {e}") from None


class Writer:
    """Encoder: accumulates into `buf`; record data given as a FileSlice (or a large
    buffer) becomes its own chunk so it is never copied through Python."""

    __slots__ = ("_chunks", "buf")

    def __init__(self) -> None:
        self.buf = bytearray()
        self._chunks: list[Chunk] | None = None

    # -- fixed-size types ---------------------------------------------------------

    def pack(self, st: struct.Struct, *values: Any) -> None:
        try:
            self.buf += st.pack(*values)
        except struct.error as e:
            raise EncodeError(f"cannot encode {values!r} as {st.format}: {e}") from None

    def int8(self, v: int) -> None:
        self.buf += _pack(_I8, v, "int8")

    def int16(self, v: int) -> None:
        try:
            self.buf += _I16.pack(v)
        except struct.error:
            raise EncodeError(f"cannot encode {v!r} as int16") from None

    def int32(self, v: int) -> None:
        try:
            self.buf += _I32.pack(v)
        except struct.error:
            raise EncodeError(f"cannot encode {v!r} as int32") from None

    def int64(self, v: int) -> None:
        try:
            self.buf += _I64.pack(v)
        except struct.error:
            raise EncodeError(f"cannot encode {v!r} as int64") from None

    def uint16(self, v: int) -> None:
        self.buf += _pack(_U16, v, "uint16")

    def uint32(self, v: int) -> None:
        self.buf += _pack(_U32, v, "uint32")

    def float64(self, v: float) -> None:
        self.buf += _pack(_F64, v, "float64")

    def boolean(self, v: bool) -> None:
        self.buf.append(1 if v else 0)

    def uuid(self, v: UUID) -> None:
        try:
            self.buf += v.bytes
        except AttributeError:
            raise EncodeError(f"cannot encode {v!r} as uuid") from None

    def uvarint(self, v: int) -> None:
        if 0 <= v < 0x80:
            self.buf.append(v)
            return
        if not 0 <= v <= 0xFFFFFFFF:
            raise EncodeError(f"cannot encode {v!r} as an unsigned varint")
        out = bytearray()
        while v >= 0x80:
            out.append((v & 0x7F) | 0x80)
            v >>= 7
        out.append(v)
        self.buf += out

    # -- lengths ----------------------------------------------------------------------

    def _length(self, n: int, flex: bool, wide: bool) -> None:
        if flex:
            self.uvarint(n + 1)
        elif wide:
            self.int32(n)
        else:
            self.int16(n)

    def array_len(self, arr: Sequence[Any] | None, flex: bool) -> bool:
        """Write the length of a non-nullable array; True (elements follow)."""
        if arr is None:
            raise EncodeError("non-nullable array is None")
        n = len(arr)
        if flex:
            if n < 0x7F:
                self.buf.append(n + 1)
            else:
                self.uvarint(n + 1)
        else:
            self.buf += _I32.pack(n)
        return True

    def nullable_array_len(self, arr: Sequence[Any] | None, flex: bool) -> bool:
        """Write the length (or null); True when elements follow."""
        if arr is None:
            self._length(-1, flex, True)
            return False
        self._length(len(arr), flex, True)
        return True

    # -- strings and bytes ------------------------------------------------------------

    def string(self, v: str | None, flex: bool) -> None:
        if v is None:
            raise EncodeError("non-nullable string is None")
        try:
            data = v.encode("utf-8")
        except AttributeError:
            raise EncodeError(f"not a string: {v!r}") from None
        except UnicodeEncodeError as e:
            raise EncodeError(f"string is not encodable as UTF-8: {e}") from None
        n = len(data)
        if n > _MAX_STRING:
            raise EncodeError(f"string of {n} bytes is longer than 32767")
        if flex:
            self.uvarint(n + 1)
        else:
            self.buf += _I16.pack(n)
        self.buf += data

    def nullable_string(self, v: str | None, flex: bool) -> None:
        if v is None:
            self._length(-1, flex, False)
        else:
            self.string(v, flex)

    def bytes_(self, v: bytes | bytearray | memoryview | None, flex: bool) -> None:
        if v is None:
            raise EncodeError("non-nullable bytes are None")
        n = memoryview(v).nbytes
        self._length(n, flex, True)
        self.buf += v

    def nullable_bytes(self, v: bytes | bytearray | memoryview | None, flex: bool) -> None:
        if v is None:
            self._length(-1, flex, True)
        else:
            self.bytes_(v, flex)

    def records(self, v: Records, flex: bool) -> None:
        if v is None:
            self._length(-1, flex, True)
        elif isinstance(v, FileSlice):
            self._length(v.length, flex, True)
            self._chunk(v)
        else:
            mv = memoryview(v)
            if mv.ndim != 1 or mv.format != "B":
                mv = mv.cast("B")
            n = mv.nbytes
            self._length(n, flex, True)
            if n >= ZERO_COPY_THRESHOLD:
                self._chunk(v if isinstance(v, bytes) else mv)
            else:
                self.buf += mv

    def raw(self, data: bytes | bytearray | memoryview) -> None:
        self.buf += data

    # -- arrays of primitives -----------------------------------------------------------

    def _fixed_array(self, code: str, arr: Sequence[int], what: str) -> None:
        try:
            self.buf += struct.pack(f">{len(arr)}{code}", *arr)
        except struct.error as e:
            raise EncodeError(f"cannot encode {what} array: {e}") from None

    def int8_array(self, arr: Sequence[int]) -> None:
        self._fixed_array("b", arr, "int8")

    def int16_array(self, arr: Sequence[int]) -> None:
        self._fixed_array("h", arr, "int16")

    def int32_array(self, arr: Sequence[int]) -> None:
        self._fixed_array("i", arr, "int32")

    def int64_array(self, arr: Sequence[int]) -> None:
        self._fixed_array("q", arr, "int64")

    def uuid_array(self, arr: Sequence[UUID]) -> None:
        for v in arr:
            self.uuid(v)

    def string_array(self, arr: Sequence[str], flex: bool) -> None:
        for v in arr:
            self.string(v, flex)

    # -- tagged fields --------------------------------------------------------------------

    def tagged_fields(
        self,
        known: list[tuple[int, bytes]] | None,
        unknown: list[RawTaggedField] | None,
    ) -> None:
        """The tagged-field section: count, then (tag, size, bytes) in tag order."""
        if not known and not unknown:
            self.buf.append(0)
            return
        fields = list(known or ())
        fields.extend(unknown or ())
        fields.sort(key=lambda f: f[0])
        for a, b in itertools.pairwise(fields):
            if a[0] == b[0]:
                raise EncodeError(f"tagged field {a[0]} appears twice")
        self.uvarint(len(fields))
        for tag, data in fields:
            self.uvarint(tag)
            self.uvarint(len(data))
            self.buf += data

    # -- output -------------------------------------------------------------------------------

    def _chunk(self, item: Chunk) -> None:
        if self._chunks is None:
            self._chunks = []
        if self.buf:
            self._chunks.append(memoryview(self.buf))
            self.buf = bytearray()
        self._chunks.append(item)

    def size(self) -> int:
        """Bytes written so far, FileSlices included."""
        total = len(self.buf)
        for c in self._chunks or ():
            total += len(c) if isinstance(c, FileSlice) else memoryview(c).nbytes
        return total

    def chunks(self) -> list[Chunk]:
        """Everything written, as buffers and FileSlices in order."""
        out: list[Chunk] = list(self._chunks or ())
        if self.buf or not out:
            out.append(memoryview(self.buf))
        return out

    def getvalue(self) -> bytes:
        """Everything written as one bytes object (no FileSlices allowed)."""
        if self._chunks is None:
            return bytes(self.buf)
        parts: list[bytes | memoryview] = []
        for c in self.chunks():
            if isinstance(c, FileSlice):
                raise EncodeError("cannot flatten a FileSlice into bytes")
            parts.append(c)
        return b"".join(parts)
