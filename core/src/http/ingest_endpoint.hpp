// POST /api/v1/ingest/{system}: a system pushes a body of records.
//
// In order: the client certificate must be that system's (no certificate 401, a certificate of no
// system or of another system 403); the system must be enabled (404); the Content-Type must be
// one the system pushes (415, from <http><clients><system><content-types>); the body must have a
// length (411) of at most <max-body-bytes> (413). Each refusal is answered without reading the
// body and is an `ingest.refused` audit entry. Then the body is stored by the PushIngestor and the
// reply says what became of it:
//   200 {"input":…,"sha256":…,"records":n,"accepted":a,"duplicates":d,"rejected":[]}
//   207 the same, with "rejected":[{"record":3,"line":4,"field":"区コード","reason":"…"}] — the
//       good records of the body are stored, the rejected ones quarantined
//   400 the body as a whole is unusable (nothing stored); 503 the store failed (nothing stored).
// The body is decoded on the request thread; storing it is the GroupCommitter's, which stores
// the pushes of concurrent requests in one transaction and answers each once that COMMIT is
// durable.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "http/client_identity.hpp"
#include "http/router.hpp"
#include "http/store_session.hpp"
#include "ingest/group_committer.hpp"
#include "ingest/push_ingestor.hpp"

namespace tsunagu::http {

class IngestEndpoint {
 public:
  // `abort` becomes true when shutdown's grace period is over: a push still decoding then stops
  // and stores nothing. Everything given must outlive the endpoint.
  IngestEndpoint(const ClientDirectory& clients,
                 const std::vector<ingest::SystemPipeline>& pipelines, std::size_t max_body_bytes,
                 StoreOpener open_store, const std::atomic<bool>& abort);

  ~IngestEndpoint();
  IngestEndpoint(const IngestEndpoint&) = delete;
  IngestEndpoint& operator=(const IngestEndpoint&) = delete;

  Response handle(Request& request) const;
  // Empty unless the store's log could not be synced after a COMMIT: pushes are refused then
  // until a restart (ingest/group_committer.hpp).
  std::string store_failure() const { return committer_.log_failure(); }
  // A reload's new pipelines; a push being decoded finishes with the one it started with.
  void replace_pipelines(const std::vector<ingest::SystemPipeline>& pipelines);

 private:
  Response refuse(const Request& request, const std::string& system, int status,
                  const std::string& code, const std::string& message) const;

  const ClientDirectory& clients_;
  mutable std::mutex pipelines_mutex_;
  std::map<std::string, ingest::SystemPipeline> pipelines_;
  std::size_t max_body_bytes_;
  StoreOpener open_store_;
  const std::atomic<bool>& abort_;
  // Stores every push (its own thread and store session); mutable: handle() is const, the
  // committer is thread-safe.
  mutable ingest::GroupCommitter committer_;
};

}  // namespace tsunagu::http
