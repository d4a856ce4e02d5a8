#include "infra/kafka_event_log.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <deque>
#include <mutex>

#include "json/event_codec.hpp"

namespace fieldledger::infra {

using namespace fieldledger::domain;
using clock = std::chrono::steady_clock;

namespace {

std::unexpected<error> unavailable(std::string what) {
  return fail(errc::unavailable, "the Kafka cluster " + std::move(what) +
                                     ". Hint: retry after Retry-After seconds; check the brokers.");
}

struct rk_deleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using rk_ptr = std::unique_ptr<rd_kafka_t, rk_deleter>;

struct error_deleter {
  void operator()(rd_kafka_error_t* e) const { rd_kafka_error_destroy(e); }
};
using error_ptr = std::unique_ptr<rd_kafka_error_t, error_deleter>;

// Where a delivery report puts the outcome of one message.
struct delivery {
  std::int64_t offset = -1;
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  bool reported = false;
};

// Delivery reports find their slot through the append that is waiting for them: a report
// that arrives after its append gave up (a purge, a late timeout) finds no slot and is dropped.
struct delivery_slots {
  std::uint64_t generation = 0;         // of the append in progress
  std::vector<delivery>* current = nullptr;
};

constexpr int k_index_bits = 24;  // up to 16M messages per append

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* slots = static_cast<delivery_slots*>(opaque);
  const auto tag = reinterpret_cast<std::uintptr_t>(m->_private);
  const auto generation = tag >> k_index_bits;
  const auto index = tag & ((std::uintptr_t{1} << k_index_bits) - 1);
  if (slots == nullptr || slots->current == nullptr ||
      (slots->generation & ((std::uint64_t{1} << (64 - k_index_bits)) - 1)) != generation ||
      index >= slots->current->size()) {
    return;
  }
  auto& d = (*slots->current)[index];
  d.offset = m->offset;
  d.err = m->err;
  d.reported = true;
}

// librdkafka's log lines go to the server's log (syslog levels: 0 emerg .. 7 debug).
void on_log(const rd_kafka_t*, int level, const char* facility, const char* message) {
  const auto lvl = level <= 3   ? spdlog::level::err
                   : level == 4 ? spdlog::level::warn
                   : level <= 6 ? spdlog::level::info
                                : spdlog::level::debug;
  spdlog::log(lvl, "kafka {}: {}", facility, message);
}

result<rd_kafka_conf_t*> make_conf(const kafka_options& o,
                                   std::initializer_list<std::pair<const char*, std::string>> own) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  const auto set = [&](const std::string& k, const std::string& v) -> bool {
    return rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) == RD_KAFKA_CONF_OK;
  };
  bool ok = set("bootstrap.servers", o.brokers) && set("client.id", "fieldledgerd");
  for (const auto& [k, v] : own) ok = ok && set(k, v);
  for (const auto& [k, v] : o.client_config) ok = ok && set(k, v);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return fail(errc::invalid, std::string("bad Kafka client setting: ") + errstr);
  }
  rd_kafka_conf_set_log_cb(conf, on_log);
  return conf;
}

// One assigned read_committed consumer for one partition, with the messages it consumed
// ahead of a reader (wait_for looks ahead).
struct partition_reader {
  std::mutex mu;
  rk_ptr rk;
  std::int64_t next = -1;  // where the consumer continues
  std::deque<recorded_event> ahead;
  bool at_end = false;  // the consumer reported reaching the end since its last message
};

}  // namespace

struct kafka_event_log::impl {
  kafka_options options;
  std::mutex producer_mu;  // one append at a time; guards producer
  rk_ptr producer;
  bool producer_ready = false;
  delivery_slots slots;  // guarded by producer_mu (reports are served inside append)
  std::vector<std::unique_ptr<partition_reader>> readers;
  std::atomic<bool> closed{false};

