#include "codec/csv_reader.hpp"

#include <stdexcept>
#include <string>
#include <utility>

namespace tsunagu::codec {
namespace {

enum class ParseState {
  field_start,      // nothing of the current field read yet
  unquoted,         // inside a field that did not start with a quote
  quoted,           // inside quotes
  quote_in_quoted,  // a quote inside quotes: either the closing one or the first of ""
  after_cr,         // a CR outside quotes; only LF may follow
  skipping_line,    // the record is malformed: everything up to the next LF belongs to it
};

// What became of one byte given to RecordParser::take.
enum class Step {
  record_continues,   // consumed, the record goes on
  record_complete,    // consumed (it was the line break), the record is complete
  cut_at_open_quote,  // not consumed: the record ends early, see cut_at_line_after_open_quote
};

std::string position(std::uint64_t line, std::uint64_t column) {
  return "byte " + std::to_string(column) + " of line " + std::to_string(line);
}

// Splits one record into fields while keeping its raw bytes.
class RecordParser {
 public:
  RecordParser(CsvRecord& record, std::size_t max_record_bytes)
      : record_(record), max_record_bytes_(max_record_bytes) {}

  // Takes the byte that sits at (line, column) in the input.
  Step take(char byte, std::uint64_t line, std::uint64_t column) {
    if (state_ == ParseState::skipping_line) return skip(byte);
    // Outside quotes CR and LF go into raw only once they turn out not to end the record, so
    // the line break of a record exactly at the limit does not make it too long.
    const bool may_end_record = (byte == '\n' || byte == '\r') && state_ != ParseState::quoted;
    if (record_.raw.size() >= max_record_bytes_ && !may_end_record) {
      return record_too_long(byte, line, column);
    }

    switch (state_) {
      case ParseState::field_start:
        if (byte == '"') {
          quote_line_ = line;
          quote_column_ = column;
          quote_raw_offset_ = record_.raw.size();
          state_ = ParseState::quoted;
          break;
        }
        [[fallthrough]];
      case ParseState::unquoted:
        if (byte == ',') {
          end_field();
        } else if (byte == '\r') {
          cr_line_ = line;
          cr_column_ = column;
          state_ = ParseState::after_cr;
          return Step::record_continues;  // into raw only if no LF follows
        } else if (byte == '\n') {
          end_field();
          return Step::record_complete;
        } else if (byte == '"') {
          // Only reachable from unquoted: a quote at field_start opened quotes above.
          fail("a quote inside an unquoted field at " + position(line, column) +
               " (a field containing quotes must itself be quoted)");
        } else {
          field_ += byte;
          state_ = ParseState::unquoted;
        }
        break;
      case ParseState::quoted:
        if (byte == '"') {
          state_ = ParseState::quote_in_quoted;
        } else {
          field_ += byte;
        }
        break;
      case ParseState::quote_in_quoted:
        if (byte == '"') {
          field_ += '"';
          state_ = ParseState::quoted;
        } else if (byte == ',') {
          end_field();
        } else if (byte == '\r') {
          cr_line_ = line;
          cr_column_ = column;
          state_ = ParseState::after_cr;
          return Step::record_continues;  // into raw only if no LF follows
        } else if (byte == '\n') {
          end_field();
          return Step::record_complete;
        } else {
          fail("text after the closing quote of a quoted field at " + position(line, column) +
               " (a quote inside a quoted field must be doubled)");
        }
        break;
      case ParseState::after_cr:
        if (byte == '\n') {
          end_field();
          return Step::record_complete;  // the CR stays out of raw: it is part of the line break
        }
        fail("a carriage return not followed by a line feed at " + position(cr_line_, cr_column_) +
             " (outside quotes a CR may only end a line)");
        skip('\r');
        return skip(byte);
      case ParseState::skipping_line:
        break;  // handled above
    }
    record_.raw += byte;
    return Step::record_continues;
  }

