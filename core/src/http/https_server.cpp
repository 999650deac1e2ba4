#include "http/https_server.hpp"

#include <cctype>
#include <chrono>
#include <fstream>
#include <thread>

#include <openssl/ssl.h>

#include <Poco/Crypto/X509Certificate.h>
#include <Poco/Delegate.h>
#include <Poco/DigestEngine.h>
#include <Poco/Logger.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/VerificationErrorArgs.h>
#include <Poco/URI.h>

namespace tsunagu::http {
namespace fs = std::filesystem;
namespace {

Poco::Logger& log() {
  return Poco::Logger::get("tsunagu.http");
}

// Reads the body of a Poco request, at most `max` bytes, telling the client to go on first if it
// asked (Expect: 100-continue) — only once an endpoint has decided to read.
class PocoBody final : public BodyReader {
 public:
  PocoBody(Poco::Net::HTTPServerRequest& request, Poco::Net::HTTPServerResponse& response)
      : request_(request), response_(response) {}

  std::optional<std::string> read(std::size_t max) override {
    if (request_.getExpectContinue() && !continued_) {
      response_.sendContinue();
      continued_ = true;
    }
    std::istream& in = request_.stream();
    std::string body;
    char buf[65536];
    while (in) {
      in.read(buf, sizeof buf);
      const auto n = static_cast<std::size_t>(in.gcount());
      if (n == 0) break;
      if (body.size() + n > max) return std::nullopt;
      body.append(buf, n);
    }
    if (in.bad()) throw std::runtime_error("the connection failed while the body was read");
    complete_ = true;
    return body;
  }

  bool complete() const { return complete_; }

 private:
  Poco::Net::HTTPServerRequest& request_;
  Poco::Net::HTTPServerResponse& response_;
  bool continued_ = false;
  bool complete_ = false;
};

std::optional<ClientCertificate> client_certificate(Poco::Net::HTTPServerRequest& request) {
  // Only the server's own sockets arrive here, and they are all TLS.
  auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
  Poco::Net::SecureStreamSocket socket(impl.socket());
  if (!socket.havePeerCertificate()) return std::nullopt;
  // Presented means verified: with SSL_VERIFY_PEER a certificate that fails verification ends
  // the handshake before any request is read.
  const Poco::Crypto::X509Certificate certificate = socket.peerCertificate();
  ClientCertificate c;
  c.sha256 = Poco::DigestEngine::digestToHex(certificate.fingerprint("SHA256"));
  c.common_name = certificate.commonName();
  c.subject = certificate.subjectName();
  return c;
}

void require_file(const config::HubConfig& config, const fs::path& file, const char* element) {
  std::error_code ec;
  if (fs::is_regular_file(file, ec)) return;
  throw HttpError(config.file.string() + ": <tsunagu/http/tls/" + element + ">: " + file.string() +
                  ": no such file (scripts/make-certs.sh " + (config.data_dir / "tls").string() +
                  " creates a local CA, a server certificate and client certificates)");
}

}  // namespace

class HttpsServer::Handler final : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(HttpsServer& server) : server_(server) {}