  result<void> start_producer() {
    auto conf = make_conf(options, {{"enable.idempotence", "true"},
                                    {"acks", "all"},
                                    {"transactional.id", options.transactional_id},
                                    {"transaction.timeout.ms", std::to_string(std::max<long>(
                                                                   60000, options.timeout.count()))},
                                    {"message.timeout.ms", std::to_string(options.timeout.count())},
                                    {"linger.ms", "0"}});
    if (!conf) return std::unexpected(conf.error());
    rd_kafka_conf_set_dr_msg_cb(*conf, on_delivery);
    rd_kafka_conf_set_opaque(*conf, &slots);
    char errstr[512];
    rk_ptr rk(rd_kafka_new(RD_KAFKA_PRODUCER, *conf, errstr, sizeof errstr));
    if (!rk) {
      rd_kafka_conf_destroy(*conf);
      return fail(errc::invalid, std::string("cannot create the Kafka producer: ") + errstr);
    }
    error_ptr e(rd_kafka_init_transactions(rk.get(), static_cast<int>(options.timeout.count())));
    if (e) return unavailable(std::string("did not start a transactional producer: ") + rd_kafka_error_string(e.get()));
    producer = std::move(rk);
    producer_ready = true;
    return {};
  }

  result<rk_ptr> make_consumer() {
    auto conf = make_conf(options, {{"group.id", "fieldledger-reader"},
                                    {"enable.auto.commit", "false"},
                                    {"enable.auto.offset.store", "false"},
                                    {"isolation.level", "read_committed"},
                                    {"enable.partition.eof", "true"},
                                    {"auto.offset.reset", "earliest"},
                                    {"fetch.wait.max.ms", "10"}});
    if (!conf) return std::unexpected(conf.error());
    char errstr[512];
    rk_ptr rk(rd_kafka_new(RD_KAFKA_CONSUMER, *conf, errstr, sizeof errstr));
    if (!rk) {
      rd_kafka_conf_destroy(*conf);
      return fail(errc::invalid, std::string("cannot create a Kafka consumer: ") + errstr);
    }
    return rk;
  }

  // The topic's partition count, creating the topic when it is missing.
  result<std::uint32_t> ensure_topic(rd_kafka_t* rk) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, options.topic.c_str(), nullptr);
      const rd_kafka_metadata_t* md = nullptr;
      const auto err = rd_kafka_metadata(rk, 0, rkt, &md, static_cast<int>(options.timeout.count()));
      rd_kafka_topic_destroy(rkt);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return unavailable(std::string("did not answer a metadata request: ") + rd_kafka_err2str(err));
      }
      const int count = md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR
                            ? md->topics[0].partition_cnt
                            : 0;
      rd_kafka_metadata_destroy(md);
      if (count > 0) return static_cast<std::uint32_t>(count);
      if (attempt == 0) {
        if (auto ok = create_topic(rk); !ok) return std::unexpected(ok.error());
      }
    }
    return unavailable("does not show the topic " + options.topic + " after creating it");
  }

  result<void> create_topic(rd_kafka_t* rk) {
    char errstr[512];
    rd_kafka_NewTopic_t* topic =
        rd_kafka_NewTopic_new(options.topic.c_str(), static_cast<int>(options.partitions),
                              options.replication_factor, errstr, sizeof errstr);
    if (topic == nullptr) return fail(errc::invalid, std::string("cannot create the topic: ") + errstr);
    rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &topic, 1, nullptr, q);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(q, static_cast<int>(options.timeout.count()));
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR__TIMED_OUT;
    std::string why = "timed out";
    if (ev != nullptr) {
      if (const auto* res = rd_kafka_event_CreateTopics_result(ev)) {
        std::size_t n = 0;
        const auto** topics = rd_kafka_CreateTopics_result_topics(res, &n);
        err = n == 1 ? rd_kafka_topic_result_error(topics[0]) : rd_kafka_event_error(ev);
        why = n == 1 && rd_kafka_topic_result_error_string(topics[0]) != nullptr
                  ? rd_kafka_topic_result_error_string(topics[0])
                  : rd_kafka_err2str(err);
      } else {
        err = rd_kafka_event_error(ev);
        why = rd_kafka_err2str(err);
      }
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(topic);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return unavailable("did not create the topic " + options.topic + ": " + why);
    }
    return {};
  }

  // Points the reader's consumer at offset (dropping what it had read ahead).
  result<void> position(partition_reader& r, std::uint32_t p, std::int64_t offset) {
    r.ahead.clear();
    r.at_end = false;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, options.topic.c_str(), static_cast<int>(p))->offset =
        offset;
    const auto err = rd_kafka_assign(r.rk.get(), list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return unavailable(std::string("refused a partition assignment: ") + rd_kafka_err2str(err));
    }
    r.next = offset;
    return {};
  }

  // Consumes one message into r.ahead; false on timeout or end of partition.
  result<bool> pull(partition_reader& r, std::uint32_t p, int timeout_ms) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(r.rk.get(), timeout_ms);
    if (m == nullptr) return false;
    struct guard {
      rd_kafka_message_t* m;
      ~guard() { rd_kafka_message_destroy(m); }
    } g{m};
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      r.at_end = true;
      return false;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return unavailable(std::string("failed a fetch: ") + rd_kafka_message_errstr(m));
    }
    auto e = json::decode_event(std::string_view(static_cast<const char*>(m->payload), m->len));
    if (!e) {
      return fail(errc::internal, "event " + std::to_string(p) + "-" + std::to_string(m->offset) +
                                      " cannot be read: " + e.error().detail);
    }
    r.ahead.push_back({log_position{partition_id{p}, log_offset{m->offset}}, std::move(*e)});
    r.next = m->offset + 1;
    r.at_end = false;
    return true;
  }

  // Makes the reader continue at `from`, keeping what it read ahead when that fits.
  result<void> seek_reader(partition_reader& r, std::uint32_t p, std::int64_t from) {
    while (!r.ahead.empty() && r.ahead.front().position.offset.get() < from) r.ahead.pop_front();
    const std::int64_t begin = r.ahead.empty() ? r.next : r.ahead.front().position.offset.get();
    if (r.next < 0 || from > r.next || (from < begin && !r.ahead.empty()) ||
        (r.ahead.empty() && from != r.next)) {
      return position(r, p, from);
    }
    return {};
  }
};

