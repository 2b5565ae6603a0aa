"""Shared CLI pieces: the --bootstrap-server option and error reporting."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

T = TypeVar("T")

bootstrap_option = click.option(
    "--bootstrap-server",
    "bootstrap",
    default="127.0.0.1:9092",
    show_default=True,
    envvar="PYSTREAM_BOOTSTRAP_SERVER",
    help="HOST:PORT[,HOST:PORT...] of any Kafka-compatible broker",
)


def run_async(fn: Callable[..., Coroutine[Any, Any, T]]) -> Callable[..., T]:
    """Runs an async click command; Kafka errors become clean CLI errors."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        from pystream.client import KafkaConnectionError, KafkaError

        try:
            return asyncio.run(fn(*args, **kwargs))
        except (KafkaError, KafkaConnectionError) as e:
            raise click.ClickException(str(e)) from None
        except KeyboardInterrupt:
            raise SystemExit(130) from None

    return wrapper


def parse_kv(items: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{item!r}: expected key=value", param_hint=what)
        out[key] = value
    return out
