#include "public_assistance/pa_events_decoder.hpp"

#include <charconv>
#include <sstream>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <codec/cp932.hpp>
#include <codec/csv_reader.hpp>

namespace tsunagu::public_assistance {
namespace {

constexpr std::size_t kMaxRecordBytesLimit = 67108864;  // 64 MiB

std::string header_row_text() {
  std::string text;
  for (const std::string_view column : kColumns) {
    if (!text.empty()) text += ',';
    text += column;
  }
  return text;
}

// Why the first row is not the expected header, or an empty string if it is.
std::string header_problem(const codec::CsvRecord& header, codec::Cp932Decoder& cp932) {
  if (!header.error.empty()) return "the header row is not valid CSV: " + header.error;

  // The commonest operator mistake is a file re-saved as UTF-8: say so instead of showing
  // mojibake column names.
  const std::string utf8_header = header_row_text();
  std::string_view raw = header.raw;
  if (raw.starts_with("\xEF\xBB\xBF")) raw.remove_prefix(3);
  if (raw == utf8_header) {
    return "the file is UTF-8, but the 生活保護システム export is CP932; convert it back "
           "(e.g. iconv -f UTF-8 -t CP932)";
  }

  std::string decoded;
  std::string error;
  const std::size_t columns = header.fields.size();
  for (std::size_t i = 0; i < columns && i < kColumns.size(); ++i) {
    std::string problem = "header column " + std::to_string(i + 1);
    if (!cp932.decode(header.fields[i], decoded, error)) {
      problem.append(" is not CP932 text (").append(error).append("); expected '");
      return problem.append(kColumns[i]).append("'");
    }
    if (decoded != kColumns[i]) {
      problem.append(" is '").append(decoded).append("', expected '");
      return problem.append(kColumns[i]).append("'");
    }
  }
  if (columns < kColumns.size()) {
    return "the header row has " + std::to_string(columns) + " columns, expected " +
           std::to_string(kColumns.size()) + ": column " + std::to_string(columns + 1) + " '" +
           std::string(kColumns[columns]) + "' is missing";
  }
  if (columns > kColumns.size()) {
    return "the header row has " + std::to_string(columns) + " columns, expected " +
           std::to_string(kColumns.size()) + ": column " + std::to_string(kColumns.size() + 1) +
           " is extra";
  }
  return {};
}

// Decodes the fields of `csv` into `record`, by column name, as far as they are CP932. Returns
// the first field that is not, with the reason in `error`, or an empty string.
std::string decode_fields(const codec::CsvRecord& csv, NativeRecord& record,
                          codec::Cp932Decoder& cp932, std::string& error) {
  std::string first_bad_field;
  std::string others;
  std::string value;
  std::string reason;
  for (std::size_t i = 0; i < csv.fields.size() && i < kColumns.size(); ++i) {
    const std::string name(kColumns[i]);
    if (cp932.decode(csv.fields[i], value, reason)) {
      record.fields.emplace(name, std::move(value));
      value.clear();
    } else if (first_bad_field.empty()) {
      first_bad_field = name;
      error = reason;
    } else {
      others += others.empty() ? name : ", " + name;
    }
  }
  if (!others.empty()) error += "; also not CP932: " + others;
  return first_bad_field;
}

NativeRecord to_native_record(codec::CsvRecord& csv, std::uint64_t number,
                              codec::Cp932Decoder& cp932) {
  NativeRecord record;
  record.number = number;
  record.line = csv.line;
  record.raw = std::move(csv.raw);

  if (!csv.error.empty()) {
    // Keep the fields that were complete before the error: they help a person find the record
    // in the source system (処理番号 is the first column).
    std::string ignored;
    decode_fields(csv, record, cp932, ignored);
    record.error = "CSV syntax error: " + csv.error;
    if (csv.error_field < kColumns.size()) {
      record.error_field = std::string(kColumns[csv.error_field]);
    }
    return record;
  }
  if (csv.fields.size() != kColumns.size()) {
    // No fields: with a comma too many or too few, every name after it would be attached to the
    // wrong value. raw keeps everything.
    record.error = "the record has " + std::to_string(csv.fields.size()) + " fields, expected " +
                   std::to_string(kColumns.size()) +
                   " (a value containing a comma or a line break must be quoted)";
    return record;
  }
  std::string error;
  std::string bad_field = decode_fields(csv, record, cp932, error);
  if (!bad_field.empty()) {
    record.error = std::move(error);
    record.error_field = std::move(bad_field);
  }
  return record;
}

DecodeResult failure(std::string message, const DecodeResult& so_far = {}) {
  DecodeResult result = so_far;
  result.ok = false;
  result.message = std::move(message);
  return result;
}

}  // namespace

bool options_from_settings(const PluginSettings& settings, PaEventsDecoderOptions& options,
                           std::string& error) {
  for (const auto& [name, value] : settings) {
    if (name != "max_record_bytes") {
      error = "public_assistance adapter: unknown setting '" + name +
              "' (the only setting is max_record_bytes)";
      return false;
    }
    std::size_t bytes = 0;
    const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), bytes);
    if (status != std::errc() || end != value.data() + value.size() || bytes == 0 ||
        bytes > kMaxRecordBytesLimit) {
      error = "public_assistance adapter: setting max_record_bytes is '" + value +
              "', expected a whole number of bytes from 1 to " +
              std::to_string(kMaxRecordBytesLimit);
      return false;
    }
    options.max_record_bytes = bytes;
  }
  return true;
}

