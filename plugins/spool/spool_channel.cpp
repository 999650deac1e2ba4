// The spool channel plugin: writes each delivery as one XML notice file into a directory that a
// legacy system imports from — the way the municipal systems already exchange files.
//
// Settings (all checked in the factory; an unknown one is an error):
//   directory  required  where notice files go; must exist and be writable
//   encoding   cp932     cp932 (Windows-31J, what the city's legacy systems read) or utf-8
//   file_mode  0640      permissions of each file, octal
//
// One file per delivery, named <delivery id>.xml: a retry writes the same name again, so an
// importer never sees the same delivery twice under two names (idempotent). A file appears
// whole or not at all: it is written under a dot-name in the same directory (importers skip
// dot-files, like the hub's own spool), fsync'd, renamed over the final name, and the directory
// is fsync'd so the rename survives a power cut.
//
// The file carries the policy-minimised fields (personal data); it is meant for a directory only
// the importing system can read (file_mode, directory permissions). The delivery's attempt number
// is not written, so every retry writes the same bytes.
//
// A value that cannot be written — a character CP932 has no code for (emoji, 𠮷), invalid UTF-8,
// a control character XML does not allow — is a `dead` result naming the field, never a silent
// replacement: a changed name in another office's system is worse than a notice that an officer
// has to look at in the inbox. Disk errors (full, read-only, permissions) are `retry`.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <codec/cp932.hpp>
#include <tsunagu/channel.hpp>

#include "common/channel_settings.hpp"
#include "common/text_checks.hpp"

namespace tsunagu::channels::spool {
namespace {

constexpr std::array<SettingSpec, 3> kSettings = {{
    {"directory", true, nullptr, "the directory notice files are written to"},
    {"encoding", false, "cp932", "cp932 or utf-8"},
    {"file_mode", false, "0640", "the permissions of each notice file, in octal"},
}};

ChannelResult make(ChannelResult::Outcome outcome, std::string detail) {
  ChannelResult r;
  r.outcome = outcome;
  r.detail = std::move(detail);
  return r;
}

void append_escaped(std::string& out, std::string_view text, bool attribute) {
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += attribute ? "&quot;" : "\"";
        break;
      // Keep line ends and tabs as they are in text, but not folded away in attributes.
      case '\n':
        out += attribute ? "&#10;" : "\n";
        break;
      case '\r':
        out += "&#13;";
        break;
      case '\t':
        out += attribute ? "&#9;" : "\t";
        break;
      default:
        out += c;
    }
  }
}

// Builds the document in UTF-8, checking every value on the way. `encoder` is set in cp932 mode:
// each value is also encoded on its own, so that a character without a CP932 code is reported
// with the field it is in.
class NoticeWriter {
 public:
  explicit NoticeWriter(codec::Cp932Encoder* encoder) : encoder_(encoder) {}

  // `what` names the value in an error: an element name, or "field 'X'".
  bool check(const std::string& what, std::string_view value) {
    TextProblem problem;
    if (!check_text(value, true, problem)) {
      error_ =
          what + " contains " + problem.what + " at byte offset " + std::to_string(problem.offset);
      return false;
    }
    if (encoder_ != nullptr && !codec::is_ascii(value)) {
      std::string bytes;
      std::string codec_error;
      if (!encoder_->encode(value, bytes, codec_error)) {
        // The codec's message quotes the character; say only where it is.
        const auto at = codec_error.find("at byte offset ");
        const auto end = codec_error.find(' ', at + 15);
        error_ = what + " has a character with no CP932 encoding" +
                 (at == std::string::npos
                      ? std::string()
                      : " (" +
                            codec_error.substr(
                                at, end == std::string::npos ? std::string::npos : end - at) +
                            ")");
        return false;
      }
    }
    return true;
  }

