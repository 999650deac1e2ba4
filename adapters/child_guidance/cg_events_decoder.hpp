// Decoder for the 児童相談所システム events (SYSTEMS.md, "child_guidance"): JSON in UTF-8, either
// one object per input (an HTTPS push with Content-Type application/json, often pretty-printed
// over several lines) or one object per line (application/x-ndjson pushes and the
// CG_<YYYYMMDD>.ndjson spool files). cg_event_parser.hpp turns each object into native fields.
//
// How records are framed (setting `format`):
//
//   ndjson  Every line that is not blank is one record. Lines end in LF or CR LF.
//   json    The whole input is one record (at most max_record_bytes).
//   auto    (the default) Both, told apart line by line, so the same adapter serves spool files
//           and both kinds of push. A record starts at a line that is not blank. If that line
//           leaves an object or array open (outside any string: `{` alone, or `{"event_id": …,`),
//           the record is a pretty-printed value and continues on the following lines until the
//           value closes. Otherwise the line is the record, as in NDJSON. Valid JSON never breaks a
//           line inside a string, so a line that ends inside a string is a damaged NDJSON line,
//           not part of a pretty-printed value.
//
//           A damaged NDJSON line (cut off, say) also leaves an object open, and the lines after
//           it must not be swallowed: a line that starts with `{` in its first column and is a
//           complete object by itself ends such a value early. The value's lines are then decoded
//           one by one, as NDJSON (each its own rejected record), and decoding goes on at that
//           line. A value that never closes by the end of the input, or that breaks a line inside
//           a string, is one rejected record (a truncated push).
//
// Memory: one read buffer and the current record (at most max_record_bytes, about twice while it
// is parsed), never the input. A longer record is rejected on its own, its raw cut one byte past
// the limit, and the input goes on after it.
#pragma once

#include <cstddef>
#include <istream>
#include <string>

#include <tsunagu/adapter.hpp>

namespace tsunagu::child_guidance {

enum class InputFormat { automatic, ndjson, json };

struct CgEventsDecoderOptions {
  InputFormat format = InputFormat::automatic;
  std::size_t max_record_bytes = 1048576;  // 1 MiB
  std::size_t read_buffer_bytes = 65536;   // 64 KiB
};

// Reads the adapter's settings: format (auto, ndjson or json) and max_record_bytes (1 to
// 67108864). Unknown settings are errors, as everywhere in the configuration. On failure returns
// false and sets `error` to a message naming the setting.
bool options_from_settings(const PluginSettings& settings, CgEventsDecoderOptions& options,
                           std::string& error);

class CgEventsDecoder final : public Adapter {
 public:
  explicit CgEventsDecoder(CgEventsDecoderOptions options = {});

  const char* system() const noexcept override { return "child_guidance"; }

  // Hands every record to `sink`: number counts records from 1, line is where the record starts
  // (1-based), raw its bytes without the final line break (a UTF-8 byte order mark at the start
  // of the input is dropped), fields as cg_event_parser.hpp describes. A record that is not a
  // usable event still goes to the sink, with error (and error_field where one field is to blame)
  // set, so that the hub quarantines it; the records after it go on.
  //
  // Returns ok=false only when the input as a whole is unusable: a read error (records before it
  // have been delivered), or, with format=json, an input with nothing but white space. An empty
  // input is a valid empty batch otherwise. Safe to call from several threads at once.
  DecodeResult decode(std::istream& in, const std::string& origin,
                      RecordSink& sink) noexcept override;

  // Decodes one record again from the raw bytes decode() handed out (for `tsunagu quarantine
  // retry`): they are one JSON text whatever the framing was (a line, or a pretty-printed value
  // over several lines), so they are parsed as such and judged as in their input. raw longer
  // than max_record_bytes — a record decode() cut, or one from before the limit was lowered — is
  // rejected as too long again.
  DecodeResult decode_record(const std::string& raw, RecordSink& sink) noexcept override;

 private:
  CgEventsDecoderOptions options_;
};

}  // namespace tsunagu::child_guidance
