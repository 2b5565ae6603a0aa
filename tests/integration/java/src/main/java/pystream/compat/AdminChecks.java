package pystream.compat;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TopicListing;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** What an operator does with the Admin client: topics, configs, offsets, records, partitions. */
final class AdminChecks {
  private final Checks checks;
  private final Admin admin;
  private final String topic;
  private final int partitions;
  private final long timeoutS;

  AdminChecks(Checks checks, Admin admin, String topic, int partitions, long timeoutS) {
    this.checks = checks;
    this.admin = admin;
    this.topic = topic;
    this.partitions = partitions;
    this.timeoutS = timeoutS;
  }

  /** Creates the topic with one topic config, then lists and describes it and the cluster. */
  void createTopic() throws Exception {
    NewTopic spec =
        new NewTopic(topic, partitions, (short) 1).configs(Map.of("max.message.bytes", "2097152"));
    CreateTopicsResult created = admin.createTopics(List.of(spec));
    created.all().get(timeoutS, TimeUnit.SECONDS);
    checks.checkEq(partitions, created.numPartitions(topic).get(), "createTopics numPartitions");
    checks.checkEq(1, created.replicationFactor(topic).get(), "createTopics replicationFactor");

    try {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
      checks.fail("creating " + topic + " twice succeeded");
    } catch (ExecutionException e) {
      checks.check(e.getCause() instanceof TopicExistsException, "second create: " + e.getCause());
    }

    Collection<TopicListing> listings = admin.listTopics().listings().get();
    checks.check(
        listings.stream().anyMatch(l -> l.name().equals(topic) && !l.isInternal()),
        "listTopics has " + topic + ": " + listings);

    DescribeClusterResult cluster = admin.describeCluster();
    Collection<Node> nodes = cluster.nodes().get();
    checks.check(!nodes.isEmpty(), "describeCluster lists nodes");
    checks.check(cluster.clusterId().get() != null, "describeCluster has a cluster id");
    Set<Integer> nodeIds = nodes.stream().map(Node::id).collect(Collectors.toSet());

    TopicDescription desc = describeTopic();
    checks.checkEq(partitions, desc.partitions().size(), "describeTopics partition count");
    checks.check(desc.topicId() != null, "describeTopics has a topic id");
    for (TopicPartitionInfo p : desc.partitions()) {
      String where = "partition " + p.partition();
      checks.check(
          p.leader() != null && nodeIds.contains(p.leader().id()), where + " leader " + p.leader());
      checks.checkEq(1, p.replicas().size(), where + " replicas");
      checks.checkEq(1, p.isr().size(), where + " isr");
    }

    try {
      admin.describeTopics(List.of(topic + "-missing")).allTopicNames().get();
      checks.fail("describing a missing topic succeeded");
    } catch (ExecutionException e) {
      checks.check(
          e.getCause() instanceof UnknownTopicOrPartitionException,
          "describe missing topic: " + e.getCause());
    }
  }

