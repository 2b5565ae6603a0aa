"""One module per Kafka API. Each defines `HANDLER = Handler(...)`; modules
in this package are discovered, so adding an API is adding a module.

`HANDLERS` maps API key -> handler, and ApiVersions advertises exactly these
keys and version ranges.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pystream.server.dispatcher import RequestContext


@dataclass(frozen=True)
class Handler:
    api_key: int
    min_version: int
    max_version: int
    handle: Callable[[RequestContext, Any], Awaitable[Any]]


def _load() -> dict[int, Handler]:
    table: dict[int, Handler] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        handler: Handler | None = getattr(module, "HANDLER", None)
        if handler is not None:
            table[handler.api_key] = handler
    return table


HANDLERS: dict[int, Handler] = {}


def register_all() -> None:
    """Fills HANDLERS (idempotent). Separate from import to avoid cycles."""
    if not HANDLERS:
        HANDLERS.update(_load())
