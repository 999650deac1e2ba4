// Adapter plugins decode one system's native format into flat field maps. They know nothing of
// canonical events: everything semantic is in mappings/<system>.xml.
//
// Nothing here throws across the boundary: decode() is noexcept and reports through its result,
// and the hub's RecordSink never throws into the plugin.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <memory>
#include <string>

#include <tsunagu/plugin.hpp>

namespace tsunagu {

// One native record. If error is non-empty the record could not be decoded (invalid bytes, wrong
// length, …) and goes to quarantine with raw kept; fields may then be partial.
struct NativeRecord {
  std::uint64_t number = 0;  // 1-based position of the record in its input
  std::uint64_t line = 0;    // 1-based line where it starts, for line-oriented formats; else 0
  std::string raw;           // the record's bytes exactly as received (for quarantine and digests)
  std::map<std::string, std::string> fields;  // native field name → value in UTF-8
  std::string error_field;   // the native field the error concerns, if any
  std::string error;         // why the record was rejected by the decoder
};

class BOOST_SYMBOL_VISIBLE RecordSink {
 public:
  virtual ~RecordSink() = default;
  // Takes one record. Returns false to ask the adapter to stop early (shutdown); never throws.
  virtual bool accept(NativeRecord&& record) noexcept = 0;
};

struct DecodeResult {
  bool ok = true;            // false: the input as a whole is unusable (e.g. wrong header row)
  std::string message;       // why, when !ok
  std::uint64_t records = 0; // records handed to the sink
  bool stopped = false;      // the sink asked to stop
};

class BOOST_SYMBOL_VISIBLE Adapter {
 public:
  virtual ~Adapter() = default;
  // The system this adapter decodes, e.g. "public_assistance".
  virtual const char* system() const noexcept = 0;
  // Streams `in` record by record into `sink`. `origin` names the input (file name) for messages.
  // Must not hold the whole input in memory.
  virtual DecodeResult decode(std::istream& in, const std::string& origin,
                              RecordSink& sink) noexcept = 0;
  // Decodes one record again from the exact bytes it was handed out with (NativeRecord::raw), so
  // that `tsunagu quarantine retry` can re-process a quarantined record after its mapping was
  // fixed. Hands at most one record to `sink`. An adapter that cannot returns ok = false.
  virtual DecodeResult decode_record(const std::string& raw, RecordSink& sink) noexcept {
    static_cast<void>(raw);
    static_cast<void>(sink);
    DecodeResult result;
    result.ok = false;
    result.message = "this adapter cannot decode a single record again";
    return result;
  }
};

// The factory every adapter plugin exports as tsunagu_create_adapter. On failure it returns null
// and sets `error`.
using AdapterFactory = Adapter*(const PluginSettings& settings, std::string& error);

}  // namespace tsunagu

// Exports the descriptor and the factory of an adapter plugin. `factory_` is a function with the
// AdapterFactory signature.
#define TSUNAGU_ADAPTER_PLUGIN(name_, version_, factory_)                           \
  TSUNAGU_PLUGIN_DESCRIPTOR(::tsunagu::PluginKind::adapter, name_, version_)        \
  BOOST_DLL_ALIAS(factory_, tsunagu_create_adapter)
