"""Incremental fetch sessions (KIP-227).

A consumer that opens a session (session id 0, epoch 0) gets a session id
back; from then on its fetch requests list only the partitions whose fetch
position changed, and responses list only the partitions with something
new (records, an error, a moved high watermark, last stable offset or log
start offset). The session remembers, per partition, the fetch offset and
byte limit from the last request that named it and what the last response
said.

Sessions are kept for at most `max.incremental.fetch.session.cache.slots`
consumers, least recently used first out; an evicted or unknown session is
FETCH_SESSION_ID_NOT_FOUND and the client starts a new one. Used from the
event loop only.
"""

from __future__ import annotations

import itertools
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from pystream.protocol.errors import ErrorCode

INITIAL_EPOCH = 0
FINAL_EPOCH = -1
DEFAULT_SLOTS = 1000


@dataclass
class SessionPartition:
    fetch_offset: int
    max_bytes: int
    log_start_offset: int = -1
    # What the last response told the client; -2 means "never sent".
    sent_high_watermark: int = -2
    sent_last_stable: int = -2
    sent_log_start: int = -2


@dataclass
class FetchSession:
    id: int
    epoch: int
    # key: (topic name or topic id, partition)
    partitions: OrderedDict[tuple[Any, int], SessionPartition] = field(default_factory=OrderedDict)
    last_used: float = 0.0

    def changed(self, key: tuple[Any, int], hw: int, lso: int, log_start: int) -> bool:
        sp = self.partitions[key]
        return (sp.sent_high_watermark, sp.sent_last_stable, sp.sent_log_start) != (
            hw,
            lso,
            log_start,
        )

    def record_sent(self, key: tuple[Any, int], hw: int, lso: int, log_start: int) -> None:
        sp = self.partitions[key]
        sp.sent_high_watermark, sp.sent_last_stable, sp.sent_log_start = hw, lso, log_start


class SessionError(Exception):
    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.name)
        self.code = code


class FetchSessionCache:
    def __init__(self, slots: int = DEFAULT_SLOTS) -> None:
        self.slots = slots
        self._sessions: OrderedDict[int, FetchSession] = OrderedDict()
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._sessions)

    def new(self) -> FetchSession | None:
        """A new session, or None when sessions are disabled (0 slots)."""
        if self.slots <= 0:
            return None
        while len(self._sessions) >= self.slots:
            self._sessions.popitem(last=False)
        session_id = next(self._ids) & 0x7FFFFFFF or next(self._ids)
        session = FetchSession(session_id, INITIAL_EPOCH + 1, last_used=time.monotonic())
        self._sessions[session_id] = session
        return session

    def close(self, session_id: int) -> None:
        self._sessions.pop(session_id, None)

    def get(self, session_id: int, epoch: int) -> FetchSession:
        """The session for an incremental request at `epoch`; advances it."""
        session = self._sessions.get(session_id)
        if session is None:
            raise SessionError(ErrorCode.FETCH_SESSION_ID_NOT_FOUND)
        if epoch != session.epoch:
            raise SessionError(ErrorCode.INVALID_FETCH_SESSION_EPOCH)
        session.epoch = 1 if session.epoch >= 0x7FFFFFFF else session.epoch + 1
        session.last_used = time.monotonic()
        self._sessions.move_to_end(session_id)
        return session
