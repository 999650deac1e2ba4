// Decoder for the 学齢簿・校務システム mainframe export, ED_<YYYYMMDD>.dat (SYSTEMS.md,
// "education"): CP932, fixed-width records of exactly `record_length` bytes, each followed by
// CR LF.
//
// The adapter knows no field positions of its own. The layout — the record length and the byte
// range of every field — is read from the plugin settings, which the hub takes from the
// <adapter-settings> of mappings/education.xml (config settings override them). A mainframe layout
// change is then a mapping edit, reviewed with `tsunagu mapping test`, not a recompile.
//
// Settings (all required; any other name is refused):
//   record_length   the bytes of one record before its CR LF, 1 to 65536 (200 for the export)
//   field-<name>    the 1-based, inclusive byte range of the native field <name>, "FIRST-LAST"
//                   (e.g. "34-63"), or "N" for a one-byte field. Positions count as the interface
//                   specification counts them, so the mapping can be checked against it by eye.
//                   A dash, not a dot, after "field": a site overrides a setting in tsunagu.xml as
//                   an element <field-remarks>, and the config reader reads dots as paths.
// The fields must tile the record: no overlap, nothing beyond record_length, and no byte that
// belongs to no field (unused bytes are declared as a field of their own, e.g. field-filler) —
// a typo in one position then stops start-up instead of silently shifting a field.
//
// Like every adapter it only turns bytes into fields: values are emitted in UTF-8 with their
// padding left in place (half-width spaces; zeros of numeric fields), and mappings/education.xml
// trims and judges them.
#pragma once

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

#include <tsunagu/adapter.hpp>

namespace tsunagu::education {

// One native field: its name and where it lies in the record.
struct FieldSpan {
  std::string name;
  std::size_t first = 0;  // 1-based position of its first byte
  std::size_t last = 0;   // 1-based position of its last byte (inclusive)

  std::size_t offset() const noexcept { return first - 1; }
  std::size_t size() const noexcept { return last - first + 1; }
  bool operator==(const FieldSpan&) const = default;
};

struct RecordLayout {
  std::size_t record_length = 0;
  std::vector<FieldSpan> fields;  // in byte order; together they cover 1..record_length exactly

  bool operator==(const RecordLayout&) const = default;
};

inline constexpr std::size_t kMaxRecordLength = 65536;

// Reads and checks the layout settings described above. On failure returns false and sets
// `error` to every problem found, naming the setting or the fields concerned, e.g.
// "education adapter: field 'name' (bytes 34–63) overlaps field 'name_kana' (bytes 60–93)".
bool layout_from_settings(const PluginSettings& settings, RecordLayout& layout, std::string& error);

struct EdRecordDecoderOptions {
  std::size_t read_buffer_bytes = 65536;  // 64 KiB
  // A line much longer than a record (a lost line break, a file of the wrong kind) is still one
  // rejected record, but only its first `max_raw_bytes` are kept for the quarantine; the rest is
  // counted and skipped, so memory does not grow with the line.
  std::size_t max_raw_bytes = 65536;
};

class EdRecordDecoder final : public Adapter {
 public:
  // `layout` must have passed layout_from_settings (throws std::invalid_argument otherwise).
  // Throws std::system_error if the C library cannot convert CP932 (checked here so that a broken
  // installation fails when the plugin is loaded, not on the first night's file).
  explicit EdRecordDecoder(RecordLayout layout, EdRecordDecoderOptions options = {});

  const char* system() const noexcept override { return "education"; }
  const RecordLayout& layout() const noexcept { return layout_; }

  // Hands every line of `in` to `sink` as one NativeRecord: number and line both count lines from
  // 1 (an empty line is a record too, and a wrong one); raw is the line's bytes without its CR LF
  // (a line that ended in a bare LF keeps it: that LF is what is wrong with it); fields maps each
  // layout field name to its UTF-8 text, padding included.
  //
  // A record is rejected (error set, and error_field where one field is to blame), while the rest
  // of the input goes on, when:
  //   - its length before CR LF is not record_length (no fields then: every position would be
  //     off);
  //   - the line ends in LF without CR;
  //   - a two-byte CP932 character straddles a field boundary (error_field is the field it starts
  //     in; neither field is emitted) or the end of the record;
  //   - a field is not CP932 (error_field is that field; the fields that decode are still given).
  // The last line may lack its CR LF: it is still a record, judged by its length alone.
  //
  // Returns ok=false only for a read error (the records before it have been delivered). Safe to
  // call from several threads at once: each call has its own converter and buffer.
  DecodeResult decode(std::istream& in, const std::string& origin,
                      RecordSink& sink) noexcept override;

  // Decodes one record again from the raw bytes decode() handed out (for `tsunagu quarantine
  // retry`), judged exactly as in its file: a record that was rejected for its framing (length,
  // bare LF) is rejected again. Only a line longer than max_raw_bytes differs: just its kept
  // beginning is there, so the length given is that of the beginning.
  DecodeResult decode_record(const std::string& raw, RecordSink& sink) noexcept override;

 private:
  RecordLayout layout_;
  EdRecordDecoderOptions options_;
};

}  // namespace tsunagu::education
