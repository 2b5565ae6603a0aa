"""`EmbeddedBroker`: a broker on a background thread, for tests and notebooks."""

from __future__ import annotations

import asyncio
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Any

from pystream.server.broker import Broker
from pystream.server.config import BrokerConfig


class EmbeddedBroker:
    """Start with `start()` or `with EmbeddedBroker() as b:`; `b.bootstrap` is HOST:PORT."""

    def __init__(
        self,
        data_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        config: dict[str, Any] | None = None,
    ) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pystream-")
            data_dir = self._tmp.name
        self.data_dir = Path(data_dir)
        values: dict[str, Any] = {
            "log.dirs": str(self.data_dir),
            "listeners": f"PLAINTEXT://{host}:{port}",
            "group.initial.rebalance.delay.ms": "0",
        }
        values.update({k: str(v) for k, v in (config or {}).items()})
        self._values = values
        self.host = host
        self.port = port
        self.broker: Broker | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Future[None] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 30.0) -> EmbeddedBroker:
        ready: Future[None] = Future()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._main(ready))
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="pystream-broker", daemon=True)
        self._thread.start()
        ready.result(timeout)
        return self

    async def _main(self, ready: Future[None]) -> None:
        try:
            config = BrokerConfig(self._values)
            # A fixed port is kept across restarts of the same EmbeddedBroker.
            self.broker = Broker(config)
            await self.broker.start()
            self.port = self.broker.bound_port or self.port
            self._values["listeners"] = f"PLAINTEXT://{self.host}:{self.port}"
            self._stopped = asyncio.get_running_loop().create_future()
        except BaseException as e:
            ready.set_exception(e)
            return
        ready.set_result(None)
        await self._stopped
        await self.broker.stop()

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is None or self._thread is None:
            return
        loop, stopped = self._loop, self._stopped
        if stopped is not None:

            def finish() -> None:
                if not stopped.done():
                    stopped.set_result(None)

            loop.call_soon_threadsafe(finish)
        self._thread.join(timeout)
        self._loop = None
        self._thread = None

    def restart(self) -> None:
        """Stops and starts again on the same data dir and port (recovery)."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
