package pystream.compat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.header.Header;

/** A record as the producer sent it, at the partition and offset its ack reported. */
record Sent(
    int partition, long offset, byte[] key, byte[] value, Header[] headers, long timestamp) {

  /** The records of each partition, in offset order. */
  static Map<Integer, List<Sent>> byPartition(List<Sent> sent) {
    Map<Integer, List<Sent>> out = new TreeMap<>();
    for (Sent s : sent) {
      out.computeIfAbsent(s.partition, k -> new ArrayList<>()).add(s);
    }
    out.values().forEach(l -> l.sort((a, b) -> Long.compare(a.offset, b.offset)));
    return out;
  }

  /** Kafka's rule for a timestamp lookup: the earliest offset whose timestamp is at or after t. */
  static Long firstAtOrAfter(List<Sent> partition, long t) {
    return partition.stream()
        .filter(s -> s.timestamp >= t)
        .map(Sent::offset)
        .min(Long::compare)
        .orElse(null);
  }

  /** The newest record by timestamp, as ListOffsets' max-timestamp spec means it. */
  static Sent newest(List<Sent> partition) {
    return partition.stream().max((a, b) -> Long.compare(a.timestamp, b.timestamp)).orElseThrow();
  }
}
