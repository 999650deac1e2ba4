// Decoder for the 生活保護システム nightly export, PA_EVENTS_<YYYYMMDD>.csv (SYSTEMS.md,
// "public_assistance"): CP932, CRLF, RFC 4180 quoting, and a header row that must be exactly the
// fifteen column names below.
//
// It only turns bytes into fields. Whether a date, a code or a required value is right is for
// mappings/public_assistance.xml to judge; a record is rejected here only when it cannot be split
// into the fifteen fields or a field is not CP932.
#pragma once

#include <array>
#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

#include <tsunagu/adapter.hpp>

namespace tsunagu::public_assistance {

// The header row, in file order. The decoded fields are keyed by these names.
inline constexpr std::array<std::string_view, 15> kColumns = {
    "処理番号", "版",   "異動区分", "発生日",   "世帯番号", "宛名番号", "氏名", "氏名カナ",
    "生年月日", "性別", "続柄",     "区コード", "住所",     "担当CW",   "備考"};

struct PaEventsDecoderOptions {
  std::size_t max_record_bytes = 1048576;  // 1 MiB; a longer record is rejected on its own
  std::size_t read_buffer_bytes = 65536;   // 64 KiB
};

// Reads the adapter's <settings> (the only one is max_record_bytes, 1 to 67108864). Unknown
// settings are errors, as everywhere in the configuration. On failure returns false and sets
// `error` to a message naming the setting.
bool options_from_settings(const PluginSettings& settings, PaEventsDecoderOptions& options,
                           std::string& error);

class PaEventsDecoder final : public Adapter {
 public:
  // Throws std::system_error if the C library cannot convert CP932 (checked here so that a broken
  // installation fails when the plugin is loaded, not on the first night's file).
  explicit PaEventsDecoder(PaEventsDecoderOptions options = {});

  const char* system() const noexcept override { return "public_assistance"; }

  // Checks the header row, then hands every following record to `sink` as a NativeRecord:
  // number counts data records from 1 (the header is not one), line is where the record starts,
  // raw its CP932 bytes, fields its values in UTF-8 keyed by the kColumns names. A record with the
  // wrong number of fields, a CSV syntax error or bytes that are not CP932 still goes to the sink,
  // with error (and error_field where one field is to blame) set, so the hub can quarantine it.
  // Blank lines carry no record and are skipped.
  //
  // Returns ok=false only when the input as a whole is unusable: a header row that is not exactly
  // kColumns, or a read error (records before it have been delivered). Safe to call from several
  // threads at once: each call has its own converter.
  DecodeResult decode(std::istream& in, const std::string& origin,
                      RecordSink& sink) noexcept override;
  // `raw` is one record's CP932 bytes as decode() handed them out (no header, no line break).
  DecodeResult decode_record(const std::string& raw, RecordSink& sink) noexcept override;

 private:
  PaEventsDecoderOptions options_;
};

}  // namespace tsunagu::public_assistance
