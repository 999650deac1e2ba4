// The declarative mapping from one system's native field map to the canonical CaseEvent
// (DESIGN.md, "Mappings"). Adapters only split a format into `native name → string`; everything
// semantic — renames, required fields, date forms, code tables, event kinds — is read from
// mappings/<system>.xml, so IT staff change it without recompiling. mappings/README.md documents
// the XML vocabulary.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <tsunagu/event.hpp>

namespace tsunagu::mapping {

// A mapping file that cannot be used: malformed XML, a schema violation, or a semantic error
// (a code table that does not exist, an unknown canonical target, …). what() lists every problem
// found, one per line, as "<file>:<line>: <reason>" (line 0 when the problem has no line).
class MappingError : public std::runtime_error {
 public:
  struct Problem {
    long line = 0;
    std::string reason;
  };

  MappingError(std::filesystem::path file, std::vector<Problem> problems);

  const std::filesystem::path& file() const noexcept { return file_; }
  const std::vector<Problem>& problems() const noexcept { return problems_; }

 private:
  std::filesystem::path file_;
  std::vector<Problem> problems_;
};

// Why one native field of a record cannot be mapped.
struct FieldError {
  std::string field;   // the NATIVE field name, as the source system calls it
  std::string reason;  // e.g. "unknown ward code '01199' (code table 'ward')"

  bool operator==(const FieldError&) const = default;
};

// "<field>: <reason>", the form used in error reports.
std::string to_string(const FieldError& error);

struct MapResult {
  CaseEvent event;  // filled as far as possible even when there are errors (for dry runs)
  std::vector<FieldError> errors;

  bool ok() const noexcept { return errors.empty(); }
};

namespace detail {
struct Model;
}

class Mapping {
 public:
  // Reads, validates (against `xsd`, then semantically) and compiles a mapping file. Throws
  // MappingError naming the file, the line and the reason. XML is read with network access, DTD
  // loading and entity expansion off; a file that declares a DTD or entities is refused outright.
  // Call from one thread at a time (start-up): libxml2's error hook is per thread.
  static Mapping load_file(const std::filesystem::path& mapping_xml,
                           const std::filesystem::path& xsd);

  // The system id, e.g. "public_assistance"; becomes CaseEvent::source.
  const std::string& system() const;
  // The file this mapping was loaded from.
  const std::filesystem::path& file() const;
  // Settings the mapping passes to its adapter plugin (<adapter-settings>); empty when none.
  const std::map<std::string, std::string>& adapter_settings() const;

  // Maps one native record. Collects every field error of the record, not only the first. The
  // event's id stays empty: the store assigns it. Const and immutable after load, so any number of
  // threads may call it at once; never throws (an internal failure becomes a FieldError).
  MapResult map(const std::map<std::string, std::string>& native_fields) const noexcept;

 private:
  explicit Mapping(std::shared_ptr<const detail::Model> model);
  // Shared and immutable: copying a Mapping is cheap and copies see the same compiled rules.
  std::shared_ptr<const detail::Model> model_;
};

}  // namespace tsunagu::mapping
