#include "child_guidance/cg_events_decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "child_guidance/cg_event_parser.hpp"

namespace tsunagu::child_guidance {
namespace {

constexpr std::size_t kMaxRecordBytesLimit = 67108864;  // 64 MiB

// One line of the input.
struct Line {
  std::string text;          // without its line break
  std::string_view ending;   // "\r\n", "\n", or "" for a last line without one
  std::uint64_t number = 0;  // 1-based
  bool overlong = false;     // longer than max_record_bytes: text holds its first limit + 1 bytes
};

// Splits a stream into lines with one fixed buffer; a line longer than the limit is cut one byte
// past it (so that its raw still shows it was too long), and the rest of it is read past, not
// kept. A UTF-8 byte order mark at the start of the input is dropped.
class LineReader {
 public:
  LineReader(std::istream& in, std::size_t buffer_bytes, std::size_t max_line_bytes)
      : in_(in), buffer_(std::max<std::size_t>(buffer_bytes, 1)), max_(max_line_bytes) {}

  // False at the end of the input, or when reading failed (see read_error(); a line being read
  // then is dropped, since its end is unknown).
  bool next(Line& line) {
    line.text.clear();
    line.ending = "";
    line.overlong = false;
    bool any = false;
    bool newline = false;
    while (!newline) {
      if (begin_ == end_ && !fill()) break;
      any = true;
      const char* from = buffer_.data() + begin_;
      const std::size_t available = end_ - begin_;
      const void* found = std::memchr(from, '\n', available);
      const std::size_t length =
          found != nullptr ? static_cast<std::size_t>(static_cast<const char*>(found) - from)
                           : available;
      // One byte beyond the limit is kept, so that a CR before the LF is not taken for content.
      const std::size_t room = max_ + 1 - std::min(max_ + 1, line.text.size());
      line.text.append(from, std::min(room, length));
      if (length > room) line.overlong = true;
      begin_ += length;
      if (found != nullptr) {
        ++begin_;
        newline = true;
      }
    }
    if (!any || (!newline && !read_error_.empty())) return false;
    line.number = ++lines_;
    if (newline) {
      line.ending = "\n";
      if (!line.overlong && !line.text.empty() && line.text.back() == '\r') {
        line.text.pop_back();
        line.ending = "\r\n";
      }
    }
    if (line.text.size() > max_) line.overlong = true;
    return true;
  }

  const std::string& read_error() const noexcept { return read_error_; }

 private:
  bool fill() {
    if (at_end_) return false;
    in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    if (in_.bad()) {
      read_error_ = "reading failed at or after line " + std::to_string(lines_ + 1);
      at_end_ = true;
      return false;
    }
    const auto count = static_cast<std::size_t>(in_.gcount());
    if (in_.eof()) at_end_ = true;
    begin_ = 0;
    end_ = count;
    if (first_read_) {
      first_read_ = false;
      if (std::string_view(buffer_.data(), count).starts_with("\xEF\xBB\xBF")) begin_ = 3;
      return begin_ < end_ || fill();
    }
    return count > 0;
  }

  std::istream& in_;
  std::vector<char> buffer_;
  std::size_t max_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  std::uint64_t lines_ = 0;
  bool at_end_ = false;
  bool first_read_ = true;
  std::string read_error_;
};

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Bracket depth outside strings, as far as the bytes seen so far go. It is not a parser: it only
// says whether a JSON value that starts on a line continues on the next one.
struct Nesting {
  std::size_t depth = 0;
  bool in_string = false;
  bool escaped = false;
  bool underflow = false;  // a closing bracket with nothing open: not a value

  void feed(char c) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      return;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (depth == 0) {
          underflow = true;
        } else {
          --depth;
        }
        break;
      default:
        break;
    }
  }
  void feed(std::string_view text) {
    for (const char c : text) feed(c);
  }
  // The value continues on the next line.
  bool open() const { return depth > 0 && !in_string && !underflow; }
};

// An NDJSON record line: `{` in the first column, and one complete object ending the line. Inside
// a pretty-printed event such a line does not occur (nested objects are indented).
bool is_object_line(std::string_view text) {
  if (!text.starts_with('{')) return false;
  const std::size_t last = text.find_last_not_of(" \t\r");
  if (text[last] != '}') return false;
  Nesting nesting;
  for (std::size_t i = 0; i <= last; ++i) {
    nesting.feed(text[i]);
    if (nesting.underflow || (nesting.depth == 0 && i < last)) return false;
  }
  return nesting.depth == 0 && !nesting.in_string;
}

std::string limit_text(std::size_t bytes) {
  return "the limit of " + std::to_string(bytes) + " bytes (setting max_record_bytes)";
}

