"""Source of the C load generator (see pystream.bench.cclient)."""
