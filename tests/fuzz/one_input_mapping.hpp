// fuzz_mapping: the mapping engine over the shipped mappings/*.xml, and the date parsers under it.
//
// One input is one native record for one mapping:
//   line 1   the system (e.g. "public_assistance"); a line naming no loaded mapping picks one by
//            its first byte, so that every input reaches some mapping
//   the rest the values, separated by TAB, in the order the mapping declares its native fields
//            (native="…" in the file); a value of exactly "\x7f" (DEL) leaves that field out of
//            the map, missing fields are left out too, values beyond the fields are ignored
// Every value is also parsed as a date and a date-time in every form.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <mapping/japanese_date.hpp>
#include <mapping/mapping.hpp>

#include "fuzz_support.hpp"

namespace tsunagu::fuzz {

struct LoadedMapping {
  mapping::Mapping mapping;
  std::vector<std::string> native_fields;  // in file order
};

// native="…" attribute values in file order, without repeats.
inline std::vector<std::string> declared_native_fields(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> names;
  constexpr std::string_view kAttribute = " native=\"";
  for (std::size_t at = text.find(kAttribute); at != std::string::npos;
       at = text.find(kAttribute, at + 1)) {
    const std::size_t begin = at + kAttribute.size();
    const std::size_t end = text.find('"', begin);
    if (end == std::string::npos) break;
    std::string name = text.substr(begin, end - begin);
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

// Every mapping in mappings/ that loads, by file name. One that does not (being edited) is left
// out with a warning: the mapping tests, not the fuzzer, report broken mappings.
inline const std::vector<LoadedMapping>& shipped_mappings() {
  static const std::vector<LoadedMapping> loaded = [] {
    const std::filesystem::path dir = source_dir() / "mappings";
    std::set<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      if (entry.path().extension() == ".xml") files.insert(entry.path());
    }
    std::vector<LoadedMapping> mappings;
    for (const auto& file : files) {
      try {
        mappings.push_back(
            {mapping::Mapping::load_file(file, dir / "mapping.xsd"), declared_native_fields(file)});
      } catch (const std::exception& e) {
        std::fprintf(stderr, "fuzz_mapping: %s left out: %s\n", file.c_str(), e.what());
      }
    }
    return mappings;
  }();
  return loaded;
}

inline bool is_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (const std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int year = std::stoi(std::string(text.substr(0, 4)));
  const auto month = static_cast<unsigned>(std::stoi(std::string(text.substr(5, 2))));
  const auto day = static_cast<unsigned>(std::stoi(std::string(text.substr(8, 2))));
  return year >= 0 && day >= 1 && day <= mapping::days_in_month(year, month);
}

// YYYY-MM-DDTHH:MM:SS+09:00, a real date and time.
inline bool is_canonical_datetime(std::string_view text) {
  if (text.size() != 25 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      text.substr(19) != "+09:00" || !is_iso_date(text.substr(0, 10))) {
    return false;
  }
  for (const std::size_t i : {11, 12, 14, 15, 17, 18}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  const int hour = std::stoi(std::string(text.substr(11, 2)));
  const int minute = std::stoi(std::string(text.substr(14, 2)));
  const int second = std::stoi(std::string(text.substr(17, 2)));
  return hour < 24 && minute < 60 && second < 60;
}

inline std::string check_dates(std::string_view value) {
  const mapping::DateResult date = mapping::parse_date(value);
  if (date.ok()) {
    const std::string iso = date.date.iso();
    if (!is_iso_date(iso)) return "parse_date('" + std::string(value) + "') gave " + iso;
    const mapping::DateResult again = mapping::parse_date(iso, {mapping::DateForm::iso});
    if (!again.ok() || again.date != date.date) {
      return "parse_date('" + std::string(value) + "') gave " + iso + ", which does not parse back";
    }
  } else if (!is_valid_utf8(date.error) && is_valid_utf8(value)) {
    return "parse_date error is not UTF-8";
  }
  const mapping::DateTimeResult datetime = mapping::parse_datetime(value);
  if (datetime.ok()) {
    if (!is_canonical_datetime(datetime.iso)) {
      return "parse_datetime('" + std::string(value) + "') gave '" + datetime.iso + "'";
    }
    const mapping::DateTimeResult again =
        mapping::parse_datetime(datetime.iso, {mapping::DateForm::iso_datetime});
    if (!again.ok() || again.iso != datetime.iso) {
      return "parse_datetime('" + std::string(value) + "') gave " + datetime.iso +
             ", which does not parse back to itself";
    }
  } else if (!is_valid_utf8(datetime.error) && is_valid_utf8(value)) {
    return "parse_datetime error is not UTF-8";
  }
  return {};
}

inline std::string check_event(const LoadedMapping& loaded, const mapping::MapResult& result,
                               bool all_utf8) {
  const mapping::Mapping& m = loaded.mapping;
  const CaseEvent& event = result.event;
  if (event.source != m.system()) return "source is '" + event.source + "'";
  if (!event.id.empty()) return "map() set an id; the store assigns it";
  for (const mapping::FieldError& error : result.errors) {
    if (error.reason.empty()) return "an error without a reason (field '" + error.field + "')";
    if (std::find(loaded.native_fields.begin(), loaded.native_fields.end(), error.field) ==
        loaded.native_fields.end()) {
      return "error names '" + error.field + "', not a native field: " + error.reason;
    }
    if (all_utf8 && !is_valid_utf8(error.reason)) return "error reason is not UTF-8";
  }
  if (!event.occurred_at.empty() && !is_canonical_datetime(event.occurred_at)) {
    return "occurred_at is '" + event.occurred_at + "'";
  }
  if (!event.subject.birth_date.empty() && !is_iso_date(event.subject.birth_date)) {
    return "birth_date is '" + event.subject.birth_date + "'";
  }
  if (result.ok()) {
    // The idempotency key and the kind: the loader makes sure a good record has them.
    if (event.source_ref.empty()) return "no error, but no source_ref";
    if (event.source_version < 1)
      return "no error, but source_version " + std::to_string(event.source_version);
    if (event.occurred_at.empty()) return "no error, but no occurred_at";
    if (event.kind.empty()) return "no error, but no kind";
  }
  return {};
}

inline std::string one_input_mapping(const std::uint8_t* data, std::size_t size) {
  const std::vector<LoadedMapping>& mappings = shipped_mappings();
  if (mappings.empty()) return "no mapping in mappings/ loads";
  std::string_view bytes = as_text(data, size);

  const std::size_t newline = bytes.find('\n');
  const std::string_view system = bytes.substr(0, newline);
  bytes = newline == std::string_view::npos ? std::string_view{} : bytes.substr(newline + 1);
  const LoadedMapping* chosen = nullptr;
  for (const LoadedMapping& loaded : mappings) {
    if (loaded.mapping.system() == system) chosen = &loaded;
  }
  if (chosen == nullptr) {
    const std::size_t pick = system.empty() ? 0 : static_cast<unsigned char>(system[0]);
    chosen = &mappings[pick % mappings.size()];
  }

  std::map<std::string, std::string> fields;
  bool all_utf8 = true;
  std::size_t index = 0;
  while (index < chosen->native_fields.size()) {
    const std::size_t tab = bytes.find('\t');
    const std::string_view value = bytes.substr(0, tab);
    if (std::string problem = check_dates(value); !problem.empty()) return problem;
    if (value != "\x7f") {
      all_utf8 = all_utf8 && is_valid_utf8(value);
      fields.emplace(chosen->native_fields[index], value);
    }
    ++index;
    if (tab == std::string_view::npos) break;
    bytes.remove_prefix(tab + 1);
  }

  const mapping::MapResult result = chosen->mapping.map(fields);
  if (std::string problem = check_event(*chosen, result, all_utf8); !problem.empty()) {
    return chosen->mapping.system() + ": " + problem;
  }
  // Immutable after load: the same record maps the same way again.
  const mapping::MapResult again = chosen->mapping.map(fields);
  if (!(again.event == result.event) || again.errors != result.errors) {
    return chosen->mapping.system() + ": mapping the same record twice gave different results";
  }
  return {};
}

}  // namespace tsunagu::fuzz