// The state of one decode() call.
class DecodeRun {
 public:
  // Counts delivered records into `result` as it goes, so that they are known even if a later
  // step throws.
  DecodeRun(const CgEventsDecoderOptions& options, std::istream& in, RecordSink& sink,
            DecodeResult& result)
      : options_(options),
        reader_(in, options.read_buffer_bytes, options.max_record_bytes),
        sink_(sink),
        result_(result) {}

  const std::string& read_error() const { return reader_.read_error(); }

  // Each returns false when the sink asked to stop.

  bool ndjson() {
    Line line;
    while (reader_.next(line)) {
      if (is_blank(line.text)) continue;
      if (!line_record(std::move(line))) return false;
    }
    return true;
  }

  bool automatic() {
    Line line;
    bool have = reader_.next(line);
    while (have) {
      if (is_blank(line.text)) {
        have = reader_.next(line);
        continue;
      }
      Nesting nesting;
      nesting.feed(line.text);
      if (line.overlong || !nesting.open()) {
        if (!line_record(std::move(line))) return false;
        have = reader_.next(line);
        continue;
      }
      if (!multi_line_value(std::move(line), nesting, line, have)) return false;
    }
    return true;
  }

  bool json(bool& empty) {
    std::string text;
    std::uint64_t first_line = 0;
    std::string_view ending;
    Line line;
    while (reader_.next(line)) {
      if (first_line == 0) {
        if (is_blank(line.text)) continue;
        first_line = line.number;
      }
      const std::size_t size = text.size() + ending.size() + line.text.size();
      if (line.overlong || size > options_.max_record_bytes) {
        text.append(ending).append(line.text);
        text.resize(std::min(text.size(), options_.max_record_bytes + 1));
        return deliver(
            error_record(std::move(text), first_line,
                         "the input is longer than " + limit_text(options_.max_record_bytes)));
      }
      text.append(ending).append(line.text);
      ending = line.ending;
    }
    if (!reader_.read_error().empty()) return true;
    empty = first_line == 0;
    if (empty) return true;
    text.erase(text.find_last_not_of(" \t\r\n") + 1);  // trailing blank lines are not the record's
    return parsed_record(std::move(text), first_line, "");
  }

 private:
  // `first` leaves a value open: reads on until it closes. `next`/`have` receive the line to go
  // on with.
  bool multi_line_value(Line first, Nesting nesting, Line& next, bool& have) {
    const std::uint64_t first_line = first.number;
    std::string text = std::move(first.text);
    std::string_view ending = first.ending;
    for (;;) {
      have = reader_.next(next);
      if (!have) {
        // A read error is the input's failure, not this record's: decode() reports it.
        if (!reader_.read_error().empty()) return true;
        return parsed_record(std::move(text), first_line,
                             "the JSON value that opens on line " + std::to_string(first_line) +
                                 " is not closed by the end of the input");
      }
      if (is_object_line(next.text)) {
        // NDJSON after all: the open line was damaged. Its lines are records of their own.
        return lines_as_records(text, first_line);
      }
      if (next.overlong ||
          text.size() + ending.size() + next.text.size() > options_.max_record_bytes) {
        nesting.feed(next.text);
        text.append(ending).append(next.text);
        text.resize(options_.max_record_bytes + 1);
        if (!deliver(error_record(std::move(text), first_line,
                                  "the JSON value that opens on this line is longer than " +
                                      limit_text(options_.max_record_bytes)))) {
          return false;
        }
        skip_rest_of_value(nesting, next, have);
        return true;
      }
      text.append(ending).append(next.text);
      ending = next.ending;
      nesting.feed(next.text);
      if (nesting.underflow || nesting.in_string || nesting.depth == 0) {
        if (!parsed_record(std::move(text), first_line, "")) return false;
        have = reader_.next(next);
        return true;
      }
    }
  }

  // After an overlong value: reads past its lines without keeping them, up to where it closes
  // or an NDJSON record line shows that it was a damaged line after all.
  void skip_rest_of_value(Nesting& nesting, Line& next, bool& have) {
    while (nesting.open()) {
      have = reader_.next(next);
      if (!have || is_object_line(next.text)) return;
      nesting.feed(next.text);
    }
    have = reader_.next(next);
  }

  // The lines of `text` (joined with their line breaks), each as its own record.
  bool lines_as_records(std::string_view text, std::uint64_t first_line) {
    std::uint64_t number = first_line;
    for (std::size_t from = 0; from <= text.size(); ++number) {
      std::size_t end = text.find('\n', from);
      if (end == std::string_view::npos) end = text.size();
      std::string_view part = text.substr(from, end - from);
      if (end < text.size() && part.ends_with('\r')) part.remove_suffix(1);
      if (!is_blank(part) && !parsed_record(std::string(part), number, "")) return false;
      from = end + 1;
    }
    return true;
  }

