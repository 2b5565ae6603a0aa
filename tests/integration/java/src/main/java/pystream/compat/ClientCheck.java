package pystream.compat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Drives the stock Java client (Admin, KafkaProducer, KafkaConsumer) against a broker and checks
 * every answer, the way an application would rely on it.
 *
 * <p>Usage: {@code ClientCheck BOOTSTRAP TOPIC}. Prints one line per stage and one per failed
 * check; exits 0 only when every check passed, 1 when some failed, 2 on bad arguments. The
 * consumer uses assign + seekToBeginning and no group.id, so nothing here depends on group
 * membership.
 */
public final class ClientCheck {
  private static final int PARTITIONS = 3;
  private static final int RECORDS_PER_CODEC = 60;
  private static final List<String> CODECS = List.of("zstd", "lz4", "snappy", "gzip", "none");
  private static final long TIMEOUT_S = 30;
  /** Failures printed per stage; the rest are counted. */
  private static final int MAX_REPORTED = 10;

  /** A record as sent, plus where the broker said it went. */
  private record Sent(
      int partition, long offset, byte[] key, byte[] value, Header[] headers, long timestamp) {}

  private final String bootstrap;
  private final String topic;
  private final List<String> failures = new ArrayList<>();
  private int checks;
  private int stageFailures;

