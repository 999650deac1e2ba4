// The smtp channel plugin: tells an officer by mail that new notices are waiting in the inbox.
//
// The mail carries NO personal data: no field, no name, no reason text, no title — only how many
// notices are unread, the earliest deadline among them, the kind label of this one and a link to
// the inbox, where the officer signs in to read them. Mail leaves the city's control the moment
// it is relayed; the inbox does not.
//
// Settings (all checked in the factory; an unknown one is an error):
//   host           required  SMTP relay (submission) host
//   port           587
//   starttls       required  required: STARTTLS before anything else, the server's certificate
//                            verified against `ca` and `host`; off: plain text (tests, or a relay
//                            on the same machine), only without `user`
//   ca             (system)  PEM CA file that verifies the relay's certificate
//   user                     AUTH user name; without it no AUTH is attempted
//   password                 AUTH password, or:
//   password_file            a file whose first line is the password (not readable by group or
//                            others)
//   auth           plain     plain or login (AUTH PLAIN / AUTH LOGIN), with `user`
//   from           required  envelope and header sender address, e.g. tsunagu@city.example
//   from_name      つなぐ     display name of the sender
//   inbox_url      required  the https:// address of the inbox, written into every mail
//   helo           (host name of this machine)  name sent with EHLO
//   timeout_ms     30000     connect, send and receive timeout each, in milliseconds
//
// Outcomes: a 4xx reply at any stage, a refused or dropped connection, a timeout, a TLS failure
// or a relay that does not offer STARTTLS are `retry`; a 5xx reply (550 unknown mailbox, 535 bad
// credentials, 554 refused) is `dead`. The detail names the relay, the stage and the reply code
// (with its enhanced status code), never the reply text, which may quote the address.
//
// Retries of the same delivery get the same Message-ID (from the delivery id), so a mailbox that
// already has it can drop the copy.
#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <exception>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <sys/stat.h>

#include <Poco/Environment.h>
#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/DialogSocket.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLException.h>
#include <Poco/Net/SecureStreamSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Timespan.h>
#include <Poco/URI.h>

#include <tsunagu/channel.hpp>

#include "common/channel_settings.hpp"
#include "common/text_checks.hpp"

