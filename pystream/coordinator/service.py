"""The broker's group coordinator, created on first use.

`group_coordinator(broker)` returns the coordinator registered in
`broker.services["group_coordinator"]`, creating it (and starting its
load from `__consumer_offsets`) when a group API is first called. Until the
load finishes the coordinator answers COORDINATOR_LOAD_IN_PROGRESS, which
clients retry. When the broker registers it at start-up instead, the load
happens before the first request and survives nothing else: `stop()` is
called by `Broker.stop` like any service.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pystream.coordinator.config import CoordinatorConfig
from pystream.coordinator.coordinator import GroupCoordinator
from pystream.coordinator.store import TopicStore, ensure_offsets_topic

if TYPE_CHECKING:
    from pystream.server.broker import Broker

SERVICE = "group_coordinator"


def create(broker: Broker) -> GroupCoordinator:
    config = CoordinatorConfig.from_broker(broker.config)
    return GroupCoordinator(
        config,
        lambda: TopicStore(broker, config.offsets_partitions),
        broker.run_blocking,
        lambda: ensure_offsets_topic(broker, config.offsets_partitions),
    )


def group_coordinator(broker: Broker) -> GroupCoordinator:
    coordinator: GroupCoordinator | None = broker.services.get(SERVICE)
    if coordinator is None:
        coordinator = broker.services[SERVICE] = create(broker)
    if not coordinator.loaded and coordinator._loading is None:
        loading = asyncio.get_running_loop().create_task(coordinator.start())
        # A failure is logged by start(); the next request tries again.
        loading.add_done_callback(lambda t: t.cancelled() or t.exception())
    return coordinator


def client_host(ctx: Any) -> str:
    """Kafka's form of the client's address in group descriptions: "/HOST"."""
    peer = getattr(ctx.connection, "peer", "") or ""
    host = peer.rsplit(":", 1)[0] if ":" in peer else peer
    return f"/{host}"
