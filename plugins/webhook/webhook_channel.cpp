// The webhook channel plugin: POSTs each delivery as JSON over HTTPS into a liaison's own system.
//
// Settings (all checked in the factory; an unknown one is an error):
//   url          required  https://host[:port]/path — only https
//   certificate  required  PEM client certificate the receiver verifies (mutual TLS)
//   private_key  required  its PEM private key (unencrypted; keep it 0600)
//   ca           (system)  PEM file of the CA(s) that issue the receiver's certificate; without it
//                          the system's CA store is used
//   timeout_ms   10000     connect, send and receive timeout each, in milliseconds
//
// TLS 1.2 or later, strong AEAD suites only, the receiver's certificate verified against the CA
// and the URL's host name. Each request carries
//   Idempotency-Key: <delivery id>   the same on every retry, so a receiver stores a notice once
//   X-Tsunagu-Attempt: <attempt>
// and a body that does not change between retries: {"delivery_id", "notice_id", "kind", …,
// "fields": {…}} (keys sorted; see README "Delivery channels").
//
// The answer decides the outcome: 2xx delivered; 408 and 429 retry (the receiver asks for it);
// any other 4xx dead (the receiver refuses this notice for good: retrying cannot help); 3xx dead
// (redirects are not followed: a notice with personal data goes only to the configured URL); 5xx,
// timeouts, refused or dropped connections and TLS failures retry. The detail names the host,
// the status and the stage, never the response body (a receiver may echo the notice back).
#include <array>
#include <chrono>
#include <exception>
#include <istream>
#include <new>
#include <string>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <tsunagu/channel.hpp>

#include "common/channel_settings.hpp"
#include "common/json_string.hpp"  // core's, the one JSON string escaping of the store and the log
#include "common/text_checks.hpp"

