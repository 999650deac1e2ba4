#include "child_guidance/cg_event_parser.hpp"

#include <bitset>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/JSON/Handler.h>
#include <Poco/JSON/Parser.h>

namespace tsunagu::child_guidance {
namespace {

// Field attribution of invalid UTF-8 (below) stops here: a record with more invalid sequences is
// not text at all (a CP932 file dropped by mistake, binary data) and is rejected as a whole.
constexpr std::size_t kMaxInvalidSequences = 64;
// More problems than this in one record are counted, not listed.
constexpr std::size_t kMaxListedProblems = 8;
// Values quoted in error messages are cut to this many bytes.
constexpr std::size_t kQuotedValueBytes = 40;

// What a known member must hold.
enum class Expect { text, integer, child };

struct KnownMember {
  std::string_view key;
  Expect expect;
  std::size_t slot;  // index into kNativeFields; kChildSlot for the child object
};

constexpr std::size_t kChildSlot = kNativeFields.size();

constexpr KnownMember kEventMembers[] = {
    {"event_id", Expect::text, 0},       {"revision", Expect::integer, 1},
    {"type", Expect::text, 2},           {"occurred_at", Expect::text, 3},
    {"ward_code", Expect::text, 9},      {"risk_level", Expect::text, 10},
    {"report_source", Expect::text, 11}, {"address", Expect::text, 12},
    {"note", Expect::text, 13},          {"child", Expect::child, kChildSlot},
};
constexpr KnownMember kChildMembers[] = {
    {"resident_id", Expect::text, 4}, {"name", Expect::text, 5}, {"name_kana", Expect::text, 6},
    {"birth_date", Expect::text, 7},  {"sex", Expect::text, 8},
};

std::string_view slot_name(std::size_t slot) {
  return slot == kChildSlot ? std::string_view("child") : kNativeFields[slot];
}

// Cuts `value` to at most kQuotedValueBytes without splitting a UTF-8 character, and quotes it.
std::string quoted(std::string_view value) {
  std::string out = "\"";
  if (value.size() <= kQuotedValueBytes) return out.append(value) + "\"";
  std::size_t cut = kQuotedValueBytes;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return out.append(value.substr(0, cut)) + "…\"";
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (!out.empty()) out += ' ';
    out += "0x";
    out += kDigits[b >> 4];
    out += kDigits[b & 0x0F];
  }
  return out;
}

// An invalid UTF-8 byte sequence of the record: where, and which bytes.
struct InvalidSequence {
  std::size_t offset = 0;
  std::string bytes;

  std::string describe() const {
    return "invalid UTF-8 byte sequence " + hex_bytes(bytes) + " at byte offset " +
           std::to_string(offset) + " of the record";
  }
};

// Poco's parser stops at the first byte that is not UTF-8 without saying which member holds it
// (and mislabels some as an "unterminated string literal"). So an invalid sequence is replaced by a
// marker character the record does not otherwise contain — a noncharacter from U+FDD0–U+FDEF,
// neither as bytes nor as a \u escape — the copy is parsed, and a string holding the marker names
// the member. Empty when every candidate occurs in the record.
std::string choose_marker(std::string_view text) {
  std::bitset<32> used;
  for (std::size_t i = 0; i + 2 < text.size(); ++i) {
    const auto b1 = static_cast<unsigned char>(text[i + 1]);
    const auto b2 = static_cast<unsigned char>(text[i + 2]);
    if (static_cast<unsigned char>(text[i]) == 0xEF && b1 == 0xB7 && b2 >= 0x90 && b2 <= 0xAF) {
      used.set(b2 - 0x90);
    }
  }
  for (std::size_t i = text.find("\\u"); i != std::string_view::npos && i + 6 <= text.size();
       i = text.find("\\u", i + 2)) {
    unsigned code = 0;
    const auto [end, status] = std::from_chars(text.data() + i + 2, text.data() + i + 6, code, 16);
    if (status == std::errc() && end == text.data() + i + 6 && code >= 0xFDD0 && code <= 0xFDEF) {
      used.set(code - 0xFDD0);
    }
  }
  for (unsigned k = 0; k < used.size(); ++k) {
    if (!used.test(k)) return std::string{'\xEF', '\xB7', static_cast<char>(0x90 + k)};
  }
  return {};
}

// Receives Poco's parse events and keeps the known members, checking their JSON types.
class FieldHandler final : public Poco::JSON::Handler {
 public:
  // Starts a record. `marker` stands for each of `invalid`, in order, in the text being parsed.
  void begin(std::string marker, std::vector<InvalidSequence> invalid) {
    levels_.clear();
    fields_.clear();
    problems_.clear();
    seen_.reset();
    marker_ = std::move(marker);
    invalid_ = std::move(invalid);
    markers_seen_ = 0;
    key_pending_ = false;
    last_member_.clear();
    top_level_seen_ = false;
  }

