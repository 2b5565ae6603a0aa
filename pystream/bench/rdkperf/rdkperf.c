/*
 * rdkperf: a load generator on librdkafka's C API, for `pystream bench --client c`.
 *
 * The Python load generator calls confluent-kafka's produce() once per record,
 * which costs about 2 us of CPU per record; on a small machine that, not the
 * broker, sets the pace. This tool drives the same library from C, where the
 * per-record cost is librdkafka's own, so the broker under test is what is
 * measured.
 *
 * It is one worker process of a run, driven by pystream/bench/cclient.py over
 * stdin/stdout lines:
 *   tool -> "ready"                  connected, metadata fetched
 *   runner -> "go"                   the common start line
 *   tool -> "progress <n>"           every 100 ms
 *   tool -> "result <json>"          the end; latencies (produce) go to --latency-file
 *                                    as native-endian float64 seconds
 *
 *   rdkperf produce --topic T --num-records N --record-size S [--throughput R]
 *                   [--seed K] [--latency-file F] -X key=value ...
 *   rdkperf consume --topic T --num-records N [--slice I/K] [--timeout-ms MS]
 *                   -X key=value ...
 *
 * Times are CLOCK_MONOTONIC seconds, the clock of Python's time.monotonic().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_PROPS 64
#define MAX_PARTITIONS 4096
#define PROGRESS_NS 100000000LL

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* every thread: librdkafka's included */
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void die(const char *what, const char *detail) {
    printf("error %s: %s\n", what, detail ? detail : "");
    fflush(stdout);
    exit(2);
}

/* JSON string escaping for error texts. */
static void json_str(FILE *out, const char *s) {
    fputc('"', out);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

struct args {
    const char *mode, *topic, *latency_file;
    long long num_records;
    int record_size, seed, slice, slices, timeout_ms;
    double throughput;
    const char *props[MAX_PROPS];
    int nprops;
};

static void parse_args(int argc, char **argv, struct args *a) {
    memset(a, 0, sizeof(*a));
    a->record_size = 1024;
    a->throughput = -1;
    a->slices = 1;
    a->timeout_ms = 10000;
    if (argc < 2) die("usage", "rdkperf produce|consume --topic T --num-records N ...");
    a->mode = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("missing value for", k);
        if (!strcmp(k, "--topic")) a->topic = v;
        else if (!strcmp(k, "--num-records")) a->num_records = atoll(v);
        else if (!strcmp(k, "--record-size")) a->record_size = atoi(v);
        else if (!strcmp(k, "--throughput")) a->throughput = atof(v);
        else if (!strcmp(k, "--seed")) a->seed = atoi(v);
        else if (!strcmp(k, "--latency-file")) a->latency_file = v;
        else if (!strcmp(k, "--timeout-ms")) a->timeout_ms = atoi(v);
        else if (!strcmp(k, "--slice")) {
            if (sscanf(v, "%d/%d", &a->slice, &a->slices) != 2 || a->slices < 1 ||
                a->slice < 0 || a->slice >= a->slices)
                die("bad --slice (want I/K)", v);
        } else if (!strcmp(k, "-X")) {
            if (a->nprops == MAX_PROPS) die("too many -X", v);
            a->props[a->nprops++] = v;
        } else
            die("unknown option", k);
        i++;
    }
    if (!a->topic || a->num_records < 1) die("usage", "--topic and --num-records >= 1 needed");
    if (a->record_size < 1) die("bad --record-size", "");
}

static rd_kafka_conf_t *make_conf(const struct args *a) {
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (int i = 0; i < a->nprops; i++) {
        char key[256];
        const char *eq = strchr(a->props[i], '=');
        if (!eq || eq == a->props[i] || (size_t)(eq - a->props[i]) >= sizeof(key))
            die("bad -X (want key=value)", a->props[i]);
        memcpy(key, a->props[i], eq - a->props[i]);
        key[eq - a->props[i]] = 0;
        if (rd_kafka_conf_set(conf, key, eq + 1, err, sizeof(err)) != RD_KAFKA_CONF_OK)
            die("config", err);
    }
    return conf;
}

