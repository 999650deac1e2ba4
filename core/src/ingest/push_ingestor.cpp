#include "ingest/push_ingestor.hpp"

#include <limits>
#include <optional>

#include <Poco/DigestEngine.h>
#include <Poco/Logger.h>
#include <Poco/MemoryStream.h>
#include <Poco/SHA2Engine.h>

namespace tsunagu::ingest {
namespace {
Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.ingest");
}
}  // namespace

std::string bytes_sha256(const std::string& bytes) {
  Poco::SHA2Engine sha(Poco::SHA2Engine::SHA_256);
  sha.update(bytes.data(), static_cast<unsigned>(bytes.size()));
  return Poco::DigestEngine::digestToHex(sha.digest());
}

void PushIngestor::close_input(const SystemPipeline& pipeline, const PushOutcome& outcome,
                               const std::string& status) {
  store::InputRecord row;
  row.id = outcome.input_id;
  row.status = status;
  row.message = outcome.message;
  row.records = static_cast<std::int64_t>(outcome.records);
  if (status == "done") {
    row.events = store_.count_events_of_input(outcome.input_id);
    row.quarantined = static_cast<std::int64_t>(outcome.rejected.size());
    row.duplicates = std::max<std::int64_t>(0, row.records - row.events - row.quarantined);
  }
  store_.close_input(row);
  audit_.append({audit::entry_type::kInputCompleted,
                 "hub",
                 "",
                 {{"system", pipeline.system},
                  {"input_id", std::to_string(outcome.input_id)},
                  {"sha256", outcome.sha256},
                  {"status", status},
                  {"records", std::to_string(row.records)},
                  {"events", std::to_string(row.events)},
                  {"duplicates", std::to_string(row.duplicates)},
                  {"quarantined", std::to_string(row.quarantined)}}});
}

namespace {

// Keeps the adapter's records in memory (a push is at most <max-body-bytes>) so the transaction
// that stores them is not held open while the adapter parses.
class CollectingSink final : public RecordSink {
 public:
  CollectingSink(std::vector<NativeRecord>& records, const std::atomic<bool>& stop)
      : records_(records), stop_(stop) {}
  bool accept(NativeRecord&& record) noexcept override {
    try {
      records_.push_back(std::move(record));
    } catch (...) {  // out of memory: stop the adapter; the push fails as a whole
      failed = true;
      return false;
    }
    return !stop_.load(std::memory_order_relaxed);
  }
  bool failed = false;

 private:
  std::vector<NativeRecord>& records_;
  const std::atomic<bool>& stop_;
};

// Never set: a push's records are stored whole once its turn has come.
const std::atomic<bool> kNeverStop{false};

}  // namespace

DecodedPush decode_push(const SystemPipeline& pipeline, const PushedBody& pushed,
                        const std::atomic<bool>& stop) {
  DecodedPush d;
  d.pipeline = pipeline;
  d.sha256 = bytes_sha256(pushed.body);
  d.origin = "https-" + d.sha256.substr(0, 16);
  d.size = static_cast<std::int64_t>(pushed.body.size());
  d.client_sha256 = pushed.client_sha256;
  d.remote = pushed.remote;
  CollectingSink sink(d.records, stop);
  Poco::MemoryInputStream in(pushed.body.data(), static_cast<std::streamsize>(pushed.body.size()));
  d.decoded = pipeline.adapter->decode(in, d.origin, sink);
  if (sink.failed) {
    d.failure = "the hub ran out of memory while decoding the push; nothing of it was stored";
  } else if (d.decoded.stopped || stop) {
    d.failure = "the hub stopped while decoding the push; nothing of it was stored";
  }
  if (!d.failure.empty()) d.records.clear();
  return d;
}