namespace tsunagu::channels::smtp {
namespace {

constexpr std::array<SettingSpec, 13> kSettings = {{
    {"host", true, nullptr, "the SMTP relay's host name"},
    {"port", false, "587", "the SMTP relay's port"},
    {"starttls", false, "required", "required or off"},
    {"ca", false, nullptr, "the PEM CA file that verifies the relay (default: system CAs)"},
    {"user", false, nullptr, "the AUTH user name"},
    {"password", false, nullptr, "the AUTH password"},
    {"password_file", false, nullptr, "a file holding the AUTH password on its first line"},
    {"auth", false, "plain", "plain or login"},
    {"from", true, nullptr, "the sender address"},
    {"from_name", false, "つなぐ", "the sender's display name"},
    {"inbox_url", true, nullptr, "the https:// address of the inbox"},
    {"helo", false, nullptr, "the name sent with EHLO (default: this machine's host name)"},
    {"timeout_ms", false, "30000", "the connect, send and receive timeout in milliseconds"},
}};

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

std::string base64(const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) |
                   (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// RFC 2047 encoded words (UTF-8, base64) for a header value, split on character boundaries so that
// no word exceeds 75 characters, folded onto continuation lines.
std::string encode_header_words(const std::string& text) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = std::min(text.size(), start + 45);  // 45 bytes → 60 base64 characters
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

// "2019-06-06T12:30:00+09:00" → "2019年6月6日(木) 12:30"; anything else is returned unchanged.
std::string japanese_time(const std::string& iso) {
  int y = 0;
  unsigned mo = 0;
  unsigned d = 0;
  unsigned h = 0;
  unsigned mi = 0;
  if (iso.size() < 16 ||
      std::sscanf(iso.c_str(), "%4d-%2u-%2uT%2u:%2u", &y, &mo, &d, &h, &mi) != 5) {
    return iso;
  }
  const std::chrono::year_month_day date{std::chrono::year(y), std::chrono::month(mo),
                                         std::chrono::day(d)};
  if (!date.ok() || h > 23 || mi > 59) return iso;
  static const char* const kWeekdays[] = {"日", "月", "火", "水", "木", "金", "土"};
  const std::chrono::weekday weekday{std::chrono::sys_days(date)};
  char clock[8];
  std::snprintf(clock, sizeof clock, "%02u:%02u", h, mi);
  return std::to_string(y) + "年" + std::to_string(mo) + "月" + std::to_string(d) + "日(" +
         kWeekdays[weekday.c_encoding()] + ") " + clock;
}

// An address we can put in an envelope and a header as it is: printable ASCII, one '@', no
// spaces or brackets.
bool plain_address(const std::string& address) {
  if (address.empty() || address.size() > 254) return false;
  int at = 0;
  for (const char c : address) {
    if (c <= ' ' || c > '~' || c == '<' || c == '>' || c == '(' || c == ')' || c == ',' ||
        c == ';' || c == '"' || c == '\\') {
      return false;
    }
    at += c == '@' ? 1 : 0;
  }
  return at == 1 && address.front() != '@' && address.back() != '@';
}

// "5.1.1" from "550 5.1.1 No such mailbox", if the reply has an enhanced status code.
std::string enhanced_code(const std::string& reply) {
  if (reply.size() < 9) return "";
  const std::string candidate = reply.substr(4, reply.find_first_of(" \r\n", 4) - 4);
  if (candidate.size() < 5 || candidate.size() > 9) return "";
  int dots = 0;
  for (const char c : candidate) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return "";
    }
  }
  return dots == 2 ? candidate : "";
}

struct Options {
  std::string host;
  Poco::UInt16 port = 587;
  bool starttls = true;
  std::string user;
  std::string password;
  bool auth_login = false;  // AUTH LOGIN rather than AUTH PLAIN
  std::string from;
  std::string from_name;
  std::string inbox_url;
  std::string helo;
  long timeout_ms = 30000;
  Poco::Net::Context::Ptr context;  // for STARTTLS
};

// Thrown inside one attempt when the relay answers something other than what the stage needs.
struct Refusal {
  std::string stage;
  int status = 0;
  std::string reply;
};

class SmtpChannel final : public Channel {
 public:
  explicit SmtpChannel(Options options) : o_(std::move(options)) {
    peer_ = o_.host + ":" + std::to_string(o_.port);
    domain_ = o_.from.substr(o_.from.find('@') + 1);
  }

  const char* name() const noexcept override { return "smtp"; }

  ChannelResult deliver(const ChannelDelivery& delivery) noexcept override {
    try {
      return send(delivery);
    } catch (const std::exception& e) {
      try {
        return make(ChannelResult::Outcome::retry, "smtp " + peer_ + ": " + e.what());
      } catch (...) {
        return {};
      }
    }
  }

 private:
  // The whole message, CRLF line ends, ready for DATA (before dot-stuffing).
  std::string message(const ChannelDelivery& d) const {
    const int unread = d.unread_for_recipient > 0 ? d.unread_for_recipient : 1;
    const std::string subject = "【つなぐ】新しい通知が" + std::to_string(unread) + "件あります";
    std::string body = "新しい通知が" + std::to_string(unread) + "件あります。";
    if (!d.earliest_due_for_recipient.empty()) {
      body += "最も早い期限は" + japanese_time(d.earliest_due_for_recipient) + "です。";
    }
    body += "\r\n\r\n";
    if (!d.kind_label.empty()) {
      body += "今回の通知: " + d.kind_label;
      if (!d.due_at.empty()) body += "（期限 " + japanese_time(d.due_at) + "）";
      body += "\r\n\r\n";
    }
    body += "受信箱で内容を確認し、対応してください:\r\n" + o_.inbox_url +
            "\r\n\r\n"
            "このメールには個人情報を含めていません。通知の内容は受信箱でだけ確認できます。\r\n"
            "このメールには返信しないでください。\r\n"
            "-- \r\n"
            "つなぐ 子ども支援連携ハブ\r\n";

    char date[64];
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S +0000", &utc);

    std::string m;
    m += "Date: " + std::string(date) + "\r\n";
    m += "From: " + encode_header_words(o_.from_name) + " <" + o_.from + ">\r\n";
    m += "To: <" + d.recipient_email + ">\r\n";
    m += "Subject: " + encode_header_words(subject) + "\r\n";
    m += "Message-ID: <" + d.delivery_id + ".tsunagu@" + domain_ + ">\r\n";
    m += "Auto-Submitted: auto-generated\r\n";
    m += "MIME-Version: 1.0\r\n";
    m += "Content-Type: text/plain; charset=UTF-8\r\n";
    m += "Content-Transfer-Encoding: base64\r\n";
    m += "\r\n";
    const std::string encoded = base64(body);
    for (std::size_t i = 0; i < encoded.size(); i += 76) m += encoded.substr(i, 76) + "\r\n";
    return m;
  }

