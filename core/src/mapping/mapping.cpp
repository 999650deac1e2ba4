// Running a compiled mapping over native records. Loading and checking the XML is in
// mapping_loader.cpp.
#include "mapping/mapping.hpp"

#include <array>
#include <charconv>

#include <boost/container/small_vector.hpp>
#include <exception>
#include <utility>

#include "mapping/mapping_model.hpp"

namespace tsunagu::mapping {
namespace detail {
namespace {

struct SlotName {
  Slot slot;
  std::string_view name;
};

constexpr std::array<SlotName, 13> kSlotNames{{
    {Slot::source_ref, "source_ref"},
    {Slot::source_version, "source_version"},
    {Slot::occurred_at, "occurred_at"},
    {Slot::resident_id, "subject.resident_id"},
    {Slot::name, "subject.name"},
    {Slot::name_kana, "subject.name_kana"},
    {Slot::birth_date, "subject.birth_date"},
    {Slot::sex, "subject.sex"},
    {Slot::address, "subject.address"},
    {Slot::ward_code, "subject.ward_code"},
    {Slot::household_id, "household.household_id"},
    {Slot::household_role, "household.role"},
    {Slot::attribute, "attributes."},
}};

constexpr std::string_view kAttributePrefix = "attributes.";

// Attribute keys are identifiers so that policies can name them in field allow-lists.
bool is_attribute_key(std::string_view key) {
  if (key.empty() || key[0] < 'a' || key[0] > 'z') return false;
  for (char c : key) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

std::size_t count_characters(std::string_view utf8) {
  std::size_t count = 0;
  for (char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++count;
  }
  return count;
}

bool all_ascii_digits(std::string_view value) {
  for (char c : value) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Converted convert_integer(const FieldSpec& field, std::string_view value) {
  Converted out;
  std::int64_t number = 0;
  const char* end = value.data() + value.size();
  const auto [ptr, ec] = std::from_chars(value.data(), end, number);
  if (ec == std::errc::result_out_of_range) {
    out.error = quote_value(value) + " is out of range for an integer";
  } else if (ec != std::errc() || ptr != end) {
    out.error = quote_value(value) + " is not an integer";
  } else if (field.min && number < *field.min) {
    out.error = quote_value(value) + " is less than the minimum " + std::to_string(*field.min);
  } else if (field.max && number > *field.max) {
    out.error = quote_value(value) + " is more than the maximum " + std::to_string(*field.max);
  } else {
    out.value = std::to_string(number);  // "01" → "1": the canonical form has no padding
  }
  return out;
}

}  // namespace

std::optional<Target> parse_target(std::string_view name) {
  if (name.starts_with(kAttributePrefix)) {
    const std::string_view key = name.substr(kAttributePrefix.size());
    if (!is_attribute_key(key)) return std::nullopt;
    return Target{Slot::attribute, std::string(key)};
  }
  for (const SlotName& entry : kSlotNames) {
    if (entry.slot != Slot::attribute && entry.name == name) return Target{entry.slot, {}};
  }
  return std::nullopt;
}

std::string to_string(const Target& target) {
  for (const SlotName& entry : kSlotNames) {
    if (entry.slot != target.slot) continue;
    return target.slot == Slot::attribute ? std::string(entry.name) + target.attribute
                                          : std::string(entry.name);
  }
  return {};
}

std::string_view trim(std::string_view value, Trim how) noexcept {
  if (how == Trim::left || how == Trim::both) {
    const std::size_t first = value.find_first_not_of(' ');
    value.remove_prefix(first == std::string_view::npos ? value.size() : first);
  }
  if (how == Trim::right || how == Trim::both) {
    const std::size_t last = value.find_last_not_of(' ');
    value = last == std::string_view::npos ? std::string_view{} : value.substr(0, last + 1);
  }
  return value;
}

std::string quote_value(std::string_view value) {
  constexpr std::size_t kMax = 40;
  if (value.size() <= kMax) return "'" + std::string(value) + "'";
  std::size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(value.substr(0, cut)) + "…'";
}

Converted convert(const FieldSpec& field, std::string_view value) {
  Converted out;
  switch (field.type) {
    case FieldType::text:
      if (field.max_length != 0 && count_characters(value) > field.max_length) {
        // The value itself is left out: text fields hold names and remarks.
        out.error = "longer than " + std::to_string(field.max_length) + " characters (" +
                    std::to_string(count_characters(value)) + ")";
      } else {
        out.value = std::string(value);
      }
      break;
    case FieldType::digits:
      if (value.size() != field.length || !all_ascii_digits(value)) {
        out.error = quote_value(value) + " is not " + std::to_string(field.length) + " digits";
      } else {
        out.value = std::string(value);
      }
      break;
    case FieldType::date: {
      DateResult date = parse_date(value, field.forms);
      if (date.ok()) {
        out.value = date.date.iso();
      } else {
        out.error = std::move(date.error);
      }
      break;
    }
    case FieldType::datetime: {
      DateTimeResult datetime = parse_datetime(value, field.forms);
      if (datetime.ok()) {
        out.value = std::move(datetime.iso);
      } else {
        out.error = std::move(datetime.error);
      }
      break;
    }
    case FieldType::code: {
      const auto it = field.table->codes.find(value);
      if (it == field.table->codes.end()) {
        out.error = "unknown " + field.table->name + " code " + quote_value(value) +
                    " (code table '" + field.table->name + "')";
      } else {
        out.value = it->second.canonical;
        out.label = it->second.label;
      }
      break;
    }
    case FieldType::integer:
      out = convert_integer(field, value);
      break;
  }
  return out;
}

}  // namespace detail

namespace {

using detail::Condition;
using detail::FieldSpec;
using detail::Model;
using detail::Slot;

std::string* slot_text(CaseEvent& event, const detail::Target& target) {
  switch (target.slot) {
    case Slot::source_ref:
      return &event.source_ref;
    case Slot::occurred_at:
      return &event.occurred_at;
    case Slot::resident_id:
      return &event.subject.resident_id;
    case Slot::name:
      return &event.subject.name;
    case Slot::name_kana:
      return &event.subject.name_kana;
    case Slot::birth_date:
      return &event.subject.birth_date;
    case Slot::sex:
      return &event.subject.sex;
    case Slot::address:
      return &event.subject.address;
    case Slot::ward_code:
      return &event.subject.ward_code;
    case Slot::household_id:
      return &event.household.household_id;
    case Slot::household_role:
      return &event.household.role;
    case Slot::attribute:
      return &event.attributes[target.attribute];
    case Slot::none:
    case Slot::source_version:
      return nullptr;
  }
  return nullptr;
}

void assign(CaseEvent& event, const detail::Target& target, std::string&& value) {
  if (target.slot == Slot::source_version) {
    // Already checked by the integer conversion (the loader makes its minimum at least 1).
    std::from_chars(value.data(), value.data() + value.size(), event.source_version);
    return;
  }
  if (std::string* slot = slot_text(event, target)) *slot = std::move(value);
}

// Calls `visit` with each item of a list value, or with the whole value when the condition does
// not treat it as a list. Stops, returning true, as soon as `visit` does.
template <typename Visit>
bool any_item(std::string_view value, const Condition& condition, Visit visit) {
  if (condition.item_separator.empty()) return visit(value);
  while (true) {
    const std::size_t cut = value.find(condition.item_separator);
    if (visit(detail::trim(value.substr(0, cut), detail::Trim::both))) return true;
    if (cut == std::string_view::npos) return false;
    value.remove_prefix(cut + condition.item_separator.size());
  }
}

bool holds(const Condition& condition, std::string_view value) {
  const auto in_set = [&](std::string_view item) {
    for (const std::string& candidate : condition.values) {
      if (item == candidate) return true;
    }
    return false;
  };
  switch (condition.test) {
    case Condition::Test::present:
      return !value.empty();
    case Condition::Test::absent:
      return value.empty();
    case Condition::Test::equals:
    case Condition::Test::one_of:
      return !value.empty() && any_item(value, condition, in_set);
    case Condition::Test::none_of:
      return value.empty() || !any_item(value, condition, in_set);
  }
  return false;
}

// Per-field scratch of one map() call, on the stack for any ordinary mapping.
using FieldValues = boost::container::small_vector<std::string_view, 32>;
using FieldFlags = boost::container::small_vector<bool, 32>;

void derive_kind(const Model& model, const FieldValues& values, const FieldFlags& failed,
                 MapResult& result) {
  for (const detail::Rule& rule : model.rules) {
    bool match = true;
    for (const Condition& condition : rule.conditions) {
      if (!holds(condition, values[condition.field])) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    result.event.kind = rule.kind;
    result.event.sensitivity = rule.sensitivity;
    for (const auto& [key, value] : rule.attributes) result.event.attributes[key] = value;
    return;
  }
  // A deciding field that is itself invalid or missing has already been reported.
  if (failed[model.deciding_field]) return;
  std::string seen;
  for (std::size_t index : model.rule_fields) {
    if (index != model.deciding_field && values[index].empty()) continue;
    if (!seen.empty()) seen += ", ";
    seen += model.fields[index].native + " " +
            (values[index].empty() ? std::string("(empty)") : detail::quote_value(values[index]));
  }
  result.errors.push_back(
      {model.fields[model.deciding_field].native, "no kind rule matches " + seen});
}

void map_into(const Model& model, const std::map<std::string, std::string>& native,
              MapResult& result) {
  CaseEvent& event = result.event;
  event.source = model.system;
  // The trimmed native values, as the rules see them (before defaults: rules test what the
  // source sent).
  FieldValues values(model.fields.size());
  FieldFlags failed(model.fields.size(), false);
  for (std::size_t i = 0; i < model.fields.size(); ++i) {
    const FieldSpec& field = model.fields[i];
    const auto it = native.find(field.native);
    std::string_view value;
    if (it != native.end()) value = detail::trim(it->second, field.trim);
    values[i] = value;
    if (value.empty()) {
      if (field.default_value) {
        value = *field.default_value;
      } else {
        if (field.required) {
          failed[i] = true;
          result.errors.push_back({field.native, it == native.end() ? "required field is missing"
                                                                    : "required field is empty"});
        }
        continue;
      }
    }
    detail::Converted converted = detail::convert(field, value);
    if (!converted.error.empty()) {
      failed[i] = true;
      result.errors.push_back({field.native, std::move(converted.error)});
      continue;
    }
    assign(event, field.target, std::move(converted.value));
    if (field.label_target.slot != Slot::none) {
      assign(event, field.label_target, std::move(converted.label));
    }
  }
  derive_kind(model, values, failed, result);
}

}  // namespace

MappingError::MappingError(std::filesystem::path file, std::vector<Problem> problems)
    : std::runtime_error([&] {
        std::string message;
        for (const Problem& problem : problems) {
          if (!message.empty()) message += '\n';
          message += file.string() + ":";
          if (problem.line > 0) message += std::to_string(problem.line) + ":";
          message += " " + problem.reason;
        }
        return message;
      }()),
      file_(std::move(file)),
      problems_(std::move(problems)) {}

std::string to_string(const FieldError& error) {
  return error.field + ": " + error.reason;
}

Mapping::Mapping(std::shared_ptr<const detail::Model> model) : model_(std::move(model)) {}

const std::string& Mapping::system() const {
  return model_->system;
}

const std::filesystem::path& Mapping::file() const {
  return model_->file;
}

const std::map<std::string, std::string>& Mapping::adapter_settings() const {
  return model_->adapter_settings;
}

MapResult Mapping::map(const std::map<std::string, std::string>& native_fields) const noexcept {
  MapResult result;
  try {
    map_into(*model_, native_fields, result);
  } catch (const std::exception& e) {
    // Only allocation can fail here; the record is rejected rather than the worker stopped.
    result.errors.push_back({"", std::string("internal error while mapping: ") + e.what()});
  }
  return result;
}

}  // namespace tsunagu::mapping