PaEventsDecoder::PaEventsDecoder(PaEventsDecoderOptions options) : options_(options) {
  codec::Cp932Decoder probe;  // throws if CP932 is unavailable
}

DecodeResult PaEventsDecoder::decode(std::istream& in, const std::string& origin,
                                     RecordSink& sink) noexcept {
  DecodeResult result;
  std::uint64_t number = 0;
  try {
    codec::Cp932Decoder cp932;
    codec::CsvReader reader(in, {options_.read_buffer_bytes, options_.max_record_bytes});
    codec::CsvRecord csv;

    if (!reader.next(csv)) {
      if (!reader.read_error().empty()) {
        return failure(origin + ": cannot read the header row: " + reader.read_error());
      }
      return failure(origin + ": the input is empty; expected the header row " + header_row_text());
    }
    if (const std::string problem = header_problem(csv, cp932); !problem.empty()) {
      return failure(origin + ": not a 生活保護システム events file: " + problem);
    }

    while (reader.next(csv)) {
      if (csv.error.empty() && csv.raw.empty()) continue;  // a blank line
      NativeRecord record = to_native_record(csv, ++number, cp932);
      ++result.records;
      if (!sink.accept(std::move(record))) {
        result.stopped = true;
        return result;
      }
    }
    if (!reader.read_error().empty()) {
      return failure(origin + ": " + reader.read_error() + ", after data record " +
                         std::to_string(number) + "; the records before it were delivered",
                     result);
    }
    return result;
  } catch (const std::exception& e) {
    return failure(
        origin + ": decoding stopped after data record " + std::to_string(number) + ": " + e.what(),
        result);
  } catch (...) {
    return failure(origin + ": decoding stopped after data record " + std::to_string(number) +
                       ": unknown exception",
                   result);
  }
}

DecodeResult PaEventsDecoder::decode_record(const std::string& raw, RecordSink& sink) noexcept {
  try {
    // Re-frame the record as a one-record export, so it is split and checked exactly as before.
    codec::Cp932Encoder encoder;
    std::string header, error;
    if (!encoder.encode(header_row_text(), header, error)) {
      DecodeResult result;
      result.ok = false;
      result.message = "cannot encode the header row: " + error;
      return result;
    }
    std::istringstream in(header + "\r\n" + raw + "\r\n");
    return decode(in, "quarantined record", sink);
  } catch (const std::exception& e) {
    DecodeResult result;
    result.ok = false;
    result.message = e.what();
    return result;
  }
}

}  // namespace tsunagu::public_assistance
