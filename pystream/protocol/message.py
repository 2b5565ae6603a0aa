"""The base class of every generated message and struct class, and the field
metadata the generator records on each of them.

Generated classes (`pystream.protocol.messages.*`) hold their data in
`__slots__`, decode and encode themselves with straight-line code, and describe
their schema in `FIELDS` (used by tests, `repr` and tools, never by the codec's
hot path).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

from pystream.protocol.types import RawTaggedField

VERSION_MAX = 0x7FFF
"""Upper bound standing for an open version range such as "3+"."""


class _Default:
    """Marker for "use the schema default" in generated constructors, so that None
    can still be passed to mean null for nullable fields."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<default>"


DEFAULT: Any = _Default()


class Field(NamedTuple):
    """One field of a schema, as facts: its name and wire type, the versions that
    carry it, where it may be null, and whether it is tagged."""

    name: str
    """Python attribute name (snake_case of the schema name)."""
    type: str
    """Schema type: int8 ... float64, string, bytes, records, uuid, bool, `[]T`, or a
    struct name."""
    versions: tuple[int, int] | None
    nullable: tuple[int, int] | None
    tagged: tuple[int, int] | None
    tag: int | None
    ignorable: bool
    default: Any
    """Default value; for arrays `[]` or None, for structs None meaning a default instance
    unless the field is nullable with a null default."""
    flexible: tuple[int, int] | bool | None
    """None when the field follows the message's flexible versions; otherwise its own
    range, or False for never (the request header's client_id)."""


class Struct:
    """Base of every generated class: equality and repr over `__slots__`."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[Field, ...]] = ()
    unknown_tagged_fields: list[RawTaggedField] | None

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        for f in self.FIELDS:
            if getattr(self, f.name) != getattr(other, f.name):
                return False
        return (self.unknown_tagged_fields or None) == (other.unknown_tagged_fields or None)

    __hash__ = None  # type: ignore[assignment]  # mutable, like a list

    def __repr__(self) -> str:
        parts = [f"{f.name}={_short_repr(getattr(self, f.name))}" for f in self.FIELDS]
        if self.unknown_tagged_fields:
            parts.append(f"unknown_tagged_fields={self.unknown_tagged_fields!r}")
        return f"{type(self).__qualname__}({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values (nested structs become dicts)."""
        return {f.name: _plain(getattr(self, f.name)) for f in self.FIELDS}


def _short_repr(value: Any) -> str:
    if isinstance(value, memoryview):
        return f"<{value.nbytes} bytes>"
    if isinstance(value, bytes | bytearray) and len(value) > 64:
        return f"<{len(value)} bytes>"
    return repr(value)


def _plain(value: Any) -> Any:
    if isinstance(value, Struct):
        return value.to_dict()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, memoryview):
        return bytes(value)
    return value
