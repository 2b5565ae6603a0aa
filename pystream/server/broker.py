"""The broker: its state (topics, partitions) and its lifecycle.

`Broker` owns the log manager, the topic registry and the listener. Start-up
opens every partition (recovery runs off the event loop), then binds the
listener. Shutdown stops accepting, lets in-flight requests finish, flushes
and closes the logs, so a restart needs no recovery of what was written.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pystream.server.config import BrokerConfig
from pystream.server.connection import KafkaConnection, SocketBuffers
from pystream.server.dispatcher import Dispatcher
from pystream.server.framing import BufferPool
from pystream.server.handlers import register_all
from pystream.server.meta import MetaProperties, load_or_create
from pystream.server.topics import TopicRegistry

log = logging.getLogger(__name__)

T = TypeVar("T")


class Broker:
    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.meta: MetaProperties | None = None
        self.topics: TopicRegistry | None = None
        self.dispatcher = Dispatcher(self, config["max.connections"])
        # Large request buffers, shared by the connections and trimmed when idle.
        self.request_buffers = BufferPool()
        self._server: asyncio.Server | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self.bound_port: int | None = None
        self.started_at_ms = 0
        # Extension points for later subsystems (group coordinator, ...).
        self.services: dict[str, Any] = {}

    @property
    def node_id(self) -> int:
        assert self.meta is not None
        return self.meta.node_id

    @property
    def cluster_id(self) -> str:
        assert self.meta is not None
        return self.meta.cluster_id

    @property
    def advertised_host_port(self) -> tuple[str, int]:
        adv = self.config.advertised_listener
        port = adv.port
        if not self.config["advertised.listeners"] and self.bound_port is not None:
            port = self.bound_port
        return adv.host, port

    async def run_blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Runs long native work (recovery, fsync, big reads) off the event loop."""
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)

    async def start(self) -> None:
        register_all()
        data_dir = self.config.data_dir
        self.meta = await self.run_blocking(
            load_or_create, data_dir, self.config["node.id"], self.config["cluster.id"]
        )
        self.topics = await self.run_blocking(TopicRegistry.open, self.config)
        from pystream.coordinator.service import SERVICE
        from pystream.coordinator.service import create as create_group_coordinator

        if self.topics.get("__consumer_offsets") is not None:
            # Groups exist: load them before serving. Otherwise the
            # coordinator (and its topic) is created on the first group API.
            self.services.setdefault(SERVICE, create_group_coordinator(self))
        loop = asyncio.get_running_loop()
        listener = self.config.listener
        zero_copy = _loop_supports_sendfile(loop)
        max_frame = self.config["socket.request.max.bytes"]
        buffers = SocketBuffers(
            self.config["socket.send.buffer.bytes"], self.config["socket.receive.buffer.bytes"]
        )
        pool = self.request_buffers
        self._server = await loop.create_server(
            lambda: KafkaConnection(self.dispatcher, max_frame, zero_copy, buffers, pool),
            host=listener.host,
            port=listener.port,
            reuse_address=True,
            backlog=1024,
        )
        for sock in self._server.sockets:
            # Accepted sockets inherit it, and the window scale is agreed on at SYN time.
            buffers.apply(sock, send=False)
        self.bound_port = self._server.sockets[0].getsockname()[1]
        self.started_at_ms = int(time.time() * 1000)
        self._housekeeping = loop.create_task(self._housekeeping_loop())
        for starter in list(self.services.values()):
            start = getattr(starter, "start", None)
            if start is not None:
                await start()
        log.info(
            "broker %d (cluster %s) listening on %s:%d, data dir %s",
            self.node_id,
            self.cluster_id,
            listener.host,
            self.bound_port,
            data_dir,
        )

    async def stop(self, grace_s: float = 5.0) -> None:
        if self._server is not None:
            self._server.close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        for service in list(self.services.values()):
            stop = getattr(service, "stop", None)
            if stop is not None:
                await stop()
        # Answer long-polling fetches now, let in-flight requests finish,
        # then close what is left.
        if self.topics is not None:
            for topic in self.topics.topics.values():
                for p in topic.partitions:
                    p.close_waiters()
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(not c.idle for c in self.dispatcher.connections):
            await asyncio.sleep(0.02)
        for conn in list(self.dispatcher.connections):
            conn.close()
        if self._server is not None:
            await self._server.wait_closed()
        if self.topics is not None:
            for topic in list(self.topics.topics.values()):
                for p in topic.partitions:
                    await p.wait_flushed()
            await self.run_blocking(self.topics.close)
        log.info("broker stopped cleanly")

    async def _housekeeping_loop(self) -> None:
        idle_ms = self.config["connections.max.idle.ms"]
        interval = min(1.0, max(0.05, idle_ms / 10_000))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for conn in list(self.dispatcher.connections):
                if conn.idle and (now - conn.last_active) * 1000 > idle_ms:
                    log.info("closing idle connection %s", conn.peer)
                    conn.close()
            self.request_buffers.trim()
            if self.topics is not None:
                await self.topics.housekeeping(self)


def _loop_supports_sendfile(loop: asyncio.AbstractEventLoop) -> bool:
    """uvloop has no native sendfile; the standard Unix selector loop does."""
    return type(loop).__module__.startswith("asyncio")


async def run_until(broker: Broker, stop: Awaitable[Any]) -> None:
    await broker.start()
    try:
        await stop
    finally:
        await broker.stop()
