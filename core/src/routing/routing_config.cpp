// Reading and checking the four routing files. Each file is parsed safely (no DTD, no entities,
// no network), then walked element by element against a small table of the attributes and
// children each element may have; every problem is collected with its file, line and element,
// and the whole list is thrown as one ConfigError so that IT staff fix everything in one pass.
#include "routing/routing_config.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <string_view>
#include <utility>

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "routing/calendar.hpp"

namespace tsunagu::routing {
namespace {

namespace fs = std::filesystem;

#if LIBXML_VERSION >= 21200
using XmlErrorArg = const xmlError*;
#else
using XmlErrorArg = xmlError*;
#endif

// The routing files are tens of kilobytes; anything far larger is a wrong path.
constexpr std::uintmax_t kMaxFileBytes = 4U << 20;

struct DocFree {
  void operator()(xmlDoc* doc) const noexcept { xmlFreeDoc(doc); }
};
using Doc = std::unique_ptr<xmlDoc, DocFree>;

struct CtxtFree {
  void operator()(xmlParserCtxt* ctxt) const noexcept { xmlFreeParserCtxt(ctxt); }
};

// Every problem found in the four files, one "file:line <element>: reason" line each.
class Problems {
 public:
  void add(const fs::path& file, long line, const std::string& element, const std::string& reason) {
    std::string text = file.string();
    if (line > 0) text += ":" + std::to_string(line);
    if (!element.empty()) text += " <" + element + ">";
    text += ": " + reason;
    lines_.push_back(std::move(text));
  }
  bool empty() const { return lines_.empty(); }
  [[noreturn]] void raise() const {
    std::string all;
    for (const auto& line : lines_) all += (all.empty() ? "" : "\n") + line;
    throw ConfigError(all);
  }

 private:
  std::vector<std::string> lines_;
};

struct ParseState {
  std::vector<std::pair<long, std::string>> errors;
  long doctype_line = 0;
};

void on_xml_error(void* context, XmlErrorArg error) noexcept try {
  if (context == nullptr || error == nullptr || error->level < XML_ERR_ERROR) return;
  std::string message = error->message != nullptr ? error->message : "XML error";
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  static_cast<ParseState*>(context)->errors.emplace_back(error->line, std::move(message));
} catch (...) {
  // Out of memory while recording: the parse still fails on libxml2's own result.
}

// A routing file needs no DTD; one is refused before any entity in it is declared or fetched.
void stop_at_doctype(void* user_data, const xmlChar*, const xmlChar*, const xmlChar*) {
  auto* ctxt = static_cast<xmlParserCtxt*>(user_data);
  static_cast<ParseState*>(ctxt->_private)->doctype_line =
      ctxt->input != nullptr ? ctxt->input->line : 0;
  xmlStopParser(ctxt);
}

class StructuredErrorScope {
 public:
  explicit StructuredErrorScope(ParseState& state)
      : previous_(xmlStructuredError), previous_context_(xmlStructuredErrorContext) {
    xmlSetStructuredErrorFunc(&state, &on_xml_error);
  }
  ~StructuredErrorScope() { xmlSetStructuredErrorFunc(previous_context_, previous_); }
  StructuredErrorScope(const StructuredErrorScope&) = delete;
  StructuredErrorScope& operator=(const StructuredErrorScope&) = delete;

 private:
  xmlStructuredErrorFunc previous_;
  void* previous_context_;
};

// Parses `file`, or records why it cannot and returns null.
Doc parse_file(const fs::path& file, Problems& problems) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    problems.add(file, 0, "", "file not found");
    return nullptr;
  }
  const std::uintmax_t size = fs::file_size(file, ec);
  if (ec || size == 0 || size > kMaxFileBytes) {
    problems.add(
        file, 0, "",
        ec ? "cannot read: " + ec.message()
           : (size == 0 ? std::string("the file is empty")
                        : "the file is larger than " + std::to_string(kMaxFileBytes) + " bytes"));
    return nullptr;
  }
  std::ifstream in(file, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (in.gcount() != static_cast<std::streamsize>(bytes.size())) {
    problems.add(file, 0, "", "cannot read the file");
    return nullptr;
  }
  ParseState state;
  const StructuredErrorScope scope(state);
  std::unique_ptr<xmlParserCtxt, CtxtFree> ctxt(
      xmlCreateMemoryParserCtxt(bytes.data(), static_cast<int>(bytes.size())));
  if (!ctxt) {
    problems.add(file, 0, "", "cannot create an XML parser");
    return nullptr;
  }
  // No XML_PARSE_NOENT / XML_PARSE_DTDLOAD: entities are never substituted nor DTDs fetched.
  xmlCtxtUseOptions(ctxt.get(), XML_PARSE_NONET | XML_PARSE_BIG_LINES);
  ctxt->_private = &state;
  ctxt->sax->internalSubset = &stop_at_doctype;
  xmlParseDocument(ctxt.get());
  Doc doc(ctxt->myDoc);
  ctxt->myDoc = nullptr;
  if (state.doctype_line > 0) {
    problems.add(file, state.doctype_line, "!DOCTYPE",
                 "routing files must not declare a DTD or entities; the file is refused");
    return nullptr;
  }
  if (ctxt->wellFormed == 0 || !doc) {
    if (state.errors.empty()) state.errors.emplace_back(0, "not well-formed XML");
    for (const auto& [line, message] : state.errors) {
      problems.add(file, line, "", "not well-formed XML: " + message);
    }
    return nullptr;
  }
  return doc;
}

std::string name_of(const xmlNode* node) {
  return reinterpret_cast<const char*>(node->name);
}

std::vector<const xmlNode*> element_children(const xmlNode* node) {
  std::vector<const xmlNode*> out;
  for (const xmlNode* c = node->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) out.push_back(c);
  }
  return out;
}

std::optional<std::string> attr(const xmlNode* node, const char* name) {
  xmlChar* value = xmlGetNoNsProp(node, reinterpret_cast<const xmlChar*>(name));
  if (value == nullptr) return std::nullopt;
  std::string text = reinterpret_cast<const char*>(value);
  xmlFree(value);
  return text;
}

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

