"""Hypothesis strategies for generated message classes (test support).

`messages(cls, version)` draws instances that are valid for that version: only
fields the version carries get values, null only where the version allows it.
Importing this module imports hypothesis; nothing in the codec imports it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st

from pystream.protocol.api import API_BY_KEY
from pystream.protocol.message import Field, Struct
from pystream.protocol.messages import OTHER_MODULES
from pystream.protocol.types import RawTaggedField

_INT_RANGES = {
    "int8": (-(2**7), 2**7 - 1),
    "int16": (-(2**15), 2**15 - 1),
    "int32": (-(2**31), 2**31 - 1),
    "int64": (-(2**63), 2**63 - 1),
    "uint16": (0, 2**16 - 1),
    "uint32": (0, 2**32 - 1),
}
_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def in_range(version: int, rng: tuple[int, int] | None) -> bool:
    return rng is not None and rng[0] <= version <= rng[1]


def top_level_classes() -> Iterator[type[Struct]]:
    """Every generated top-level class: requests, responses, headers, data schemas."""
    for spec in API_BY_KEY.values():
        yield spec.request_class
        yield spec.response_class
    for name, module in OTHER_MODULES.items():
        yield getattr(importlib.import_module(f"pystream.protocol.messages.{module}"), name)


def class_versions() -> Iterator[tuple[type[Struct], int]]:
    for cls in top_level_classes():
        for v in range(cls.MIN_VERSION, cls.MAX_VERSION + 1):  # type: ignore[attr-defined]
            yield cls, v


def _primitive(t: str) -> st.SearchStrategy[Any]:
    if t in _INT_RANGES:
        lo, hi = _INT_RANGES[t]
        return st.integers(lo, hi)
    if t == "float64":
        return st.floats(allow_nan=False)
    if t == "bool":
        return st.booleans()
    if t == "string":
        return _TEXT
    if t in ("bytes", "records"):
        return st.binary(max_size=24)
    if t == "uuid":
        return st.uuids()
    raise ValueError(t)


def _value(f: Field, version: int, root: type[Struct]) -> st.SearchStrategy[Any]:
    t = f.type
    elem = t[2:] if t.startswith("[]") else t
    if elem in _INT_RANGES or elem in ("float64", "bool", "string", "bytes", "records", "uuid"):
        base = _primitive(elem)
    else:
        base = st.deferred(lambda: messages(getattr(root, elem), version, root))
    strat = st.lists(base, max_size=3) if t.startswith("[]") else base
    if in_range(version, f.nullable):
        strat = st.none() | strat
    return strat


_CACHE: dict[tuple[type[Struct], int, type[Struct] | None], st.SearchStrategy[Any]] = {}


def messages(
    cls: type[Struct], version: int, root: type[Struct] | None = None
) -> st.SearchStrategy[Any]:
    """Instances of `cls` valid at `version`; `root` is the top-level class whose
    attributes name every struct (defaults to `cls`)."""
    key = (cls, version, root)
    if key not in _CACHE:
        _CACHE[key] = _messages(cls, version, root or cls)
    return _CACHE[key]


def _messages(cls: type[Struct], version: int, root: type[Struct]) -> st.SearchStrategy[Any]:
    kwargs = {f.name: _value(f, version, root) for f in cls.FIELDS if in_range(version, f.versions)}
    flexible_min = getattr(root, "FLEXIBLE_MIN_VERSION", None)
    if flexible_min is not None and version >= flexible_min and cls is root:
        known = {f.tag for f in cls.FIELDS if f.tag is not None}
        kwargs["unknown_tagged_fields"] = st.lists(
            st.builds(
                RawTaggedField,
                st.integers(0, 300).filter(lambda t: t not in known),
                st.binary(max_size=6),
            ),
            max_size=2,
            unique_by=lambda r: r.tag,
        ).map(lambda fs: sorted(fs) or None)
    return st.builds(cls, **kwargs)
