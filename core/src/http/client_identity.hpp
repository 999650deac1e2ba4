// Which system a client certificate is.
//
// The TLS layer has already verified the certificate against the configured CA before a request
// reaches an endpoint (a certificate that fails verification ends the handshake). What is left is
// the mapping from a verified certificate to a system, from <http><clients> in the config: the
// SHA-256 fingerprint of the certificate first — it names exactly one certificate — and then the
// subject's common name, which every certificate the CA issues under that name shares.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/hub_config.hpp"

namespace tsunagu::http {

// A verified client certificate, as endpoints see it.
struct ClientCertificate {
  std::string sha256;       // of the DER encoding, lower-case hex
  std::string common_name;  // may be empty
  std::string subject;      // one-line distinguished name, for logs
};

// Who may push for `system`, and why not.
enum class PushDecision {
  allowed,
  no_certificate,       // 401: the client presented no certificate
  unknown_certificate,  // 403: verified, but no system is configured for it
  other_system,         // 403: the certificate is another system's
};

int http_status(PushDecision decision);
// A sentence for the refusal reply and the audit entry: names the certificate, never a payload.
std::string describe(PushDecision decision, const std::string& requested_system,
                     const std::optional<std::string>& client_system);
// Stable code for programs and the audit log: "no_certificate", "unknown_certificate", …
const char* code(PushDecision decision);

class ClientDirectory {
 public:
  explicit ClientDirectory(const std::vector<config::HttpClientConfig>& clients);

  // The system the certificate is: by fingerprint, else by common name; nullopt if neither.
  std::optional<std::string> system_of(const ClientCertificate& certificate) const;
  // The configured client entry of a system, or null.
  const config::HttpClientConfig* client(const std::string& system) const;

  PushDecision authorize_push(const std::optional<ClientCertificate>& certificate,
                              const std::string& system) const;

 private:
  std::vector<config::HttpClientConfig> clients_;
  std::map<std::string, std::string> by_sha256_;
  std::map<std::string, std::string> by_common_name_;
};

// The media type of a Content-Type header value, lower-case, without parameters:
// "Text/CSV; charset=Shift_JIS" → "text/csv".
std::string media_type(const std::string& content_type);

}  // namespace tsunagu::http
