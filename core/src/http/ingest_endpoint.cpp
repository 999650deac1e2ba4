#include "http/ingest_endpoint.hpp"

#include <algorithm>
#include <optional>

#include <Poco/JSON/Array.h>
#include <Poco/Logger.h>

namespace tsunagu::http {
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.http");
}

std::string short_fingerprint(const std::optional<ClientCertificate>& client) {
  return client ? client->sha256.substr(0, 16) : std::string("none");
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

}  // namespace

IngestEndpoint::IngestEndpoint(const ClientDirectory& clients,
                               const std::vector<ingest::SystemPipeline>& pipelines,
                               std::size_t max_body_bytes, StoreOpener open_store,
                               const std::atomic<bool>& abort)
    : clients_(clients),
      max_body_bytes_(max_body_bytes),
      open_store_(std::move(open_store)),
      abort_(abort),
      committer_(open_store_, abort_) {
  replace_pipelines(pipelines);
}

IngestEndpoint::~IngestEndpoint() {
  committer_.stop();
}

void IngestEndpoint::replace_pipelines(const std::vector<ingest::SystemPipeline>& pipelines) {
  std::map<std::string, ingest::SystemPipeline> by_system;
  for (const auto& p : pipelines) by_system[p.system] = p;
  std::lock_guard<std::mutex> lock(pipelines_mutex_);
  pipelines_.swap(by_system);
}

Response IngestEndpoint::refuse(const Request& request, const std::string& system, int status,
                                const std::string& code, const std::string& message) const {
  log().warning("push to %s from %s refused (%d %s): %s; client certificate %s", system,
                request.remote, status, code, message,
                request.client ? request.client->subject + " sha256 " + request.client->sha256
                               : std::string("none"));
  try {
    StoreSession session(open_store_);
    ingest::PushIngestor(*session.store, *session.audit)
        .record_refusal(
            {system, status, code, message, request.client ? request.client->sha256 : std::string(),
             request.client ? request.client->common_name : std::string(), request.remote});
  } catch (const std::exception& e) {
    // The refusal stands; only its record is missing, and the log says so.
    log().error("could not record the refused push to %s in the audit log: %s", system,
                std::string(e.what()));
  }
  return error_response(status, code, message);
}

Response IngestEndpoint::handle(Request& request) const {
  const std::string& system = request.param("system");
  const PushDecision decision = clients_.authorize_push(request.client, system);
  if (decision != PushDecision::allowed) {
    const auto owner = request.client ? clients_.system_of(*request.client) : std::nullopt;
    return refuse(request, system, http_status(decision), code(decision),
                  describe(decision, system, owner));
  }
  std::optional<ingest::SystemPipeline> pipeline;  // this push's own copy (a reload may swap)
  {
    std::lock_guard<std::mutex> lock(pipelines_mutex_);
    const auto it = pipelines_.find(system);
    if (it != pipelines_.end()) pipeline = it->second;
  }
  if (!pipeline) {
    return refuse(request, system, 404, "system_not_enabled",
                  "system " + system + " is not enabled on this hub");
  }
  const auto* client = clients_.client(system);
  const std::string type = media_type(request.content_type);
  if (client == nullptr || std::find(client->content_types.begin(), client->content_types.end(),
                                     type) == client->content_types.end()) {
    return refuse(request, system, 415, "unsupported_media_type",
                  "Content-Type '" + request.content_type + "' is not taken from " + system +
                      " (it pushes: " +
                      join(client ? client->content_types : std::vector<std::string>{}) + ")");
  }
  const std::string too_large = "the body is larger than this hub takes in one push (" +
                                std::to_string(max_body_bytes_) +
                                " bytes); split it into several pushes";
  if (request.content_length < 0 && !request.chunked) {
    return refuse(request, system, 411, "length_required",
                  "the request needs a Content-Length or chunked transfer encoding");
  }
  if (request.content_length > static_cast<std::int64_t>(max_body_bytes_)) {
    return refuse(request, system, 413, "body_too_large", too_large);
  }
  std::optional<std::string> body = request.body != nullptr ? request.body->read(max_body_bytes_)
                                                            : std::optional<std::string>("");
  if (!body) return refuse(request, system, 413, "body_too_large", too_large);

  // Decoding needs no store: done here, in parallel with the other requests, so the committer's
  // serial part is only the storing.
  const ingest::PushOutcome outcome = committer_.commit(ingest::decode_push(
      *pipeline, {std::move(*body), request.client->sha256, request.remote}, abort_));

  using Status = ingest::PushOutcome::Status;
  if (outcome.status == Status::store_failed) {
    log().error("push from %s (%s) not stored: %s", system, short_fingerprint(request.client),
                outcome.message);
    Response r = error_response(503, "store_unavailable",
                                "nothing of this push was stored; send it again later");
    r.headers.emplace_back("Retry-After", "10");
    return r;
  }
  auto reply = json_object();
  reply->set("input", outcome.input_id);
  reply->set("sha256", outcome.sha256);
  reply->set("records", outcome.records);
  if (outcome.status == Status::unusable) {
    log().warning("push from %s (input %s, sha256 %s) is unusable as a whole: %s", system,
                  std::to_string(outcome.input_id), outcome.sha256, outcome.message);
    reply->set("error", "unusable_body");
    reply->set("message", outcome.message + "; nothing of this push was stored");
    return json_response(400, reply);
  }
  reply->set("accepted", outcome.accepted);
  reply->set("duplicates", outcome.duplicates);
  Poco::JSON::Array::Ptr rejected = new Poco::JSON::Array;
  for (const auto& r : outcome.rejected) {
    auto item = json_object();
    item->set("record", r.record_no);
    if (r.line > 0) item->set("line", r.line);
    item->set("field", r.field);
    item->set("reason", r.reason);
    rejected->add(item);
  }
  reply->set("rejected", rejected);
  // Numbers as text: Poco's %?d does not take long long, which Int64 is not on LP64.
  log().information(
      "push from %s stored (input %s, %s): %s records, %s stored, %s already stored, "
      "%s rejected",
      system, std::to_string(outcome.input_id), outcome.origin, std::to_string(outcome.records),
      std::to_string(outcome.accepted), std::to_string(outcome.duplicates),
      std::to_string(outcome.rejected.size()));
  return json_response(outcome.status == Status::partial ? 207 : 200, reply);
}

}  // namespace tsunagu::http
