"""Percentiles, latency summaries and throughput arithmetic."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pystream.bench.stats import MB, LatencySummary, Throughput, median_and_spread, percentile

samples = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=300)


def test_percentile_nearest_rank_on_known_values() -> None:
    data = list(range(1, 101))  # 1..100
    assert percentile(data, 50) == 50
    assert percentile(data, 95) == 95
    assert percentile(data, 99) == 99
    assert percentile(data, 100) == 100
    assert percentile(data, 0.5) == 1


def test_percentile_99_9_of_1000_samples_is_rank_999() -> None:
    data = list(range(1, 1001))
    assert percentile(data, 99.9) == 999


def test_percentile_of_single_sample() -> None:
    assert percentile([7.0], 50) == 7.0
    assert percentile([7.0], 99.9) == 7.0


@pytest.mark.parametrize("pct", [0, -1, 100.1, math.nan])
def test_percentile_rejects_out_of_range(pct: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0, 2.0], pct)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


@given(samples, st.floats(min_value=0.01, max_value=100))
def test_percentile_is_an_observed_sample_with_enough_below(data: list[float], pct: float) -> None:
    ordered = sorted(data)
    value = percentile(ordered, pct)
    assert value in ordered
    at_or_below = sum(1 for x in ordered if x <= value)
    assert at_or_below / len(ordered) >= pct / 100 - 1e-9


@given(samples)
def test_percentiles_are_ordered(data: list[float]) -> None:
    summary = LatencySummary.from_seconds(data)
    assert summary is not None
    assert summary.p50 <= summary.p95 <= summary.p99 <= summary.p99_9 <= summary.max
    assert summary.max == pytest.approx(max(data) * 1000)
    assert summary.count == len(data)


def test_latency_summary_converts_seconds_to_ms() -> None:
    summary = LatencySummary.from_seconds([0.001, 0.002, 0.003, 0.004])
    assert summary is not None
    assert summary.p50 == pytest.approx(2.0)
    assert summary.mean == pytest.approx(2.5)
    assert summary.max == pytest.approx(4.0)
    assert set(summary.to_dict()) == {"count", "mean", "p50", "p95", "p99", "p99_9", "max"}


def test_latency_summary_of_no_samples_is_none() -> None:
    assert LatencySummary.from_seconds([]) is None


def test_throughput_uses_binary_megabytes() -> None:
    t = Throughput(records=1000, bytes=2 * MB, seconds=2.0)
    assert t.records_per_s == 500
    assert t.mb_per_s == 1.0
    assert Throughput(records=5, bytes=5, seconds=0.0).records_per_s == 0.0


def test_median_and_spread() -> None:
    assert median_and_spread([3.0, 1.0, 2.0]) == (2.0, 1.0, 3.0)
    assert median_and_spread([4.0, 1.0, 2.0, 3.0]) == (2.5, 1.0, 4.0)
    with pytest.raises(ValueError):
        median_and_spread([])
