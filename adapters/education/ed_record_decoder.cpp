#include "education/ed_record_decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <exception>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <codec/cp932.hpp>

namespace tsunagu::education {
namespace {

constexpr std::string_view kFieldPrefix = "field-";

// "bytes 34–63", or "byte 101" for a one-byte range; positions are 1-based as in SYSTEMS.md.
std::string byte_range(std::size_t first, std::size_t last) {
  if (first == last) return "byte " + std::to_string(first);
  return "bytes " + std::to_string(first) + "–" + std::to_string(last);
}

// "byte 63 belongs to no field", "bytes 191–200 belong to no field".
std::string unassigned(std::size_t first, std::size_t last) {
  return byte_range(first, last) + (first == last ? " belongs" : " belong") + " to no field";
}

std::string describe(const FieldSpan& field) {
  return "field '" + field.name + "' (" + byte_range(field.first, field.last) + ")";
}

// A whole number from 1 to kMaxRecordLength, digits only (no sign, no spaces).
bool parse_position(std::string_view text, std::size_t& value) {
  if (text.empty() || text.size() > 5) return false;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  return status == std::errc() && end == text.data() + text.size() && value >= 1 &&
         value <= kMaxRecordLength;
}

// "FIRST-LAST" or "N".
bool parse_range(std::string_view text, std::size_t& first, std::size_t& last) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    if (!parse_position(text, first)) return false;
    last = first;
    return true;
  }
  return parse_position(text.substr(0, dash), first) &&
         parse_position(text.substr(dash + 1), last) && first <= last;
}

// Every problem of a layout, in byte order; empty when the fields tile the record exactly.
std::vector<std::string> layout_problems(const RecordLayout& layout) {
  std::vector<std::string> problems;
  if (layout.record_length < 1 || layout.record_length > kMaxRecordLength) {
    problems.push_back("the record length is " + std::to_string(layout.record_length) +
                       " bytes, expected 1 to " + std::to_string(kMaxRecordLength));
    return problems;
  }
  if (layout.fields.empty()) {
    problems.emplace_back(
        "no field layout: declare every field as a setting field-<name> = FIRST-LAST");
    return problems;
  }
  std::vector<const FieldSpan*> fields;
  for (const FieldSpan& field : layout.fields) fields.push_back(&field);
  std::stable_sort(fields.begin(), fields.end(), [](const FieldSpan* a, const FieldSpan* b) {
    return a->first != b->first ? a->first < b->first : a->last < b->last;
  });

  const std::size_t length = layout.record_length;
  std::size_t covered = 0;  // the bytes 1..covered belong to some field
  const FieldSpan* covering = nullptr;
  for (const FieldSpan* field : fields) {
    if (field->first < 1 || field->last < field->first) {
      problems.push_back(describe(*field) + " is not a byte range");
      continue;
    }
    if (field->last > length) {
      problems.push_back(describe(*field) + " ends beyond the record length of " +
                         std::to_string(length) + " bytes");
    }
    if (covering != nullptr && field->first <= covered) {
      problems.push_back(describe(*covering) + " overlaps " + describe(*field));
    } else if (field->first > covered + 1 && covered < length) {
      problems.push_back(unassigned(covered + 1, std::min(field->first - 1, length)));
    }
    if (field->last > covered) {
      covered = field->last;
      covering = field;
    }
  }
  if (covered < length) {
    problems.push_back(unassigned(covered + 1, length) + " (the record is " +
                       std::to_string(length) + " bytes)");
  }
  return problems;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

bool is_cp932_lead_byte(char c) noexcept {
  const auto byte = static_cast<unsigned char>(c);
  return (byte >= 0x81 && byte <= 0x9F) || (byte >= 0xE0 && byte <= 0xFC);
}

// True when `bytes` is valid UTF-8 with at least one multi-byte character: CP932 text almost never
// is, so such a line is a file that someone re-saved in the wrong encoding.
bool looks_like_utf8(std::string_view bytes) noexcept {
  bool multibyte = false;
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    std::size_t length = 1;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
    } else if (lead >= 0x80) {
      return false;
    }
    if (i + length > bytes.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(bytes[i + k]) & 0xC0) != 0x80) return false;
    }
    multibyte = multibyte || length > 1;
    i += length;
  }
  return multibyte;
}