kafka_event_log::kafka_event_log(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

kafka_event_log::~kafka_event_log() { close(); }

result<std::unique_ptr<kafka_event_log>> kafka_event_log::open(kafka_options options) {
  if (options.brokers.empty()) return fail(errc::invalid, "no Kafka bootstrap servers given");
  if (options.partitions == 0) return fail(errc::invalid, "the partition count must be positive");
  if (options.transactional_id.empty()) options.transactional_id = "fieldledger-" + options.topic;
  auto p = std::make_unique<impl>();
  p->options = std::move(options);
  if (auto ok = p->start_producer(); !ok) return std::unexpected(ok.error());
  auto count = p->ensure_topic(p->producer.get());
  if (!count) return std::unexpected(count.error());
  if (*count != p->options.partitions) {
    return fail(errc::invalid, "topic " + p->options.topic + " has " + std::to_string(*count) +
                                   " partitions, not " + std::to_string(p->options.partitions) +
                                   ". Hint: pass --partitions " + std::to_string(*count) + ".");
  }
  for (std::uint32_t i = 0; i < *count; ++i) {
    auto rk = p->make_consumer();
    if (!rk) return std::unexpected(rk.error());
    auto r = std::make_unique<partition_reader>();
    r->rk = std::move(*rk);
    p->readers.push_back(std::move(r));
  }
  return std::unique_ptr<kafka_event_log>(new kafka_event_log(std::move(p)));
}

std::uint32_t kafka_event_log::partition_count() const noexcept { return impl_->options.partitions; }

result<std::vector<log_position>> kafka_event_log::append(std::span<const event> events) {
  if (events.empty()) return std::vector<log_position>{};
  std::lock_guard lock(impl_->producer_mu);
  if (impl_->closed) return fail(errc::unavailable, "the event log is closed");
  if (!impl_->producer_ready) {
    impl_->producer.reset();
    if (auto ok = impl_->start_producer(); !ok) return std::unexpected(ok.error());
  }
  rd_kafka_t* rk = impl_->producer.get();
  const int timeout = static_cast<int>(impl_->options.timeout.count());
  // On any failure the transaction is aborted; when even that fails, the producer is
  // recreated by the next append (which fences whatever this one left behind).
  const auto give_up = [&](std::string why) -> std::unexpected<error> {
    error_ptr aborted(rd_kafka_abort_transaction(rk, timeout));
    if (aborted) impl_->producer_ready = false;
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(rk, 0);
    if (!impl_->producer_ready) impl_->producer.reset();  // the next append starts afresh
    return unavailable("did not acknowledge the append (" + why + ")");
  };
  if (error_ptr e(rd_kafka_begin_transaction(rk)); e) {
    impl_->producer_ready = false;
    impl_->producer.reset();
    return unavailable(std::string("did not begin a transaction: ") + rd_kafka_error_string(e.get()));
  }
  std::vector<delivery> deliveries(events.size());
  impl_->slots.current = &deliveries;
  const std::uint64_t generation = ++impl_->slots.generation;
  struct release {
    delivery_slots& s;
    ~release() { s.current = nullptr; }
  } released{impl_->slots};
  std::vector<std::uint32_t> partitions(events.size());
  std::string doc;
  static constexpr char k_content_type[] = "application/cloudevents+json";
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    partitions[i] = partition_for(e.customer, impl_->options.partitions).get();
    doc.clear();
    json::encode_event(e, doc);
    const auto err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(impl_->options.topic.c_str()),
        RD_KAFKA_V_PARTITION(static_cast<std::int32_t>(partitions[i])),
        RD_KAFKA_V_KEY(e.customer.get().data(), e.customer.get().size()),
        RD_KAFKA_V_VALUE(doc.data(), doc.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_HEADER("content-type", k_content_type, sizeof k_content_type - 1),
        RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<std::uintptr_t>(
            (generation << k_index_bits) | i))),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) return give_up(rd_kafka_err2str(err));
  }
  error_ptr committed(rd_kafka_commit_transaction(rk, timeout));
  if (committed) {
    if (rd_kafka_error_is_fatal(committed.get())) impl_->producer_ready = false;
    return give_up(rd_kafka_error_string(committed.get()));
  }
  rd_kafka_poll(rk, 0);  // serve any delivery report not served by the commit's flush
  std::vector<log_position> out;
  out.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (!deliveries[i].reported || deliveries[i].err != RD_KAFKA_RESP_ERR_NO_ERROR ||
        deliveries[i].offset < 0) {
      impl_->producer_ready = false;
      return fail(errc::internal, "a committed message has no delivery report");
    }
    out.push_back({partition_id{partitions[i]}, log_offset{deliveries[i].offset}});
  }
  return out;
}

