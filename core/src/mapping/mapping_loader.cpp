// Loading a mapping file: safe XML parsing, schema validation against mappings/mapping.xsd, then
// the semantic checks a schema cannot express well (code tables that exist, canonical targets,
// fields the rules test), all reported with file and line.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlversion.h>

#include "mapping/mapping.hpp"
#include "mapping/mapping_model.hpp"

namespace tsunagu::mapping {
namespace {

using detail::CodeTable;
using detail::Condition;
using detail::FieldSpec;
using detail::FieldType;
using detail::Model;
using detail::Rule;
using detail::Slot;
using detail::Target;
using detail::Trim;
using Problem = MappingError::Problem;
namespace fs = std::filesystem;

// libxml2 2.12 made the structured error argument const.
#if LIBXML_VERSION >= 21200
using ErrorArg = const xmlError*;
#else
using ErrorArg = xmlError*;
#endif

// A mapping is a few kilobytes; refusing anything huge keeps a wrong path from eating memory.
constexpr std::uintmax_t kMaxFileBytes = 8U << 20;

struct XmlDocFree {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using XmlDoc = std::unique_ptr<xmlDoc, XmlDocFree>;

struct ParserCtxtFree {
  void operator()(xmlParserCtxt* ctxt) const noexcept { xmlFreeParserCtxt(ctxt); }
};
struct SchemaParserFree {
  void operator()(xmlSchemaParserCtxt* ctxt) const noexcept { xmlSchemaFreeParserCtxt(ctxt); }
};
struct SchemaFree {
  void operator()(xmlSchema* schema) const noexcept { xmlSchemaFree(schema); }
};
struct ValidCtxtFree {
  void operator()(xmlSchemaValidCtxt* ctxt) const noexcept { xmlSchemaFreeValidCtxt(ctxt); }
};

// Problems libxml2 reports while one file is parsed or validated.
struct ErrorCollector {
  std::vector<Problem> problems;
  long doctype_line = 0;  // > 0: the file declares a DTD
};

// Called from C: nothing may propagate out of it.
void collect_error(void* context, ErrorArg error) noexcept try {
  if (context == nullptr || error == nullptr || error->level < XML_ERR_ERROR) return;
  std::string message = error->message != nullptr ? error->message : "unknown XML error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  // Schema messages spell every element "{urn:tsunagu:mapping:1}name"; the bare name reads better.
  constexpr std::string_view kQualifier = "{urn:tsunagu:mapping:1}";
  for (std::size_t at; (at = message.find(kQualifier)) != std::string::npos;) {
    message.erase(at, kQualifier.size());
  }
  static_cast<ErrorCollector*>(context)->problems.push_back({error->line, std::move(message)});
} catch (...) {
  // Out of memory while recording a problem: the load still fails on libxml2's own result.
}

// SAX hook called when the parser meets <!DOCTYPE …>, before any entity in it is declared. A
// mapping needs no DTD, so a file with one is treated as hostile (entity expansion, external
// fetches) and parsing stops at once.
void refuse_doctype(void* user_data, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxt*>(user_data);
  auto* collector = static_cast<ErrorCollector*>(ctxt->_private);
  collector->doctype_line = ctxt->input != nullptr ? ctxt->input->line : 0;
  xmlStopParser(ctxt);
}

// Routes libxml2's per-thread structured error hook to a collector while alive, restoring the
// previous hook afterwards (the hub may have its own).
class ErrorHookScope {
 public:
  explicit ErrorHookScope(ErrorCollector& collector)
      : previous_(xmlStructuredError), previous_context_(xmlStructuredErrorContext) {
    xmlSetStructuredErrorFunc(&collector, &collect_error);
  }
  ~ErrorHookScope() { xmlSetStructuredErrorFunc(previous_context_, previous_); }
  ErrorHookScope(const ErrorHookScope&) = delete;
  ErrorHookScope& operator=(const ErrorHookScope&) = delete;

