// A real HTTPS webhook receiver for tests, on loopback: a Poco HTTPServer that requires a client
// certificate from the test CA, records every request, and can be told to fail (any status), to
// answer too late, to drop the connection, and to come back. Used by the webhook channel's tests
// and by the outbox's.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerRequestImpl.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/X509Certificate.h>
#include <Poco/StreamCopier.h>

namespace tsunagu_test {

namespace webhook_fs = std::filesystem;

struct Received {
  std::string idempotency_key;
  std::string attempt;
  std::string content_type;
  std::string client_cn;  // CN of the client certificate the TLS handshake verified
  std::string body;
};

// What the receiver does with the next requests.
struct Behaviour {
  enum class Kind { answer, late, drop } kind = Kind::answer;
  int status = 201;
  int late_ms = 0;
};

class Receiver {
 public:
  // Serves on 127.0.0.1, `port` (0: any free one; a port of an earlier receiver: it is back), with `dir`/server.{crt,key}; clients must present a certificate
  // issued by `dir`/ca.crt.
  explicit Receiver(const webhook_fs::path& dir, std::uint16_t port = 0) {
    Poco::Net::Context::Params p;
    p.certificateFile = (dir / "server.crt").string();
    p.privateKeyFile = (dir / "server.key").string();
    p.caLocation = (dir / "ca.crt").string();
    p.loadDefaultCAs = false;
    p.verificationMode = Poco::Net::Context::VERIFY_STRICT;  // a client certificate is required
    context_ = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, p);
    context_->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    // Poco would otherwise also match the client's certificate against the client's address;
    // a client certificate names a system, not a host. The chain is still verified.
    context_->enableExtendedCertificateVerification(false);
    Poco::Net::SecureServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", port), 16, context_);
    port_ = socket.address().port();
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(4);
    params->setKeepAlive(false);
    server_ = std::make_unique<Poco::Net::HTTPServer>(new Factory(*this), socket, params);
    server_->start();
  }
  ~Receiver() {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    server_->stopAll(true);
  }

  std::uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/tsunagu/notices") const {
    return "https://localhost:" + std::to_string(port_) + path;
  }
  void behave(Behaviour b) {
    const std::lock_guard<std::mutex> lock(mutex_);
    behaviour_ = b;
  }
  std::vector<Received> received() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return received_;
  }

 private:
  class Handler final : public Poco::Net::HTTPRequestHandler {
   public:
    explicit Handler(Receiver& r) : receiver_(r) {}
    void handleRequest(Poco::Net::HTTPServerRequest& request,
                       Poco::Net::HTTPServerResponse& response) override {
      Received r;
      r.idempotency_key = request.get("Idempotency-Key", "");
      r.attempt = request.get("X-Tsunagu-Attempt", "");
      r.content_type = request.getContentType();
      auto& impl = static_cast<Poco::Net::HTTPServerRequestImpl&>(request);
      Poco::Net::SecureStreamSocket secure(impl.socket());
      if (secure.havePeerCertificate()) r.client_cn = secure.peerCertificate().commonName();
      Poco::StreamCopier::copyToString(request.stream(), r.body);
      Behaviour b;
      {
        const std::lock_guard<std::mutex> lock(receiver_.mutex_);
        receiver_.received_.push_back(r);
        b = receiver_.behaviour_;
      }
      if (b.kind == Behaviour::Kind::drop) {
        // Close the connection without a word, as a crashing receiver would.
        Poco::Net::StreamSocket socket = impl.detachSocket();
        socket.close();
        return;
      }
      if (b.kind == Behaviour::Kind::late) {
        std::unique_lock<std::mutex> lock(receiver_.mutex_);
        receiver_.wake_.wait_for(lock, std::chrono::milliseconds(b.late_ms),
                                 [&] { return receiver_.stopping_; });
      }
      response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(b.status));
      response.setContentType("application/json");
      // A receiver may echo the notice back; the channel must not report it.
      response.send() << r.body;
    }

   private:
    Receiver& receiver_;
  };
  class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
   public:
    explicit Factory(Receiver& r) : receiver_(r) {}
    Poco::Net::HTTPRequestHandler* createRequestHandler(
        const Poco::Net::HTTPServerRequest&) override {
      return new Handler(receiver_);
    }

   private:
    Receiver& receiver_;
  };

  Poco::Net::Context::Ptr context_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Poco::Net::HTTPServer> server_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  Behaviour behaviour_;
  std::vector<Received> received_;
};

}  // namespace tsunagu_test