result<std::vector<recorded_event>> kafka_event_log::read(partition_id p, log_offset from,
                                                          std::size_t max) {
  if (p.get() >= impl_->readers.size()) return fail(errc::invalid, "no such partition");
  auto& r = *impl_->readers[p.get()];
  std::lock_guard lock(r.mu);
  if (auto ok = impl_->seek_reader(r, p.get(), std::max<std::int64_t>(from.get(), 0)); !ok) {
    return std::unexpected(ok.error());
  }
  std::vector<recorded_event> out;
  const auto deadline = clock::now() + impl_->options.timeout;
  while (out.size() < max) {
    if (!r.ahead.empty()) {
      out.push_back(std::move(r.ahead.front()));
      r.ahead.pop_front();
      continue;
    }
    // Read until the consumer reports the end of the partition, so that a reader that gets
    // an empty answer knows there is nothing more (restore relies on it).
    auto got = impl_->pull(r, p.get(), r.at_end ? 0 : 100);
    if (!got) return std::unexpected(got.error());
    if (*got) continue;
    if (r.at_end) break;
    if (clock::now() > deadline) {
      if (!out.empty()) break;
      return unavailable("did not answer a fetch in time");
    }
  }
  return out;
}

log_offset kafka_event_log::end_offset(partition_id p) {
  if (p.get() >= impl_->readers.size()) return log_offset{0};
  std::int64_t low = 0, high = 0;
  const auto err = rd_kafka_query_watermark_offsets(
      impl_->readers[p.get()]->rk.get(), impl_->options.topic.c_str(), static_cast<int>(p.get()),
      &low, &high, static_cast<int>(impl_->options.timeout.count()));
  return log_offset{err == RD_KAFKA_RESP_ERR_NO_ERROR ? high : 0};
}

bool kafka_event_log::wait_for(partition_id p, log_offset offset,
                               std::chrono::milliseconds timeout) {
  if (p.get() >= impl_->readers.size() || impl_->closed) return false;
  auto& r = *impl_->readers[p.get()];
  std::lock_guard lock(r.mu);
  if (!impl_->seek_reader(r, p.get(), offset.get())) return false;
  const auto deadline = clock::now() + timeout;
  while (!impl_->closed) {
    for (const auto& re : r.ahead) {
      if (re.position.offset.get() >= offset.get()) return true;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now());
    if (left.count() <= 0) return false;
    auto got = impl_->pull(r, p.get(), static_cast<int>(std::min<long>(left.count(), 50)));
    if (!got) return false;
  }
  return false;
}

void kafka_event_log::close() { impl_->closed = true; }

}  // namespace fieldledger::infra
