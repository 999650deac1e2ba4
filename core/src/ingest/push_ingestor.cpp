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

PushOutcome PushIngestor::ingest(const SystemPipeline& pipeline, const PushedBody& pushed,
                                 const std::atomic<bool>& stop) {
  PushOutcome o;
  o.sha256 = bytes_sha256(pushed.body);
  o.origin = "https-" + o.sha256.substr(0, 16);
  const auto size = static_cast<std::int64_t>(pushed.body.size());
  {
    store::Transaction tx(store_);
    bool created = false;
    o.input_id = store_.open_input(pipeline.system, o.origin, o.sha256, size, &created);
    // Every request is a receipt, even one that continues an input a crash left open.
    std::map<std::string, std::string> details{{"system", pipeline.system},
                                               {"origin", o.origin},
                                               {"transport", "https"},
                                               {"input_id", std::to_string(o.input_id)},
                                               {"sha256", o.sha256},
                                               {"size", std::to_string(size)},
                                               {"client_sha256", pushed.client_sha256},
                                               {"remote", pushed.remote}};
    if (!created) details["resumed"] = "true";
    audit_.append({audit::entry_type::kInputReceived, "system:" + pipeline.system, "", details});
    tx.commit();
  }

  // One batch for the whole body: the sink's transaction stays open until flush() below.
  std::optional<RecordStorer> sink;
  sink.emplace(store_, audit_, pipeline, InputRef{pipeline.system, o.origin, o.sha256, o.input_id},
               std::numeric_limits<std::size_t>::max(), stop);
  Poco::MemoryInputStream in(pushed.body.data(), static_cast<std::streamsize>(pushed.body.size()));
  const DecodeResult decoded = pipeline.adapter->decode(in, o.origin, *sink);
  o.records = decoded.records;

  // Closes the input as failed after the records' transaction was rolled back. Best effort: the
  // store may be what failed, and the sender is told 503 either way.
  auto fail = [&](PushOutcome::Status status, std::string message) {
    sink.reset();  // rolls back whatever the sink stored
    o.status = status;
    o.message = std::move(message);
    o.rejected.clear();
    try {
      store::Transaction tx(store_);
      close_input(pipeline, o, "failed");
      tx.commit();
    } catch (const std::exception& e) {
      log().error("%s push %s: could not record the failure: %s", pipeline.system, o.origin,
                  std::string(e.what()));
    }
    return o;
  };

  if (sink->failure()) return fail(PushOutcome::Status::store_failed, *sink->failure());
  if (decoded.stopped || stop) {
    return fail(PushOutcome::Status::store_failed,
                "the hub stopped while decoding the push; nothing of it was stored");
  }
  if (!decoded.ok) return fail(PushOutcome::Status::unusable, decoded.message);

  o.accepted = sink->stored();
  o.duplicates = sink->duplicates();
  o.rejected = sink->rejections();
  try {
    if (store_.in_transaction()) {
      // The records' own transaction: closing the input commits with them.
      close_input(pipeline, o, "done");
      sink->flush();
    } else {  // no record at all, so no transaction was begun
      store::Transaction tx(store_);
      close_input(pipeline, o, "done");
      tx.commit();
    }
  } catch (const std::exception& e) {
    return fail(PushOutcome::Status::store_failed, std::string("store error: ") + e.what());
  }
  o.status = o.rejected.empty() ? PushOutcome::Status::stored : PushOutcome::Status::partial;
  return o;
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
