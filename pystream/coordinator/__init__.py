"""pystream.coordinator: the group coordinator (classic consumer groups,
committed offsets) persisted in `__consumer_offsets`.

- `group.py`, `member.py`: the state machine of one group.
- `coordinator.py`: membership (join, sync, heartbeat, leave) with timers.
- `offsets.py`: offset commit, fetch, delete and expiry.
- `records.py`, `loader.py`, `store.py`: the records of `__consumer_offsets`,
  turning groups into records and back, and where records are kept.
- `consumer_protocol.py`: the consumer protocol's subscription/assignment bytes.
- `service.py`: the broker's coordinator instance.
"""
