// A Store and its AuditLog for one request.
//
// A Poco::Data session belongs to one thread, so request threads do not share the hub's. Each
// request opens its own: measured on the development machine, opening the SQLite store with its
// keyring takes about 1.4 ms, against about 2 ms for each fsync-durable commit of which a push
// makes at least two — a pool of sessions would save little and has to decide when a session that
// saw an error is still fit to reuse. Revisit when a store needs a network round trip to open.
#pragma once

#include <functional>
#include <memory>

#include "audit/audit_log.hpp"
#include "store/store.hpp"

namespace tsunagu::http {

// Opens a new session on the instance's store, keyring set (the hub's open_store).
using StoreOpener = std::function<std::unique_ptr<store::Store>()>;

struct StoreSession {
  explicit StoreSession(const StoreOpener& open)
      : store(open()), audit(std::make_unique<audit::AuditLog>(*store)) {}
  std::unique_ptr<store::Store> store;
  std::unique_ptr<audit::AuditLog> audit;
};

}  // namespace tsunagu::http
