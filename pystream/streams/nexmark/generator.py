"""The Nexmark event generator (Person / Auction / Bid), vectorized and counter-based.

It follows the standard generator's model (Beam / Flink Nexmark): out of every 50 events,
1 is a new person, 3 are new auctions and 46 are bids; person and auction ids start at
1000; an event's time is its number times the inter-event delay (10,000 events/s by
default, so 0.1 ms apart); bids go to a "hot" auction with probability 1 - 1/2 and come
from a hot bidder with probability 1 - 1/4, otherwise to one of the 100 auctions in flight
and one of the 1,000 active people; prices are round(10 ** (6u) * 100) cents; channels are
one of four hot channels half of the time, else one of 10,000 others; auctions fall in 5
categories starting at 10.

Randomness is a pure function of (event number, field): XXH64 of the event number with
the field as seed. Any range of events therefore generates identically in any batch split,
which replays after a failure require. Strings come from fixed tables (built once) and are
gathered with `BytesColumn.take`, so no per-event Python runs.
"""

from __future__ import annotations

import numpy as np

from pystream.compute.hashing import xxh64_u64
from pystream.streams.batch import MicroBatch
from pystream.streams.bytes_column import BytesColumn
from pystream.streams.sources.generator import GeneratorSource
from pystream.streams.sources.memory import MemorySource

PERSON_PROPORTION, AUCTION_PROPORTION, BID_PROPORTION = 1, 3, 46
TOTAL_PROPORTION = PERSON_PROPORTION + AUCTION_PROPORTION + BID_PROPORTION
FIRST_PERSON_ID = 1000
FIRST_AUCTION_ID = 1000
FIRST_CATEGORY_ID = 10
NUM_CATEGORIES = 5
NUM_ACTIVE_PEOPLE = 1000
NUM_IN_FLIGHT_AUCTIONS = 100
PERSON_ID_LEAD = AUCTION_ID_LEAD = 10
HOT_AUCTION_RATIO, HOT_BIDDER_RATIO, HOT_SELLER_RATIO, HOT_CHANNEL_RATIO = 2, 4, 4, 2
NUM_CHANNELS = 10_000
BASE_TIME_MS = 1_700_000_000_000
HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"]
US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"]
US_CITIES = [
    "Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland",
    "Bend", "Redmond", "Seattle", "Kent", "Cheyenne",
]  # fmt: skip
FIRST_NAMES = [
    "Peter",
    "Paul",
    "Luke",
    "John",
    "Saul",
    "Vicky",
    "Kate",
    "Julie",
    "Sarah",
    "Deiter",
    "Walter",
]
LAST_NAMES = [
    "Shultz",
    "Abrams",
    "Spencer",
    "White",
    "Bartels",
    "Walton",
    "Smith",
    "Jones",
    "Noris",
]

BID_SCHEMA = {
    "auction": "int64", "bidder": "int64", "price": "int64", "channel": "str",
    "url": "str", "date_time": "int64", "extra": "str",
}  # fmt: skip
AUCTION_SCHEMA = {
    "id": "int64", "item_name": "str", "description": "str", "initial_bid": "int64",
    "reserve": "int64", "date_time": "int64", "expires": "int64", "seller": "int64",
    "category": "int64", "extra": "str",
}  # fmt: skip
PERSON_SCHEMA = {
    "id": "int64", "name": "str", "email_address": "str", "credit_card": "str",
    "city": "str", "state": "str", "date_time": "int64", "extra": "str",
}  # fmt: skip


