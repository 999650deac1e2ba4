// A streaming RFC 4180 CSV reader over raw bytes.
//
// It never decodes text: fields come out as the bytes of the input, so it serves CP932 as well as
// UTF-8 files. That is safe because neither encoding ever uses the bytes of '"', ',', CR or LF
// inside a multi-byte character (CP932 trail bytes are 0x40–0x7E and 0x80–0xFC).
//
// What it accepts: any field may be quoted; "" inside quotes is one quote; a quoted field may
// contain commas, CR and LF. Records end at CRLF; a bare LF and a missing final line break are
// accepted too, because files get edited and cut by hand before they reach us.
//
// What it rejects, one record at a time: a quote inside an unquoted field, text after a closing
// quote, a CR not followed by LF outside quotes, a quoted field that is never closed, and a record
// longer than the limit. Such a record comes back with `error` set and the reader carries on at
// the next line break, so one bad record never costs the rest of the file.
//
// Memory is one fixed read buffer plus the current record (at most max_record_bytes, kept twice:
// raw and split into fields), never the size of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace tsunagu::codec {

struct CsvRecord {
  static constexpr std::size_t kNoField = static_cast<std::size_t>(-1);

  std::vector<std::string> fields;  // field bytes; quoting removed, "" turned into "
  std::uint64_t number = 0;         // 1-based position among the records of the input
  std::uint64_t line = 0;           // 1-based line on which the record starts
  std::string raw;                  // the record's bytes as read, without its line break
  // Non-empty when the record is malformed; `fields` then holds only the fields completed before
  // the error, and `error_field` the 0-based index of the field the error is in.
  std::string error;
  std::size_t error_field = kNoField;

  bool operator==(const CsvRecord&) const = default;
};

struct CsvReaderOptions {
  std::size_t buffer_bytes = 65536;        // 64 KiB per read; does not limit record length
  std::size_t max_record_bytes = 1048576;  // 1 MiB; a longer record is an error for that record
};

class CsvReader {
 public:
  // `in` must outlive the reader. Throws std::invalid_argument for a zero buffer or record limit.
  explicit CsvReader(std::istream& in, CsvReaderOptions options = {});

  // Reads the next record into `record`, reusing its storage. Returns false when there are no more
  // records: at the end of the input, or when the stream failed (see read_error()). A line break
  // with nothing before it is a record with one empty field, as RFC 4180 has it; whether that
  // means anything is the caller's business.
  bool next(CsvRecord& record);

  // Non-empty once reading stopped because the stream reported an I/O error (badbit): the input
  // was not read to its end, and a partly read record was dropped rather than returned. Bytes of
  // the read that failed are lost, so records in that last buffer may be dropped too.
  const std::string& read_error() const noexcept { return read_error_; }

  // Records returned so far.
  std::uint64_t records() const noexcept { return records_; }

 private:
  // The unread bytes: first those to read again after a resynchronisation, then the buffer,
  // refilled from the stream when both are used up. False at the end of input or on a read error.
  bool unread_bytes(const char*& begin, const char*& end);
  void consume(std::size_t count) noexcept;
  void advance_position(char byte) noexcept;
  // Puts `bytes` (already read once) in front of the unread bytes; they start on `line`.
  void read_again(std::string_view bytes, std::uint64_t line);

  std::istream& in_;
  CsvReaderOptions options_;
  std::vector<char> buffer_;
  std::size_t buffer_begin_ = 0;
  std::size_t buffer_end_ = 0;
  // Bytes already read once that belong after a record cut short by an unclosed quote.
  std::string read_again_;
  std::size_t read_again_begin_ = 0;
  bool end_of_input_ = false;  // the stream has nothing more to give
  bool stream_failed_ = false;
  std::string read_error_;
  std::uint64_t records_ = 0;
  std::uint64_t line_ = 1;    // position of the next unread byte: line …
  std::uint64_t column_ = 1;  // … and 1-based byte within that line
};

}  // namespace tsunagu::codec
