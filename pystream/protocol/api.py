"""The API table: every Kafka API key with its valid and flexible versions, its
request/response classes, and the header version each request version uses.

Message modules are imported on first use, so importing the protocol package
does not load all ~90 generated modules.
"""

from __future__ import annotations

import importlib
from typing import Any

from pystream.protocol.errors import UnknownApiKeyError
from pystream.protocol.message import Struct
from pystream.protocol.messages import API_FACTS, OTHER_MODULES, ApiFacts, ApiKey

__all__ = [
    "API_BY_KEY",
    "ApiKey",
    "ApiSpec",
    "message_class",
    "request_header_version",
    "response_header_version",
]


class ApiSpec:
    """One API: its facts, and its request and response classes (loaded lazily)."""

    __slots__ = (
        "_request_class",
        "_response_class",
        "api_key",
        "deprecated_versions",
        "flexible_min_version",
        "latest_version_unstable",
        "listeners",
        "max_version",
        "min_version",
        "module",
        "name",
    )

    def __init__(self, api_key: ApiKey, facts: ApiFacts) -> None:
        self.api_key = api_key
        self.name = facts.request[: -len("Request")]
        self.module = facts.module
        self.min_version = facts.min_version
        self.max_version = facts.max_version
        self.flexible_min_version = facts.flexible_min_version
        self.deprecated_versions = facts.deprecated_versions
        self.latest_version_unstable = facts.latest_version_unstable
        self.listeners = facts.listeners
        self._request_class: Any = None
        self._response_class: Any = None

    def _load(self) -> None:
        mod = importlib.import_module(f"pystream.protocol.messages.{self.module}")
        self._request_class = getattr(mod, f"{self.name}Request")
        self._response_class = getattr(mod, f"{self.name}Response")

    @property
    def request_class(self) -> Any:
        if self._request_class is None:
            self._load()
        return self._request_class

    @property
    def response_class(self) -> Any:
        if self._response_class is None:
            self._load()
        return self._response_class

    def supports(self, version: int) -> bool:
        return self.min_version <= version <= self.max_version

    def is_flexible(self, version: int) -> bool:
        return self.flexible_min_version is not None and version >= self.flexible_min_version

    def __repr__(self) -> str:
        return f"ApiSpec({self.api_key.name}, versions {self.min_version}-{self.max_version})"


API_BY_KEY: dict[int, ApiSpec] = {k: ApiSpec(ApiKey(k), f) for k, f in API_FACTS.items()}


def _spec(api_key: int, version: int) -> ApiSpec:
    spec = API_BY_KEY.get(api_key)
    if spec is None:
        raise UnknownApiKeyError(api_key, version, None)
    return spec


def request_header_version(api_key: int, version: int) -> int:
    """Request header version for a request: 2 in flexible versions, else 1;
    ControlledShutdown v0 alone uses header v0."""
    spec = _spec(api_key, version)
    if api_key == ApiKey.CONTROLLED_SHUTDOWN and version == 0:
        return 0
    return 2 if spec.is_flexible(version) else 1


def response_header_version(api_key: int, version: int) -> int:
    """Response header version: 1 in flexible versions, else 0. ApiVersions
    responses always use v0 so a client can read them before it knows what the
    broker supports."""
    spec = _spec(api_key, version)
    if api_key == ApiKey.API_VERSIONS:
        return 0
    return 1 if spec.is_flexible(version) else 0


def message_class(name: str) -> type[Struct]:
    """A generated class by its schema name, e.g. "OffsetCommitValue",
    "ConsumerProtocolSubscription" or "MetadataResponse"."""
    module = OTHER_MODULES.get(name)
    if module is None:
        for spec in API_BY_KEY.values():
            if name in (f"{spec.name}Request", f"{spec.name}Response"):
                module = spec.module
                break
        else:
            raise KeyError(f"no message named {name!r}")
    cls: type[Struct] = getattr(
        importlib.import_module(f"pystream.protocol.messages.{module}"), name
    )
    return cls
