"""DescribeCluster (key 60): this broker as the whole cluster and its controller."""

from __future__ import annotations

from pystream.protocol.api import ApiKey
from pystream.protocol.messages.describe_cluster import (
    DescribeClusterRequest,
    DescribeClusterResponse,
)
from pystream.server.dispatcher import RequestContext
from pystream.server.handlers import Handler


async def handle(ctx: RequestContext, request: DescribeClusterRequest) -> DescribeClusterResponse:
    broker = ctx.broker
    host, port = broker.advertised_host_port
    return DescribeClusterResponse(
        throttle_time_ms=0,
        error_code=0,
        error_message=None,
        endpoint_type=1,
        cluster_id=broker.cluster_id,
        controller_id=broker.node_id,
        brokers=[
            DescribeClusterResponse.DescribeClusterBroker(
                broker_id=broker.node_id, host=host, port=port, rack=None
            )
        ],
        cluster_authorized_operations=-2147483648,
    )


HANDLER = Handler(ApiKey.DESCRIBE_CLUSTER, 0, 1, handle)