/* Waits for the runner's start line ("go"), serving the client meanwhile. */
static void start_line(rd_kafka_t *rk) {
    printf("ready\n");
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin) || strncmp(line, "go", 2)) die("start", "no go");
    (void)rk;
}

static void progress(long long n, int64_t *next) {
    int64_t t = now_ns();
    if (t < *next) return;
    *next = t + PROGRESS_NS;
    printf("progress %lld\n", n);
    fflush(stdout);
}

/* ---- produce ---- */

struct deliveries {
    long long delivered, errors;
    char first_error[256];
    double *latencies;
    long long nlat, cap;
};

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    struct deliveries *d = opaque;
    (void)rk;
    if (m->err) {
        if (!d->errors++)
            snprintf(d->first_error, sizeof(d->first_error), "%s", rd_kafka_err2str(m->err));
        return;
    }
    d->delivered++;
    int64_t us = rd_kafka_message_latency(m); /* produce() to acknowledgement */
    if (us >= 0 && d->nlat < d->cap) d->latencies[d->nlat++] = (double)us / 1e6;
}

static int produce(const struct args *a) {
    char err[512];
    struct deliveries d = {0};
    d.cap = a->num_records;
    d.latencies = malloc(sizeof(double) * (size_t)d.cap);
    if (!d.latencies) die("out of memory", "latencies");
    rd_kafka_conf_t *conf = make_conf(a);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_conf_set_opaque(conf, &d);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk) die("producer", err);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, a->topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, rkt, &md, 30000);
    if (merr) die("metadata", rd_kafka_err2str(merr));
    rd_kafka_metadata_destroy(md);

    /* Random capital letters, as Kafka's perf tool sends (so compression is fair). */
    char *payload = malloc((size_t)a->record_size);
    srand((unsigned)a->seed + 1);
    for (int i = 0; i < a->record_size; i++) payload[i] = (char)('A' + rand() % 26);

    start_line(rk);
    double cpu0 = cpu_s(), started = now_s();
    int64_t t0 = now_ns(), next = 0;
    double ns_per = a->throughput > 0 ? 1e9 / a->throughput : 0;
    for (long long i = 0; i < a->num_records; i++) {
        if (ns_per > 0) {
            int64_t due = t0 + (int64_t)(i * ns_per);
            for (int64_t wait; (wait = due - now_ns()) > 0;)
                rd_kafka_poll(rk, wait > 1000000 ? (int)(wait / 1000000) : 0);
        }
        /* No copy flag: librdkafka reads the shared payload (it is never freed). */
        while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, 0, payload, (size_t)a->record_size,
                                NULL, 0, NULL) == -1) {
            rd_kafka_resp_err_t e = rd_kafka_last_error();
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) die("produce", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
            progress(d.delivered + d.errors, &next);
        }
    }
    while (rd_kafka_outq_len(rk) > 0) {
        rd_kafka_poll(rk, 10);
        progress(d.delivered + d.errors, &next);
    }
    double finished = now_s(), cpu = cpu_s() - cpu0;

    if (a->latency_file) {
        FILE *f = fopen(a->latency_file, "wb");
        if (!f || fwrite(d.latencies, sizeof(double), (size_t)d.nlat, f) != (size_t)d.nlat)
            die("latency file", strerror(errno));
        fclose(f);
    }
    printf("result {\"records\": %lld, \"bytes\": %lld, \"errors\": %lld, \"first_error\": ",
           d.delivered, d.delivered * a->record_size, d.errors);
    json_str(stdout, d.first_error);
    printf(", \"started\": %.9f, \"finished\": %.9f, \"cpu_s\": %.6f, \"librdkafka\": ", started,
           finished, cpu);
    json_str(stdout, rd_kafka_version_str());
    printf("}\n");
    fflush(stdout);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    free(payload);
    free(d.latencies);
    return 0;
}

/* ---- consume ---- */