  // Completes the record when the input ends without a line break. True if the record ended
  // normally or with an error; false if it must be cut at its open quote instead.
  bool end_of_input() {
    switch (state_) {
      case ParseState::field_start:  // after a trailing comma: one more, empty field
      case ParseState::unquoted:
      case ParseState::quote_in_quoted:
      case ParseState::after_cr:  // a CR at the very end is taken as the missing line break
        end_field();
        return true;
      case ParseState::skipping_line:
        if (!truncated_ && !record_.raw.empty() && record_.raw.back() == '\r') {
          record_.raw.pop_back();
        }
        return true;
      case ParseState::quoted:
        if (can_cut_at_open_quote()) {
          fail_at_open_quote("is never closed before the end of the input");
          return false;
        }
        fail("a quoted field opened at " + position(quote_line_, quote_column_) +
             " is never closed before the end of the input");
        return true;
    }
    return true;
  }

  // For a record whose quoted field never closes: ends the record at the line break after the
  // opening quote and returns the raw bytes after that line break, which the reader reads again
  // from quote_line() + 1. Guessing that the quote is the mistake recovers the following records,
  // which would otherwise all vanish into one error.
  std::string cut_at_line_after_open_quote() {
    const std::size_t line_break = record_.raw.find('\n', quote_raw_offset_);
    std::string rest = record_.raw.substr(line_break + 1);
    record_.raw.resize(line_break);
    if (!record_.raw.empty() && record_.raw.back() == '\r') record_.raw.pop_back();
    return rest;
  }

  std::uint64_t quote_line() const noexcept { return quote_line_; }

 private:
  void end_field() {
    record_.fields.push_back(std::move(field_));
    field_.clear();
    state_ = ParseState::field_start;
  }

  void fail(std::string reason) {
    record_.error = std::move(reason);
    record_.error_field = record_.fields.size();
    field_.clear();
    state_ = ParseState::skipping_line;
  }

  Step skip(char byte) {
    if (byte == '\n') {
      if (!truncated_ && !record_.raw.empty() && record_.raw.back() == '\r') {
        record_.raw.pop_back();
      }
      return Step::record_complete;
    }
    if (record_.raw.size() < max_record_bytes_) {
      record_.raw += byte;
    } else if (!truncated_) {
      truncated_ = true;
      record_.error += "; only the first " + std::to_string(max_record_bytes_) +
                       " bytes of the record were kept";
    }
    return Step::record_continues;
  }

  bool can_cut_at_open_quote() const {
    return record_.raw.find('\n', quote_raw_offset_) != std::string::npos;
  }

  void fail_at_open_quote(const std::string& what) {
    fail("a quoted field opened at " + position(quote_line_, quote_column_) + " " + what +
         "; the record was cut at the end of line " + std::to_string(quote_line_) +
         " and reading went on with line " + std::to_string(quote_line_ + 1));
  }

  Step record_too_long(char byte, std::uint64_t line, std::uint64_t column) {
    const std::string limit = std::to_string(max_record_bytes_);
    const bool in_quotes = state_ == ParseState::quoted || state_ == ParseState::quote_in_quoted;
    if (in_quotes && can_cut_at_open_quote()) {
      // A quoted field spanning lines up to the limit is almost surely an unclosed quote.
      fail_at_open_quote("runs past the record limit of " + limit + " bytes at " +
                         position(line, column) + " (probably a quote that is never closed)");
      return Step::cut_at_open_quote;
    }
    fail("the record is longer than the limit of " + limit + " bytes at " + position(line, column) +
         "; only its first " + limit +
         " bytes were kept and the rest, up to the next line break, was skipped");
    truncated_ = true;
    return skip(byte);
  }