  ChannelResult send(const ChannelDelivery& d) const {
    if (!safe_delivery_id(d.delivery_id)) {
      return make(ChannelResult::Outcome::dead,
                  "smtp: delivery id '" + d.delivery_id + "' cannot make a Message-ID");
    }
    if (!plain_address(d.recipient_email)) {
      // Not quoted: it is the officer's address.
      return make(ChannelResult::Outcome::dead,
                  "smtp: recipient " + d.recipient_id + " has no usable e-mail address");
    }
    TextProblem problem;
    if (!check_text(d.kind_label, false, problem)) {
      return make(ChannelResult::Outcome::dead, "smtp: kind_label contains " + problem.what +
                                                    " at byte offset " +
                                                    std::to_string(problem.offset));
    }
    const std::string text = message(d);
    const char* stage = "connect";
    try {
      const Poco::Timespan timeout(
          std::chrono::microseconds(std::chrono::milliseconds(o_.timeout_ms)).count());
      Poco::Net::StreamSocket plain;
      plain.connect(Poco::Net::SocketAddress(o_.host, o_.port), timeout);
      plain.setSendTimeout(timeout);
      plain.setReceiveTimeout(timeout);
      Poco::Net::DialogSocket socket(plain);
      std::string reply;

      stage = "greeting";
      expect(socket, "", 220, stage);
      stage = "EHLO";
      expect(socket, "EHLO " + o_.helo, 250, stage, &reply);
      if (o_.starttls) {
        stage = "STARTTLS";
        if (reply.find("STARTTLS") == std::string::npos) {
          return make(ChannelResult::Outcome::retry,
                      "smtp " + peer_ +
                          ": the relay does not offer STARTTLS, which is required "
                          "(setting starttls)");
        }
        expect(socket, "STARTTLS", 220, stage);
        stage = "TLS handshake";
        Poco::Net::SecureStreamSocket secure =
            Poco::Net::SecureStreamSocket::attach(socket, o_.host, o_.context);
        secure.setSendTimeout(timeout);
        secure.setReceiveTimeout(timeout);
        socket = secure;
        stage = "EHLO after STARTTLS";  // RFC 3207: forget everything said before TLS
        expect(socket, "EHLO " + o_.helo, 250, stage, &reply);
      }
      if (!o_.user.empty()) {
        stage = "AUTH";
        if (o_.auth_login) {
          expect(socket, "AUTH LOGIN", 334, stage);
          expect(socket, base64(o_.user), 334, stage);
          expect(socket, base64(o_.password), 235, stage);
        } else {
          expect(socket,
                 "AUTH PLAIN " + base64(std::string(1, '\0') + o_.user + '\0' + o_.password), 235,
                 stage);
        }
      }
      stage = "MAIL FROM";
      expect(socket, "MAIL FROM:<" + o_.from + ">", 250, stage);
      stage = "RCPT TO";
      expect(socket, "RCPT TO:<" + d.recipient_email + ">", 250, stage);
      stage = "DATA";
      expect(socket, "DATA", 354, stage);
      stage = "message";
      std::string stuffed;
      stuffed.reserve(text.size() + 8);
      bool line_start = true;
      for (const char c : text) {
        if (line_start && c == '.') stuffed += '.';
        stuffed += c;
        line_start = c == '\n';
      }
      stuffed += ".\r\n";
      socket.sendString(stuffed);
      expect(socket, "", 250, "end of DATA", &reply);
      try {
        socket.sendMessage("QUIT");  // the message is accepted; how QUIT goes does not matter
        socket.close();
      } catch (const Poco::Exception&) {
      }
      const std::string code = enhanced_code(reply);
      return make(ChannelResult::Outcome::delivered,
                  "smtp " + peer_ + " accepted the message (250" +
                      (code.empty() ? std::string() : " " + code) + ")");
    } catch (const Refusal& r) {
      return refused(r);
    } catch (const Poco::TimeoutException&) {
      return make(ChannelResult::Outcome::retry, "smtp " + peer_ + ": timed out after " +
                                                     std::to_string(o_.timeout_ms) + " ms (" +
                                                     stage + ")");
    } catch (const Poco::Net::SSLException& e) {
      return make(ChannelResult::Outcome::retry,
                  "smtp " + peer_ + ": TLS failed (" + stage + "): " + e.displayText());
    } catch (const Poco::Exception& e) {
      return make(ChannelResult::Outcome::retry,
                  "smtp " + peer_ + ": " + stage + " failed: " + e.displayText());
    }
  }

