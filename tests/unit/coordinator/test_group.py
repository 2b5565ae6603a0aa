"""The group state machine on its own: transitions, members, protocol votes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.coordinator.group import Group, GroupState, IllegalStateError
from pystream.coordinator.member import Member

S = GroupState


def member(member_id: str, protocols: list[str], instance: str | None = None) -> Member:
    return Member(
        member_id=member_id,
        group_instance_id=instance,
        client_id="c",
        client_host="/127.0.0.1",
        rebalance_timeout_ms=1000,
        session_timeout_ms=1000,
        protocol_type="consumer",
        protocols=[(p, p.encode()) for p in protocols],
    )


def test_kafka_transitions() -> None:
    g = Group("g")
    assert g.is_in(S.EMPTY)
    with pytest.raises(IllegalStateError):
        g.transition(S.STABLE)
    g.transition(S.PREPARING_REBALANCE)
    g.transition(S.COMPLETING_REBALANCE)
    with pytest.raises(IllegalStateError):
        g.transition(S.EMPTY)
    g.transition(S.STABLE)
    g.transition(S.PREPARING_REBALANCE)
    g.transition(S.EMPTY)
    g.transition(S.DEAD)
    g.transition(S.DEAD)


def test_first_member_is_leader_and_leadership_moves_on_removal() -> None:
    g = Group("g")
    g.add(member("a", ["range"]))
    g.add(member("b", ["range"]))
    assert g.leader_id == "a" and g.protocol_type == "consumer"
    g.remove("a")
    assert g.leader_id == "b"
    g.remove("b")
    assert g.leader_id is None and g.is_empty


def test_supports_protocols_needs_type_and_a_common_protocol() -> None:
    g = Group("g")
    assert not g.supports_protocols("consumer", [])
    assert not g.supports_protocols("", ["range"])
    g.add(member("a", ["range", "roundrobin"]))
    g.add(member("b", ["roundrobin", "sticky"]))
    assert g.supports_protocols("consumer", ["roundrobin"])
    assert not g.supports_protocols("consumer", ["range", "sticky"])
    assert not g.supports_protocols("connect", ["roundrobin"])


def test_select_protocol_by_votes() -> None:
    g = Group("g")
    g.add(member("a", ["range", "cooperative-sticky"]))
    g.add(member("b", ["cooperative-sticky", "range"]))
    g.add(member("c", ["cooperative-sticky", "range"]))
    assert g.select_protocol() == "cooperative-sticky"
    g.remove("c")
    # A tie goes to the protocol the longest-standing member prefers.
    assert g.select_protocol() == "range"


def test_init_next_generation() -> None:
    g = Group("g")
    g.add(member("a", ["range"]))
    g.transition(S.PREPARING_REBALANCE)
    g.init_next_generation()
    assert (g.generation_id, g.state, g.protocol_name) == (1, S.COMPLETING_REBALANCE, "range")
    g.transition(S.STABLE)
    g.transition(S.PREPARING_REBALANCE)
    g.remove("a")
    g.init_next_generation()
    assert (g.generation_id, g.state, g.protocol_name) == (2, S.EMPTY, None)


def test_static_member_replacement_keeps_assignment_and_leadership() -> None:
    g = Group("g")
    m = member("old", ["range"], instance="i1")
    m.assignment = b"mine"
    g.add(m)
    g.add(member("other", ["range"]))
    replaced = g.replace_static_member("i1", "old", "new")
    assert replaced.assignment == b"mine"
    assert g.leader_id == "new" and g.static_member_id("i1") == "new"
    assert not g.has("old") and g.has("new")
    assert set(g.members) == {"other", "new"}


def test_all_members_joined_waits_for_pending() -> None:
    g = Group("g")
    a = member("a", ["range"])
    g.add(a)
    a.awaiting_join = object()
    assert g.all_members_joined()
    g.pending_members.add("x")
    assert not g.all_members_joined()
    assert g.not_yet_rejoined() == []


names = st.sampled_from(["range", "roundrobin", "sticky", "cooperative-sticky"])
ops = st.lists(
    st.tuples(
        st.booleans(), st.integers(0, 5), st.lists(names, min_size=1, max_size=4, unique=True)
    ),
    max_size=40,
)


@given(ops)
def test_invariants_under_adds_and_removes(steps: list[tuple[bool, int, list[str]]]) -> None:
    g = Group("g")
    for add, n, protocols in steps:
        mid = f"m{n}"
        if add and not g.has(mid):
            if g.supports_protocols("consumer", protocols):
                g.add(member(mid, protocols))
        else:
            g.remove(mid)
        # The leader is a member, and only an empty group has none.
        assert (g.leader_id is None) == g.is_empty
        assert g.leader_id is None or g.has(g.leader_id)
        # Every member can take part in the selected protocol.
        if not g.is_empty:
            chosen = g.select_protocol()
            assert all(chosen in m.protocol_names() for m in g.members.values())
            common = set.intersection(*(set(m.protocol_names()) for m in g.members.values()))
            assert g.candidate_protocols() == common