  /** describeConfigs, then incrementalAlterConfigs SET and DELETE, each read back. */
  void configs() throws Exception {
    ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config before = describe(res);
    ConfigEntry maxBytes = before.get("max.message.bytes");
    checks.checkEq("2097152", value(maxBytes), "max.message.bytes set at create");
    checks.checkEq(
        ConfigSource.DYNAMIC_TOPIC_CONFIG,
        maxBytes == null ? null : maxBytes.source(),
        "max.message.bytes source");
    checks.checkEq("delete", value(before.get("cleanup.policy")), "cleanup.policy default");
    String defaultRetention = value(before.get("retention.ms"));
    checks.check(defaultRetention != null, "retention.ms described");

    alter(res, new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET);
    ConfigEntry set = describe(res).get("retention.ms");
    checks.checkEq("3600000", value(set), "retention.ms after SET");
    ConfigSource setSource = set == null ? null : set.source();
    checks.checkEq(ConfigSource.DYNAMIC_TOPIC_CONFIG, setSource, "retention.ms source");

    alter(res, new ConfigEntry("retention.ms", ""), AlterConfigOp.OpType.DELETE);
    ConfigEntry reset = describe(res).get("retention.ms");
    checks.checkEq(defaultRetention, value(reset), "retention.ms after DELETE");
    checks.check(
        reset != null && reset.source() != ConfigSource.DYNAMIC_TOPIC_CONFIG,
        "retention.ms source after DELETE: " + reset);

    int nodeId = admin.describeCluster().nodes().get().iterator().next().id();
    ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(nodeId));
    ConfigEntry numPartitions = describe(broker).get("num.partitions");
    checks.check(
        value(numPartitions) != null, "broker " + nodeId + " num.partitions: " + numPartitions);
  }

  /** Admin.listOffsets with every spec a user has: earliest, latest, max timestamp, by time. */
  void listOffsets(List<Sent> sent) throws Exception {
    Map<Integer, List<Sent>> byPart = Sent.byPartition(sent);
    for (int p = 0; p < partitions; p++) {
      TopicPartition tp = new TopicPartition(topic, p);
      List<Sent> rs = byPart.getOrDefault(p, List.of());
      checks.checkEq(0L, listOffset(tp, OffsetSpec.earliest()).offset(), tp + " earliest");
      long latest = listOffset(tp, OffsetSpec.latest()).offset();
      checks.checkEq((long) rs.size(), latest, tp + " latest");
      if (rs.isEmpty()) {
        continue;
      }
      Sent newest = Sent.newest(rs);
      ListOffsetsResultInfo max = listOffset(tp, OffsetSpec.maxTimestamp());
      checks.checkEq(newest.offset(), max.offset(), tp + " maxTimestamp offset");
      checks.checkEq(newest.timestamp(), max.timestamp(), tp + " maxTimestamp timestamp");
      long t = rs.get(rs.size() / 2).timestamp();
      ListOffsetsResultInfo at = listOffset(tp, OffsetSpec.forTimestamp(t));
      checks.checkEq(Sent.firstAtOrAfter(rs, t), at.offset(), tp + " forTimestamp offset");
    }
  }

  /** deleteRecords moves the log start offset; returns where partition 0 now begins. */
  long deleteRecords(List<Sent> sent) throws Exception {
    TopicPartition tp0 = new TopicPartition(topic, 0);
    long cut = Math.min(5, Sent.byPartition(sent).getOrDefault(0, List.of()).size());
    long low =
        admin
            .deleteRecords(Map.of(tp0, RecordsToDelete.beforeOffset(cut)))
            .lowWatermarks()
            .get(tp0)
            .get(timeoutS, TimeUnit.SECONDS)
            .lowWatermark();
    checks.checkEq(cut, low, "deleteRecords low watermark");
    checks.checkEq(cut, listOffset(tp0, OffsetSpec.earliest()).offset(), "earliest after delete");
    return cut;
  }

  void createPartitions() throws Exception {
    admin
        .createPartitions(Map.of(topic, NewPartitions.increaseTo(partitions + 1)))
        .all()
        .get(timeoutS, TimeUnit.SECONDS);
    checks.checkEq(
        partitions + 1, describeTopic().partitions().size(), "partitions after createPartitions");
  }

  void deleteTopic() throws Exception {
    admin.deleteTopics(List.of(topic)).all().get(timeoutS, TimeUnit.SECONDS);
    // Kafka only promises the deletion eventually; one broker should be prompt, so allow 5 s.
    boolean gone = false;
    for (int i = 0; i < 50 && !gone; i++) {
      gone = !admin.listTopics().names().get().contains(topic);
      if (!gone) {
        Thread.sleep(100);
      }
    }
    checks.check(gone, topic + " still listed after deleteTopics");
  }

  private TopicDescription describeTopic() throws Exception {
    return admin
        .describeTopics(List.of(topic))
        .allTopicNames()
        .get(timeoutS, TimeUnit.SECONDS)
        .get(topic);
  }

  private Config describe(ConfigResource res) throws Exception {
    return admin.describeConfigs(List.of(res)).all().get(timeoutS, TimeUnit.SECONDS).get(res);
  }

  private void alter(ConfigResource res, ConfigEntry entry, AlterConfigOp.OpType op)
      throws Exception {
    Map<ConfigResource, Collection<AlterConfigOp>> ops =
        Map.of(res, List.of(new AlterConfigOp(entry, op)));
    admin.incrementalAlterConfigs(ops).all().get(timeoutS, TimeUnit.SECONDS);
  }

  private ListOffsetsResultInfo listOffset(TopicPartition tp, OffsetSpec spec) throws Exception {
    return admin.listOffsets(Map.of(tp, spec)).partitionResult(tp).get(timeoutS, TimeUnit.SECONDS);
  }

  private static String value(ConfigEntry entry) {
    return entry == null ? null : entry.value();
  }
}