  // Sends `command` (none for the greeting and the end of DATA) and throws Refusal unless the
  // reply has status `wanted`. Keeps the reply in `reply` when given.
  static void expect(Poco::Net::DialogSocket& socket, const std::string& command, int wanted,
                     const std::string& stage, std::string* reply = nullptr) {
    if (!command.empty()) socket.sendMessage(command);
    std::string text;
    const int status = socket.receiveStatusMessage(text);
    if (status != wanted) throw Refusal{stage, status, text};
    if (reply != nullptr) *reply = std::move(text);
  }

  ChannelResult refused(const Refusal& r) const {
    if (r.status == 0) {
      return make(ChannelResult::Outcome::retry,
                  "smtp " + peer_ + ": the relay closed the connection (" + r.stage + ")");
    }
    const std::string code = enhanced_code(r.reply);
    const std::string what = "smtp " + peer_ + ": " + r.stage + " answered " +
                             std::to_string(r.status) + (code.empty() ? "" : " " + code);
    if (r.status >= 500 && r.status < 600) {
      return make(ChannelResult::Outcome::dead, what + ": refused for good");
    }
    if (r.status >= 400 && r.status < 500) {
      return make(ChannelResult::Outcome::retry, what + ": try again later");
    }
    return make(ChannelResult::Outcome::retry, what + ": not what SMTP answers here");
  }