  // The parser stopped on an error; `message` is Poco's reason. `number` when it was a number
  // that Poco could not convert (a valid JSON number beyond 64 bits).
  void parse_failed(std::string message, bool number) {
    if (markers_seen_ < invalid_.size()) {
      // An invalid byte outside any string: that, not the parser's view of the marker, is the
      // cause worth reporting.
      add_problem("", invalid_[markers_seen_].describe());
      return;
    }
    if (levels_.empty()) {
      // The top-level value was complete: something follows it.
      if (message == "Excess characters found after JSON end.") {
        message = "there is more text after the end of the object (one object per record)";
      }
      add_problem("", "invalid JSON: " + message);
      return;
    }
    std::string field;
    std::string reason =
        number ? "the number is out of range (" + message + ")" : "invalid JSON: " + message;
    if (key_pending_) {
      // The member's value is what could not be read.
      field = member_name(levels_.back());
    } else if (!last_member_.empty()) {
      reason += " (after member '" + last_member_ + "')";
    }
    add_problem(std::move(field), std::move(reason));
  }

  // Moves the result into `record`.
  void finish(NativeRecord& record) {
    record.fields = std::move(fields_);
    fields_.clear();
    record.error.clear();
    record.error_field.clear();
    if (!top_level_seen_ && problems_.empty()) add_problem("", "the record is empty");
    if (problems_.empty()) return;
    record.error_field = problems_.front().first;
    record.error = problems_.front().second;
    for (std::size_t i = 1; i < problems_.size() && i < kMaxListedProblems; ++i) {
      record.error += "; ";
      if (!problems_[i].first.empty()) record.error += problems_[i].first + ": ";
      record.error += problems_[i].second;
    }
    if (problems_.size() > kMaxListedProblems) {
      record.error +=
          "; and " + std::to_string(problems_.size() - kMaxListedProblems) + " more problems";
    }
  }

  // Poco::JSON::Handler
  void reset() override {}
  void startObject() override { open(false); }
  void endObject() override { close(); }
  void startArray() override { open(true); }
  void endArray() override { close(); }

  void key(const std::string& k) override {
    Level& level = levels_.back();
    if (has_marker(k)) {
      add_problem(level.path, "a member name holds an " + next_invalid().describe());
    }
    level.key = k;
    key_pending_ = true;
    last_member_ = member_name(level);
  }

  void null() override {
    if (not_an_object("null")) return;
    const Target target = next_target();
    if (target.known == nullptr) return;
    switch (target.known->expect) {
      case Expect::text:
      case Expect::integer:
        store(target, "");
        break;
      case Expect::child:
        break;  // no child members: each of them is absent
    }
  }

  void value(int v) override { integer(std::to_string(v)); }
  void value(unsigned v) override { integer(std::to_string(v)); }
  void value(Poco::Int64 v) override { integer(std::to_string(v)); }
  void value(Poco::UInt64 v) override { integer(std::to_string(v)); }

  void value(const std::string& v) override {
    if (not_an_object("a string")) return;
    const Target target = next_target();
    if (has_marker(v)) {
      // Every marker in the string stands for one invalid sequence; the first is reported.
      const InvalidSequence& first = next_invalid();
      for (std::size_t at = v.find(marker_, v.find(marker_) + marker_.size());
           at != std::string::npos; at = v.find(marker_, at + marker_.size())) {
        next_invalid();
      }
      add_problem(target.field, first.describe());
      return;
    }
    if (target.known == nullptr) return;
    if (target.known->expect != Expect::text) {
      wrong_type(target, "the string " + quoted(v));
      return;
    }
    if (v.find('\0') != std::string::npos) {
      add_problem(target.field, "the string holds the character U+0000, which no field may hold");
      return;
    }
    store(target, v);
  }