  CsvRecord& record_;
  const std::size_t max_record_bytes_;
  ParseState state_ = ParseState::field_start;
  std::string field_;
  std::uint64_t quote_line_ = 0;  // where the current quoted field opened
  std::uint64_t quote_column_ = 0;
  std::size_t quote_raw_offset_ = 0;
  std::uint64_t cr_line_ = 0;  // where the CR being judged is
  std::uint64_t cr_column_ = 0;
  bool truncated_ = false;  // raw reached the limit while the rest of the line was skipped
};

}  // namespace

CsvReader::CsvReader(std::istream& in, CsvReaderOptions options) : in_(in), options_(options) {
  if (options_.buffer_bytes == 0) throw std::invalid_argument("CSV read buffer must not be empty");
  if (options_.max_record_bytes == 0) {
    throw std::invalid_argument("CSV record limit must be at least one byte");
  }
  buffer_.resize(options_.buffer_bytes);
}

bool CsvReader::next(CsvRecord& record) {
  record.fields.clear();
  record.raw.clear();
  record.error.clear();
  record.error_field = CsvRecord::kNoField;

  const char* begin = nullptr;
  const char* end = nullptr;
  if (!unread_bytes(begin, end)) return false;
  record.number = records_ + 1;
  record.line = line_;

  RecordParser parser(record, options_.max_record_bytes);
  for (;;) {
    if (!unread_bytes(begin, end)) {
      if (!read_error_.empty()) return false;
      ++records_;
      if (!parser.end_of_input()) {
        read_again(parser.cut_at_line_after_open_quote(), parser.quote_line() + 1);
      }
      return true;
    }
    const std::size_t available = static_cast<std::size_t>(end - begin);
    std::size_t used = 0;
    Step step = Step::record_continues;
    while (used < available) {
      step = parser.take(begin[used], line_, column_);
      if (step == Step::cut_at_open_quote) break;
      advance_position(begin[used]);
      ++used;
      if (step == Step::record_complete) break;
    }
    consume(used);
    if (step == Step::record_complete) {
      ++records_;
      return true;
    }
    if (step == Step::cut_at_open_quote) {
      ++records_;
      read_again(parser.cut_at_line_after_open_quote(), parser.quote_line() + 1);
      return true;
    }
  }
}

bool CsvReader::unread_bytes(const char*& begin, const char*& end) {
  if (read_again_begin_ < read_again_.size()) {
    begin = read_again_.data() + read_again_begin_;
    end = read_again_.data() + read_again_.size();
    return true;
  }
  if (buffer_begin_ < buffer_end_) {
    begin = buffer_.data() + buffer_begin_;
    end = buffer_.data() + buffer_end_;
    return true;
  }
  if (end_of_input_) {
    // Reported once every byte read before the failure is used up. The failing read itself may
    // have taken bytes that it cannot report (libstdc++ drops the count when the stream buffer
    // throws), hence "at or after".
    if (stream_failed_ && read_error_.empty()) {
      read_error_ = "reading failed at or after line " + std::to_string(line_);
    }
    return false;
  }
  in_.read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  buffer_begin_ = 0;
  buffer_end_ = static_cast<std::size_t>(in_.gcount());
  // read() stops short only at the end of the input or on an error; on an error the bytes it did
  // read are still good and are used first.
  if (buffer_end_ < buffer_.size()) end_of_input_ = true;
  if (in_.bad()) {
    stream_failed_ = true;
    end_of_input_ = true;
  }
  return unread_bytes(begin, end);
}

void CsvReader::consume(std::size_t count) noexcept {
  if (read_again_begin_ < read_again_.size()) {
    read_again_begin_ += count;
  } else {
    buffer_begin_ += count;
  }
}

void CsvReader::advance_position(char byte) noexcept {
  if (byte == '\n') {
    ++line_;
    column_ = 1;
  } else {
    ++column_;
  }
}

void CsvReader::read_again(std::string_view bytes, std::uint64_t line) {
  // Bytes still waiting to be read again go after the new ones: they came later in the input.
  std::string pending(bytes);
  pending.append(read_again_, read_again_begin_, std::string::npos);
  read_again_ = std::move(pending);
  read_again_begin_ = 0;
  line_ = line;
  column_ = 1;
}

}  // namespace tsunagu::codec