// One line of the input, without its LF. Only its first bytes are kept (LineReader's limit).
struct Line {
  std::string kept;
  std::size_t length = 0;  // every byte before the LF, kept or not
  bool has_lf = false;
  char last = 0;  // the byte before the LF, when length > 0
};

// Splits a stream into lines at LF with a fixed buffer, so that neither a large file nor a line
// without any break makes memory grow. CP932 never uses 0x0A inside a two-byte character (trail
// bytes are 0x40 and above), so every LF is a line break.
class LineReader {
 public:
  LineReader(std::istream& in, std::size_t buffer_bytes, std::size_t keep_bytes)
      : in_(in), buffer_(std::max<std::size_t>(buffer_bytes, 1)), keep_(keep_bytes) {}

  // The next line; false at the end of the input or on a read error (see failed()). A last line
  // without LF is a line; a read error drops the partial line it interrupted.
  bool next(Line& line) {
    line.kept.clear();
    line.length = 0;
    line.has_lf = false;
    line.last = 0;
    for (;;) {
      if (position_ == end_ && !fill()) return !failed_ && line.length > 0;
      const char* begin = buffer_.data() + position_;
      const std::size_t available = end_ - position_;
      const void* lf = std::memchr(begin, '\n', available);
      const std::size_t count = lf != nullptr
                                    ? static_cast<std::size_t>(static_cast<const char*>(lf) - begin)
                                    : available;
      if (count > 0) {
        const std::size_t room = keep_ > line.kept.size() ? keep_ - line.kept.size() : 0;
        line.kept.append(begin, std::min(count, room));
        line.length += count;
        line.last = begin[count - 1];
      }
      position_ += count;
      if (lf != nullptr) {
        ++position_;
        line.has_lf = true;
        return true;
      }
    }
  }

  bool failed() const noexcept { return failed_; }

 private:
  bool fill() {
    if (finished_) return false;
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (in_.bad()) {
      // What the failing read returned cannot be trusted to be complete: deliver nothing of it.
      failed_ = true;
      finished_ = true;
      return false;
    }
    const auto count = static_cast<std::size_t>(in_.gcount());
    if (in_.eof() || count < buffer_.size()) finished_ = true;
    position_ = 0;
    end_ = count;
    return count > 0;
  }

  std::istream& in_;
  std::vector<char> buffer_;
  std::size_t keep_;
  std::size_t position_ = 0;
  std::size_t end_ = 0;
  bool finished_ = false;
  bool failed_ = false;
};

class RecordBuilder {
 public:
  RecordBuilder(const RecordLayout& layout, std::size_t max_raw_bytes, codec::Cp932Decoder& cp932)
      : layout_(layout), max_raw_bytes_(max_raw_bytes), cp932_(cp932) {}

  NativeRecord build(Line& line, std::uint64_t number) {
    NativeRecord record;
    record.number = number;
    record.line = number;  // one record per line
    const bool ends_in_cr = line.length > 0 && line.last == '\r';
    const std::size_t length = ends_in_cr ? line.length - 1 : line.length;
    record.raw = std::move(line.kept);
    if (record.raw.size() > length) record.raw.resize(length);  // drop the CR

    std::vector<std::string> framing;
    if (length != layout_.record_length) framing.push_back(length_problem(length, record.raw));
    if (line.has_lf && !ends_in_cr) {
      framing.emplace_back("the line ends in LF without CR (every record ends in CR LF)");
      // Kept as evidence, and so that decode_record() judges the record as it came.
      if (record.raw.size() == length) record.raw += '\n';
    }
    if (!framing.empty()) {
      // No fields: with a byte too many or too few every position after it is off, and a value
      // read from the wrong bytes is worse than none.
      record.error = join(framing, "; ");
      return record;
    }
    decode_fields(record);
    return record;
  }