 private:
  xmlStructuredErrorFunc previous_;
  void* previous_context_;
};

std::string read_whole_file(const fs::path& file) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec) throw MappingError(file, {{0, "cannot read the file: " + ec.message()}});
  if (size == 0) throw MappingError(file, {{0, "the file is empty"}});
  if (size > kMaxFileBytes) {
    throw MappingError(file, {{0, "the file is " + std::to_string(size) +
                                      " bytes; a mapping file may not exceed " +
                                      std::to_string(kMaxFileBytes) + " bytes"}});
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!in || in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    throw MappingError(file, {{0, "cannot read the file"}});
  }
  return bytes;
}

// Parses an XML file with network access, DTD loading and entity substitution off, refusing any
// DOCTYPE. Throws MappingError for anything but a well-formed document.
XmlDoc parse_xml_safely(const fs::path& file) {
  const std::string bytes = read_whole_file(file);
  ErrorCollector collector;
  ErrorHookScope hook(collector);
  std::unique_ptr<xmlParserCtxt, ParserCtxtFree> ctxt(
      xmlCreateMemoryParserCtxt(bytes.data(), static_cast<int>(bytes.size())));
  if (!ctxt) throw MappingError(file, {{0, "cannot create an XML parser (out of memory?)"}});
  // XML_PARSE_NOENT and XML_PARSE_DTDLOAD stay off: no entity substitution, no external DTD.
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_BIG_LINES);
  ctxt->_private = &collector;
  ctxt->sax->internalSubset = &refuse_doctype;
  xmlParseDocument(ctxt.get());
  XmlDoc doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  if (collector.doctype_line > 0) {
    throw MappingError(file, {{collector.doctype_line,
                               "the file declares a DTD (<!DOCTYPE …>); mapping files must not "
                               "declare a DTD or entities, so the file is refused"}});
  }
  if (!ctxt->wellFormed || !doc) {
    if (collector.problems.empty()) collector.problems.push_back({0, "not well-formed XML"});
    throw MappingError(file, std::move(collector.problems));
  }
  return doc;
}

// Validates `doc` (read from `file`) against the schema in `xsd`.
void validate_against_schema(const fs::path& file, xmlDoc* doc, const fs::path& xsd) {
  const XmlDoc xsd_doc = parse_xml_safely(xsd);
  ErrorCollector schema_errors;
  std::unique_ptr<xmlSchemaParserCtxt, SchemaParserFree> parser(
      xmlSchemaNewDocParserCtxt(xsd_doc.get()));
  if (!parser) throw MappingError(xsd, {{0, "cannot create a schema parser (out of memory?)"}});
  xmlSchemaSetParserStructuredErrors(parser.get(), &collect_error, &schema_errors);
  std::unique_ptr<xmlSchema, SchemaFree> schema;
  {
    // Some schema-compilation messages go through the per-thread hook rather than the context.
    ErrorHookScope hook(schema_errors);
    schema.reset(xmlSchemaParse(parser.get()));
  }
  if (!schema) {
    if (schema_errors.problems.empty()) schema_errors.problems.push_back({0, "invalid schema"});
    throw MappingError(xsd, std::move(schema_errors.problems));
  }
  ErrorCollector violations;
  std::unique_ptr<xmlSchemaValidCtxt, ValidCtxtFree> validator(xmlSchemaNewValidCtxt(schema.get()));
  if (!validator) throw MappingError(file, {{0, "cannot create a schema validator"}});
  xmlSchemaSetValidStructuredErrors(validator.get(), &collect_error, &violations);
  const int rc = xmlSchemaValidateDoc(validator.get(), doc);
  if (rc != 0 || !violations.problems.empty()) {
    if (violations.problems.empty()) {
      violations.problems.push_back(
          {0, "schema validation failed (libxml2 code " + std::to_string(rc) + ")"});
    }
    throw MappingError(file, std::move(violations.problems));
  }
}

// ---- reading the validated tree ----------------------------------------------------------------

std::string_view local_name(const xmlNode* node) {
  return reinterpret_cast<const char*>(node->name);
}

long line_of(const xmlNode* node) {
  return xmlGetLineNo(node);
}

std::vector<xmlNode*> element_children(const xmlNode* node) {
  std::vector<xmlNode*> children;
  for (xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type == XML_ELEMENT_NODE) children.push_back(child);
  }
  return children;
}

std::optional<std::string> attribute(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string text = reinterpret_cast<const char*>(value);
  xmlFree(value);
  return text;
}

std::string attribute_or(const xmlNode* node, const char* name, std::string fallback) {
  std::optional<std::string> value = attribute(node, name);
  return value ? std::move(*value) : std::move(fallback);
}

bool boolean_attribute(const xmlNode* node, const char* name) {
  const std::string value = attribute_or(node, name, "false");
  return value == "true" || value == "1";
}

// xs:list values: whitespace-separated tokens.
std::vector<std::string> tokens(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string token; in >> token;) out.push_back(token);
  return out;
}

