// An example adapter for a made-up system, "example_csv": a UTF-8 or CP932 CSV file whose first
// row names the fields. It shows what every adapter does — stream records, hand each to the sink
// as native field name → UTF-8 value, report a bad record on the record and a bad file on the
// result, never throw — using the SDK's codec (codec/csv_reader.hpp, codec/cp932.hpp).
#include <string>
#include <vector>

#include <codec/cp932.hpp>
#include <codec/csv_reader.hpp>
#include <tsunagu/adapter.hpp>

namespace {

class ExampleCsvAdapter final : public tsunagu::Adapter {
 public:
  explicit ExampleCsvAdapter(bool cp932) : cp932_(cp932) {}

  const char* system() const noexcept override { return "example_csv"; }

  tsunagu::DecodeResult decode(std::istream& in, const std::string& origin,
                               tsunagu::RecordSink& sink) noexcept override {
    tsunagu::DecodeResult result;
    try {
      tsunagu::codec::CsvReader reader(in);
      tsunagu::codec::CsvRecord row;
      std::vector<std::string> header;
      if (!reader.next(row) || !row.error.empty()) {
        result.ok = false;
        result.message = origin + ": no header row";
        return result;
      }
      for (const auto& name : row.fields) header.push_back(text(name));
      while (reader.next(row)) {
        tsunagu::NativeRecord record;
        record.number = ++result.records;
        record.line = row.line;
        record.raw = row.raw;
        if (!row.error.empty()) {
          record.error = row.error;
        } else if (row.fields.size() != header.size()) {
          record.error = "has " + std::to_string(row.fields.size()) + " fields, the header " +
                         std::to_string(header.size());
        } else {
          for (std::size_t i = 0; i < header.size(); ++i) {
            std::string value, error;
            if (!utf8(row.fields[i], value, error)) {
              record.error_field = header[i];
              record.error = error;
              break;
            }
            record.fields[header[i]] = std::move(value);
          }
        }
        if (!sink.accept(std::move(record))) {
          result.stopped = true;
          break;
        }
      }
      if (!reader.read_error().empty()) {
        result.ok = false;
        result.message = origin + ": " + reader.read_error();
      }
    } catch (const std::exception& e) {  // nothing may cross the plugin boundary
      result.ok = false;
      result.message = origin + ": " + e.what();
    }
    return result;
  }

 private:
  bool utf8(const std::string& bytes, std::string& out, std::string& error) {
    if (!cp932_) {
      out = bytes;
      return true;
    }
    return decoder_.decode(bytes, out, error);
  }
  std::string text(const std::string& bytes) {
    std::string out, error;
    return utf8(bytes, out, error) ? out : bytes;
  }

  bool cp932_;
  tsunagu::codec::Cp932Decoder decoder_;
};

// Settings come from the mapping's <adapter> settings and tsunagu.xml <settings>; an unknown one
// is refused, so a typo never goes unnoticed.
tsunagu::Adapter* create(const tsunagu::PluginSettings& settings, std::string& error) noexcept {
  bool cp932 = false;
  for (const auto& [name, value] : settings) {
    if (name == "encoding" && (value == "utf-8" || value == "cp932")) {
      cp932 = value == "cp932";
    } else {
      error = "example_csv: unknown setting or value: " + name + "='" + value +
              "' (known: encoding = utf-8 | cp932)";
      return nullptr;
    }
  }
  try {
    return new ExampleCsvAdapter(cp932);
  } catch (const std::exception& e) {
    error = std::string("example_csv: ") + e.what();
    return nullptr;
  }
}

}  // namespace

TSUNAGU_ADAPTER_PLUGIN("example_csv", "1.0.0", create)
