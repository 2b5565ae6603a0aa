"""`pystream broker`: run a broker on a local data dir until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from pystream.server.config import BrokerConfig, ConfigError, Listener


def _event_loop_factory(kind: str) -> type[asyncio.AbstractEventLoop] | None:
    if kind == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        if kind == "uvloop":
            raise click.UsageError("--event-loop uvloop: uvloop is not installed") from None
        return None
    return uvloop.Loop


@click.command("broker")
@click.option("--data-dir", default="./pystream-data", show_default=True, help="log.dirs")
@click.option("--listen", default=None, help="HOST:PORT to listen on [127.0.0.1:9092]")
@click.option("--advertise", default=None, help="HOST:PORT clients are told to use")
@click.option(
    "--config",
    "config_file",
    default=None,
    type=click.Path(dir_okay=False),
    help="a server.properties file",
)
@click.option(
    "-o",
    "--override",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="a broker config, Kafka's names (repeatable)",
)
@click.option(
    "--event-loop",
    type=click.Choice(["auto", "uvloop", "asyncio"]),
    default="asyncio",
    show_default=True,
    help="asyncio sends fetched records with sendfile (zero copy); uvloop copies",
)
@click.option("--log-level", default="INFO", show_default=True)
def broker(
    data_dir: str,
    listen: str | None,
    advertise: str | None,
    config_file: str | None,
    overrides: tuple[str, ...],
    event_loop: str,
    log_level: str,
) -> None:
    """Start a Kafka-compatible broker."""
    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    items = [f"log.dirs={data_dir}"]
    if listen:
        lst = Listener.parse(listen)
        items.append(
            f"listeners=PLAINTEXT://{listen if '://' in listen else f'{lst.host}:{lst.port}'}"
        )
    if advertise:
        items.append(f"advertised.listeners=PLAINTEXT://{advertise}")
    try:
        config = BrokerConfig.load(config_file, [*items, *overrides])
    except ConfigError as e:
        raise click.UsageError(str(e)) from None
    factory = _event_loop_factory(event_loop)
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(_serve(config))
    except ConfigError as e:
        raise click.ClickException(str(e)) from None
    except OSError as e:
        raise click.ClickException(f"cannot start broker: {e}") from None


async def _serve(config: BrokerConfig) -> None:
    from pystream.server.broker import Broker

    broker = Broker(config)
    stop = asyncio.get_running_loop().create_future()

    def request_stop(signame: str) -> None:
        logging.getLogger("pystream.broker").info("received %s, shutting down", signame)
        if not stop.done():
            stop.set_result(None)

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop, sig.name)
    await broker.start()
    try:
        await stop
    finally:
        await broker.stop()
