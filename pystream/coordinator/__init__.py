"""pystream.coordinator: the group coordinator (classic consumer groups,
committed offsets) persisted in `__consumer_offsets`.

- `group.py`, `member.py`: the state machine of one group.
- `core.py`: the coordinator's state, persistence and member validation;
  `rebalance.py`: JoinGroup/SyncGroup, join rounds and timeouts;
  `offsets.py`: offset commit, fetch, delete and expiry;
  `coordinator.py`: `GroupCoordinator` (lifecycle, heartbeat, leave, admin APIs).
- `records.py`, `loader.py`, `store.py`, `compaction.py`: the records of
  `__consumer_offsets`, turning groups into records and back, where records
  are kept, and keeping that topic short.
- `consumer_protocol.py`: the consumer protocol's subscription/assignment bytes.
- `service.py`: the broker's coordinator instance.
"""
