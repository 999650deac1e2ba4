#include "http/client_identity.hpp"

#include <cctype>

namespace tsunagu::http {

int http_status(PushDecision decision) {
  switch (decision) {
    case PushDecision::allowed:
      return 200;
    case PushDecision::no_certificate:
      return 401;
    case PushDecision::unknown_certificate:
    case PushDecision::other_system:
      return 403;
  }
  return 403;
}

const char* code(PushDecision decision) {
  switch (decision) {
    case PushDecision::allowed:
      return "allowed";
    case PushDecision::no_certificate:
      return "no_certificate";
    case PushDecision::unknown_certificate:
      return "unknown_certificate";
    case PushDecision::other_system:
      return "other_system";
  }
  return "refused";
}

std::string describe(PushDecision decision, const std::string& requested_system,
                     const std::optional<std::string>& client_system) {
  switch (decision) {
    case PushDecision::allowed:
      return "allowed";
    case PushDecision::no_certificate:
      return "pushing to " + requested_system +
             " needs a client certificate issued to that system; none was presented";
    case PushDecision::unknown_certificate:
      return "the client certificate is not configured for any system (<http><clients>)";
    case PushDecision::other_system:
      return "the client certificate is that of " + client_system.value_or("another system") +
             ", not of " + requested_system;
  }
  return "refused";
}

ClientDirectory::ClientDirectory(const std::vector<config::HttpClientConfig>& clients)
    : clients_(clients) {
  for (const auto& c : clients_) {
    for (const auto& sha : c.certificate_sha256) by_sha256_[sha] = c.system;
    for (const auto& cn : c.certificate_cn) by_common_name_[cn] = c.system;
  }
}

std::optional<std::string> ClientDirectory::system_of(const ClientCertificate& certificate) const {
  if (auto it = by_sha256_.find(certificate.sha256); it != by_sha256_.end()) return it->second;
  if (certificate.common_name.empty()) return std::nullopt;
  if (auto it = by_common_name_.find(certificate.common_name); it != by_common_name_.end()) {
    return it->second;
  }
  return std::nullopt;
}

const config::HttpClientConfig* ClientDirectory::client(const std::string& system) const {
  for (const auto& c : clients_) {
    if (c.system == system) return &c;
  }
  return nullptr;
}

PushDecision ClientDirectory::authorize_push(const std::optional<ClientCertificate>& certificate,
                                             const std::string& system) const {
  if (!certificate) return PushDecision::no_certificate;
  const auto owner = system_of(*certificate);
  if (!owner) return PushDecision::unknown_certificate;
  if (*owner != system) return PushDecision::other_system;
  return PushDecision::allowed;
}

std::string media_type(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  const auto first = type.find_first_not_of(" \t");
  if (first == std::string::npos) return "";
  type = type.substr(first, type.find_last_not_of(" \t") - first + 1);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return type;
}

}  // namespace tsunagu::http