static int consume(const struct args *a) {
    char err[512];
    rd_kafka_conf_t *conf = make_conf(a);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk) die("consumer", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, a->topic, NULL);
    const struct rd_kafka_metadata *md;
    rd_kafka_resp_err_t merr = rd_kafka_metadata(rk, 0, rkt, &md, 30000);
    if (merr) die("metadata", rd_kafka_err2str(merr));
    if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1)
        die("metadata", "topic not found");
    int nparts = md->topics[0].partition_cnt;
    if (nparts > MAX_PARTITIONS) die("metadata", "too many partitions");
    rd_kafka_metadata_destroy(md);

    /* This worker's slice of every partition's offsets: [lo, hi). Its quota: what is
     * left of --num-records after the slices before it, at most its slice's size; the
     * last slice reads to the end, since some brokers (Tansu 0.6) report the last
     * batch's base offset as the high watermark, short of the true end. */
    static int64_t end_of[MAX_PARTITIONS];
    static char done[MAX_PARTITIONS];
    int last = a->slice == a->slices - 1;
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(nparts);
    long long before = 0, mine = 0;
    for (int p = 0; p < nparts; p++) {
        int64_t low, high;
        merr = rd_kafka_query_watermark_offsets(rk, a->topic, p, &low, &high, 30000);
        if (merr) die("watermarks", rd_kafka_err2str(merr));
        int64_t n = high - low;
        int64_t lo = low + n * a->slice / a->slices, hi = low + n * (a->slice + 1) / a->slices;
        before += lo - low;
        mine += hi - lo;
        end_of[p] = last ? INT64_MAX : hi;
        done[p] = !last && lo >= hi;
        rd_kafka_topic_partition_list_add(assignment, a->topic, p)->offset = lo;
    }
    long long want = a->num_records - before;
    if (want < 0) want = 0;
    if (!last && want > mine) want = mine;

    start_line(rk);
    double cpu0 = cpu_s(), started = now_s(), finished = started;
    merr = rd_kafka_assign(rk, assignment);
    if (merr) die("assign", rd_kafka_err2str(merr));
    long long records = 0, bytes = 0, errors = 0;
    char first_error[256] = "";
    int64_t next = 0, idle_since = now_ns();
    while (records < want) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        progress(records, &next);
        if (!m) {
            if (now_ns() - idle_since > a->timeout_ms * 1000000LL) break; /* idle: give up */
            continue;
        }
        idle_since = now_ns();
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !errors++)
                snprintf(first_error, sizeof(first_error), "%s", rd_kafka_message_errstr(m));
        } else if (m->partition >= 0 && m->partition < nparts && !done[m->partition]) {
            if (m->offset < end_of[m->partition]) {
                records++;
                bytes += (long long)m->len;
            }
            if (m->offset + 1 >= end_of[m->partition]) done[m->partition] = 1;
        }
        rd_kafka_message_destroy(m);
    }
    finished = now_s();
    double cpu = cpu_s() - cpu0;
    if (records < want && !errors) {
        errors = 1;
        snprintf(first_error, sizeof(first_error), "%lld of %lld records, then %d ms idle",
                 records, want, a->timeout_ms);
    }
    printf("result {\"records\": %lld, \"bytes\": %lld, \"errors\": %lld, \"first_error\": ",
           records, bytes, errors);
    json_str(stdout, first_error);
    printf(", \"started\": %.9f, \"finished\": %.9f, \"cpu_s\": %.6f, \"librdkafka\": ", started,
           finished, cpu);
    json_str(stdout, rd_kafka_version_str());
    printf("}\n");
    fflush(stdout);
    rd_kafka_topic_partition_list_destroy(assignment);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

int main(int argc, char **argv) {
    struct args a;
    parse_args(argc, argv, &a);
    if (!strcmp(a.mode, "produce")) return produce(&a);
    if (!strcmp(a.mode, "consume")) return consume(&a);
    die("unknown mode (want produce or consume)", a.mode);
    return 2;
}