std::optional<std::int64_t> integer_attribute(const xmlNode* node, const char* name) {
  const std::optional<std::string> text = attribute(node, name);
  if (!text) return std::nullopt;
  std::int64_t value = 0;
  std::from_chars(text->data(), text->data() + text->size(), value);  // xs:long in the schema
  return value;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

Trim trim_from(std::string_view text) {
  if (text == "left") return Trim::left;
  if (text == "right") return Trim::right;
  if (text == "both") return Trim::both;
  return Trim::none;
}

// Builds the Model from a schema-valid document, collecting every semantic problem.
class ModelBuilder {
 public:
  ModelBuilder(Model& model, std::vector<Problem>& problems) : model_(model), problems_(problems) {}

  void build(const xmlNode* root) {
    model_.system = attribute_or(root, "system", "");
    for (const xmlNode* section : element_children(root)) {
      const std::string_view name = local_name(section);
      if (name == "adapter-settings") read_adapter_settings(section);
      if (name == "code-tables") read_code_tables(section);
    }
    // Fields after code tables (they name them), rules after fields (they test them).
    for (const xmlNode* section : element_children(root)) {
      if (local_name(section) == "fields") read_fields(section);
    }
    for (const xmlNode* section : element_children(root)) {
      if (local_name(section) == "kind-rules") read_rules(section);
    }
  }

 private:
  void problem(const xmlNode* node, std::string reason) {
    problems_.push_back({line_of(node), std::move(reason)});
  }

  void read_adapter_settings(const xmlNode* section) {
    for (const xmlNode* setting : element_children(section)) {
      const std::string name = attribute_or(setting, "name", "");
      if (!model_.adapter_settings.emplace(name, attribute_or(setting, "value", "")).second) {
        problem(setting, "adapter setting '" + name + "' is given twice");
      }
    }
  }

  void read_code_tables(const xmlNode* section) {
    for (const xmlNode* table_node : element_children(section)) {
      CodeTable table;
      table.name = attribute_or(table_node, "name", "");
      for (const xmlNode* code : element_children(table_node)) {
        const std::string value = attribute_or(code, "value", "");
        detail::Code entry{attribute_or(code, "canonical", value), attribute_or(code, "label", "")};
        if (!table.codes.emplace(value, std::move(entry)).second) {
          problem(code, "code '" + value + "' appears twice in code table '" + table.name + "'");
        }
      }
      const std::string name = table.name;
      if (!model_.tables.emplace(name, std::move(table)).second) {
        problem(table_node, "code table '" + name + "' is defined twice");
      }
    }
  }

  std::optional<Target> read_target(const xmlNode* node, const char* attribute_name,
                                    const std::string& native) {
    const std::optional<std::string> text = attribute(node, attribute_name);
    if (!text) return Target{};
    std::optional<Target> target = detail::parse_target(*text);
    if (!target) {
      problem(node, "field '" + native + "': unknown canonical target '" + *text +
                        "' (expected source_ref, source_version, occurred_at, subject.resident_id, "
                        "subject.name, subject.name_kana, subject.birth_date, subject.sex, "
                        "subject.address, subject.ward_code, household.household_id, "
                        "household.role or attributes.<key> with a key of a–z, 0–9 and _)");
    }
    return target;
  }

  // Records that `target` is written by `node`; a canonical slot has one writer.
  void claim_target(const xmlNode* node, const Target& target, const std::string& native) {
    if (target.slot == Slot::none) return;
    const std::string name = detail::to_string(target);
    const auto [it, fresh] = targets_.emplace(name, native);
    if (!fresh) {
      problem(node, "field '" + native + "' maps to " + name + ", which field '" + it->second +
                        "' already maps to");
    }
  }

  void read_field(const xmlNode* node, Trim default_trim) {
    FieldSpec field;
    field.line = line_of(node);
    field.native = attribute_or(node, "native", "");
    const std::string_view element = local_name(node);
    if (element == "digits") field.type = FieldType::digits;
    if (element == "date") field.type = FieldType::date;
    if (element == "datetime") field.type = FieldType::datetime;
    if (element == "code") field.type = FieldType::code;
    if (element == "integer") field.type = FieldType::integer;
    const std::optional<std::string> trim = attribute(node, "trim");
    field.trim = trim ? trim_from(*trim) : default_trim;
    field.required = boolean_attribute(node, "required");
    field.default_value = attribute(node, "default");
    if (field.required && field.default_value) {
      problem(node, "field '" + field.native +
                        "' is required and has a default; a required field must come from the "
                        "source, so drop one of them");
    }
    const std::optional<Target> target = read_target(node, "target", field.native);
    if (target) {
      field.target = *target;
      claim_target(node, field.target, field.native);
    }

    field.length = static_cast<std::size_t>(integer_attribute(node, "length").value_or(0));
    field.max_length = static_cast<std::size_t>(integer_attribute(node, "max-length").value_or(0));
    field.min = integer_attribute(node, "min");
    field.max = integer_attribute(node, "max");
    if (field.min && field.max && *field.min > *field.max) {
      problem(node, "field '" + field.native + "': min " + std::to_string(*field.min) +
                        " is greater than max " + std::to_string(*field.max));
    }
    for (const std::string& name : tokens(attribute_or(node, "forms", ""))) {
      const std::optional<DateForm> form = date_form_from_string(name);
      if (!form) continue;  // the schema enumerates the names
      if (field.type == FieldType::date && !is_date_only(*form)) {
        problem(node, "date field '" + field.native + "' cannot accept the " + name +
                          " form; map it with <datetime> to keep the time");
      }
      field.forms.insert(*form);
    }
    if (field.type == FieldType::code) read_code_field(node, field);
    check_target_type(node, field);

    if (field.default_value && (field.type != FieldType::code || field.table != nullptr)) {
      const detail::Converted converted = detail::convert(field, *field.default_value);
      if (!converted.error.empty()) {
        problem(node, "field '" + field.native + "': the default is invalid: " + converted.error);
      }
    }
    if (!field_index_.emplace(field.native, model_.fields.size()).second) {
      problem(node, "field '" + field.native + "' is declared twice");
      return;
    }
    model_.fields.push_back(std::move(field));
  }

  void read_code_field(const xmlNode* node, FieldSpec& field) {
    const std::string table_name = attribute_or(node, "table", "");
    const auto table = model_.tables.find(table_name);
    if (table == model_.tables.end()) {
      std::vector<std::string> known;
      for (const auto& entry : model_.tables) known.push_back("'" + entry.first + "'");
      problem(node, "field '" + field.native + "' names code table '" + table_name +
                        "', which does not exist (defined: " +
                        (known.empty() ? std::string("none") : join(known)) + ")");
    } else {
      field.table = &table->second;
    }
    const std::optional<Target> label = read_target(node, "label-target", field.native);
    if (label && label->slot != Slot::none) {
      if (label->slot != Slot::attribute) {
        problem(node,
                "field '" + field.native + "': label-target must be an attributes.<key> target");
      } else {
        field.label_target = *label;
        claim_target(node, field.label_target, field.native);
      }
    }
    // The canonical event spells sex as M, F or U whatever the source writes.
    if (field.table != nullptr && field.target.slot == Slot::sex) {
      for (const auto& [value, code] : field.table->codes) {
        if (code.canonical != "M" && code.canonical != "F" && code.canonical != "U") {
          problem(node, "field '" + field.native + "' maps to subject.sex, but code table '" +
                            field.table->name + "' maps '" + value + "' to '" + code.canonical +
                            "' (subject.sex takes M, F or U)");
        }
      }
    }
  }

  // Slots whose canonical form only one field type produces.
  void check_target_type(const xmlNode* node, FieldSpec& field) {
    const auto require = [&](FieldType type, const char* element) {
      if (field.type != type) {
        problem(node, "field '" + field.native + "' maps to " + detail::to_string(field.target) +
                          ", which must be declared with <" + element + ">");
      }
    };
    switch (field.target.slot) {
      case Slot::source_version:
        require(FieldType::integer, "integer");
        // A revision starts at 1 (SYSTEMS.md); 0 or less is a data error whatever the file says.
        field.min = std::max<std::int64_t>(field.min.value_or(1), 1);
        break;
      case Slot::occurred_at:
        require(FieldType::datetime, "datetime");
        break;
      case Slot::birth_date:
        require(FieldType::date, "date");
        break;
      default:
        break;
    }
    if ((field.target.slot == Slot::source_ref || field.target.slot == Slot::source_version) &&
        !field.required) {
      problem(node, "field '" + field.native + "' maps to " + detail::to_string(field.target) +
                        ", part of the idempotency key, so it must be required=\"true\"");
    }
  }

  void read_fields(const xmlNode* section) {
    const Trim default_trim = trim_from(attribute_or(section, "trim", "none"));
    for (const xmlNode* node : element_children(section)) read_field(node, default_trim);
    for (const char* needed : {"source_ref", "source_version", "occurred_at"}) {
      if (targets_.count(needed) == 0) {
        problem(section,
                std::string("no field maps to ") + needed + ", which every canonical event needs");
      }
    }
  }

  // The index of a declared field, or nullopt after reporting the problem.
  std::optional<std::size_t> rule_field(const xmlNode* node, const std::string& native,
                                        const std::string& context) {
    const auto it = field_index_.find(native);
    if (it == field_index_.end()) {
      problem(node, context + " tests field '" + native +
                        "', which <fields> does not declare "
                        "(declare it, e.g. <text native=\"" +
                        native + "\"/>)");
      return std::nullopt;
    }
    if (std::find(model_.rule_fields.begin(), model_.rule_fields.end(), it->second) ==
        model_.rule_fields.end()) {
      model_.rule_fields.push_back(it->second);
    }
    return it->second;
  }

  void read_rule(const xmlNode* node) {
    Rule rule;
    rule.line = line_of(node);
    rule.kind = attribute_or(node, "kind", "");
    rule.sensitivity = sensitivity_from_string(attribute_or(node, "sensitivity", "normal"));
    const std::string context = "the rule for " + rule.kind;
    std::set<std::string> set_keys;
    for (const xmlNode* child : element_children(node)) {
      const std::string_view name = local_name(child);
      if (name == "set") {
        read_rule_set(child, rule, set_keys, context);
        continue;
      }
      Condition condition;
      if (name == "equals") condition.test = Condition::Test::equals;
      if (name == "one-of") condition.test = Condition::Test::one_of;
      if (name == "none-of") condition.test = Condition::Test::none_of;
      if (name == "present") condition.test = Condition::Test::present;
      if (name == "absent") condition.test = Condition::Test::absent;
      if (condition.test == Condition::Test::equals) {
        condition.values.push_back(attribute_or(child, "value", ""));
      } else {
        condition.values = tokens(attribute_or(child, "values", ""));
      }
      condition.item_separator = attribute_or(child, "item-separator", "");
      const std::optional<std::size_t> field =
          rule_field(child, attribute_or(child, "field", ""), context);
      if (!field) continue;
      condition.field = *field;
      rule.conditions.push_back(std::move(condition));
    }
    model_.rules.push_back(std::move(rule));
  }

  void read_rule_set(const xmlNode* node, Rule& rule, std::set<std::string>& keys,
                     const std::string& context) {
    const std::string target_text = attribute_or(node, "target", "");
    const std::optional<Target> target = detail::parse_target(target_text);
    if (!target || target->slot != Slot::attribute) {
      problem(node, context + " sets '" + target_text +
                        "'; a rule may only set attributes.<key> targets");
      return;
    }
    if (const auto it = targets_.find(target_text); it != targets_.end()) {
      problem(node, context + " sets " + target_text + ", which field '" + it->second +
                        "' already maps to");
    }
    if (!keys.insert(target->attribute).second) {
      problem(node, context + " sets " + target_text + " twice");
    }
    rule.attributes.emplace_back(target->attribute, attribute_or(node, "value", ""));
  }

  void read_rules(const xmlNode* section) {
    const std::string deciding = attribute_or(section, "field", "");
    const std::optional<std::size_t> index = rule_field(section, deciding, "<kind-rules>");
    if (index) model_.deciding_field = *index;
    for (const xmlNode* rule : element_children(section)) read_rule(rule);
    // The deciding field leads the values listed when no rule matches.
    if (index) {
      auto& fields = model_.rule_fields;
      fields.erase(std::find(fields.begin(), fields.end(), *index));
      fields.insert(fields.begin(), *index);
    }
  }

  Model& model_;
  std::vector<Problem>& problems_;
  std::map<std::string, std::size_t> field_index_;
  std::map<std::string, std::string> targets_;  // canonical target → native field writing it
};

}  // namespace

Mapping Mapping::load_file(const fs::path& mapping_xml, const fs::path& xsd) {
  // Idempotent and cheap after the first call; the hub calls it in main, tools and tests may not.
  xmlInitParser();
  const XmlDoc doc = parse_xml_safely(mapping_xml);
  validate_against_schema(mapping_xml, doc.get(), xsd);

  auto model = std::make_shared<Model>();
  model->file = mapping_xml;
  std::vector<Problem> problems;
  ModelBuilder(*model, problems).build(xmlDocGetRootElement(doc.get()));
  if (!problems.empty()) {
    std::stable_sort(problems.begin(), problems.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    throw MappingError(mapping_xml, std::move(problems));
  }
  return Mapping(std::move(model));
}

}  // namespace tsunagu::mapping
