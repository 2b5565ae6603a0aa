package pystream.compat;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/**
 * Drives the stock Java client (Admin, KafkaProducer, KafkaConsumer) against a broker and checks
 * every answer the way an application relies on it.
 *
 * <p>Usage: {@code ClientCheck BOOTSTRAP TOPIC}. The topic must not exist; it is created with 3
 * partitions and deleted at the end. Prints one line per stage and its failed checks; exits 0
 * only when every check passed, 1 when some failed, 2 on bad arguments. Nothing here uses a
 * consumer group: the consumers assign partitions themselves and never commit.
 */
public final class ClientCheck {
  private static final int PARTITIONS = 3;
  private static final long TIMEOUT_S = 30;
  /** One idempotent producer per codec; zstd first, as the issue asks. */
  private static final List<String> CODECS = List.of("zstd", "lz4", "snappy", "gzip", "none");

  private ClientCheck() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: ClientCheck BOOTSTRAP TOPIC");
      System.exit(2);
    }
    System.exit(run(args[0], args[1]));
  }

  private static int run(String bootstrap, String topic) {
    System.out.println("kafka-clients " + clientVersion() + ", broker " + bootstrap);
    Checks checks = new Checks();
    RecordChecks records = new RecordChecks(checks, bootstrap, topic, PARTITIONS, TIMEOUT_S);
    List<Sent> sent = new ArrayList<>();
    try (Admin client = Admin.create(adminProps(bootstrap))) {
      AdminChecks admin = new AdminChecks(checks, client, topic, PARTITIONS, TIMEOUT_S);
      if (checks.stage("admin: create, list, describe topic", admin::createTopic)) {
        checks.stage("admin: describe and alter configs", admin::configs);
        // Each producer's timestamps start a second after the last one's, so they only grow.
        long base = System.currentTimeMillis() - 60_000;
        for (int c = 0; c < CODECS.size(); c++) {
          String codec = CODECS.get(c);
          long tsBase = base + c * 1_000L;
          checks.stage("produce " + codec, () -> sent.addAll(records.produce(codec, tsBase)));
        }
        for (String isolation : List.of("read_uncommitted", "read_committed")) {
          checks.stage("consume " + isolation, () -> records.consume(sent, isolation));
        }
        checks.stage("consumer: begin/end offsets, offsetsForTimes", () -> records.offsets(sent));
        checks.stage("admin: listOffsets", () -> admin.listOffsets(sent));
        checks.stage(
            "admin: deleteRecords",
            () -> {
              long start = admin.deleteRecords(sent);
              checks.checkEq(start, records.beginningOffset(0), "consumer sees the new start");
            });
        checks.stage("admin: createPartitions", admin::createPartitions);
      }
      checks.stage("admin: delete topic", admin::deleteTopic);
    }
    return checks.exitCode();
  }

  /** The version kafka-clients records in its jar (its manifest carries none). */
  private static String clientVersion() {
    Properties props = new Properties();
    try (InputStream in = Admin.class.getResourceAsStream("/kafka/kafka-version.properties")) {
      if (in != null) {
        props.load(in);
      }
    } catch (IOException e) {
      return "unknown (" + e + ")";
    }
    return props.getProperty("version", "unknown");
  }

  private static Properties adminProps(String bootstrap) {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "client-check-admin");
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
    return props;
  }
}