  void handleRequest(Poco::Net::HTTPServerRequest& in,
                     Poco::Net::HTTPServerResponse& out) override {
    const auto arrived = std::chrono::steady_clock::now();
    Response response;
    PocoBody body(in, out);
    Request request;
    try {
      request.method = in.getMethod();
      request.remote = in.clientAddress().toString();
      request.content_type = in.has("Content-Type") ? in.getContentType() : std::string();
      request.content_length = in.hasContentLength() ? in.getContentLength64() : -1;
      request.chunked = in.getChunkedTransferEncoding();
      request.client = client_certificate(in);
      request.body = &body;
      const Poco::URI uri(in.getURI());
      request.path = uri.getPath();
      request.query = uri.getRawQuery();
      for (const auto& [name, value] : in) {
        std::string lower = name;
        for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        request.headers.emplace_back(std::move(lower), value);
      }
      response = server_.router_.dispatch(request);
    } catch (const Poco::SyntaxException&) {
      response = error_response(400, "bad_request", "the request target is not a valid URI");
    } catch (const std::exception& e) {
      log().error("%s %s from %s: %s", in.getMethod(), in.getURI(), request.remote,
                  std::string(e.what()));
      response = error_response(500, "internal_error",
                                "the request could not be handled; the hub's log says why");
      response.close = true;
    }
    // A body left unread would be taken for the next request on this connection.
    const bool has_body = request.chunked || request.content_length > 0;
    if (response.close || (has_body && !body.complete())) out.setKeepAlive(false);
    // A connection kept alive holds its request thread until it goes idle or reaches
    // max-keep-alive-requests. While other connections wait for a thread (an officer's browser
    // behind a system's pushes), each answer closes its own connection, so that they take turns.
    if (server_.server_ != nullptr && server_.server_->queuedConnections() > 0) {
      out.setKeepAlive(false);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - arrived;
    server_.counters_.count(response.status, route_class(request.route), took.count());
    send(out, response);
  }

 private:
  void send(Poco::Net::HTTPServerResponse& out, const Response& response) {
    if (out.sent()) return;  // only after 100-continue and a failure that already answered
    out.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(response.status),
                           reason_phrase(response.status));
    out.setContentType(response.content_type);
    out.set("Strict-Transport-Security", kHsts);
    out.set("Content-Security-Policy", kContentSecurityPolicy);
    out.set("X-Frame-Options", "DENY");
    // same-origin rather than no-referrer: under no-referrer a browser sends "Origin: null" with
    // a form POST, and the pages refuse a POST whose Origin is not this server.
    out.set("Referrer-Policy", "same-origin");
    out.set("X-Content-Type-Options", "nosniff");
    out.set("Cache-Control", "no-store");
    // add, not set: a response may carry several Set-Cookie headers.
    for (const auto& [name, value] : response.headers) out.add(name, value);
    out.sendBuffer(response.body.data(), response.body.size());
  }

  HttpsServer& server_;
};

class HttpsServer::HandlerFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit HandlerFactory(HttpsServer& server) : server_(server) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(server_);
  }

 private:
  HttpsServer& server_;
};

HttpsServer::HttpsServer(const config::HubConfig& config,
                         const std::vector<ingest::SystemPipeline>& pipelines,
                         StoreOpener open_store)
    : config_(config),
      clients_(config.http.clients),
      ingest_(clients_, pipelines, config.http.max_body_bytes, open_store, abort_),
      status_(
          config.instance_name,
          [&] {
            std::vector<std::string> names;
            for (const auto& s : config.systems) names.push_back(s.name);
            return names;
          }(),
          open_store, counters_,
          [this] {
            // Requests arrive only once server_ exists.
            return ConnectionStats{server_->currentConnections(), server_->queuedConnections(),
                                   server_->refusedConnections()};
          }),
      pool_("tsunagu-https", 1, config.http.threads,
            60 /* idle seconds before a spare thread ends */) {
  const auto& h = config.http;
  require_file(config, h.certificate, "certificate");
  require_file(config, h.private_key, "private-key");
  require_file(config, h.ca, "ca");

  Poco::Net::Context::Params params;
  params.certificateFile = h.certificate.string();
  params.privateKeyFile = h.private_key.string();
  params.caLocation = h.ca.string();
  params.loadDefaultCAs = false;  // only our CA issues client certificates
  params.verificationMode = Poco::Net::Context::VERIFY_RELAXED;  // see the header
  params.verificationDepth = 4;
  params.cipherList = kTls12Ciphers;
  try {
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, params);
    context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    context_->preferServerCiphers();
    // A session resumed by a client must be resumed under the same verification settings.
    context_->enableSessionCache(true, "tsunagu-https");
    SSL_CTX* ctx = context_->sslContext();
    if (SSL_CTX_set_ciphersuites(
            ctx, "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256") !=
        1) {
      throw HttpError("OpenSSL refuses the TLS 1.3 cipher suites");
    }
    // Tell clients which CA we accept, so one with several certificates picks the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(params.caLocation.c_str())) {
      SSL_CTX_set_client_CA_list(ctx, names);
    }
  } catch (const Poco::Exception& e) {
    throw HttpError(config.file.string() + ": <tsunagu/http/tls>: " + e.displayText() +
                    " (certificate " + h.certificate.string() + ", key " + h.private_key.string() +
                    ", CA " + h.ca.string() + ")");
  }
  Poco::Net::SSLManager::instance().ServerVerificationError +=
      Poco::delegate(this, &HttpsServer::on_verification_error);

  router_.add("POST", "/api/v1/ingest/{system}", [this](Request& r) { return ingest_.handle(r); });
  router_.add("GET", "/healthz", [this](Request& r) { return status_.health(r); });
  router_.add("GET", "/metrics", [this](Request& r) { return status_.metrics(r); });
  // The listener answering /healthz is up by definition; what is worth seeing is whether it is
  // saturated: connections waiting for a thread, and those dropped because too many waited.
  status_.add_health_check("listeners", [this] {
    HealthCheck c;
    const bool serving = server_ != nullptr;
    c.ok = serving;
    c.details.emplace_back("https_port", static_cast<int>(port_));
    c.details.emplace_back("threads", config_.http.threads);
    if (serving) {
      c.details.emplace_back("connections", server_->currentConnections());
      c.details.emplace_back("queued", server_->queuedConnections());
      c.details.emplace_back("refused", server_->refusedConnections());
    }
    return c;
  });

  // Pushes: refused for good once the store's log could not be synced after a COMMIT; the disk
  // needs looking at, then the hub a restart.
  status_.add_health_check("pushes", [this] {
    HealthCheck c;
    const std::string failure = ingest_.store_failure();
    c.ok = failure.empty();
    if (!c.ok) c.details.emplace_back("log_sync_failed", failure);
    return c;
  });

  Poco::Net::HTTPServerParams::Ptr server_params = new Poco::Net::HTTPServerParams;
  server_params->setMaxThreads(h.threads);
  server_params->setMaxQueued(h.max_queued);
  server_params->setThreadIdleTime(Poco::Timespan(60, 0));
  server_params->setTimeout(Poco::Timespan(std::chrono::microseconds(h.timeout).count()));
  server_params->setKeepAlive(h.keep_alive_timeout.count() > 0);
  server_params->setKeepAliveTimeout(
      Poco::Timespan(std::chrono::microseconds(h.keep_alive_timeout).count()));
  server_params->setMaxKeepAliveRequests(h.max_keep_alive_requests);
  server_params->setServerName(config.instance_name);
  server_params->setSoftwareVersion("tsunagu");
  try {
    Poco::Net::SecureServerSocket socket(
        Poco::Net::SocketAddress(h.bind, static_cast<Poco::UInt16>(h.port)), h.max_queued,
        context_);
    port_ = socket.address().port();
    server_ = std::make_unique<Poco::Net::HTTPServer>(new HandlerFactory(*this), pool_, socket,
                                                      server_params);
  } catch (const Poco::Exception& e) {
    Poco::Net::SSLManager::instance().ServerVerificationError -=
        Poco::delegate(this, &HttpsServer::on_verification_error);
    throw HttpError(config.file.string() + ": <tsunagu/http>: cannot listen on " + h.bind + ":" +
                    std::to_string(h.port) + ": " + e.displayText());
  }
}