 private:
  std::string length_problem(std::size_t length, std::string_view kept) const {
    const std::size_t expected = layout_.record_length;
    if (length == 0) {
      return "the line is empty; expected a record of " + std::to_string(expected) + " bytes";
    }
    std::string problem = "the record is " + std::to_string(length) + " bytes long, expected " +
                          std::to_string(expected) + " (";
    if (length < expected) {
      problem += std::to_string(expected - length) + " short";
    } else {
      problem += std::to_string(length - expected) + " too many";
    }
    problem += ", counted before CR LF)";
    if (looks_like_utf8(kept)) {
      problem +=
          "; the line is UTF-8 text, but the export is CP932 (was the file re-saved? "
          "convert it back with iconv -f UTF-8 -t CP932)";
    }
    if (length > kept.size()) {
      problem += "; only its first " + std::to_string(max_raw_bytes_) + " bytes are kept";
    }
    return problem;
  }

  // Walks the record character by character: a field boundary must fall between characters.
  // Marks in `damaged` the fields that a two-byte character straddles, with the reason on the
  // field it starts in.
  void find_split_characters(std::string_view bytes, std::vector<std::string>& reasons,
                             std::vector<bool>& damaged) {
    const auto& fields = layout_.fields;
    std::string character;
    std::string ignored;
    std::size_t position = 0;  // where the next character starts
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const FieldSpan& field = fields[i];
      const std::size_t end = field.offset() + field.size();
      while (position < end) position += is_cp932_lead_byte(bytes[position]) ? 2 : 1;
      if (position == end) continue;

      // The lead byte at field.last takes the next byte with it.
      if (i + 1 == fields.size()) {
        reasons[i] = "the record ends in the first half of a two-byte character (" +
                     codec::hex_bytes(bytes.substr(end - 1, 1)) + " at " +
                     byte_range(field.last, field.last) + ")";
        damaged[i] = true;
        continue;
      }
      const FieldSpan& next = fields[i + 1];
      const std::string_view pair = bytes.substr(end - 1, 2);
      if (!cp932_.decode(pair, character, ignored)) {
        // Not a character at all: a stray lead byte, which the field's own decoding reports.
        // The next field is then read from its own first byte.
        position = end;
        continue;
      }
      reasons[i] = "the two-byte character " + codec::hex_bytes(pair) + " '" + character + "' at " +
                   byte_range(field.last, next.first) +
                   " is cut in half by the field boundary: its first byte ends " + describe(field) +
                   ", its second begins " + describe(next);
      damaged[i] = true;
      damaged[i + 1] = true;
    }
  }

  void decode_fields(NativeRecord& record) {
    const auto& fields = layout_.fields;
    const std::string_view bytes = record.raw;
    std::vector<std::string> reasons(fields.size());
    std::vector<bool> damaged(fields.size(), false);
    find_split_characters(bytes, reasons, damaged);

    std::string value;
    std::string reason;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (damaged[i]) continue;
      const FieldSpan& field = fields[i];
      if (cp932_.decode(bytes.substr(field.offset(), field.size()), value, reason)) {
        record.fields.insert_or_assign(field.name, std::move(value));
        value.clear();
      } else {
        // The codec counts from the field's start; say where the field is in the record.
        reasons[i] = reason + " of " + byte_range(field.first, field.last);
      }
    }

    std::string others;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (reasons[i].empty()) continue;
      if (record.error_field.empty()) {
        record.error_field = fields[i].name;
        record.error = std::move(reasons[i]);
      } else {
        others += "; also " + fields[i].name + ": " + reasons[i];
      }
    }
    record.error += others;
  }

  const RecordLayout& layout_;
  std::size_t max_raw_bytes_;
  codec::Cp932Decoder& cp932_;
};

DecodeResult failure(std::string message, const DecodeResult& so_far) {
  DecodeResult result = so_far;
  result.ok = false;
  result.message = std::move(message);
  return result;
}

}  // namespace