  bool line_record(Line&& line) {
    if (line.overlong) {
      return deliver(
          error_record(std::move(line.text), line.number,
                       "the line is longer than " + limit_text(options_.max_record_bytes)));
    }
    return parsed_record(std::move(line.text), line.number, "");
  }

  // Parses `raw` into a record; `hint` is added to its error, if it has one.
  bool parsed_record(std::string raw, std::uint64_t line, const std::string& hint) {
    NativeRecord record;
    parser_.parse(raw, record);
    if (!record.error.empty() && !hint.empty()) record.error += "; " + hint;
    record.raw = std::move(raw);
    record.line = line;
    return deliver(std::move(record));
  }

  static NativeRecord error_record(std::string raw, std::uint64_t line, std::string error) {
    NativeRecord record;
    record.raw = std::move(raw);
    record.line = line;
    record.error = std::move(error);
    return record;
  }

  bool deliver(NativeRecord&& record) {
    record.number = ++result_.records;
    if (sink_.accept(std::move(record))) return true;
    result_.stopped = true;
    return false;
  }

  const CgEventsDecoderOptions& options_;
  LineReader reader_;
  RecordSink& sink_;
  DecodeResult& result_;
  EventParser parser_;
};

DecodeResult failure(std::string message, const DecodeResult& so_far) {
  DecodeResult result = so_far;
  result.ok = false;
  result.message = std::move(message);
  return result;
}

}  // namespace

bool options_from_settings(const PluginSettings& settings, CgEventsDecoderOptions& options,
                           std::string& error) {
  for (const auto& [name, value] : settings) {
    if (name == "format") {
      if (value == "auto") {
        options.format = InputFormat::automatic;
      } else if (value == "ndjson") {
        options.format = InputFormat::ndjson;
      } else if (value == "json") {
        options.format = InputFormat::json;
      } else {
        error = "child_guidance adapter: setting format is '" + value +
                "', expected auto, ndjson or json";
        return false;
      }
    } else if (name == "max_record_bytes") {
      std::size_t bytes = 0;
      const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), bytes);
      if (status != std::errc() || end != value.data() + value.size() || bytes == 0 ||
          bytes > kMaxRecordBytesLimit) {
        error = "child_guidance adapter: setting max_record_bytes is '" + value +
                "', expected a whole number of bytes from 1 to " +
                std::to_string(kMaxRecordBytesLimit);
        return false;
      }
      options.max_record_bytes = bytes;
    } else {
      error = "child_guidance adapter: unknown setting '" + name +
              "' (the settings are format and max_record_bytes)";
      return false;
    }
  }
  return true;
}

CgEventsDecoder::CgEventsDecoder(CgEventsDecoderOptions options) : options_(options) {}

DecodeResult CgEventsDecoder::decode(std::istream& in, const std::string& origin,
                                     RecordSink& sink) noexcept {
  DecodeResult result;
  try {
    DecodeRun run(options_, in, sink, result);
    bool empty = false;
    bool go_on = true;
    switch (options_.format) {
      case InputFormat::automatic:
        go_on = run.automatic();
        break;
      case InputFormat::ndjson:
        go_on = run.ndjson();
        break;
      case InputFormat::json:
        go_on = run.json(empty);
        break;
    }
    if (!go_on) return result;
    if (!run.read_error().empty()) {
      return failure(origin + ": " + run.read_error() + ", after record " +
                         std::to_string(result.records) + "; the records before it were delivered",
                     result);
    }
    if (empty) return failure(origin + ": the input is empty; expected one JSON object", result);
    return result;
  } catch (const std::exception& e) {
    return failure(origin + ": decoding stopped after record " + std::to_string(result.records) +
                       ": " + e.what(),
                   result);
  } catch (...) {
    return failure(origin + ": decoding stopped after record " + std::to_string(result.records) +
                       ": unknown exception",
                   result);
  }
}

DecodeResult CgEventsDecoder::decode_record(const std::string& raw, RecordSink& sink) noexcept {
  DecodeResult result;
  try {
    NativeRecord record;
    if (raw.size() > options_.max_record_bytes) {
      record.error = "the record is longer than " + limit_text(options_.max_record_bytes);
    } else {
      EventParser().parse(raw, record);
    }
    record.raw = raw;
    record.number = 1;
    record.line = 1;
    result.records = 1;
    result.stopped = !sink.accept(std::move(record));
    return result;
  } catch (const std::exception& e) {
    return failure(std::string("decoding the record again failed: ") + e.what(), result);
  } catch (...) {
    return failure("decoding the record again failed: unknown exception", result);
  }
}

}  // namespace tsunagu::child_guidance