HttpsServer::~HttpsServer() {
  stop();
  Poco::Net::SSLManager::instance().ServerVerificationError -=
      Poco::delegate(this, &HttpsServer::on_verification_error);
  server_.reset();
}

HttpsServer::SslLibrary::SslLibrary() {
  Poco::Net::initializeSSL();
}
HttpsServer::SslLibrary::~SslLibrary() {
  Poco::Net::uninitializeSSL();
}

void HttpsServer::on_verification_error(const void*, Poco::Net::VerificationErrorArgs& args) {
  // Only logged: the handshake fails, as it must (the event would let us ignore the error).
  log().warning("refused a client certificate during the TLS handshake: %s (subject %s, issuer %s)",
                args.errorMessage(), args.certificate().subjectName(),
                args.certificate().issuerName());
}

std::string HttpsServer::url() const {
  const std::string& host = config_.http.bind;
  const bool ipv6 = host.find(':') != std::string::npos;
  return "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port_);
}

void HttpsServer::start() {
  if (started_) return;
  server_->start();
  started_ = true;
}

void HttpsServer::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  server_->stop();  // no new connections; open ones go on
  const auto deadline = std::chrono::steady_clock::now() + config_.http.shutdown_grace;
  // Poco offers nothing to wait on; a short poll bounds the wait by the grace period.
  while (server_->currentConnections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (server_->currentConnections() > 0) {
    log().warning("%d HTTPS connections still open after %s ms; closing them",
                  server_->currentConnections(),
                  std::to_string(config_.http.shutdown_grace.count()));
  }
  abort_ = true;
  server_->stopAll(true);
  pool_.joinAll();
}

void write_port_file(const fs::path& file, std::uint16_t port) {
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) throw HttpError(tmp.string() + ": cannot write the port file");
  }
  fs::rename(tmp, file);
}

}  // namespace tsunagu::http