  void value(double) override {
    if (not_an_object("a number")) return;
    wrong_type(next_target(), "a number with a fraction or exponent");
  }
  void value(bool v) override {
    if (not_an_object(v ? "true" : "false")) return;
    wrong_type(next_target(), v ? "true" : "false");
  }

 private:
  enum class Scope { event, child, ignored };

  struct Level {
    Scope scope = Scope::ignored;
    bool array = false;
    std::string path;       // of the object or array itself; "" for the event
    std::string key;        // objects: the last member name read
    std::size_t index = 0;  // arrays: the next element's index
  };

  // Where the next value goes.
  struct Target {
    const KnownMember* known = nullptr;  // null: not a native field, ignored
    std::string field;                   // native name, or the JSON path of an ignored member
  };

  static std::string member_name(const Level& level) {
    return level.path.empty() ? level.key : level.path + "." + level.key;
  }

  // Consumes the pending member name or array index.
  Target next_target() {
    Target target;
    if (levels_.empty()) return target;  // the top-level value
    Level& level = levels_.back();
    if (level.array) {
      target.field = level.path + "[" + std::to_string(level.index++) + "]";
      return target;
    }
    key_pending_ = false;
    target.field = member_name(level);
    if (level.scope == Scope::ignored) return target;
    const auto lookup = [&](const auto& members) -> const KnownMember* {
      for (const KnownMember& m : members) {
        if (m.key == level.key) return &m;
      }
      return nullptr;
    };
    const KnownMember* known =
        level.scope == Scope::event ? lookup(kEventMembers) : lookup(kChildMembers);
    if (known == nullptr) return target;
    if (seen_.test(known->slot)) {
      add_problem(std::string(slot_name(known->slot)),
                  "the member is given more than once in the object");
      return target;  // neither value is used: the record is rejected
    }
    seen_.set(known->slot);
    target.known = known;
    target.field = std::string(slot_name(known->slot));
    return target;
  }

  void open(bool array) {
    if (levels_.empty()) {
      top_level_seen_ = true;
      if (array) add_problem("", "the record is an array, not a JSON object");
      levels_.push_back({array ? Scope::ignored : Scope::event, array, "", "", 0});
      return;
    }
    Target target = next_target();
    Scope scope = Scope::ignored;
    if (target.known != nullptr) {
      if (target.known->expect == Expect::child && !array) {
        scope = Scope::child;
      } else {
        wrong_type(target, array ? "an array" : "an object");
      }
    }
    levels_.push_back({scope, array, std::move(target.field), "", 0});
  }

  void close() {
    if (!levels_.empty()) levels_.pop_back();
  }

  // A scalar as the whole record.
  bool not_an_object(const char* what) {
    if (!levels_.empty()) return false;
    top_level_seen_ = true;
    add_problem("", std::string("the record is ") + what + ", not a JSON object");
    return true;
  }

  void integer(std::string digits) {
    if (not_an_object("a number")) return;
    const Target target = next_target();
    if (target.known == nullptr) return;
    if (target.known->expect == Expect::integer) {
      store(target, std::move(digits));
    } else {
      wrong_type(target, "the number " + digits);
    }
  }

  void wrong_type(const Target& target, const std::string& got) {
    if (target.known == nullptr) return;
    switch (target.known->expect) {
      case Expect::text:
        add_problem(target.field, "expected a string or null, got " + got);
        break;
      case Expect::integer:
        add_problem(target.field, "expected an integer number or null, got " + got);
        break;
      case Expect::child:
        add_problem(target.field, "expected an object or null, got " + got);
        break;
    }
  }

  void store(const Target& target, std::string value) {
    fields_.insert_or_assign(target.field, std::move(value));
  }

  bool has_marker(std::string_view text) const {
    return !marker_.empty() && text.find(marker_) != std::string_view::npos;
  }

  const InvalidSequence& next_invalid() {
    // More markers than sequences cannot happen (the marker is absent from the record); guard
    // anyway so that a surprise costs a vague message, not a crash.
    static const InvalidSequence kUnknown{0, ""};
    return markers_seen_ < invalid_.size() ? invalid_[markers_seen_++] : kUnknown;
  }

