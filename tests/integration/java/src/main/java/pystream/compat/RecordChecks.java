package pystream.compat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * What an application does with KafkaProducer and KafkaConsumer: an idempotent acks=all producer
 * per codec, and a consumer that assigns partitions itself (no group.id, nothing committed) and
 * must read back exactly what was acked.
 */
final class RecordChecks {
  private static final int RECORDS_PER_PRODUCER = 60;

  private final Checks checks;
  private final String bootstrap;
  private final String topic;
  private final int partitions;
  private final long timeoutS;

  RecordChecks(Checks checks, String bootstrap, String topic, int partitions, long timeoutS) {
    this.checks = checks;
    this.bootstrap = bootstrap;
    this.topic = topic;
    this.partitions = partitions;
    this.timeoutS = timeoutS;
  }

  /** Sends one producer's records, waits for every ack and returns them with their offsets. */
  List<Sent> produce(String codec, long tsBase) throws Exception {
    Properties props = new Properties();
    props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ProducerConfig.CLIENT_ID_CONFIG, "client-check-producer-" + codec);
    props.put(ProducerConfig.ACKS_CONFIG, "all");
    props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
    props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
    props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");

    List<ProducerRecord<byte[], byte[]>> records = records(codec, tsBase);
    List<Future<RecordMetadata>> acks = new ArrayList<>();
    List<Exception> errors = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      checks.checkEq(partitions, producer.partitionsFor(topic).size(), "producer partitionsFor");
      for (ProducerRecord<byte[], byte[]> r : records) {
        acks.add(
            producer.send(
                r,
                (md, e) -> {
                  if (e != null) {
                    synchronized (errors) {
                      errors.add(e);
                    }
                  }
                }));
      }
      producer.flush();
    }
    synchronized (errors) {
      checks.check(errors.isEmpty(), codec + " send callbacks reported " + errors);
    }
    List<Sent> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      ProducerRecord<byte[], byte[]> r = records.get(i);
      RecordMetadata md = acks.get(i).get(timeoutS, TimeUnit.SECONDS);
      checks.checkEq(r.timestamp(), md.timestamp(), codec + " ack timestamp of record " + i);
      if (r.partition() != null) {
        checks.checkEq(r.partition(), md.partition(), codec + " partition of record " + i);
      }
      Header[] headers = r.headers().toArray();
      out.add(new Sent(md.partition(), md.offset(), r.key(), r.value(), headers, r.timestamp()));
    }
    return out;
  }

  /** Keyed records with headers and explicit timestamps, plus the edge cases clients send. */
  private List<ProducerRecord<byte[], byte[]>> records(String codec, long tsBase) {
    Random random = new Random(codec.hashCode());
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (int i = 0; i < RECORDS_PER_PRODUCER; i++) {
      byte[] key = utf8("key-" + (i % 7));
      byte[] value = utf8((codec + "-value-" + i + "-").repeat(1 + i % 5));
      List<Header> headers = new ArrayList<>();
      headers.add(new RecordHeader("h1", utf8("hv" + i)));
      headers.add(new RecordHeader("trace", new byte[] {(byte) i}));
      Integer partition = null;
      switch (i) {
        case 0 -> key = null; // the client picks the partition
        case 1 -> value = null; // a tombstone
        case 2 -> headers.clear();
        case 3 -> {
          value = new byte[100_000]; // larger than a default batch (16 KiB)
          random.nextBytes(value);
        }
        case 4 -> partition = partitions - 1;
        case 5 -> {
          headers.add(new RecordHeader("dup", utf8("a"))); // repeated keys keep their order
          headers.add(new RecordHeader("dup", utf8("b")));
          headers.add(new RecordHeader("null-value", null));
        }
        case 6 -> value = new byte[0];
        default -> {}
      }
      out.add(new ProducerRecord<>(topic, partition, tsBase + i, key, value, headers));
    }
    return out;
  }

  /** Reads every partition from the start; each acked record must be there, intact. */
  void consume(List<Sent> sent, String isolation) {
    Map<Integer, List<ConsumerRecord<byte[], byte[]>>> got = new TreeMap<>();
    int total = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer(isolation)) {
      consumer.assign(topicPartitions());
      consumer.seekToBeginning(topicPartitions());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutS);
      while (total < sent.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          got.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
          total++;
        }
      }
      // One more poll: anything beyond what was sent would be a duplicate.
      total += consumer.poll(Duration.ofMillis(200)).count();
    }
    checks.checkEq(sent.size(), total, "records consumed");

    Map<Integer, Map<Long, ConsumerRecord<byte[], byte[]>>> index = new HashMap<>();
    for (var e : got.entrySet()) {
      List<Long> offsets = e.getValue().stream().map(ConsumerRecord::offset).toList();
      List<Long> dense = LongStream.range(0, offsets.size()).boxed().toList();
      checks.checkEq(dense, offsets, "partition " + e.getKey() + " offsets, in order from 0");
      Map<Long, ConsumerRecord<byte[], byte[]>> at = new HashMap<>();
      e.getValue().forEach(r -> at.put(r.offset(), r));
      index.put(e.getKey(), at);
    }
    for (Sent s : sent) {
      String where = "record at " + s.partition() + "@" + s.offset();
      var r = index.getOrDefault(s.partition(), Map.of()).get(s.offset());
      if (r == null) {
        checks.fail(where + " was acked but not consumed");
        continue;
      }
      String keys = show(s.key()) + " vs " + show(r.key());
      checks.check(Arrays.equals(s.key(), r.key()), where + " key " + keys);
      checks.check(Arrays.equals(s.value(), r.value()), where + " value differs");
      checks.checkEq(s.timestamp(), r.timestamp(), where + " timestamp");
      checks.checkEq(TimestampType.CREATE_TIME, r.timestampType(), where + " timestamp type");
      checks.checkEq(show(s.headers()), show(r.headers().toArray()), where + " headers");
    }
  }

  /** beginningOffsets, endOffsets and offsetsForTimes (before, inside and after the data). */
  void offsets(List<Sent> sent) {
    Map<Integer, List<Sent>> byPart = Sent.byPartition(sent);
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer("read_uncommitted")) {
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(topicPartitions());
      Map<TopicPartition, Long> end = consumer.endOffsets(topicPartitions());
      Map<TopicPartition, Long> zero = new HashMap<>();
      Map<TopicPartition, Long> mid = new HashMap<>();
      Map<TopicPartition, Long> future = new HashMap<>();
      for (TopicPartition tp : topicPartitions()) {
        List<Sent> rs = byPart.getOrDefault(tp.partition(), List.of());
        checks.checkEq(0L, begin.get(tp), tp + " beginningOffsets");
        checks.checkEq((long) rs.size(), end.get(tp), tp + " endOffsets");
        zero.put(tp, 0L);
        future.put(tp, System.currentTimeMillis() + 3_600_000L);
        if (!rs.isEmpty()) {
          mid.put(tp, rs.get(rs.size() / 2).timestamp());
        }
      }
      Map<TopicPartition, OffsetAndTimestamp> atZero = consumer.offsetsForTimes(zero);
      Map<TopicPartition, OffsetAndTimestamp> atMid = consumer.offsetsForTimes(mid);
      Map<TopicPartition, OffsetAndTimestamp> atFuture = consumer.offsetsForTimes(future);
      for (TopicPartition tp : topicPartitions()) {
        List<Sent> rs = byPart.getOrDefault(tp.partition(), List.of());
        OffsetAndTimestamp first = atZero.get(tp);
        if (rs.isEmpty()) {
          checks.check(first == null, tp + " offsetsForTimes(0) on an empty partition: " + first);
          continue;
        }
        checks.checkEq("0@" + rs.get(0).timestamp(), show(first), tp + " offsetsForTimes(0)");
        long t = mid.get(tp);
        String expected = Sent.firstAtOrAfter(rs, t) + "@" + t;
        checks.checkEq(expected, show(atMid.get(tp)), tp + " offsetsForTimes(a record's time)");
        checks.check(atFuture.get(tp) == null, tp + " offsetsForTimes(future): " + atFuture);
      }
    }
  }

  /** Where a fresh consumer says partition 0 begins (after deleteRecords). */
  long beginningOffset(int partition) {
    TopicPartition tp = new TopicPartition(topic, partition);
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer("read_uncommitted")) {
      return consumer.beginningOffsets(List.of(tp)).get(tp);
    }
  }

  private KafkaConsumer<byte[], byte[]> newConsumer(String isolation) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "client-check-consumer");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private List<TopicPartition> topicPartitions() {
    List<TopicPartition> out = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      out.add(new TopicPartition(topic, p));
    }
    return out;
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** offset@timestamp: the leader epoch that OffsetAndTimestamp.equals also compares is moot. */
  private static String show(OffsetAndTimestamp found) {
    return found == null ? null : found.offset() + "@" + found.timestamp();
  }

  private static String show(byte[] b) {
    return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
  }

  private static List<String> show(Header[] headers) {
    return Arrays.stream(headers).map(h -> h.key() + "=" + Arrays.toString(h.value())).toList();
  }
}
