// The hub's HTTPS listener: Poco::Net::HTTPServer over a SecureServerSocket.
//
// TLS: TLS 1.2 at least, ECDHE with AES-GCM or ChaCha20-Poly1305 only (TLS 1.3's suites are all
// of that kind), the server certificate and key from <http><tls>. Client certificates are asked
// for and, when one is presented, fully verified against <http><tls><ca> during the handshake —
// a certificate that does not verify ends the handshake. A client without one still gets through
// (Poco's VERIFY_RELAXED, which on a server means "ask, verify if given, do not require"), so that
// /healthz, /metrics and the pages and API for people (web/web_app.hpp: passwords and sessions,
// no certificates) stay reachable, and a push without a certificate gets a 401 that says why and
// is audited rather than a bare handshake failure. Endpoints that need a client certificate check
// request.client themselves (see IngestEndpoint).
//
// Threads: a dedicated Poco::ThreadPool of <threads> threads serves connections; at most
// <max-queued> accepted connections wait for one. Every response carries HSTS, a
// Content-Security-Policy that allows nothing but this server's own style sheet and forms posted
// back to it (the pages have no scripts), X-Frame-Options DENY and a same-origin referrer policy.
//
// Construction binds the socket (so a port in use stops start-up) but serves nothing; start()
// serves; stop() stops accepting, lets open requests finish for <shutdown-grace-ms>, then makes
// pushes still decoding stop (they store nothing) and closes every connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/ThreadPool.h>

#include "config/hub_config.hpp"
#include "http/client_identity.hpp"
#include "http/ingest_endpoint.hpp"
#include "http/router.hpp"
#include "http/status_endpoints.hpp"
#include "http/store_session.hpp"
#include "ingest/record_storer.hpp"

namespace Poco::Net {
class HTTPServer;
class VerificationErrorArgs;
}  // namespace Poco::Net

namespace tsunagu::http {

class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Strong TLS 1.2 suites (TLS 1.3 uses OpenSSL's defaults, all AEAD with ephemeral keys).
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

inline constexpr const char* kHsts = "max-age=31536000; includeSubDomains";
inline constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'";

class HttpsServer {
 public:
  // Throws HttpError naming the config file, the element and the reason (a missing or unreadable
  // certificate, a bind address in use, …). `pipelines` hold the shared adapters; they and
  // `open_store` must stay valid until the server is destroyed.
  HttpsServer(const config::HubConfig& config, const std::vector<ingest::SystemPipeline>& pipelines,
              StoreOpener open_store);
  ~HttpsServer();
  HttpsServer(const HttpsServer&) = delete;
  HttpsServer& operator=(const HttpsServer&) = delete;

  void start();
  // Idempotent; returns once every request thread has finished.
  void stop();

  std::uint16_t port() const { return port_; }
  // https://<bind>:<port>
  std::string url() const;

  Router& router() { return router_; }  // to add routes before start()
  // To add /healthz checks and metrics sources before start().
  StatusEndpoints& status() { return status_; }
  // A reload's new pipelines (IngestEndpoint::replace_pipelines).
  void replace_pipelines(const std::vector<ingest::SystemPipeline>& pipelines) {
    ingest_.replace_pipelines(pipelines);
  }

 private:
  class Handler;
  class HandlerFactory;
  void on_verification_error(const void* sender, Poco::Net::VerificationErrorArgs& args);

  const config::HubConfig& config_;
  ClientDirectory clients_;
  ResponseCounters counters_;
  std::atomic<bool> abort_{false};
  IngestEndpoint ingest_;
  StatusEndpoints status_;
  Router router_;
  // OpenSSL set-up through Poco, reference-counted: first in, last out of the TLS members. Made
  // in the thread that builds the hub, before any request thread exists.
  struct SslLibrary {
    SslLibrary();
    ~SslLibrary();
    SslLibrary(const SslLibrary&) = delete;
    SslLibrary& operator=(const SslLibrary&) = delete;
  } ssl_;
  Poco::Net::Context::Ptr context_;
  Poco::ThreadPool pool_;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  std::uint16_t port_ = 0;
  bool started_ = false;
  bool stopped_ = false;
};

// Writes `port` to `file` (DATA/run/https.port) through a temporary file and a rename, so a
// reader sees either no file or the whole number.
void write_port_file(const std::filesystem::path& file, std::uint16_t port);

}  // namespace tsunagu::http
