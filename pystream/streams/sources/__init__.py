"""Sources: where micro-batches come from (generator, memory, files; topics and the embedded
log plug in through the same `Source` interface)."""