  private ClientCheck(String bootstrap, String topic) {
    this.bootstrap = bootstrap;
    this.topic = topic;
  }

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: ClientCheck BOOTSTRAP TOPIC");
      System.exit(2);
    }
    System.exit(new ClientCheck(args[0], args[1]).run());
  }

  private interface Stage {
    void run() throws Exception;
  }

  private int run() {
    List<Sent> sent = new ArrayList<>();
    try (Admin admin = Admin.create(adminProps())) {
      boolean created = stage("admin: create, list, describe topic", () -> createTopic(admin));
      if (created) {
        stage("admin: describe and alter configs", () -> topicConfigs(admin));
        long base = System.currentTimeMillis() - 60_000;
        for (int c = 0; c < CODECS.size(); c++) {
          String codec = CODECS.get(c);
          long tsBase = base + c * 1_000L;
          stage("produce compression=" + codec, () -> sent.addAll(produce(codec, tsBase)));
        }
        for (String isolation : List.of("read_uncommitted", "read_committed")) {
          stage("consume " + isolation + ": assign + seekToBeginning", () -> consume(sent, isolation));
        }
        stage("consumer: beginning/end offsets, offsetsForTimes", () -> consumerOffsets(sent));
        stage("admin: listOffsets", () -> adminOffsets(admin, sent));
        stage("admin: deleteRecords, createPartitions", () -> trimAndGrow(admin, sent));
      }
      stage("admin: delete topic", () -> deleteTopic(admin));
    }
    System.out.printf("ClientCheck: %d checks, %d failed%n", checks, failures.size());
    return failures.isEmpty() ? 0 : 1;
  }

  private boolean stage(String name, Stage body) {
    int before = failures.size();
    stageFailures = 0;
    try {
      body.run();
    } catch (Exception e) {
      Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
      fail(name + " threw " + cause);
    }
    boolean ok = failures.size() == before;
    if (stageFailures > MAX_REPORTED) {
      System.out.printf("  ... and %d more failures%n", stageFailures - MAX_REPORTED);
    }
    System.out.println((ok ? "ok    " : "FAIL  ") + name);
    return ok;
  }

  private void check(boolean ok, String what) {
    checks++;
    if (!ok) {
      fail(what);
    }
  }

  private void checkEq(Object expected, Object actual, String what) {
    check(Objects.equals(expected, actual), what + ": expected " + expected + ", got " + actual);
  }

  private void fail(String what) {
    failures.add(what);
    if (++stageFailures <= MAX_REPORTED) {
      System.out.println("  failed: " + what);
    }
  }

  // ---- admin ----------------------------------------------------------------------------

  private void createTopic(Admin admin) throws Exception {
    NewTopic spec =
        new NewTopic(topic, PARTITIONS, (short) 1)
            .configs(Map.of("max.message.bytes", "2097152"));
    CreateTopicsResult created = admin.createTopics(List.of(spec));
    created.all().get(TIMEOUT_S, TimeUnit.SECONDS);
    checkEq(PARTITIONS, created.numPartitions(topic).get(), "createTopics numPartitions");
    checkEq(1, created.replicationFactor(topic).get(), "createTopics replicationFactor");

    try {
      admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
      fail("creating " + topic + " twice succeeded");
    } catch (ExecutionException e) {
      check(e.getCause() instanceof TopicExistsException, "second create: " + e.getCause());
    }

    Collection<TopicListing> listings = admin.listTopics().listings().get();
    check(
        listings.stream().anyMatch(l -> l.name().equals(topic) && !l.isInternal()),
        "listTopics has " + topic + ": " + listings);

    DescribeClusterResult cluster = admin.describeCluster();
    Collection<Node> nodes = cluster.nodes().get();
    check(!nodes.isEmpty(), "describeCluster lists nodes");
    check(cluster.clusterId().get() != null, "describeCluster has a cluster id");
    Set<Integer> nodeIds = nodes.stream().map(Node::id).collect(Collectors.toSet());

    TopicDescription desc = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    checkEq(PARTITIONS, desc.partitions().size(), "describeTopics partition count");
    check(desc.topicId() != null && !desc.topicId().toString().isEmpty(), "topic id present");
    for (TopicPartitionInfo p : desc.partitions()) {
      String where = "partition " + p.partition();
      check(p.leader() != null && nodeIds.contains(p.leader().id()), where + " leader " + p.leader());
      checkEq(1, p.replicas().size(), where + " replicas");
      checkEq(1, p.isr().size(), where + " isr");
    }

    try {
      admin.describeTopics(List.of(topic + "-missing")).allTopicNames().get();
      fail("describing a missing topic succeeded");
    } catch (ExecutionException e) {
      check(
          e.getCause() instanceof UnknownTopicOrPartitionException,
          "describe missing topic: " + e.getCause());
    }
  }

  private void topicConfigs(Admin admin) throws Exception {
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config before = describe(admin, res);
    ConfigEntry maxBytes = before.get("max.message.bytes");
    checkEq("2097152", maxBytes == null ? null : maxBytes.value(), "max.message.bytes set at create");
    checkEq(
        ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
        maxBytes == null ? null : maxBytes.source(),
        "max.message.bytes source");
    ConfigEntry policy = before.get("cleanup.policy");
    checkEq("delete", policy == null ? null : policy.value(), "cleanup.policy default");
    ConfigEntry retention = before.get("retention.ms");
    check(retention != null && retention.value() != null, "retention.ms described");
    if (retention == null) {
      return;
    }
    String defaultRetention = retention.value();

    alter(admin, res, new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET);
    ConfigEntry set = describe(admin, res).get("retention.ms");
    checkEq("3600000", set.value(), "retention.ms after SET");
    checkEq(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, set.source(), "retention.ms source");

    alter(admin, res, new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE);
    ConfigEntry reset = describe(admin, res).get("retention.ms");
    checkEq(defaultRetention, reset.value(), "retention.ms after DELETE");
    check(
        reset.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
        "retention.ms source after DELETE: " + reset.source());

    int nodeId = admin.describeCluster().nodes().get().iterator().next().id();
    ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(nodeId));
    ConfigEntry partitions = describe(admin, broker).get("num.partitions");
    check(
        partitions != null && partitions.value() != null,
        "broker " + nodeId + " describes num.partitions: " + partitions);
  }

  private Config describe(Admin admin, ConfigResource res) throws Exception {
    return admin.describeConfigs(List.of(res)).all().get(TIMEOUT_S, TimeUnit.SECONDS).get(res);
  }

  private void alter(Admin admin, ConfigResource res, ConfigEntry entry, AlterConfigOp.OpType op)
      throws Exception {
    Map<ConfigResource, Collection<AlterConfigOp>> ops =
        Map.of(res, List.of(new AlterConfigOp(entry, op)));
    admin.incrementalAlterConfigs(ops).all().get(TIMEOUT_S, TimeUnit.SECONDS);
  }

  private void adminOffsets(Admin admin, List<Sent> sent) throws Exception {
    Map<Integer, List<Sent>> byPart = byPartition(sent);
    for (int p = 0; p < PARTITIONS; p++) {
      TopicPartition tp = new TopicPartition(topic, p);
      List<Sent> rs = byPart.getOrDefault(p, List.of());
      checkEq(0L, listOffset(admin, tp, OffsetSpec.earliest()).offset(), tp + " admin earliest");
      checkEq((long) rs.size(), listOffset(admin, tp, OffsetSpec.latest()).offset(), tp + " latest");
      if (rs.isEmpty()) {
        continue;
      }
      Sent newest = rs.stream().max((a, b) -> Long.compare(a.timestamp, b.timestamp)).get();
      ListOffsetsResultInfo max = listOffset(admin, tp, OffsetSpec.maxTimestamp());
      checkEq(newest.offset, max.offset(), tp + " maxTimestamp offset");
      checkEq(newest.timestamp, max.timestamp(), tp + " maxTimestamp timestamp");
      Sent mid = rs.get(rs.size() / 2);
      ListOffsetsResultInfo at = listOffset(admin, tp, OffsetSpec.forTimestamp(mid.timestamp));
      checkEq(firstAtOrAfter(rs, mid.timestamp), at.offset(), tp + " forTimestamp offset");
    }
  }

  private ListOffsetsResultInfo listOffset(Admin admin, TopicPartition tp, OffsetSpec spec)
      throws Exception {
    return admin.listOffsets(Map.of(tp, spec)).partitionResult(tp).get(TIMEOUT_S, TimeUnit.SECONDS);
  }

  private void trimAndGrow(Admin admin, List<Sent> sent) throws Exception {
    TopicPartition tp0 = new TopicPartition(topic, 0);
    long count = byPartition(sent).getOrDefault(0, List.of()).size();
    long cut = Math.min(5, count);
    long low =
        admin
            .deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(cut)))
            .lowWatermarks()
            .get(tp0)
            .get(TIMEOUT_S, TimeUnit.SECONDS)
            .lowWatermark();
    checkEq(cut, low, "deleteRecords low watermark");
    checkEq(cut, listOffset(admin, tp0, OffsetSpec.earliest()).offset(), "earliest after delete");
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
      checkEq(
          cut,
          consumer.beginningOffsets(List.of(tp0)).get(tp0),
          "consumer beginningOffsets after deleteRecords");
    }

    admin
        .createPartitions(Map.of(topic, NewPartitions.increaseTo(PARTITIONS + 1)))
        .all()
        .get(TIMEOUT_S, TimeUnit.SECONDS);
    TopicDescription desc = admin.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
    checkEq(PARTITIONS + 1, desc.partitions().size(), "partitions after createPartitions");
  }

  private void deleteTopic(Admin admin) throws Exception {
    admin.deleteTopics(List.of(topic)).all().get(TIMEOUT_S, TimeUnit.SECONDS);
    // Kafka only promises the deletion eventually; one broker should be prompt, so allow 5 s.
    boolean gone = false;
    for (int i = 0; i < 50 && !gone; i++) {
      gone = !admin.listTopics().names().get().contains(topic);
      if (!gone) {
        Thread.sleep(100);
      }
    }
    check(gone, topic + " still listed after deleteTopics");
  }

  // ---- produce --------------------------------------------------------------------------

  private List<Sent> produce(String codec, long tsBase) throws Exception {
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
      checkEq(PARTITIONS, producer.partitionsFor(topic).size(), "producer partitionsFor");
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
    check(errors.isEmpty(), codec + " send callbacks reported " + errors);
    List<Sent> out = new ArrayList<>();
    for (int i = 0; i < records.size(); i++) {
      ProducerRecord<byte[], byte[]> r = records.get(i);
      RecordMetadata md = acks.get(i).get(TIMEOUT_S, TimeUnit.SECONDS);
      checkEq(r.timestamp(), md.timestamp(), codec + " ack timestamp of record " + i);
      if (r.partition() != null) {
        checkEq(r.partition(), md.partition(), codec + " explicit partition of record " + i);
      }
      out.add(
          new Sent(
              md.partition(), md.offset(), r.key(), r.value(), r.headers().toArray(), r.timestamp()));
    }
    return out;
  }

  /** Keyed records with headers and explicit timestamps, plus the edge cases clients send. */
  private List<ProducerRecord<byte[], byte[]>> records(String codec, long tsBase) {
    Random random = new Random(codec.hashCode());
    List<ProducerRecord<byte[], byte[]>> out = new ArrayList<>();
    for (int i = 0; i < RECORDS_PER_CODEC; i++) {
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
          value = new byte[100_000]; // bigger than one default batch
          random.nextBytes(value);
        }
        case 4 -> partition = 2;
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

  // ---- consume --------------------------------------------------------------------------

  private KafkaConsumer<byte[], byte[]> newConsumer() {
    return newConsumer("read_uncommitted");
  }

  private KafkaConsumer<byte[], byte[]> newConsumer(String isolation) {
    Properties props = new Properties();
    props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(ConsumerConfig.CLIENT_ID_CONFIG, "client-check-consumer");
    props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    props.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
    return new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  private List<TopicPartition> partitions() {
    List<TopicPartition> out = new ArrayList<>();
    for (int p = 0; p < PARTITIONS; p++) {
      out.add(new TopicPartition(topic, p));
    }
    return out;
  }

  private void consume(List<Sent> sent, String isolation) {
    Map<Integer, List<ConsumerRecord<byte[], byte[]>>> got = new TreeMap<>();
    int total = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer(isolation)) {
      consumer.assign(partitions());
      consumer.seekToBeginning(partitions());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
      while (total < sent.size() && System.nanoTime() < deadline) {
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          got.computeIfAbsent(r.partition(), k -> new ArrayList<>()).add(r);
          total++;
        }
      }
      // One more poll: anything beyond what was sent would be a duplicate.
      total += consumer.poll(Duration.ofMillis(200)).count();
    }
    checkEq(sent.size(), total, "records consumed");

    Map<Integer, Map<Long, ConsumerRecord<byte[], byte[]>>> index = new HashMap<>();
    for (var e : got.entrySet()) {
      List<Long> offsets = e.getValue().stream().map(ConsumerRecord::offset).toList();
      List<Long> dense = new ArrayList<>();
      for (long o = 0; o < offsets.size(); o++) {
        dense.add(o);
      }
      checkEq(dense, offsets, "partition " + e.getKey() + " offsets, in order and dense from 0");
      Map<Long, ConsumerRecord<byte[], byte[]>> at = new HashMap<>();
      e.getValue().forEach(r -> at.put(r.offset(), r));
      index.put(e.getKey(), at);
    }
    for (Sent s : sent) {
      String where = "record at " + s.partition + "@" + s.offset;
      ConsumerRecord<byte[], byte[]> r = index.getOrDefault(s.partition, Map.of()).get(s.offset);
      if (r == null) {
        fail(where + " was acked but not consumed");
        continue;
      }
      check(Arrays.equals(s.key, r.key()), where + " key " + show(s.key) + " vs " + show(r.key()));
      check(Arrays.equals(s.value, r.value()), where + " value differs");
      checkEq(s.timestamp, r.timestamp(), where + " timestamp");
      checkEq(TimestampType.CREATE_TIME, r.timestampType(), where + " timestamp type");
      checkEq(showHeaders(s.headers), showHeaders(r.headers().toArray()), where + " headers");
    }
  }

  private void consumerOffsets(List<Sent> sent) {
    Map<Integer, List<Sent>> byPart = byPartition(sent);
    try (KafkaConsumer<byte[], byte[]> consumer = newConsumer()) {
      Map<TopicPartition, Long> begin = consumer.beginningOffsets(partitions());
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions());
      Map<TopicPartition, Long> early = new HashMap<>();
      Map<TopicPartition, Long> mid = new HashMap<>();
      Map<TopicPartition, Long> late = new HashMap<>();
      for (TopicPartition tp : partitions()) {
        List<Sent> rs = byPart.getOrDefault(tp.partition(), List.of());
        checkEq(0L, begin.get(tp), tp + " beginningOffsets");
        checkEq((long) rs.size(), end.get(tp), tp + " endOffsets");
        early.put(tp, 0L);
        late.put(tp, System.currentTimeMillis() + 3_600_000L);
        if (!rs.isEmpty()) {
          mid.put(tp, rs.get(rs.size() / 2).timestamp);
        }
      }
      Map<TopicPartition, OffsetAndTimestamp> atZero = consumer.offsetsForTimes(early);
      Map<TopicPartition, OffsetAndTimestamp> atMid = consumer.offsetsForTimes(mid);
      Map<TopicPartition, OffsetAndTimestamp> atLate = consumer.offsetsForTimes(late);
      for (TopicPartition tp : partitions()) {
        List<Sent> rs = byPart.getOrDefault(tp.partition(), List.of());
        OffsetAndTimestamp zero = atZero.get(tp);
        if (rs.isEmpty()) {
          check(zero == null, tp + " offsetsForTimes(0) on an empty partition: " + zero);
          continue;
        }
        checkEq(0L, zero == null ? null : zero.offset(), tp + " offsetsForTimes(0)");
        checkEq(rs.get(0).timestamp, zero == null ? null : zero.timestamp(), tp + " ts at 0");
        long t = mid.get(tp);
        OffsetAndTimestamp found = atMid.get(tp);
        checkEq(firstAtOrAfter(rs, t), found == null ? null : found.offset(), tp + " mid offset");
        checkEq(t, found == null ? null : found.timestamp(), tp + " offsetsForTimes(mid) ts");
        check(atLate.get(tp) == null, tp + " offsetsForTimes(future) gave " + atLate.get(tp));
      }
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private static Map<Integer, List<Sent>> byPartition(List<Sent> sent) {
    Map<Integer, List<Sent>> out = new TreeMap<>();
    for (Sent s : sent) {
      out.computeIfAbsent(s.partition, k -> new ArrayList<>()).add(s);
    }
    out.values().forEach(l -> l.sort((a, b) -> Long.compare(a.offset, b.offset)));
    return out;
  }

  /** Kafka's rule: the earliest offset whose timestamp is at or after t. */
  private static Long firstAtOrAfter(List<Sent> rs, long t) {
    return rs.stream().filter(s -> s.timestamp >= t).map(s -> s.offset).min(Long::compare).orElse(null);
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String show(byte[] b) {
    return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
  }

  private static List<String> showHeaders(Header[] headers) {
    return Arrays.stream(headers)
        .map(h -> h.key() + "=" + (h.value() == null ? "null" : Arrays.toString(h.value())))
        .toList();
  }

  private Properties adminProps() {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "client-check-admin");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return props;
  }
}
