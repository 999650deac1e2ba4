// fuzz_cp932_csv: the codec under the public-assistance adapter. One input is read as CSV (with
// several buffer sizes and a small record limit), and as CP932 and UTF-8 text both ways.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <codec/cp932.hpp>
#include <codec/csv_reader.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

// Reads every record of `bytes` and checks the reader's promises; "" when they held.
inline std::string read_csv(std::string_view bytes, const codec::CsvReaderOptions& options,
                            std::vector<codec::CsvRecord>& records) {
  auto in = stream_of(bytes);
  codec::CsvReader reader(in, options);
  codec::CsvRecord record;
  while (reader.next(record)) {
    const std::string where = "record " + std::to_string(record.number) + ": ";
    if (record.number != records.size() + 1) return where + "numbers must count from 1";
    if (record.line == 0) return where + "line is 0";
    if (!records.empty() && record.line <= records.back().line) {
      return where + "does not start after the previous record (line " +
             std::to_string(record.line) + ")";
    }
    if (record.raw.size() > options.max_record_bytes) {
      return where + "raw holds " + std::to_string(record.raw.size()) + " bytes, over the limit";
    }
    if (bytes.find(record.raw) == std::string_view::npos) {
      return where + "raw " + excerpt(record.raw) + " is not bytes of the input";
    }
    if (record.error.empty()) {
      if (record.error_field != codec::CsvRecord::kNoField) return where + "error_field, no error";
      if (record.fields.empty()) return where + "no fields and no error";
    } else if (record.error_field > record.fields.size()) {
      return where + "error_field " + std::to_string(record.error_field) + " beyond the " +
             std::to_string(record.fields.size()) + " fields read";
    }
    records.push_back(record);
  }
  if (reader.records() != records.size()) return "records() disagrees with the records read";
  if (!reader.read_error().empty()) return "read error from a string stream";
  return {};
}

// The record as RFC 4180 text that quotes every field.
inline std::string quoted_row(const std::vector<std::string>& fields) {
  std::string row;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) row += ',';
    row += '"';
    for (const char c : fields[i]) {
      if (c == '"') row += '"';
      row += c;
    }
    row += '"';
  }
  return row + "\r\n";
}

inline std::string check_csv(std::string_view bytes) {
  std::vector<codec::CsvRecord> records;
  if (std::string problem = read_csv(bytes, {}, records); !problem.empty()) return problem;

  // Buffer boundaries change nothing.
  codec::CsvReaderOptions small;
  small.buffer_bytes = small_buffer(bytes);
  std::vector<codec::CsvRecord> small_records;
  const std::string what = "buffer of " + std::to_string(small.buffer_bytes) + " bytes: ";
  if (std::string problem = read_csv(bytes, small, small_records); !problem.empty()) {
    return what + problem;
  }
  if (small_records != records) return what + "the records differ";

  // A limit the input reaches: over-long records are cut, the reader goes on.
  codec::CsvReaderOptions limited = small;
  limited.max_record_bytes = 1 + bytes.size() % 64;
  std::vector<codec::CsvRecord> limited_records;
  if (std::string problem = read_csv(bytes, limited, limited_records); !problem.empty()) {
    return "limit of " + std::to_string(limited.max_record_bytes) + " bytes: " + problem;
  }

  // Each good record, written back with every field quoted, reads as the same fields.
  for (const codec::CsvRecord& record : records) {
    if (!record.error.empty()) continue;
    const std::string row = quoted_row(record.fields);
    std::vector<codec::CsvRecord> again;
    if (std::string problem = read_csv(row, {}, again); !problem.empty()) {
      return "record " + std::to_string(record.number) + " written back: " + problem;
    }
    if (again.size() != 1 || !again.front().error.empty() ||
        again.front().fields != record.fields) {
      return "record " + std::to_string(record.number) + " written back quoted reads differently";
    }
  }
  return {};
}

inline std::string check_cp932(std::string_view bytes) {
  codec::Cp932Decoder decoder;
  codec::Cp932Encoder encoder;
  std::string utf8;
  std::string cp932;
  std::string again;
  std::string error;

  // CP932 → UTF-8: valid UTF-8 out, and that text encodes back to bytes that decode to it.
  if (decoder.decode(bytes, utf8, error)) {
    if (!error.empty()) return "decode succeeded but set an error";
    if (!is_valid_utf8(utf8)) return "decode produced invalid UTF-8: " + excerpt(utf8);
    if (codec::is_ascii(bytes) && utf8 != bytes) return "ASCII did not decode to itself";
    if (!encoder.encode(utf8, cp932, error)) {
      return "decoded text does not encode back: " + error;
    }
    if (!decoder.decode(cp932, again, error) || again != utf8) {
      return "decoded text, encoded back, decodes differently";
    }
  } else {
    if (error.empty()) return "decode failed without a reason";
    if (!is_valid_utf8(error)) return "decode error is not UTF-8";
    if (!is_valid_utf8(utf8)) return "the part decoded before the error is not UTF-8";
  }

  // UTF-8 → CP932: only valid UTF-8 encodes, and encoding is stable over a round trip.
  error.clear();
  if (encoder.encode(bytes, cp932, error)) {
    if (!is_valid_utf8(bytes)) return "invalid UTF-8 encoded without error";
    if (!decoder.decode(cp932, utf8, error)) return "encoded bytes do not decode: " + error;
    std::string cp932_again;
    if (!encoder.encode(utf8, cp932_again, error) || cp932_again != cp932) {
      return "encode → decode → encode is not stable";
    }
  } else {
    if (error.empty()) return "encode failed without a reason";
    if (!is_valid_utf8(error)) return "encode error is not UTF-8";
  }
  return {};
}

inline std::string one_input_cp932_csv(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = as_text(data, size);
  try {
    if (std::string problem = check_csv(bytes); !problem.empty()) return "CSV: " + problem;
    if (std::string problem = check_cp932(bytes); !problem.empty()) return "CP932: " + problem;
    // The fields one by one, as the public-assistance adapter decodes them.
    std::vector<codec::CsvRecord> records;
    static_cast<void>(read_csv(bytes, {}, records));
    for (const codec::CsvRecord& record : records) {
      for (const std::string& field : record.fields) {
        if (std::string problem = check_cp932(field); !problem.empty()) {
          return "CP932, field of record " + std::to_string(record.number) + ": " + problem;
        }
      }
    }
  } catch (const std::exception& e) {
    return std::string("exception escaped the codec: ") + e.what();
  }
  return {};
}

}  // namespace tsunagu::fuzz
