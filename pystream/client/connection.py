"""One asyncio connection to a Kafka broker, with request pipelining.

On connect it asks ApiVersions and afterwards encodes each request at the
highest version both sides support (capped by `max_versions` so callers can
pin a version). Responses are matched to requests by correlation id; many
requests may be in flight. Works against any Kafka-compatible broker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

from pystream import __version__
from pystream.protocol.api import API_BY_KEY
from pystream.protocol.errors import ErrorCode
from pystream.protocol.frame import decode_response, encode_request
from pystream.protocol.headers import RequestHeader
from pystream.protocol.messages.api_versions import ApiVersionsRequest

log = logging.getLogger(__name__)

API_VERSIONS = 18


class KafkaConnectionError(ConnectionError):
    """The broker could not be reached or the connection broke."""


class UnsupportedApiError(RuntimeError):
    """The broker does not serve an API (or any version we can speak)."""


class BrokerConnection:
    def __init__(self, host: str, port: int, client_id: str = "pystream") -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self.versions: dict[int, tuple[int, int]] = {}
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[int, tuple[asyncio.Future[Any], int, int]] = {}
        self._ids = itertools.count(1)
        self._read_task: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def connect(self, timeout: float = 10.0) -> BrokerConnection:
        try:
            self._reader, self._writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port, limit=2**20), timeout
            )
        except (TimeoutError, OSError) as e:
            raise KafkaConnectionError(f"cannot connect to {self.address}: {e}") from None
        self._read_task = asyncio.get_running_loop().create_task(self._read_loop())
        await self._negotiate()
        return self

    async def _negotiate(self) -> None:
        spec = API_BY_KEY[API_VERSIONS]
        version = spec.max_version
        request = ApiVersionsRequest(
            client_software_name="pystream", client_software_version=__version__
        )
        response = await self._send(API_VERSIONS, version, request)
        if response.error_code == ErrorCode.UNSUPPORTED_VERSION:
            # The broker answered v0 with its supported range.
            theirs = {k.api_key: k.max_version for k in response.api_keys}
            version = min(theirs.get(API_VERSIONS, 0), spec.max_version)
            response = await self._send(API_VERSIONS, version, request)
        if response.error_code != 0:
            raise KafkaConnectionError(f"ApiVersions failed: error {response.error_code}")
        for k in response.api_keys:
            ours = API_BY_KEY.get(k.api_key)
            if ours is None:
                continue
            lo = max(k.min_version, ours.min_version)
            hi = min(k.max_version, ours.max_version)
            if lo <= hi:
                self.versions[k.api_key] = (lo, hi)

    def version_for(self, api_key: int, max_version: int | None = None) -> int:
        rng = self.versions.get(api_key)
        if rng is None:
            raise UnsupportedApiError(f"broker {self.address} does not support API {api_key}")
        hi = rng[1] if max_version is None else min(rng[1], max_version)
        if hi < rng[0]:
            raise UnsupportedApiError(f"broker {self.address}: API {api_key} needs v{rng[0]}+")
        return hi

    async def request(
        self, request: Any, max_version: int | None = None, expect_response: bool = True
    ) -> Any:
        api_key = type(request).API_KEY
        version = self.version_for(api_key, max_version)
        return await self._send(api_key, version, request, expect_response)

    async def _send(
        self, api_key: int, version: int, request: Any, expect_response: bool = True
    ) -> Any:
        if self._closed or self._writer is None:
            raise KafkaConnectionError(f"connection to {self.address} is closed")
        correlation_id = next(self._ids) & 0x7FFFFFFF
        header = RequestHeader(
            request_api_key=api_key,
            request_api_version=version,
            correlation_id=correlation_id,
            client_id=self.client_id,
        )
        data = encode_request(header, request)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if expect_response:
            self._pending[correlation_id] = (fut, api_key, version)
        self._writer.write(data)
        await self._writer.drain()
        if not expect_response:
            return None
        return await fut

    async def _read_loop(self) -> None:
        assert self._reader is not None
        reader = self._reader
        error: Exception | None = None
        try:
            while True:
                size_bytes = await reader.readexactly(4)
                size = int.from_bytes(size_bytes, "big", signed=True)
                if size < 4 or size > 1 << 30:
                    raise KafkaConnectionError(f"bad response size {size} from {self.address}")
                frame = await reader.readexactly(size)
                cid = int.from_bytes(frame[:4], "big", signed=True)
                entry = self._pending.pop(cid, None)
                if entry is None:
                    log.warning("unexpected correlation id %d from %s", cid, self.address)
                    continue
                fut, api_key, version = entry
                if fut.done():
                    continue
                try:
                    _, response = decode_response(api_key, version, frame)
                except Exception as e:
                    fut.set_exception(e)
                else:
                    fut.set_result(response)
        except (asyncio.IncompleteReadError, OSError) as e:
            error = KafkaConnectionError(f"connection to {self.address} lost: {e}")
        except KafkaConnectionError as e:
            error = e
        except asyncio.CancelledError:
            error = KafkaConnectionError(f"connection to {self.address} closed")
        finally:
            self._closed = True
            for fut, _, _ in self._pending.values():
                if not fut.done():
                    fut.set_exception(error or KafkaConnectionError("closed"))
            self._pending.clear()

    async def close(self) -> None:
        self._closed = True
        if self._read_task is not None:
            self._read_task.cancel()
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