namespace tsunagu::channels::webhook {
namespace {

constexpr std::array<SettingSpec, 5> kSettings = {{
    {"url", true, nullptr, "the https:// URL notices are POSTed to"},
    {"certificate", true, nullptr, "the PEM client certificate presented to the receiver"},
    {"private_key", true, nullptr, "the PEM private key of the client certificate"},
    {"ca", false, nullptr, "the PEM CA file that verifies the receiver (default: system CAs)"},
    {"timeout_ms", false, "10000", "the connect, send and receive timeout in milliseconds"},
}};

// TLS 1.2 suites with forward secrecy and AEAD only; TLS 1.3's are all of that kind.
constexpr const char* kCiphers =
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";

ChannelResult make(ChannelResult::Outcome outcome, std::string detail) {
  ChannelResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

// The notice as JSON, keys sorted. False with `error` naming the member whose text is not UTF-8.
bool notice_json(const ChannelDelivery& d, std::string& json, std::string& error) {
  const std::pair<const char*, const std::string*> members[] = {
      {"created_at", &d.created_at}, {"delivery_id", &d.delivery_id},
      {"due_at", &d.due_at},         {"kind", &d.kind},
      {"kind_label", &d.kind_label}, {"legal_basis", &d.legal_basis},
      {"notice_id", &d.notice_id},   {"policy", &d.policy},
      {"reason", &d.reason},         {"title", &d.title},
      {"ward_code", &d.ward_code}};
  TextProblem problem;
  auto checked = [&](const std::string& what, const std::string& text) {
    if (check_text(text, false, problem)) return true;
    error =
        what + " contains " + problem.what + " at byte offset " + std::to_string(problem.offset);
    return false;
  };
  json = "{";
  bool first = true;
  auto member = [&](const char* key) {
    if (!first) json += ',';
    first = false;
    append_json_string(json, key);
    json += ':';
  };
  for (const auto& [key, value] : members) {
    if (std::string(key) == "kind") {  // "fields" sorts between "due_at" and "kind"
      member("fields");
      json += '{';
      bool first_field = true;
      for (const auto& [name, text] : d.fields) {
        if (!checked("the name of a field", name) || !checked("field '" + name + "'", text)) {
          return false;
        }
        if (!first_field) json += ',';
        first_field = false;
        append_json_string(json, name);
        json += ':';
        append_json_string(json, text);
      }
      json += '}';
    }
    if (std::string(key) == "reason") {  // and "recipient" between "reason" and "title"
      if (!checked("reason", d.reason)) return false;
      member("reason");
      append_json_string(json, d.reason);
      if (!checked("recipient_id", d.recipient_id) ||
          !checked("recipient_role", d.recipient_role)) {
        return false;
      }
      member("recipient");
      json += "{\"id\":";
      append_json_string(json, d.recipient_id);
      json += ",\"role\":";
      append_json_string(json, d.recipient_role);
      json += '}';
      continue;
    }
    if (!checked(key, *value)) return false;
    member(key);
    append_json_string(json, *value);
  }
  json += '}';
  return true;
}

class WebhookChannel final : public Channel {
 public:
  WebhookChannel(Poco::URI url, Poco::Net::Context::Ptr context, long timeout_ms)
      : url_(std::move(url)), context_(std::move(context)), timeout_ms_(timeout_ms) {
    target_ = url_.getPathEtc();
    if (target_.empty()) target_ = "/";
    peer_ = url_.getHost() + ":" + std::to_string(url_.getPort());
  }

  const char* name() const noexcept override { return "webhook"; }

  ChannelResult deliver(const ChannelDelivery& delivery) noexcept override {
    try {
      return post(delivery);
    } catch (const std::exception& e) {
      try {
        return make(ChannelResult::Outcome::retry, "webhook " + peer_ + ": " + e.what());
      } catch (...) {
        return {};
      }
    }
  }

 private:
  ChannelResult post(const ChannelDelivery& d) const {
    if (!safe_delivery_id(d.delivery_id)) {
      return make(ChannelResult::Outcome::dead,
                  "webhook: delivery id '" + d.delivery_id + "' is not a usable Idempotency-Key");
    }
    std::string body;
    std::string error;
    if (!notice_json(d, body, error)) {
      return make(ChannelResult::Outcome::dead,
                  "webhook: notice " + d.notice_id + " cannot be sent as JSON: " + error);
    }
    const char* stage = "set up the session";
    try {
      Poco::Net::HTTPSClientSession session(url_.getHost(), url_.getPort(), context_);
      const Poco::Timespan timeout(
          std::chrono::microseconds(std::chrono::milliseconds(timeout_ms_)).count());
      session.setTimeout(timeout, timeout, timeout);
      session.setKeepAlive(false);
      Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST, target_,
                                     Poco::Net::HTTPMessage::HTTP_1_1);
      request.setContentType("application/json; charset=utf-8");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      request.set("Idempotency-Key", d.delivery_id);
      request.set("X-Tsunagu-Attempt", std::to_string(d.attempt));
      request.set("User-Agent", "tsunagu-webhook/1.0");
      stage = "connect and send the request";  // the session connects on the first send
      std::ostream& out = session.sendRequest(request);
      out << body;
      out.flush();
      stage = "receive the response";
      Poco::Net::HTTPResponse response;
      std::istream& in = session.receiveResponse(response);
      // Read (a bounded part of) the body so the exchange completes; it is never reported.
      char sink[4096];
      for (int i = 0; i < 16 && in.read(sink, sizeof sink); ++i) {
      }
      return classify(static_cast<int>(response.getStatus()));
    } catch (const Poco::TimeoutException&) {
      return make(ChannelResult::Outcome::retry, "webhook " + peer_ + ": timed out after " +
                                                     std::to_string(timeout_ms_) + " ms (" + stage +
                                                     ")");
    } catch (const Poco::Net::SSLException& e) {
      return make(ChannelResult::Outcome::retry,
                  "webhook " + peer_ + ": TLS failed (" + stage + "): " + e.displayText());
    } catch (const Poco::Net::NoMessageException&) {
      return make(ChannelResult::Outcome::retry,
                  "webhook " + peer_ + ": the connection closed without a response");
    } catch (const Poco::Exception& e) {
      return make(ChannelResult::Outcome::retry,
                  "webhook " + peer_ + ": cannot " + stage + ": " + e.displayText());
    }
  }

  ChannelResult classify(int status) const {
    const std::string what = "webhook " + peer_ + " answered " + std::to_string(status);
    if (status >= 200 && status < 300) return make(ChannelResult::Outcome::delivered, what);
    if (status == 408 || status == 429) {
      return make(ChannelResult::Outcome::retry, what + ": the receiver asks to try again later");
    }
    if (status >= 500) return make(ChannelResult::Outcome::retry, what + ": receiver error");
    if (status >= 400) {
      return make(ChannelResult::Outcome::dead, what + ": the receiver refuses this notice");
    }
    if (status >= 300) {
      return make(ChannelResult::Outcome::dead, what + ": redirects are not followed");
    }
    return make(ChannelResult::Outcome::retry, what + ": unexpected status");
  }

  Poco::URI url_;
  Poco::Net::Context::Ptr context_;  // shared by every request; OpenSSL contexts are thread-safe
  long timeout_ms_;
  std::string target_;
  std::string peer_;
};

Channel* create(const PluginSettings& given, std::string& error) {
  return tsunagu::create_guarded<Channel>("webhook channel", error, [&]() -> Channel* {
    PluginSettings s;
    if (!resolve_settings("webhook", kSettings, given, s, error)) return nullptr;
    Poco::URI url;
    try {
      url = Poco::URI(s["url"]);
    } catch (const Poco::Exception& e) {
      error = "webhook channel: setting 'url' is not a URL: " + e.displayText();
      return nullptr;
    }
    if (url.getScheme() != "https" || url.getHost().empty() || !url.getUserInfo().empty() ||
        !url.getFragment().empty()) {
      error = "webhook channel: setting 'url' is '" + s["url"] +
              "', expected https://host[:port]/path (only https; no user info or fragment)";
      return nullptr;
    }
    long timeout_ms = 0;
    if (!parse_number("webhook", "timeout_ms", s["timeout_ms"], 100, 300000, timeout_ms, error)) {
      return nullptr;
    }
    Poco::Net::Context::Params params;
    params.certificateFile = s["certificate"];
    params.privateKeyFile = s["private_key"];
    params.caLocation = s.count("ca") != 0 ? s["ca"] : "";
    params.loadDefaultCAs = params.caLocation.empty();
    params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
    params.verificationDepth = 4;
    params.cipherList = kCiphers;
    Poco::Net::Context::Ptr context;
    try {
      context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
      context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
    } catch (const Poco::Exception& e) {
      error = "webhook channel: cannot set up TLS with certificate " + params.certificateFile +
              ", private_key " + params.privateKeyFile +
              (params.caLocation.empty() ? std::string() : ", ca " + params.caLocation) + ": " +
              e.displayText();
      return nullptr;
    }
    return new WebhookChannel(url, context, timeout_ms);
  });
}

}  // namespace
}  // namespace tsunagu::channels::webhook

TSUNAGU_CHANNEL_PLUGIN("webhook", "1.0.0", tsunagu::channels::webhook::create)