def _word(n: int, length: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    out = []
    for _ in range(length):
        n, r = divmod(n * 2_654_435_761 + 12345, 1 << 32)
        out.append(letters[r % 26])
        n = r
    return "".join(out)


class _Tables:
    """String tables, built once per process."""

    def __init__(self) -> None:
        cold = [f"channel-{i}" for i in range(NUM_CHANNELS)]
        self.channels = BytesColumn.from_pylist(HOT_CHANNELS + cold, text=True)
        hot_urls = [f"https://www.nexmark.com/{_word(i, 5)}/item.htm?query=1" for i in range(4)]
        cold_urls = [
            f"https://www.nexmark.com/{_word(i, 5)}/{_word(i + 7, 5)}/item.htm?query=1&channel_id={i}"
            for i in range(NUM_CHANNELS)
        ]
        self.urls = BytesColumn.from_pylist(hot_urls + cold_urls, text=True)
        self.extra = BytesColumn.from_pylist([_word(i, 8 + i % 24) for i in range(1024)], text=True)
        self.words = BytesColumn.from_pylist([_word(i, 6 + i % 10) for i in range(1024)], text=True)
        self.names = BytesColumn.from_pylist(
            [f"{f} {last}" for f in FIRST_NAMES for last in LAST_NAMES], text=True
        )
        self.emails = BytesColumn.from_pylist(
            [f"{_word(i, 7)}@{_word(i + 3, 5)}.com" for i in range(1024)], text=True
        )
        self.cards = BytesColumn.from_pylist(
            [
                " ".join(f"{(i * 7919 + j * 104729) % 10000:04d}" for j in range(4))
                for i in range(1024)
            ],
            text=True,
        )
        self.cities = BytesColumn.from_pylist(US_CITIES, text=True)
        self.states = BytesColumn.from_pylist(US_STATES, text=True)


_tables: _Tables | None = None


def tables() -> _Tables:
    global _tables
    if _tables is None:
        _tables = _Tables()
    return _tables


def _uniform(event: np.ndarray, field: int) -> np.ndarray:
    """A uniform double in [0, 1) per event, independent per field."""
    return (xxh64_u64(event, seed=field) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def _below(event: np.ndarray, field: int, n: int) -> np.ndarray:
    return (_uniform(event, field) * n).astype(np.int64)


def last_base0_person_id(event: np.ndarray) -> np.ndarray:
    epoch, offset = np.divmod(event, TOTAL_PROPORTION)
    return epoch * PERSON_PROPORTION + np.minimum(offset, PERSON_PROPORTION - 1)


def last_base0_auction_id(event: np.ndarray) -> np.ndarray:
    epoch, offset = np.divmod(event, TOTAL_PROPORTION)
    offset = np.where(
        offset < PERSON_PROPORTION, AUCTION_PROPORTION - 1, offset - PERSON_PROPORTION
    )
    # before this epoch's first auction, the last auction is the previous epoch's last one
    epoch = np.where((event % TOTAL_PROPORTION) < PERSON_PROPORTION, epoch - 1, epoch)
    return epoch * AUCTION_PROPORTION + np.minimum(offset, AUCTION_PROPORTION - 1)


def _next_base0_person(event: np.ndarray, field: int) -> np.ndarray:
    people = last_base0_person_id(event) + 1
    active = np.minimum(people, NUM_ACTIVE_PEOPLE)
    n = _uniform(event, field) * (active + PERSON_ID_LEAD)
    return people - active + n.astype(np.int64)


def _next_base0_auction(event: np.ndarray, field: int) -> np.ndarray:
    last = np.maximum(last_base0_auction_id(event), 0)
    low = np.maximum(last - NUM_IN_FLIGHT_AUCTIONS, 0)
    span = last - low + 1 + AUCTION_ID_LEAD
    return low + (_uniform(event, field) * span).astype(np.int64)


def _price(event: np.ndarray, field: int) -> np.ndarray:
    return np.rint(np.power(10.0, _uniform(event, field) * 6.0) * 100.0).astype(np.int64)


def event_time(event: np.ndarray, events_per_second: int) -> np.ndarray:
    return BASE_TIME_MS + (event * 1000) // events_per_second


def bids(start: int, end: int, events_per_second: int = 10_000) -> MicroBatch:
    """Bids number start..end-1 (in the bid sequence), with their global event numbers."""
    i = np.arange(start, end, dtype=np.int64)
    epoch, k = np.divmod(i, BID_PROPORTION)
    event = epoch * TOTAL_PROPORTION + PERSON_PROPORTION + AUCTION_PROPORTION + k
    t = tables()
    hot_auction = _below(event, 1, HOT_AUCTION_RATIO) > 0
    auction = np.where(
        hot_auction,
        (last_base0_auction_id(event) // HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO,
        _next_base0_auction(event, 2),
    )
    hot_bidder = _below(event, 3, HOT_BIDDER_RATIO) > 0
    bidder = np.where(
        hot_bidder,
        (last_base0_person_id(event) // HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1,
        _next_base0_person(event, 4),
    )
    hot_channel = _below(event, 5, HOT_CHANNEL_RATIO) > 0
    channel = np.where(
        hot_channel, _below(event, 6, len(HOT_CHANNELS)), 4 + _below(event, 7, NUM_CHANNELS)
    )
    return MicroBatch(
        {
            "auction": auction + FIRST_AUCTION_ID,
            "bidder": bidder + FIRST_PERSON_ID,
            "price": _price(event, 8),
            "channel": t.channels.take(channel),
            "url": t.urls.take(channel),
            "date_time": event_time(event, events_per_second),
            "extra": t.extra.take(_below(event, 9, 1024)),
        }
    )


def auctions(start: int, end: int, events_per_second: int = 10_000) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64)
    epoch, k = np.divmod(i, AUCTION_PROPORTION)
    event = epoch * TOTAL_PROPORTION + PERSON_PROPORTION + k
    t = tables()
    hot_seller = _below(event, 11, HOT_SELLER_RATIO) > 0
    seller = np.where(
        hot_seller,
        (last_base0_person_id(event) // HOT_SELLER_RATIO) * HOT_SELLER_RATIO,
        _next_base0_person(event, 12),
    )
    initial = _price(event, 13)
    now = event_time(event, events_per_second)
    return MicroBatch(
        {
            "id": i + FIRST_AUCTION_ID,
            "item_name": t.words.take(_below(event, 14, 1024)),
            "description": t.words.take(_below(event, 15, 1024)),
            "initial_bid": initial,
            "reserve": initial + _price(event, 16),
            "date_time": now,
            "expires": now + 1 + _below(event, 17, 20_000),
            "seller": seller + FIRST_PERSON_ID,
            "category": FIRST_CATEGORY_ID + _below(event, 18, NUM_CATEGORIES),
            "extra": t.extra.take(_below(event, 19, 1024)),
        }
    )


def persons(start: int, end: int, events_per_second: int = 10_000) -> MicroBatch:
    i = np.arange(start, end, dtype=np.int64)
    event = i * TOTAL_PROPORTION
    t = tables()
    city = _below(event, 21, len(US_CITIES))
    return MicroBatch(
        {
            "id": i + FIRST_PERSON_ID,
            "name": t.names.take(_below(event, 22, len(t.names))),
            "email_address": t.emails.take(_below(event, 23, 1024)),
            "credit_card": t.cards.take(_below(event, 24, 1024)),
            "city": t.cities.take(city),
            "state": t.states.take(_below(event, 25, len(US_STATES))),
            "date_time": event_time(event, events_per_second),
            "extra": t.extra.take(_below(event, 26, 1024)),
        }
    )


_KINDS = {
    "bid": (bids, BID_SCHEMA, BID_PROPORTION),
    "auction": (auctions, AUCTION_SCHEMA, AUCTION_PROPORTION),
    "person": (persons, PERSON_SCHEMA, PERSON_PROPORTION),
}


def count_of(kind: str, events: int) -> int:
    """How many of the first `events` events are of this kind."""
    proportion = _KINDS[kind][2]
    first = {
        "person": 0,
        "auction": PERSON_PROPORTION,
        "bid": PERSON_PROPORTION + AUCTION_PROPORTION,
    }[kind]
    epoch, rest = divmod(events, TOTAL_PROPORTION)
    return epoch * proportion + min(max(rest - first, 0), proportion)


def nexmark_source(
    kind: str,
    events: int,
    *,
    events_per_second: int = 10_000,
    max_records_per_trigger: int | None = None,
) -> GeneratorSource:
    """A bounded source of the `kind` events among the first `events` Nexmark events."""
    make, schema, _ = _KINDS[kind]

    def generate(partition: int, start: int, end: int) -> MicroBatch:
        return make(start, end, events_per_second)

    return GeneratorSource(
        generate,
        schema,
        name=f"nexmark-{kind}",
        total=count_of(kind, events),
        max_records_per_trigger=max_records_per_trigger,
    )


def pregenerate(
    kind: str, events: int, *, chunk: int = 1_000_000, max_records_per_trigger: int | None = None
) -> MemorySource:
    """The `kind` events among the first `events`, generated now and held in memory, so a
    benchmark measures the query rather than the generator."""
    make, schema, _ = _KINDS[kind]
    source = MemorySource(
        schema, name=f"nexmark-{kind}", max_records_per_trigger=max_records_per_trigger
    )
    total = count_of(kind, events)
    for start in range(0, total, chunk):
        source.add_data(make(start, min(start + chunk, total)))
    source.end_input()
    return source