  bool element(const char* name, const std::string& value) {
    if (!check(name, value)) return false;
    xml_ += "  <";
    xml_ += name;
    xml_ += '>';
    append_escaped(xml_, value, false);
    xml_ += "</";
    xml_ += name;
    xml_ += ">\n";
    return true;
  }

  std::string& xml() { return xml_; }
  const std::string& error() const { return error_; }

 private:
  codec::Cp932Encoder* encoder_;
  std::string xml_;
  std::string error_;
};

class SpoolChannel final : public Channel {
 public:
  SpoolChannel(std::string directory, bool cp932, mode_t mode)
      : directory_(std::move(directory)), cp932_(cp932), mode_(mode) {}

  const char* name() const noexcept override { return "spool"; }

  ChannelResult deliver(const ChannelDelivery& delivery) noexcept override {
    try {
      return write(delivery);
    } catch (const std::exception& e) {
      try {
        return make(ChannelResult::Outcome::retry, std::string("spool channel: ") + e.what());
      } catch (...) {
        return {};
      }
    }
  }

 private:
  bool build(const ChannelDelivery& d, codec::Cp932Encoder* encoder, std::string& xml,
             std::string& error) const {
    NoticeWriter w(encoder);
    std::string& out = w.xml();
    out = std::string("<?xml version=\"1.0\" encoding=\"") + (cp932_ ? "Windows-31J" : "UTF-8") +
          "\"?>\n";
    const std::pair<const char*, const std::string*> attributes[] = {
        {"delivery-id", &d.delivery_id}, {"notice-id", &d.notice_id}};
    out += "<notice xmlns=\"urn:tsunagu:notice:1\"";
    for (const auto& [attribute, value] : attributes) {
      if (!w.check(attribute, *value)) break;
      out += std::string(" ") + attribute + "=\"";
      append_escaped(out, *value, true);
      out += '"';
    }
    if (!w.error().empty()) {
      error = w.error();
      return false;
    }
    out += ">\n";
    const bool ok = w.element("kind", d.kind) && w.element("kind-label", d.kind_label) &&
                    w.element("title", d.title) && w.element("reason", d.reason) &&
                    w.element("legal-basis", d.legal_basis) && w.element("policy", d.policy) &&
                    w.element("due-at", d.due_at) && w.element("created-at", d.created_at) &&
                    w.element("recipient-id", d.recipient_id) &&
                    w.element("recipient-role", d.recipient_role) &&
                    w.element("ward-code", d.ward_code);
    if (!ok) {
      error = w.error();
      return false;
    }
    out += "  <fields>\n";
    for (const auto& [key, value] : d.fields) {
      // The field's name is vocabulary, not personal data; naming it is what makes the error
      // useful.
      if (!w.check("the name of a field", key) || !w.check("field '" + key + "'", value)) {
        error = w.error();
        return false;
      }
      out += "    <field name=\"";
      append_escaped(out, key, true);
      out += "\">";
      append_escaped(out, value, false);
      out += "</field>\n";
    }
    out += "  </fields>\n</notice>\n";
    if (encoder == nullptr) {
      xml = std::move(out);
      return true;
    }
    std::string codec_error;
    if (!encoder->encode(out, xml, codec_error)) {  // every value passed above; cannot happen
      error = "the notice cannot be encoded in CP932";
      return false;
    }
    return true;
  }