std::string text_of(const xmlNode* node) {
  xmlChar* content = xmlNodeGetContent(node);
  if (content == nullptr) return "";
  std::string text = reinterpret_cast<const char*>(content);
  xmlFree(content);
  return trimmed(text);
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string joined(const std::set<std::string>& items, const char* separator = ", ") {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// An event kind ("infant_checkup.missed") or a wildcard over a prefix ("cg.*").
bool is_kind_pattern(const std::string& s) {
  if (s.empty() || s.front() == '.' || s.back() == '.') return false;
  const std::string body =
      (s.size() > 2 && s.compare(s.size() - 2, 2, ".*") == 0) ? s.substr(0, s.size() - 2) : s;
  if (body.find('.') == std::string::npos && body == s) return false;  // kinds are dotted
  return std::all_of(body.begin(), body.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool kind_matches(const std::set<std::string>& patterns, const std::string& kind) {
  if (patterns.count(kind) != 0) return true;
  for (const auto& p : patterns) {
    if (p.size() > 2 && p.compare(p.size() - 2, 2, ".*") == 0 &&
        kind.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0 && kind.size() > p.size() - 1) {
      return true;
    }
  }
  return false;
}

// "08:45" → 525; "24:00" only where `end_of_day` is allowed. nullopt when malformed.
std::optional<int> parse_hhmm(const std::string& text, bool end_of_day) {
  const auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon > 2 || text.size() != colon + 3) {
    return std::nullopt;
  }
  int h = 0, m = 0;
  const auto* begin = text.data();
  if (std::from_chars(begin, begin + colon, h).ptr != begin + colon) return std::nullopt;
  if (std::from_chars(begin + colon + 1, begin + text.size(), m).ptr != begin + text.size()) {
    return std::nullopt;
  }
  if (h == 24 && m == 0 && end_of_day) return 1440;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

bool is_iso_date(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  int y = 0;
  unsigned mo = 0, d = 0;
  const char* s = text.data();
  if (std::from_chars(s, s + 4, y).ptr != s + 4) return false;
  if (std::from_chars(s + 5, s + 7, mo).ptr != s + 7) return false;
  if (std::from_chars(s + 8, s + 10, d).ptr != s + 10) return false;
  return std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(mo),
                                     std::chrono::day(d))
      .ok();
}

// The attributes and children an element may have. Children listed in `repeatable` may occur
// more than once; the others at most once.
struct ElementRule {
  std::set<std::string> attributes;
  std::set<std::string> children;
  std::set<std::string> repeatable;
};

// Reads one file: knows its path for messages, checks elements against their rule.
class FileReader {
 public:
  FileReader(fs::path file, Problems& problems) : file_(std::move(file)), problems_(problems) {}

  const fs::path& file() const { return file_; }

  // `route id="x"`: the element with the attribute that names it, for messages.
  static std::string describe(const xmlNode* node) {
    std::string d = name_of(node);
    for (const char* key : {"id", "code", "date", "role", "kind", "name"}) {
      if (auto value = attr(node, key)) {
        d += std::string(" ") + key + "=\"" + *value + "\"";
        break;
      }
    }
    return d;
  }

  void problem(const xmlNode* node, const std::string& reason) const {
    problems_.add(file_, node != nullptr ? xmlGetLineNo(node) : 0,
                  node != nullptr ? describe(node) : "", reason);
  }

  Origin origin(const xmlNode* node) const {
    return Origin{file_, static_cast<int>(xmlGetLineNo(node)), describe(node)};
  }

  // Reports unknown attributes and children, and children given twice. Returns the children.
  std::vector<const xmlNode*> check(const xmlNode* node, const ElementRule& rule) const {
    for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
      const std::string n = reinterpret_cast<const char*>(a->name);
      if (rule.attributes.count(n) == 0) {
        problem(node,
                "unknown attribute '" + n + "'" +
                    (rule.attributes.empty() ? std::string(" (this element takes none)")
                                             : " (allowed: " + joined(rule.attributes) + ")"));
      }
    }
    std::set<std::string> seen;
    auto children = element_children(node);
    for (const xmlNode* child : children) {
      const std::string n = name_of(child);
      if (rule.children.count(n) == 0 && rule.repeatable.count(n) == 0) {
        std::set<std::string> all = rule.children;
        all.insert(rule.repeatable.begin(), rule.repeatable.end());
        problem(child, "unknown element inside <" + name_of(node) + ">" +
                           (all.empty() ? std::string(" (it takes text only)")
                                        : " (allowed: " + joined(all) + ")"));
      } else if (rule.repeatable.count(n) == 0 && !seen.insert(n).second) {
        problem(child, "appears more than once inside <" + name_of(node) + ">");
      }
    }
    return children;
  }

  static const xmlNode* child(const xmlNode* node, const std::string& name) {
    for (const xmlNode* c : element_children(node)) {
      if (name_of(c) == name) return c;
    }
    return nullptr;
  }

  static std::vector<const xmlNode*> children_named(const xmlNode* node, const std::string& name) {
    std::vector<const xmlNode*> out;
    for (const xmlNode* c : element_children(node)) {
      if (name_of(c) == name) out.push_back(c);
    }
    return out;
  }

  const xmlNode* required_child(const xmlNode* node, const std::string& name) const {
    const xmlNode* c = child(node, name);
    if (c == nullptr) problem(node, "required element <" + name + "> is missing");
    return c;
  }

  std::string required_attr(const xmlNode* node, const char* name) const {
    auto value = attr(node, name);
    if (!value || trimmed(*value).empty()) {
      problem(node, std::string("required attribute '") + name + "' is missing or empty");
      return "";
    }
    return trimmed(*value);
  }

  // The text of a required child element; empty (reported) when missing or empty.
  std::string required_text(const xmlNode* node, const std::string& name) const {
    const xmlNode* c = required_child(node, name);
    if (c == nullptr) return "";
    check(c, {});
    std::string t = text_of(c);
    if (t.empty()) problem(c, "must not be empty");
    return t;
  }

  std::optional<int> integer_attr(const xmlNode* node, const char* name, int min, int max) const {
    auto value = attr(node, name);
    if (!value) return std::nullopt;
    const std::string t = trimmed(*value);
    int n = 0;
    const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
    if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || n < min || n > max) {
      problem(node, std::string("attribute '") + name + "': '" + *value +
                        "' is not a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  std::optional<bool> boolean_text(const xmlNode* node) const {
    check(node, {});
    const std::string t = text_of(node);
    if (t == "true") return true;
    if (t == "false") return false;
    problem(node, "'" + t + "' is not true or false");
    return std::nullopt;
  }

 private:
  fs::path file_;
  Problems& problems_;
};

const std::map<std::string, int>& weekday_numbers() {
  static const std::map<std::string, int> table{{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                {"thu", 4}, {"fri", 5}, {"sat", 6}};
  return table;
}

// <slot> (office hours) or <duty> (an officer): days, from, to, holidays.
std::optional<WeeklySlot> read_slot(const FileReader& r, const xmlNode* node, bool office_hours) {
  r.check(node, {{"days", "from", "to", "holidays"}, {}, {}});
  WeeklySlot slot;
  bool ok = true;
  for (const auto& day : words(attr(node, "days").value_or(""))) {
    auto it = weekday_numbers().find(day);
    if (it == weekday_numbers().end()) {
      r.problem(node, "'" + day + "' is not a weekday (sun mon tue wed thu fri sat)");
      ok = false;
    } else {
      slot.weekdays.insert(it->second);
    }
  }
  const std::string holidays = attr(node, "holidays").value_or(office_hours ? "never" : "");
  if (holidays == "also") {
    slot.holidays = true;
  } else if (holidays == "only") {
    slot.holidays = true;
    if (!slot.weekdays.empty()) {
      r.problem(node, "holidays=\"only\" takes no days (the slot is on public holidays only)");
      ok = false;
    }
  } else if (holidays == "never") {
    slot.not_on_holidays = true;
  } else if (!holidays.empty()) {
    r.problem(node, "holidays='" + holidays + "' is not also, only or never");
    ok = false;
  }
  if (office_hours && holidays != "never") {
    r.problem(node,
              "office hours are never on public holidays; leave out 'holidays' or write "
              "holidays=\"never\"");
    ok = false;
  }
  if (slot.weekdays.empty() && holidays != "only" && ok) {
    r.problem(node, "names no days: give days=\"mon tue …\" or holidays=\"only\"");
    ok = false;
  }
  const std::string from = r.required_attr(node, "from");
  const std::string to = r.required_attr(node, "to");
  if (from.empty() || to.empty()) return std::nullopt;
  const auto f = parse_hhmm(from, false);
  const auto t = parse_hhmm(to, true);
  if (!f) r.problem(node, "from='" + from + "' is not a time of day HH:MM (00:00–23:59)");
  if (!t) r.problem(node, "to='" + to + "' is not a time of day HH:MM (00:00–24:00)");
  if (!f || !t) return std::nullopt;
  if (*f == *t) {
    r.problem(node, "from and to are the same time; a whole day is from=\"00:00\" to=\"24:00\"");
    return std::nullopt;
  }
  slot.from_minute = *f;
  slot.to_minute = *t;
  if (!ok) return std::nullopt;
  return slot;
}

// ---- roster.xml ---------------------------------------------------------------------------------

void read_roster(const FileReader& r, const xmlNode* root, Roster& roster) {
  r.check(root, {{}, {"office-hours", "roles", "wards", "officers"}, {}});
  if (const xmlNode* office = r.required_child(root, "office-hours")) {
    for (const xmlNode* s : r.check(office, {{}, {}, {"slot"}})) {
      if (name_of(s) != "slot") continue;
      if (auto slot = read_slot(r, s, true)) roster.office_hours.push_back(*slot);
    }
    if (FileReader::children_named(office, "slot").empty()) {
      r.problem(office, "gives no <slot>: the city would never be open");
    }
  }
  if (const xmlNode* roles = r.required_child(root, "roles")) {
    for (const xmlNode* role : r.check(roles, {{}, {}, {"role"}})) {
      if (name_of(role) != "role") continue;
      r.check(role, {{"id", "name"}, {}, {}});
      const std::string id = r.required_attr(role, "id");
      const std::string name = r.required_attr(role, "name");
      if (id.empty()) continue;
      if (!is_identifier(id)) r.problem(role, "role ids use a-z, 0-9, _ and - only");
      if (!roster.roles.insert(id).second) r.problem(role, "role '" + id + "' is declared twice");
      roster.role_names[id] = name;
    }
  }
  if (const xmlNode* wards = r.required_child(root, "wards")) {
    for (const xmlNode* w : r.check(wards, {{}, {}, {"ward"}})) {
      if (name_of(w) != "ward") continue;
      r.check(w, {{"code", "name"}, {}, {}});
      Ward ward{r.required_attr(w, "code"), r.required_attr(w, "name")};
      if (ward.code.empty()) continue;
      if (ward.code.size() != 5 || !std::all_of(ward.code.begin(), ward.code.end(),
                                                [](char c) { return c >= '0' && c <= '9'; })) {
        r.problem(w, "ward code '" + ward.code +
                         "' is not 5 digits (全国地方公共団体コード, e.g. 01101)");
      }
      if (roster.ward(ward.code) != nullptr) {
        r.problem(w, "ward '" + ward.code + "' is declared twice");
        continue;
      }
      roster.wards.push_back(std::move(ward));
    }
    if (roster.wards.empty()) r.problem(wards, "declares no <ward>");
  }
  if (const xmlNode* officers = r.required_child(root, "officers")) {
    for (const xmlNode* o : r.check(officers, {{}, {}, {"officer"}})) {
      if (name_of(o) != "officer") continue;
      r.check(o, {{"id", "name", "role", "ward", "email", "phone", "active"}, {}, {"duty"}});
      Officer officer;
      officer.id = r.required_attr(o, "id");
      if (!officer.id.empty() &&
          officer.id.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_-") != std::string::npos) {
        r.problem(o, "officer id '" + officer.id +
                         "' may hold only letters, digits, '_' and '-' (it is part of delivery "
                         "ids)");
      }
      officer.name = r.required_attr(o, "name");
      officer.role = r.required_attr(o, "role");
      officer.ward = trimmed(attr(o, "ward").value_or(""));
      officer.email = trimmed(attr(o, "email").value_or(""));
      officer.phone = trimmed(attr(o, "phone").value_or(""));
      officer.origin = r.origin(o);
      const std::string active = attr(o, "active").value_or("true");
      if (active != "true" && active != "false") {
        r.problem(o, "active='" + active + "' is not true or false");
      }
      officer.active = active != "false";
      if (!officer.role.empty() && roster.roles.count(officer.role) == 0) {
        r.problem(o, "unknown role '" + officer.role +
                         "' (declared in <roles>: " + joined(roster.roles) + ")");
      }
      if (!officer.ward.empty() && roster.ward(officer.ward) == nullptr) {
        r.problem(o, "unknown ward code '" + officer.ward +
                         "' (not in <wards>; leave 'ward' out for a city-wide officer)");
      }
      if (!officer.email.empty() && officer.email.find('@') == std::string::npos) {
        r.problem(o, "email '" + officer.email + "' is not an e-mail address");
      }
      for (const xmlNode* d : FileReader::children_named(o, "duty")) {
        if (auto slot = read_slot(r, d, false)) officer.duty.push_back(*slot);
      }
      if (officer.id.empty()) continue;
      if (roster.officer(officer.id) != nullptr) {
        r.problem(o, "officer '" + officer.id + "' is declared twice");
        continue;
      }
      roster.officers.push_back(std::move(officer));
    }
  }
}

// ---- holidays.xml -------------------------------------------------------------------------------

void read_holidays(const FileReader& r, const xmlNode* root, Holidays& holidays) {
  for (const xmlNode* h : r.check(root, {{}, {}, {"holiday"}})) {
    if (name_of(h) != "holiday") continue;
    r.check(h, {{"date", "name"}, {}, {}});
    const std::string date = r.required_attr(h, "date");
    const std::string name = r.required_attr(h, "name");
    if (date.empty()) continue;
    if (!is_iso_date(date)) {
      r.problem(h, "'" + date + "' is not a date YYYY-MM-DD");
      continue;
    }
    if (!holidays.by_date.emplace(date, name).second) {
      r.problem(h, "the date " + date + " is given twice");
    }
  }
}

// ---- policies.xml -------------------------------------------------------------------------------

std::set<std::string> word_set(const std::string& text) {
  const auto w = words(text);
  return {w.begin(), w.end()};
}

void read_policies(const FileReader& r, const xmlNode* root, const std::set<std::string>& systems,
                   const Roster& roster, std::vector<Policy>& policies) {
  for (const xmlNode* p : r.check(root, {{}, {}, {"policy"}})) {
    if (name_of(p) != "policy") continue;
    r.check(p, {{"id", "retention-days"},
                {"title", "legal-basis", "purpose", "sources", "kinds", "roles", "fields"},
                {}});
    Policy policy;
    policy.id = r.required_attr(p, "id");
    policy.origin = r.origin(p);
    if (!policy.id.empty() && !is_identifier(policy.id)) {
      r.problem(p, "policy ids use a-z, 0-9, _ and - only");
    }
    if (attr(p, "retention-days")) {
      policy.retention_days = r.integer_attr(p, "retention-days", 1, 36500).value_or(0);
    } else {
      r.problem(p, "required attribute 'retention-days' is missing");
    }
    policy.title = r.required_text(p, "title");
    policy.purpose = r.required_text(p, "purpose");
    if (const xmlNode* basis = r.required_child(p, "legal-basis")) {
      r.check(basis, {{"code"}, {}, {}});
      policy.legal_basis.code = r.required_attr(basis, "code");
      policy.legal_basis.citation = text_of(basis);
      if (policy.legal_basis.citation.empty()) {
        r.problem(basis, "must give the citation as its text, e.g. 児童福祉法第25条の3（…）");
      }
    }
    policy.sources = word_set(r.required_text(p, "sources"));
    for (const auto& s : policy.sources) {
      if (systems.count(s) == 0) {
        r.problem(FileReader::child(p, "sources"),
                  "unknown system '" + s + "' (configured: " + joined(systems) + ")");
      }
    }
    policy.kinds = word_set(r.required_text(p, "kinds"));
    for (const auto& k : policy.kinds) {
      if (!is_kind_pattern(k)) {
        r.problem(FileReader::child(p, "kinds"),
                  "'" + k + "' is not an event kind such as infant_checkup.missed or cg.*");
      }
    }
    policy.roles = word_set(r.required_text(p, "roles"));
    for (const auto& role : policy.roles) {
      if (roster.roles.count(role) == 0) {
        r.problem(
            FileReader::child(p, "roles"),
            "unknown role '" + role + "' (roster.xml declares: " + joined(roster.roles) + ")");
      }
    }
    policy.fields = word_set(r.required_text(p, "fields"));
    for (const auto& f : policy.fields) {
      if (!is_known_field(f)) {
        r.problem(FileReader::child(p, "fields"), "unknown field '" + f + "'");
      }
    }
    if (policy.id.empty()) continue;
    if (std::any_of(policies.begin(), policies.end(),
                    [&](const Policy& q) { return q.id == policy.id; })) {
      r.problem(p, "policy '" + policy.id + "' is defined twice");
      continue;
    }
    policies.push_back(std::move(policy));
  }
}

// ---- routes.xml ---------------------------------------------------------------------------------

class RoutesReader {
 public:
  RoutesReader(const FileReader& r, const std::set<std::string>& systems, RoutingConfig& config)
      : r_(r), systems_(systems), c_(config) {}

  void read(const xmlNode* root) {
    r_.check(root,
             {{}, {"systems", "kinds", "after-hours", "routes", "correlations", "timers"}, {}});
    if (const xmlNode* systems = FileReader::child(root, "systems")) {
      for (const xmlNode* s : r_.check(systems, {{}, {}, {"system"}})) {
        if (name_of(s) != "system") continue;
        r_.check(s, {{"id", "label"}, {}, {}});
        const std::string id = r_.required_attr(s, "id");
        const std::string label = r_.required_attr(s, "label");
        if (!id.empty() && !c_.system_labels.emplace(id, label).second) {
          r_.problem(s, "system '" + id + "' is labelled twice");
        }
      }
    }
    if (const xmlNode* kinds = FileReader::child(root, "kinds")) {
      catalogue_ = true;
      for (const xmlNode* k : r_.check(kinds, {{}, {}, {"kind"}})) {
        if (name_of(k) != "kind") continue;
        r_.check(k, {{"id", "label"}, {}, {}});
        const std::string id = r_.required_attr(k, "id");
        const std::string label = r_.required_attr(k, "label");
        if (id.empty()) continue;
        if (!is_kind_pattern(id) || id.back() == '*') {
          r_.problem(k, "'" + id + "' is not an event kind such as infant_checkup.missed");
        } else if (!c_.kind_labels.emplace(id, label).second) {
          r_.problem(k, "kind '" + id + "' is labelled twice");
        }
      }
    }
    if (const xmlNode* after = FileReader::child(root, "after-hours")) {
      r_.check(after, {{"role"}, {}, {}});
      c_.after_hours_role = r_.required_attr(after, "role");
      check_role_declared(after, c_.after_hours_role);
    } else if (c_.roster.roles.count(c_.after_hours_role) == 0) {
      r_.problem(root, "no <after-hours role=\"…\"/> and the default role '" + c_.after_hours_role +
                           "' is not declared in roster.xml");
    }
    if (const xmlNode* routes = FileReader::child(root, "routes")) {
      for (const xmlNode* n : r_.check(routes, {{}, {}, {"route"}})) {
        if (name_of(n) == "route") read_route(n);
      }
    }
    if (const xmlNode* correlations = FileReader::child(root, "correlations")) {
      for (const xmlNode* n : r_.check(correlations, {{}, {}, {"correlation"}})) {
        if (name_of(n) == "correlation") read_correlation(n);
      }
    }
    if (const xmlNode* timers = FileReader::child(root, "timers")) {
      for (const xmlNode* n : r_.check(timers, {{}, {}, {"timer"}})) {
        if (name_of(n) == "timer") read_timer(n);
      }
    }
  }

  bool known_kind(const std::string& pattern) const {
    if (!catalogue_) return true;
    if (c_.kind_labels.count(pattern) != 0) return true;
    if (pattern.size() > 2 && pattern.compare(pattern.size() - 2, 2, ".*") == 0) {
      return std::any_of(c_.kind_labels.begin(), c_.kind_labels.end(),
                         [&](const auto& kv) { return kind_matches({pattern}, kv.first); });
    }
    return false;
  }

 private:
  void check_role_declared(const xmlNode* node, const std::string& role) const {
    if (!role.empty() && c_.roster.roles.count(role) == 0) {
      r_.problem(node, "unknown role '" + role +
                           "' (roster.xml declares: " + joined(c_.roster.roles) + ")");
    }
  }

  bool new_id(const xmlNode* node, const std::string& id) {
    if (id.empty()) return false;
    if (!is_identifier(id)) r_.problem(node, "ids use a-z, 0-9, _ and - only");
    if (!ids_.insert(id).second) {
      r_.problem(node, "id '" + id + "' is used twice (routes, correlations and timers share ids)");
      return false;
    }
    return true;
  }

  std::set<std::string> kinds_from(const xmlNode* kinds_node) const {
    r_.check(kinds_node, {});
    std::set<std::string> kinds = word_set(text_of(kinds_node));
    if (kinds.empty()) r_.problem(kinds_node, "names no kinds; give at least one event kind");
    for (const auto& k : kinds) check_kind(kinds_node, k);
    return kinds;
  }

  void check_kind(const xmlNode* node, const std::string& k) const {
    if (!is_kind_pattern(k)) {
      r_.problem(node, "'" + k + "' is not an event kind such as infant_checkup.missed or cg.*");
    } else if (!known_kind(k)) {
      r_.problem(node, "unknown event kind '" + k + "' (not in <kinds> of routes.xml)");
    }
  }

  std::optional<Recipient> read_recipient(const xmlNode* node) const {
    r_.check(node, {{"role", "fallback", "channels"}, {}, {}});
    Recipient rec;
    rec.role = r_.required_attr(node, "role");
    rec.fallback = trimmed(attr(node, "fallback").value_or(""));
    rec.channels = words(attr(node, "channels").value_or("inbox"));
    for (const auto& channel : rec.channels) {
      if (channel.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                    "0123456789_-") != std::string::npos) {
        r_.problem(node, "channel '" + channel + "' may hold only letters, digits, '_' and '-'");
      }
    }
    if (rec.channels.empty()) r_.problem(node, "channels is empty; leave it out for the inbox");
    check_role_declared(node, rec.role);
    check_role_declared(node, rec.fallback);
    if (!rec.fallback.empty() && rec.fallback == rec.role) {
      r_.problem(node, "the fallback is the role itself");
    }
    if (rec.role.empty()) return std::nullopt;
    return rec;
  }

  Deadline read_deadline(const xmlNode* node) const {
    r_.check(node, {{"clock"}, {}, {}});
    const std::string clock = attr(node, "clock").value_or("wall");
    Deadline d;
    if (clock == "office-hours") {
      d.clock = Deadline::Clock::office_hours;
    } else if (clock != "wall") {
      r_.problem(node, "clock='" + clock + "' is not wall or office-hours");
    }
    const std::string text = text_of(node);
    auto parsed = parse_duration(text);
    if (!parsed) {
      r_.problem(node, "'" + text +
                           "' is not a non-zero ISO-8601 duration PnDTnHnM (e.g. P1D, PT4H, "
                           "P1DT12H; weeks, months, years and seconds are not accepted)");
      return d;
    }
    parsed->clock = d.clock;
    return *parsed;
  }

  std::vector<Recipient> read_escalation(const xmlNode* parent) const {
    std::vector<Recipient> steps;
    const xmlNode* esc = FileReader::child(parent, "escalation");
    if (esc == nullptr) return steps;
    for (const xmlNode* s : r_.check(esc, {{}, {}, {"step"}})) {
      if (name_of(s) != "step") continue;
      if (auto rec = read_recipient(s)) steps.push_back(*rec);
    }
    return steps;
  }

  std::vector<std::string> read_fields(const xmlNode* parent) const {
    std::vector<std::string> fields;
    const xmlNode* node = r_.required_child(parent, "fields");
    if (node == nullptr) return fields;
    r_.check(node, {});
    for (const auto& f : words(text_of(node))) {
      if (!is_known_field(f)) {
        r_.problem(node, "unknown field '" + f + "'");
      } else if (std::find(fields.begin(), fields.end(), f) != fields.end()) {
        r_.problem(node, "field '" + f + "' is named twice");
      } else {
        fields.push_back(f);
      }
    }
    if (fields.empty() && !text_of(node).empty()) return fields;
    if (text_of(node).empty()) r_.problem(node, "names no fields");
    return fields;
  }

  std::string read_reason(const xmlNode* parent, const std::set<std::string>& placeholders) const {
    std::string reason = r_.required_text(parent, "reason");
    const xmlNode* node = FileReader::child(parent, "reason");
    for (std::size_t at = reason.find('{'); at != std::string::npos;
         at = reason.find('{', at + 1)) {
      const auto end = reason.find('}', at);
      const std::string name = end == std::string::npos ? "" : reason.substr(at, end - at + 1);
      if (placeholders.count(name) == 0) {
        r_.problem(node, "unknown placeholder '" + (name.empty() ? reason.substr(at) : name) +
                             "' (allowed: " + joined(placeholders, " ") + ")");
      }
    }
    return reason;
  }

  // The deny-by-default checks every rule gets: it names a known policy, its fields are in the
  // policy's allow-list, and every role it may deliver to is one the policy allows.
  void check_against_policy(const xmlNode* node, const char* what, const std::string& id,
                            const std::string& policy_id, const std::vector<Recipient>& recipients,
                            const std::vector<Recipient>& escalation,
                            const std::vector<std::string>& fields) const {
    if (policy_id.empty()) {
      r_.problem(node, std::string(what) + " '" + id +
                           "' names no policy; every flow must name the policy that allows it "
                           "(deny by default)");
      return;
    }
    const Policy* policy = c_.policy(policy_id);
    if (policy == nullptr) {
      r_.problem(node, std::string(what) + " '" + id + "' names policy '" + policy_id +
                           "', which policies.xml does not define");
      return;
    }
    const xmlNode* fields_node = FileReader::child(node, "fields");
    for (const auto& f : fields) {
      if (policy->fields.count(f) == 0) {
        r_.problem(fields_node, std::string(what) + " '" + id + "' asks for field '" + f +
                                    "', which policy '" + policy_id +
                                    "' does not allow (its fields: " + joined(policy->fields, " ") +
                                    ")");
      }
    }
    auto check_role = [&](const std::string& role, const char* as) {
      if (role.empty() || policy->roles.count(role) != 0) return;
      r_.problem(node, std::string(what) + " '" + id + "': " + as + " role '" + role +
                           "' is not among the roles of policy '" + policy_id + "' (" +
                           joined(policy->roles, " ") + "), so it could never deliver");
    };
    for (const auto& rec : recipients) {
      check_role(rec.role, "recipient");
      check_role(rec.fallback, "fallback");
    }
    for (const auto& rec : escalation) {
      check_role(rec.role, "escalation");
      check_role(rec.fallback, "escalation fallback");
    }
  }

  void read_match(const xmlNode* node, Match& m) const {
    r_.check(node, {{},
                    {"kinds", "sources", "on-public-assistance", "has-open-cg-case", "age-months"},
                    {"attribute"}});
    if (const xmlNode* kinds = r_.required_child(node, "kinds")) m.kinds = kinds_from(kinds);
    if (const xmlNode* sources = FileReader::child(node, "sources")) {
      r_.check(sources, {});
      m.sources = word_set(text_of(sources));
      for (const auto& s : m.sources) {
        if (systems_.count(s) == 0) {
          r_.problem(sources, "unknown system '" + s + "' (configured: " + joined(systems_) + ")");
        }
      }
    }
    if (const xmlNode* pa = FileReader::child(node, "on-public-assistance")) {
      m.on_public_assistance = r_.boolean_text(pa);
    }
    if (const xmlNode* cg = FileReader::child(node, "has-open-cg-case")) {
      m.has_open_cg_case = r_.boolean_text(cg);
    }
    if (const xmlNode* age = FileReader::child(node, "age-months")) {
      r_.check(age, {{"min", "max"}, {}, {}});
      m.min_age_months = r_.integer_attr(age, "min", 0, 1200);
      m.max_age_months = r_.integer_attr(age, "max", 0, 1200);
      if (!attr(age, "min") && !attr(age, "max")) r_.problem(age, "gives neither min nor max");
      if (m.min_age_months && m.max_age_months && *m.min_age_months > *m.max_age_months) {
        r_.problem(age, "min is greater than max");
      }
    }
    for (const xmlNode* a : FileReader::children_named(node, "attribute")) {
      r_.check(a, {{"name"}, {}, {}});
      AttributeCondition cond;
      cond.name = r_.required_attr(a, "name");
      if (!cond.name.empty() && !is_known_field("attributes." + cond.name)) {
        r_.problem(a, "'" + cond.name + "' is not an attribute name (a-z, 0-9, _)");
      }
      cond.in = word_set(text_of(a));
      m.attributes.push_back(std::move(cond));
    }
  }

  void read_route(const xmlNode* node) {
    r_.check(node, {{"id", "policy"},
                    {"title", "match", "deadline", "escalation", "fields", "reason"},
                    {"recipient"}});
    Route route;
    route.id = r_.required_attr(node, "id");
    route.policy = trimmed(attr(node, "policy").value_or(""));
    route.origin = r_.origin(node);
    route.title = r_.required_text(node, "title");
    if (const xmlNode* m = r_.required_child(node, "match")) read_match(m, route.match);
    for (const xmlNode* rec : FileReader::children_named(node, "recipient")) {
      if (auto r = read_recipient(rec)) route.recipients.push_back(*r);
    }
    if (FileReader::children_named(node, "recipient").empty()) {
      r_.problem(node, "has no <recipient>");
    }
    if (const xmlNode* d = r_.required_child(node, "deadline")) route.deadline = read_deadline(d);
    route.escalation = read_escalation(node);
    route.fields = read_fields(node);
    route.reason = read_reason(node, {"{kind}", "{ward}", "{source}"});
    check_against_policy(node, "route", route.id, route.policy, route.recipients, route.escalation,
                         route.fields);
    if (new_id(node, route.id)) c_.routes.push_back(std::move(route));
  }

  void read_correlation(const xmlNode* node) {
    r_.check(node, {{"id", "policy", "window-days", "min-kinds", "min-systems"},
                    {"title", "kinds", "deadline", "escalation", "fields", "reason"},
                    {"recipient"}});
    CorrelationRule rule;
    rule.id = r_.required_attr(node, "id");
    rule.policy = trimmed(attr(node, "policy").value_or(""));
    rule.origin = r_.origin(node);
    rule.window_days = r_.integer_attr(node, "window-days", 1, 3650).value_or(rule.window_days);
    rule.min_kinds = r_.integer_attr(node, "min-kinds", 1, 100).value_or(rule.min_kinds);
    rule.min_systems = r_.integer_attr(node, "min-systems", 1, 100).value_or(rule.min_systems);
    rule.title = r_.required_text(node, "title");
    if (const xmlNode* k = r_.required_child(node, "kinds")) rule.kinds = kinds_from(k);
    if (!rule.kinds.empty() && static_cast<int>(rule.kinds.size()) < rule.min_kinds) {
      r_.problem(node, "min-kinds is " + std::to_string(rule.min_kinds) + " but only " +
                           std::to_string(rule.kinds.size()) + " kinds are listed");
    }
    for (const xmlNode* rec : FileReader::children_named(node, "recipient")) {
      if (auto r = read_recipient(rec)) rule.recipients.push_back(*r);
    }
    if (FileReader::children_named(node, "recipient").empty()) {
      r_.problem(node, "has no <recipient>");
    }
    if (const xmlNode* d = r_.required_child(node, "deadline")) rule.deadline = read_deadline(d);
    rule.escalation = read_escalation(node);
    rule.fields = read_fields(node);
    rule.reason = read_reason(node, {"{kinds}", "{ward}"});
    check_against_policy(node, "correlation", rule.id, rule.policy, rule.recipients,
                         rule.escalation, rule.fields);
    if (new_id(node, rule.id)) c_.correlations.push_back(std::move(rule));
  }

  void read_timer(const xmlNode* node) {
    r_.check(node, {{"id", "policy"},
                    {"title", "start", "stop", "duration", "recipient", "deadline", "escalation",
                     "fields", "reason"},
                    {}});
    TimerRule timer;
    timer.id = r_.required_attr(node, "id");
    timer.policy = trimmed(attr(node, "policy").value_or(""));
    timer.origin = r_.origin(node);
    timer.title = r_.required_text(node, "title");
    for (const auto& [element, kind] :
         {std::pair{"start", &timer.start_kind}, std::pair{"stop", &timer.stop_kind}}) {
      if (const xmlNode* k = r_.required_child(node, element)) {
        r_.check(k, {{"kind"}, {}, {}});
        *kind = r_.required_attr(k, "kind");
        if (!kind->empty()) {
          check_kind(k, *kind);
          if (kind->back() == '*') r_.problem(k, "a timer starts and stops on one exact kind");
        }
      }
    }
    if (const xmlNode* d = r_.required_child(node, "duration")) timer.duration = read_deadline(d);
    std::vector<Recipient> recipients;
    if (const xmlNode* rec = r_.required_child(node, "recipient")) {
      if (auto r = read_recipient(rec)) {
        timer.recipient = *r;
        recipients.push_back(*r);
      }
    }
    if (const xmlNode* d = r_.required_child(node, "deadline")) timer.deadline = read_deadline(d);
    timer.escalation = read_escalation(node);
    timer.fields = read_fields(node);
    timer.reason = read_reason(node, {"{kind}", "{ward}", "{source}"});
    check_against_policy(node, "timer", timer.id, timer.policy, recipients, timer.escalation,
                         timer.fields);
    if (new_id(node, timer.id)) c_.timers.push_back(std::move(timer));
  }

  const FileReader& r_;
  const std::set<std::string>& systems_;
  RoutingConfig& c_;
  std::set<std::string> ids_;
  bool catalogue_ = false;
};

// The root element must be `expected`; anything else is the wrong file.
const xmlNode* root_of(const Doc& doc, const FileReader& r, const std::string& expected) {
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  if (root == nullptr || name_of(root) != expected) {
    r.problem(root, "the root element must be <" + expected + ">" +
                        (root != nullptr ? ", not <" + name_of(root) + ">" : std::string()));
    return nullptr;
  }
  return root;
}

// Japan time, whole weeks: a Sunday 00:00 JST with no public holiday in the calendar used.
TimePoint reference_sunday() {
  using namespace std::chrono;
  return sys_days{year{2023} / January / 1} - hours(9);
}

std::string ward_text(const Ward& w) {
  return w.name + "(" + w.code + ")";
}

std::string role_text(const Roster& roster, const std::string& role) {
  auto it = roster.role_names.find(role);
  return it != roster.role_names.end() && !it->second.empty() ? it->second + " [" + role + "]"
                                                              : role;
}

}  // namespace

std::string Origin::where() const {
  std::string out = file.filename().string();
  if (line > 0) out += ":" + std::to_string(line);
  if (!element.empty()) out += " <" + element + ">";
  return out;
}

bool is_known_field(const std::string& path) {
  static const std::set<std::string> fields{"kind",
                                            "occurred_at",
                                            "source",
                                            "source_ref",
                                            "subject.name",
                                            "subject.name_kana",
                                            "subject.birth_date",
                                            "subject.age_months",
                                            "subject.sex",
                                            "subject.address",
                                            "subject.resident_id",
                                            "subject.ward_code",
                                            "household.role"};
  if (fields.count(path) != 0) return true;
  constexpr std::string_view kAttributes = "attributes.";
  if (path.size() <= kAttributes.size() || path.compare(0, kAttributes.size(), kAttributes) != 0) {
    return false;
  }
  return std::all_of(
      path.begin() + static_cast<std::ptrdiff_t>(kAttributes.size()), path.end(),
      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; });
}

bool Policy::covers_kind(const std::string& kind) const {
  return kind_matches(kinds, kind);
}

bool Match::matches_kind(const std::string& kind) const {
  return kind_matches(kinds, kind);
}

const Ward* Roster::ward(const std::string& code) const {
  for (const auto& w : wards) {
    if (w.code == code) return &w;
  }
  return nullptr;
}

const Officer* Roster::officer(const std::string& id) const {
  for (const auto& o : officers) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

std::vector<const Officer*> Roster::serving(const std::string& role,
                                            const std::string& ward_code) const {
  std::vector<const Officer*> out;
  for (const auto& o : officers) {
    if (o.active && o.role == role && !o.ward.empty() && o.ward == ward_code) out.push_back(&o);
  }
  for (const auto& o : officers) {
    if (o.active && o.role == role && o.ward.empty()) out.push_back(&o);
  }
  return out;
}

const Policy* RoutingConfig::policy(const std::string& id) const {
  for (const auto& p : policies) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

std::string RoutingConfig::kind_label(const std::string& kind) const {
  auto it = kind_labels.find(kind);
  return it != kind_labels.end() ? it->second : kind;
}

std::string RoutingConfig::system_label(const std::string& system) const {
  auto it = system_labels.find(system);
  return it != system_labels.end() ? it->second : system;
}

std::optional<Deadline> parse_duration(const std::string& iso) {
  if (iso.size() < 3 || iso.size() > 32 || iso[0] != 'P') return std::nullopt;
  Deadline d;
  d.text = iso;
  bool in_time = false, any = false;
  // Designators must come in order: D, then T, then H, then M.
  int last = 0;  // 1 D, 2 T, 3 H, 4 M
  std::size_t i = 1;
  while (i < iso.size()) {
    if (iso[i] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      last = 2;
      ++i;
      if (i == iso.size()) return std::nullopt;  // "P1DT"
      continue;
    }
    const std::size_t start = i;
    while (i < iso.size() && iso[i] >= '0' && iso[i] <= '9') ++i;
    if (i == start || i == iso.size() || i - start > 6) return std::nullopt;
    int value = 0;
    std::from_chars(iso.data() + start, iso.data() + i, value);
    const char unit = iso[i++];
    int order = 0;
    if (unit == 'D' && !in_time) {
      order = 1;
      d.days = value;
    } else if (unit == 'H' && in_time) {
      order = 3;
      d.hours = value;
    } else if (unit == 'M' && in_time) {
      order = 4;
      d.minutes = value;
    } else {
      return std::nullopt;  // W, Y, months (M before T), seconds, or a stray letter
    }
    if (order <= last) return std::nullopt;
    last = order;
    any = true;
  }
  if (!any || d.empty()) return std::nullopt;
  return d;
}

RoutingConfig load(const RoutingFiles& files, const std::set<std::string>& systems) {
  Problems problems;
  const Doc roster_doc = parse_file(files.roster, problems);
  const Doc holidays_doc = parse_file(files.holidays, problems);
  const Doc policies_doc = parse_file(files.policies, problems);
  const Doc routes_doc = parse_file(files.routes, problems);
  // Cross-file checks against a file that could not be read would only add noise.
  if (!problems.empty()) problems.raise();

  RoutingConfig config;
  const FileReader roster_reader(files.roster, problems);
  const FileReader holidays_reader(files.holidays, problems);
  const FileReader policies_reader(files.policies, problems);
  const FileReader routes_reader(files.routes, problems);
  if (const xmlNode* root = root_of(roster_doc, roster_reader, "roster")) {
    read_roster(roster_reader, root, config.roster);
  }
  if (const xmlNode* root = root_of(holidays_doc, holidays_reader, "holidays")) {
    read_holidays(holidays_reader, root, config.holidays);
  }
  const xmlNode* policies_root = root_of(policies_doc, policies_reader, "policies");
  if (policies_root != nullptr) {
    read_policies(policies_reader, policies_root, systems, config.roster, config.policies);
  }
  if (const xmlNode* root = root_of(routes_doc, routes_reader, "routing")) {
    RoutesReader routes(routes_reader, systems, config);
    routes.read(root);
    // A policy's kinds are checked against the catalogue in routes.xml, now that it is read.
    for (const auto& p : config.policies) {
      for (const auto& k : p.kinds) {
        if (!routes.known_kind(k)) {
          problems.add(files.policies, p.origin.line, p.origin.element,
                       "unknown event kind '" + k + "' (not in <kinds> of routes.xml)");
        }
      }
    }
  }
  if (!problems.empty()) problems.raise();
  return config;
}

std::vector<std::string> unreachable(const RoutingConfig& config) {
  std::vector<std::string> out;
  const Roster& roster = config.roster;
  auto reaches = [&](const Recipient& r, const std::string& ward) {
    return !roster.serving(r.role, ward).empty() ||
           (!r.fallback.empty() && !roster.serving(r.fallback, ward).empty());
  };
  auto by_ward = [&](const char* what_ja, const char* what, const std::string& id,
                     const Recipient& r, const char* step) {
    for (const auto& w : roster.wards) {
      if (reaches(r, w.code)) continue;
      out.push_back(
          std::string(what_ja) + " " + id + ": " + ward_text(w) + " では " +
          role_text(roster, r.role) +
          (r.fallback.empty() ? "" : " / 代替 " + role_text(roster, r.fallback)) +
          " に該当する職員がいません — " + what + " '" + id + "', ward " + w.code + ": " + step +
          " role '" + r.role + "'" +
          (r.fallback.empty() ? " (no fallback)" : " and its fallback '" + r.fallback + "'") +
          " reach no active officer");
    }
  };
  auto all_steps = [&](const char* what_ja, const char* what, const std::string& id,
                       const std::vector<Recipient>& recipients,
                       const std::vector<Recipient>& escalation) {
    for (const auto& r : recipients) by_ward(what_ja, what, id, r, "recipient");
    for (const auto& r : escalation) by_ward(what_ja, what, id, r, "escalation");
  };
  for (const auto& route : config.routes) {
    all_steps("経路", "route", route.id, route.recipients, route.escalation);
  }
  for (const auto& rule : config.correlations) {
    all_steps("突合", "correlation", rule.id, rule.recipients, rule.escalation);
  }

  // Timers fire at any hour: their recipients must have someone on duty all week. Holidays are
  // left out (a holiday is checked by the holiday slots a role's officers have or lack).
  const Holidays no_holidays;
  const Calendar calendar(roster, no_holidays);
  const TimePoint week = reference_sunday();
  static const char* const kDays[] = {"日", "月", "火", "水", "木", "金", "土"};
  auto gaps = [&](const Recipient& r, bool only_after_hours) {
    std::vector<std::string> ranges;
    int gap_start = -1;  // the first uncovered minute of the current gap
    constexpr int kStep = 15, kWeek = 7 * 1440;
    auto fmt = [](int minute) {
      const int m = minute % 1440;
      char buf[16];
      std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
      return std::string(kDays[(minute / 1440) % 7]) + " " + buf;
    };
    for (int minute = 0; minute <= kWeek; minute += kStep) {
      bool covered = true;
      if (minute < kWeek) {
        const TimePoint t = week + std::chrono::minutes(minute);
        const bool relevant = !only_after_hours || !calendar.in_office_hours(t);
        covered = !relevant || !calendar.on_duty(r.role, t).empty() ||
                  (!r.fallback.empty() && !calendar.on_duty(r.fallback, t).empty());
      }
      if (!covered && gap_start < 0) gap_start = minute;
      if (covered && gap_start >= 0) {
        ranges.push_back(fmt(gap_start) + "–" + fmt(minute));
        gap_start = -1;
      }
    }
    std::string text;
    for (const auto& g : ranges) text += (text.empty() ? "" : ", ") + g;
    return text;
  };
  auto on_duty_all_week = [&](const char* what_ja, const char* what, const std::string& id,
                              const Recipient& r, const char* step, bool only_after_hours) {
    const std::string g = gaps(r, only_after_hours);
    if (g.empty()) return;
    out.push_back(std::string(what_ja) + " " + id + ": " + role_text(roster, r.role) +
                  " が当番でない時間帯があります (" + g + ") — " + what + " '" + id + "': " + step +
                  " role '" + r.role + "' has nobody on duty at: " + g);
  };
  for (const auto& timer : config.timers) {
    all_steps("期限", "timer", timer.id, {timer.recipient}, timer.escalation);
    on_duty_all_week("期限", "timer", timer.id, timer.recipient, "recipient", false);
    for (const auto& r : timer.escalation) {
      on_duty_all_week("期限", "timer", timer.id, r, "escalation", false);
    }
  }
  if (!config.routes.empty() || !config.correlations.empty() || !config.timers.empty()) {
    on_duty_all_week("時間外", "after-hours", config.after_hours_role,
                     Recipient{config.after_hours_role, "", {}}, "after-hours", true);
  }
  return out;
}

}  // namespace tsunagu::routing