  void add_problem(std::string field, std::string reason) {
    for (const auto& problem : problems_) {
      if (!field.empty() && problem.first == field) return;  // one problem per field
    }
    problems_.emplace_back(std::move(field), std::move(reason));
  }

  std::vector<Level> levels_;
  std::map<std::string, std::string> fields_;
  std::vector<std::pair<std::string, std::string>> problems_;  // (field, reason), in text order
  std::bitset<kChildSlot + 1> seen_;
  std::string marker_;
  std::vector<InvalidSequence> invalid_;
  std::size_t markers_seen_ = 0;
  bool key_pending_ = false;
  std::string last_member_;
  bool top_level_seen_ = false;
};

}  // namespace

std::size_t find_invalid_utf8(std::string_view text, std::size_t& length) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    // Unicode table 3-7: the well-formed sequences, by the range of their second byte.
    std::size_t trail = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      trail = 1;
    } else if (lead == 0xE0) {
      trail = 2;
      low = 0xA0;  // not overlong
    } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
      trail = 2;
    } else if (lead == 0xED) {
      trail = 2;
      high = 0x9F;  // not a surrogate
    } else if (lead == 0xF0) {
      trail = 3;
      low = 0x90;  // not overlong
    } else if (lead >= 0xF1 && lead <= 0xF3) {
      trail = 3;
    } else if (lead == 0xF4) {
      trail = 3;
      high = 0x8F;  // not above U+10FFFF
    } else {
      length = 1;
      return i;
    }
    for (std::size_t k = 1; k <= trail; ++k) {
      if (i + k >= n) {
        length = k;
        return i;
      }
      const auto byte = static_cast<unsigned char>(text[i + k]);
      if (byte < (k == 1 ? low : 0x80) || byte > (k == 1 ? high : 0xBF)) {
        length = k;
        return i;
      }
    }
    i += trail + 1;
  }
  length = 0;
  return std::string_view::npos;
}

class EventParser::Impl {
 public:
  Impl() : handler_(new FieldHandler), parser_(Poco::JSON::Handler::Ptr(handler_)) {
    parser_.setDepth(kMaxJsonDepth);
  }

  void parse(std::string_view text, NativeRecord& record) {
    std::vector<InvalidSequence> invalid;
    std::size_t length = 0;
    for (std::size_t at = find_invalid_utf8(text, length); at != std::string_view::npos;) {
      if (invalid.size() == kMaxInvalidSequences) {
        reject_as_not_text(invalid.front(), record);
        return;
      }
      invalid.push_back({at, std::string(text.substr(at, length))});
      const std::size_t next = at + length;
      at = find_invalid_utf8(text.substr(next), length);
      if (at != std::string_view::npos) at += next;
    }

    std::string json;
    std::string marker;
    if (invalid.empty()) {
      json.assign(text);
    } else {
      marker = choose_marker(text);
      if (marker.empty()) {
        reject_as_not_text(invalid.front(), record);
        return;
      }
      std::size_t from = 0;
      for (const InvalidSequence& sequence : invalid) {
        json.append(text.substr(from, sequence.offset - from)).append(marker);
        from = sequence.offset + sequence.bytes.size();
      }
      json.append(text.substr(from));
    }

    handler_->begin(std::move(marker), std::move(invalid));
    parser_.reset();
    try {
      parser_.parse(json);
    } catch (const Poco::SyntaxException& e) {
      // Thrown by Poco's number conversion, not by the JSON grammar.
      handler_->parse_failed(e.message(), true);
    } catch (const Poco::Exception& e) {
      handler_->parse_failed(e.message(), false);
    }
    handler_->finish(record);
  }

 private:
  static void reject_as_not_text(const InvalidSequence& first, NativeRecord& record) {
    record.fields.clear();
    record.error_field.clear();
    record.error = "not UTF-8 text: " + first.describe() +
                   " (the 児童相談所システム sends UTF-8; was the file converted to another "
                   "encoding?)";
  }

  FieldHandler* handler_;  // owned by parser_
  Poco::JSON::Parser parser_;
};

EventParser::EventParser() : impl_(std::make_unique<Impl>()) {}
EventParser::~EventParser() = default;

void EventParser::parse(std::string_view text, NativeRecord& record) {
  impl_->parse(text, record);
}

}  // namespace tsunagu::child_guidance