  ChannelResult write(const ChannelDelivery& d) const {
    if (!safe_delivery_id(d.delivery_id)) {
      return make(ChannelResult::Outcome::dead,
                  "spool channel: delivery id '" + d.delivery_id +
                      "' cannot name a file (A-Z a-z 0-9 . _ - only, not starting with '.')");
    }
    std::unique_ptr<codec::Cp932Encoder> encoder;
    if (cp932_) encoder = std::make_unique<codec::Cp932Encoder>();  // one per call: not shareable
    std::string bytes;
    std::string error;
    if (!build(d, encoder.get(), bytes, error)) {
      return make(ChannelResult::Outcome::dead,
                  "spool channel: notice " + d.notice_id + " cannot be written as " +
                      (cp932_ ? "CP932" : "UTF-8") + " XML: " + error);
    }
    const std::string name = d.delivery_id + ".xml";
    const std::string final_path = directory_ + "/" + name;
    // The temporary name is the delivery's own: an attempt cut short (a crash between write and
    // rename) leaves a file that its retry truncates and renames, never one that stays behind.
    // Two attempts of one delivery never overlap (the outbox's lease).
    const std::string temp_path = directory_ + "/." + name + ".tmp";
    const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return io_failure("create a temporary file in", directory_, errno);
    auto fail = [&](const char* step, int error_number) {
      ::close(fd);
      ::unlink(temp_path.c_str());
      return io_failure(step, temp_path, error_number);
    };
    std::size_t written = 0;
    while (written < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail("write", errno);
      }
      written += static_cast<std::size_t>(n);
    }
    if (::fchmod(fd, mode_) != 0) return fail("set the permissions of", errno);
    if (::fsync(fd) != 0) return fail("fsync", errno);
    if (::close(fd) != 0) {
      const int e = errno;
      ::unlink(temp_path.c_str());
      return io_failure("close", temp_path, e);
    }
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
      const int e = errno;
      ::unlink(temp_path.c_str());
      return io_failure("rename into place", final_path, e);
    }
    const int dir = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0) return io_failure("open (to fsync)", directory_, errno);
    const int synced = ::fsync(dir);
    const int e = errno;
    ::close(dir);
    // The file is in place but the rename may not be durable yet: writing it again is harmless.
    if (synced != 0) return io_failure("fsync", directory_, e);
    return make(ChannelResult::Outcome::delivered, "spool channel: wrote " + name + " (" +
                                                       std::to_string(bytes.size()) +
                                                       " bytes) in " + directory_);
  }

  static ChannelResult io_failure(const char* step, const std::string& path, int error_number) {
    return make(ChannelResult::Outcome::retry, std::string("spool channel: cannot ") + step + " " +
                                                   path + ": " + std::strerror(error_number));
  }

  std::string directory_;
  bool cp932_;
  mode_t mode_;
};

Channel* create(const PluginSettings& given, std::string& error) {
  return tsunagu::create_guarded<Channel>("spool channel", error, [&]() -> Channel* {
    PluginSettings s;
    if (!resolve_settings("spool", kSettings, given, s, error)) return nullptr;
    const std::string& directory = s["directory"];
    struct stat st {};
    if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      error = "spool channel: setting 'directory': " + directory + " is not a directory";
      return nullptr;
    }
    if (::access(directory.c_str(), W_OK | X_OK) != 0) {
      error = "spool channel: setting 'directory': " + directory +
              " is not writable: " + std::strerror(errno);
      return nullptr;
    }
    const std::string& encoding = s["encoding"];
    if (encoding != "cp932" && encoding != "utf-8") {
      error = "spool channel: setting 'encoding' is '" + encoding + "', expected cp932 or utf-8";
      return nullptr;
    }
    const std::string& mode_text = s["file_mode"];
    char* end = nullptr;
    const unsigned long mode = std::strtoul(mode_text.c_str(), &end, 8);
    if (mode_text.empty() || *end != '\0' || mode > 0777 || (mode & 0600) != 0600) {
      error = "spool channel: setting 'file_mode' is '" + mode_text +
              "', expected octal permissions such as 0640 that let the owner read and write";
      return nullptr;
    }
    if (encoding == "cp932") codec::Cp932Encoder probe;  // throws if iconv has no CP932
    return new SpoolChannel(directory, encoding == "cp932", static_cast<mode_t>(mode));
  });
}

}  // namespace
}  // namespace tsunagu::channels::spool

TSUNAGU_CHANNEL_PLUGIN("spool", "1.0.0", tsunagu::channels::spool::create)