  Options o_;
  std::string peer_;
  std::string domain_;
};

bool read_password_file(const std::string& path, std::string& password, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = "smtp channel: setting 'password_file': " + path + " cannot be read";
    return false;
  }
  if ((st.st_mode & 077) != 0) {
    error = "smtp channel: setting 'password_file': " + path +
            " is readable by group or others; chmod 600 it";
    return false;
  }
  std::ifstream in(path);
  if (!in || !std::getline(in, password) || password.empty()) {
    error = "smtp channel: setting 'password_file': " + path + " has no password on its first line";
    return false;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return true;
}

Channel* create(const PluginSettings& given, std::string& error) {
  return tsunagu::create_guarded<Channel>("smtp channel", error, [&]() -> Channel* {
    PluginSettings s;
    if (!resolve_settings("smtp", kSettings, given, s, error)) return nullptr;
    Options o;
    o.host = s["host"];
    long port = 0;
    if (!parse_number("smtp", "port", s["port"], 1, 65535, port, error)) return nullptr;
    o.port = static_cast<Poco::UInt16>(port);
    if (!parse_number("smtp", "timeout_ms", s["timeout_ms"], 100, 600000, o.timeout_ms, error)) {
      return nullptr;
    }
    if (s["starttls"] != "required" && s["starttls"] != "off") {
      error =
          "smtp channel: setting 'starttls' is '" + s["starttls"] + "', expected required or off";
      return nullptr;
    }
    o.starttls = s["starttls"] == "required";
    o.from = s["from"];
    if (!plain_address(o.from)) {
      error = "smtp channel: setting 'from' is '" + o.from +
              "', expected an address like "
              "tsunagu@city.example";
      return nullptr;
    }
    o.from_name = s["from_name"];
    TextProblem problem;
    if (!check_text(o.from_name, true, problem) ||
        o.from_name.find_first_of("\r\n") != std::string::npos) {
      error = "smtp channel: setting 'from_name' is not one line of UTF-8 text";
      return nullptr;
    }
    o.inbox_url = s["inbox_url"];
    try {
      const Poco::URI uri(o.inbox_url);
      if ((uri.getScheme() != "https" && uri.getScheme() != "http") || uri.getHost().empty()) {
        throw Poco::SyntaxException("not an http(s) URL");
      }
    } catch (const Poco::Exception&) {
      error = "smtp channel: setting 'inbox_url' is '" + o.inbox_url +
              "', expected the inbox's address, e.g. https://tsunagu.city.example/inbox";
      return nullptr;
    }
    if (o.inbox_url.find_first_of(" \r\n") != std::string::npos) {
      error = "smtp channel: setting 'inbox_url' must not contain spaces or line breaks";
      return nullptr;
    }
    o.user = s.count("user") != 0 ? s["user"] : "";
    const bool has_password = s.count("password") != 0;
    const bool has_password_file = s.count("password_file") != 0;
    if (has_password && has_password_file) {
      error = "smtp channel: give either setting 'password' or 'password_file', not both";
      return nullptr;
    }
    if (o.user.empty() && (has_password || has_password_file)) {
      error = "smtp channel: a password is set but setting 'user' is not";
      return nullptr;
    }
    if (!o.user.empty()) {
      if (!has_password && !has_password_file) {
        error = "smtp channel: setting 'user' needs 'password' or 'password_file'";
        return nullptr;
      }
      if (!o.starttls) {
        error =
            "smtp channel: AUTH with starttls off would send the password in clear; "
            "set starttls to required";
        return nullptr;
      }
      if (has_password) {
        o.password = s["password"];
      } else if (!read_password_file(s["password_file"], o.password, error)) {
        return nullptr;
      }
      if (s["auth"] != "plain" && s["auth"] != "login") {
        error = "smtp channel: setting 'auth' is '" + s["auth"] + "', expected plain or login";
        return nullptr;
      }
      o.auth_login = s["auth"] == "login";
    }
    o.helo = s.count("helo") != 0 ? s["helo"] : Poco::Environment::nodeName();
    if (o.helo.empty() || o.helo.find_first_of(" \r\n") != std::string::npos) o.helo = "localhost";
    if (o.starttls) {
      Poco::Net::Context::Params params;
      params.caLocation = s.count("ca") != 0 ? s["ca"] : "";
      params.loadDefaultCAs = params.caLocation.empty();
      params.verificationMode = Poco::Net::Context::VERIFY_STRICT;
      params.verificationDepth = 4;
      params.cipherList = kCiphers;
      try {
        o.context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, params);
        o.context->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      } catch (const Poco::Exception& e) {
        error = "smtp channel: cannot set up TLS" +
                (params.caLocation.empty() ? std::string() : " with ca " + params.caLocation) +
                ": " + e.displayText();
        return nullptr;
      }
    } else if (s.count("ca") != 0) {
      error = "smtp channel: setting 'ca' has no use with starttls off";
      return nullptr;
    }
    return new SmtpChannel(std::move(o));
  });
}

}  // namespace
}  // namespace tsunagu::channels::smtp

TSUNAGU_CHANNEL_PLUGIN("smtp", "1.0.0", tsunagu::channels::smtp::create)