bool layout_from_settings(const PluginSettings& settings, RecordLayout& layout,
                          std::string& error) {
  RecordLayout parsed;
  std::vector<std::string> problems;
  bool have_length = false;
  for (const auto& [name, value] : settings) {
    if (name == "record_length") {
      if (parse_position(value, parsed.record_length)) {
        have_length = true;
      } else {
        problems.push_back("setting record_length is '" + value +
                           "', expected a whole number of bytes from 1 to " +
                           std::to_string(kMaxRecordLength));
      }
    } else if (name.starts_with(kFieldPrefix)) {
      FieldSpan field;
      field.name = name.substr(kFieldPrefix.size());
      if (field.name.empty()) {
        problems.emplace_back("setting 'field-' names no field (field-<name> = FIRST-LAST)");
      } else if (!parse_range(value, field.first, field.last)) {
        problems.push_back("setting " + name + " is '" + value +
                           "', expected FIRST-LAST, the 1-based positions of the field's first "
                           "and last byte with FIRST ≤ LAST (e.g. 34-63), or N for one byte");
      } else {
        parsed.fields.push_back(std::move(field));
      }
    } else {
      problems.push_back("unknown setting '" + name +
                         "' (the settings are record_length and field-<name>)");
    }
  }
  if (!have_length && problems.empty()) {
    problems.emplace_back(
        "setting record_length is missing: the layout (record_length and one field-<name> per "
        "field) comes from the <adapter-settings> of mappings/education.xml");
  }
  if (problems.empty()) {
    std::stable_sort(parsed.fields.begin(), parsed.fields.end(),
                     [](const FieldSpan& a, const FieldSpan& b) { return a.first < b.first; });
    problems = layout_problems(parsed);
  }
  if (!problems.empty()) {
    error = "education adapter: " + join(problems, "; ");
    return false;
  }
  layout = std::move(parsed);
  return true;
}

EdRecordDecoder::EdRecordDecoder(RecordLayout layout, EdRecordDecoderOptions options)
    : layout_(std::move(layout)), options_(options) {
  const std::vector<std::string> problems = layout_problems(layout_);
  if (!problems.empty()) {
    throw std::invalid_argument("education adapter: invalid layout: " + join(problems, "; "));
  }
  std::stable_sort(layout_.fields.begin(), layout_.fields.end(),
                   [](const FieldSpan& a, const FieldSpan& b) { return a.first < b.first; });
  options_.max_raw_bytes = std::max(options_.max_raw_bytes, layout_.record_length + 1);
  codec::Cp932Decoder probe;  // throws if CP932 is unavailable
}

DecodeResult EdRecordDecoder::decode(std::istream& in, const std::string& origin,
                                     RecordSink& sink) noexcept {
  DecodeResult result;
  std::uint64_t number = 0;
  try {
    codec::Cp932Decoder cp932;
    RecordBuilder builder(layout_, options_.max_raw_bytes, cp932);
    LineReader reader(in, options_.read_buffer_bytes, options_.max_raw_bytes);
    Line line;
    while (reader.next(line)) {
      NativeRecord record = builder.build(line, ++number);
      ++result.records;
      if (!sink.accept(std::move(record))) {
        result.stopped = true;
        return result;
      }
    }
    if (reader.failed()) {
      return failure(origin + ": reading failed after record " + std::to_string(number) +
                         "; the records before it were delivered",
                     result);
    }
    return result;
  } catch (const std::exception& e) {
    return failure(
        origin + ": decoding stopped after record " + std::to_string(number) + ": " + e.what(),
        result);
  } catch (...) {
    return failure(origin + ": decoding stopped after record " + std::to_string(number) +
                       ": unknown exception",
                   result);
  }
}

DecodeResult EdRecordDecoder::decode_record(const std::string& raw, RecordSink& sink) noexcept {
  try {
    // raw never holds an LF except the bare one it keeps at its end: re-framed with the line
    // break it came with, it is one line, decoded as in its file.
    std::istringstream in(raw.ends_with('\n') ? raw : raw + "\r\n");
    return decode(in, "quarantined record", sink);
  } catch (const std::exception& e) {
    DecodeResult result;
    result.ok = false;
    result.message = std::string("quarantined record: ") + e.what();
    return result;
  }
}

}  // namespace tsunagu::education
