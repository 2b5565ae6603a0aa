"""Test helpers: an in-process broker on an ephemeral port.

`EmbeddedBroker` runs a real broker (real sockets, real data dir) on its own
event loop in a background thread, so synchronous clients can talk to it
from the test's thread. The pytest plugin (`pystream.testing.plugin`, loaded
automatically when pystream is installed) offers it as the `pystream_broker`
fixture.
"""

from pystream.testing.embedded import EmbeddedBroker

__all__ = ["EmbeddedBroker"]