void PushIngestor::open_input(const DecodedPush& push, PushOutcome& o) {
  const std::string& system = push.pipeline.system;
  o.sha256 = push.sha256;
  o.origin = push.origin;
  bool created = false;
  o.input_id = store_.open_input(system, o.origin, o.sha256, push.size, &created);
  // Every request is a receipt, even one that continues an input a crash left open.
  std::map<std::string, std::string> details{{"system", system},
                                             {"origin", o.origin},
                                             {"transport", "https"},
                                             {"input_id", std::to_string(o.input_id)},
                                             {"sha256", o.sha256},
                                             {"size", std::to_string(push.size)},
                                             {"client_sha256", push.client_sha256},
                                             {"remote", push.remote}};
  if (!created) details["resumed"] = "true";
  audit_.append({audit::entry_type::kInputReceived, "system:" + system, "", details});
}

PushOutcome PushIngestor::store(const DecodedPush& push) {
  const SystemPipeline& pipeline = push.pipeline;
  PushOutcome o;
  open_input(push, o);
  o.records = push.decoded.records;
  if (!push.failure.empty() || !push.decoded.ok) {
    o.status =
        push.failure.empty() ? PushOutcome::Status::unusable : PushOutcome::Status::store_failed;
    o.message = push.failure.empty() ? push.decoded.message : push.failure;
    close_input(pipeline, o, "failed");
    return o;
  }
  RecordStorer sink(store_, audit_, pipeline,
                    InputRef{pipeline.system, o.origin, o.sha256, o.input_id},
                    std::numeric_limits<std::size_t>::max(), kNeverStop);
  for (const NativeRecord& record : push.records) {
    NativeRecord copy = record;  // kept intact: a failed group stores the push again alone
    if (!sink.accept(std::move(copy))) break;
  }
  if (sink.failure()) throw store::StoreError(*sink.failure());
  sink.flush();  // commits nothing here (the caller's transaction), but ends the sink's batch
  o.accepted = sink.stored();
  o.duplicates = sink.duplicates();
  o.rejected = sink.rejections();
  close_input(pipeline, o, "done");
  o.status = o.rejected.empty() ? PushOutcome::Status::stored : PushOutcome::Status::partial;
  return o;
}

bool PushIngestor::record_failure(const DecodedPush& push, const std::string& message) noexcept {
  try {
    if (store_.in_transaction()) store_.rollback();
    store::Transaction tx(store_);
    PushOutcome o;
    open_input(push, o);
    o.records = push.decoded.records;
    o.message = message;
    close_input(push.pipeline, o, "failed");
    tx.commit();
    return true;
  } catch (const std::exception& e) {
    log().error("%s push %s: could not record the failure: %s", push.pipeline.system, push.origin,
                std::string(e.what()));
  } catch (...) {
    log().error("%s push %s: could not record the failure", push.pipeline.system, push.origin);
  }
  return false;
}

PushOutcome PushIngestor::ingest(const SystemPipeline& pipeline, const PushedBody& pushed,
                                 const std::atomic<bool>& stop) {
  const DecodedPush push = decode_push(pipeline, pushed, stop);
  try {
    store::Transaction tx(store_);
    PushOutcome o = store(push);
    tx.commit();
    return o;
  } catch (const std::exception& e) {
    PushOutcome o;
    o.status = PushOutcome::Status::store_failed;
    o.sha256 = push.sha256;
    o.origin = push.origin;
    o.records = push.decoded.records;
    o.message = std::string("store error: ") + e.what();
    record_failure(push, o.message);
    return o;
  }
}

void PushIngestor::record_refusal(const PushRefusal& refusal) {
  // No payload and no body digest: a refused body was never read.
  audit_.append_now({audit::entry_type::kIngestRefused,
                     "hub",
                     "",
                     {{"system", refusal.system},
                      {"status", std::to_string(refusal.status)},
                      {"reason", refusal.reason_code},
                      {"message", refusal.reason},
                      {"client_sha256", refusal.client_sha256},
                      {"client_cn", refusal.client_cn},
                      {"remote", refusal.remote},
                      {"transport", "https"}}});
}

}  // namespace tsunagu::ingest
