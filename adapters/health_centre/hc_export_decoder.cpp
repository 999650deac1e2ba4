#include "health_centre/hc_export_decoder.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "health_centre/hc_export_slicer.hpp"

namespace tsunagu::health_centre {
namespace {

// libxml2 2.12 made the structured error argument const.
#if LIBXML_VERSION >= 21200
using ErrorArg = const xmlError*;
#else
using ErrorArg = xmlError*;
#endif

// No network; big line numbers so that messages about long files stay right. Never
// XML_PARSE_DTDLOAD, XML_PARSE_NOENT, XML_PARSE_DTDVALID (nor DTDATTR, XINCLUDE): the export
// needs no DTD, and those are what make XXE and entity bombs work. libxml2 2.13 added
// XML_PARSE_NO_XXE; Debian 12's 2.9.14 does not have it, and there the slicer's refusal of every
// markup declaration is what guarantees it. Besides, the SAX handlers below have no DTD, entity
// or external-subset callbacks, so nothing could be declared, loaded or expanded even if a
// declaration reached the parser.
constexpr int kParseOptions = XML_PARSE_NONET | XML_PARSE_BIG_LINES
#if LIBXML_VERSION >= 21300
                              | XML_PARSE_NO_XXE
#endif
    ;
static_assert((kParseOptions & (XML_PARSE_DTDLOAD | XML_PARSE_NOENT | XML_PARSE_DTDVALID |
                                XML_PARSE_DTDATTR | XML_PARSE_XINCLUDE)) == 0);

constexpr std::string_view kXsiNamespace = "http://www.w3.org/2001/XMLSchema-instance";
constexpr std::string_view kFullWidthSpace = "\xE3\x80\x80";  // U+3000, between family and given
constexpr std::size_t kMaxLoggedErrors = 64;
constexpr std::size_t kMinDocumentBytes = 1024;
constexpr std::size_t kMaxDocumentBytes = 268435456;  // 256 MiB
constexpr std::size_t kMaxSeparatorBytes = 8;
constexpr std::size_t kHeadBytes = 48;
// The parser is given the input in pieces that end at multiples of this offset, whatever the
// read size and however the slicer holds documents back, so that what it reports never depends
// on how the input arrived. Small, because libxml2's push parser moves the unparsed rest of its
// buffer to the front every 4 KiB it consumes (measured: 64 KiB pieces cost 2% more in memmove).
constexpr std::size_t kParseChunkBytes = 4096;
// libxml2's default nesting limit (xmlParserMaxDepth). Its tree builder enforces it; its push
// parser alone (2.9) does not, so without a tree the decoder does, or a deeply nested oversized
// document streaming past would grow the parser's stacks without bound.
constexpr std::size_t kMaxDepth = 256;

struct ParserFree {
  void operator()(xmlParserCtxt* context) const noexcept { xmlFreeParserCtxt(context); }
};

std::string_view view(const xmlChar* text) {
  return text == nullptr ? std::string_view() : reinterpret_cast<const char*>(text);
}

// XML white space only: a full-width space is content.
std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

std::string trimmed(std::string_view text) {
  return std::string(trim(text));
}

// At most `bytes` bytes of `text`, not cutting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes);
}

// A NUL-terminated libxml2 string equals `v` (without measuring it first).
bool equals(const xmlChar* text, std::string_view v) {
  return text != nullptr && !v.empty() && text[0] == static_cast<unsigned char>(v[0]) &&
         std::strncmp(reinterpret_cast<const char*>(text), v.data(), v.size()) == 0 &&
         text[v.size()] == '\0';
}

// ---- attributes as SAX2 hands them over ----------------------------------------------------
//
// startElementNs gives five pointers per attribute: local name, prefix, namespace URI, value
// and the value's end. The value is normalised and its references resolved, except that an '&'
// stays escaped as "&#38;" (libxml2 leaves that to the tree builder when entities are not
// substituted); value() undoes it, so values are what the tree held before.

struct SaxAttribute {
  const xmlChar* const* at;  // the five pointers
  std::string_view raw() const {
    return {reinterpret_cast<const char*>(at[3]), static_cast<std::size_t>(at[4] - at[3])};
  }
};

std::string decoded(SaxAttribute attribute) {
  const std::string_view raw = attribute.raw();
  std::string out;
  std::size_t from = 0;
  for (std::size_t amp = raw.find('&'); amp != std::string_view::npos; amp = raw.find('&', from)) {
    out.append(raw.substr(from, amp - from)).push_back('&');
    from = raw.compare(amp, 5, "&#38;") == 0 ? amp + 5 : amp + 1;
  }
  if (from == 0) return std::string(raw);
  out.append(raw.substr(from));
  return out;
}

class SaxAttributes {
 public:
  SaxAttributes(const xmlChar** attributes, int count)
      : attributes_(attributes), count_(std::max(count, 0)) {}

  // The attribute `local` in no namespace. An attribute whose prefix is not declared is named
  // "prefix:local" in no namespace by libxml2's tree builder, so it is not this one.
  std::optional<SaxAttribute> find(std::string_view local) const {
    for (std::ptrdiff_t i = 0; i < count_; ++i) {
      const xmlChar* const* at = attributes_ + 5 * i;
      if (at[1] == nullptr && equals(at[0], local)) return SaxAttribute{at};
    }
    return std::nullopt;
  }
  // The attribute `local` in namespace `uri`.
  std::optional<SaxAttribute> find(std::string_view local, std::string_view uri) const {
    for (std::ptrdiff_t i = 0; i < count_; ++i) {
      const xmlChar* const* at = attributes_ + 5 * i;
      if (at[2] != nullptr && equals(at[0], local) && equals(at[2], uri)) return SaxAttribute{at};
    }
    return std::nullopt;
  }
  // An attribute of that local name in any namespace (what xmlHasProp finds).
  bool any(std::string_view local) const {
    for (std::ptrdiff_t i = 0; i < count_; ++i) {
      const xmlChar* const* at = attributes_ + 5 * i;
      if (equals(at[0], local) && (at[1] == nullptr || at[2] != nullptr)) return true;
    }
    return false;
  }
  // The no-namespace attribute `local` equals `expected` exactly (XPath [@local='expected']).
  bool equal(std::string_view local, std::string_view expected) const {
    const auto attribute = find(local);
    if (!attribute) return false;
    const std::string_view raw = attribute->raw();
    return raw.find('&') == std::string_view::npos ? raw == expected
                                                   : decoded(*attribute) == expected;
  }

 private:
  const xmlChar** attributes_;
  std::ptrdiff_t count_;
};

// ---- what a document yields -----------------------------------------------------------------

// A no-namespace attribute as the decoder reads it: trimmed, and whether an attribute of that
// local name is there at all (it decides between "no" and "an empty" in messages).
struct Attribute {
  std::string value;
  bool present = false;

  void take(const SaxAttributes& attributes, std::string_view local) {
    const auto found = attributes.find(local);
    value = found ? trimmed(decoded(*found)) : std::string();
    present = attributes.any(local);
  }
};

// An element a document has at most one of: how many there were, and the first one's attribute.
struct Single {
  std::uint32_t count = 0;
  Attribute attribute;
};

// <name use="…">: its family and given parts, or its whole text when it has none.
struct PersonName {
  std::uint32_t count = 0;
  bool parts = false;
  std::string text;    // all of its text
  std::string family;  // the family parts' texts, joined by a full-width space
  std::string given;   // the given parts' texts, joined the same way
};

// <addr>: its lines (element children of any name) joined by a space, or its whole text.
struct Address {
  std::uint32_t count = 0;
  bool lines = false;
  std::string text;
  std::string joined;
};

struct Observation {
  std::uint64_t line = 0;
  std::uint32_t codes = 0;
  std::uint32_t values = 0;
  std::string code;  // the first <code>'s @code, trimmed
  // The first <value>: its xsi:type (trimmed), @code and @value, and its text.
  std::string type;
  Attribute code_attribute;
  Attribute value_attribute;
  std::string text;
};

// The CDA elements the decoder looks at, by local name (in urn:hl7-org:v3).
enum class Cda : std::uint8_t {
  none,  // another name, or not in the CDA namespace
  id,
  versionNumber,
  code,
  effectiveTime,
  recordTarget,
  patientRole,
  patient,
  addr,
  name,
  family,
  given,
  administrativeGenderCode,
  birthTime,
  providerOrganization,
  component,
  structuredBody,
  section,
  entry,
  observation,
  value,
};

Cda classify_name(const xmlChar* local) {
  struct Known {
    std::string_view name;
    Cda cda;
  };
  static constexpr Known kKnown[] = {
      {"id", Cda::id},
      {"versionNumber", Cda::versionNumber},
      {"code", Cda::code},
      {"effectiveTime", Cda::effectiveTime},
      {"recordTarget", Cda::recordTarget},
      {"patientRole", Cda::patientRole},
      {"patient", Cda::patient},
      {"addr", Cda::addr},
      {"name", Cda::name},
      {"family", Cda::family},
      {"given", Cda::given},
      {"administrativeGenderCode", Cda::administrativeGenderCode},
      {"birthTime", Cda::birthTime},
      {"providerOrganization", Cda::providerOrganization},
      {"component", Cda::component},
      {"structuredBody", Cda::structuredBody},
      {"section", Cda::section},
      {"entry", Cda::entry},
      {"observation", Cda::observation},
      {"value", Cda::value},
  };
  for (const Known& known : kKnown) {
    if (equals(local, known.name)) return known.cda;
  }
  return Cda::none;
}

// Element names come from the parser's dictionary, one pointer per name for the life of the
// parser, so each is classified once and then found by its address.
class NameCache {
 public:
  Cda classify(const xmlChar* local) {
    const std::size_t start = (reinterpret_cast<std::uintptr_t>(local) >> 3) % kSlots;
    for (std::size_t i = 0; i < kSlots; ++i) {
      Slot& slot = slots_[(start + i) % kSlots];
      if (slot.name == local) return slot.cda;
      if (slot.name == nullptr) {
        slot = Slot{local, classify_name(local)};
        return slot.cda;
      }
    }
    return classify_name(local);  // full (a document of many distinct names): no caching
  }

 private:
  static constexpr std::size_t kSlots = 64;
  struct Slot {
    const xmlChar* name = nullptr;
    Cda cda = Cda::none;
  };
  std::array<Slot, kSlots> slots_{};
};

// What an open element is to the decoder.
enum class Role : std::uint8_t {
  none,
  role,          // the document's first recordTarget/patientRole
  address,       // its first addr
  address_line,  // an element child of that addr
  patient,       // a patient of that patientRole
  name_ide,      // the first patient/name[@use='IDE'] of that patientRole
  name_syl,      // the first patient/name[@use='SYL']
  family,        // a family child of one of those names
  given,         // a given child of one of those names
  organization,  // a providerOrganization of that patientRole
  observation,   // component/structuredBody//section/entry/observation
  value,         // the first value child of an observation
};

struct Frame {
  Cda cda = Cda::none;
  Role role = Role::none;
  bool collects_text = false;     // pushed a text buffer that its end pops
  std::uint32_t observation = 0;  // Role::observation: which one (observations nest)
};

// A libxml2 diagnostic, with where the parser was when it was raised.
struct ParserError {
  int level = 0;
  long line = 0;
  long column = 0;
  std::uint64_t offset = 0;  // byte offset in the input
  std::string message;
};

// One problem of one document: the native field (or element) and why.
struct Problem {
  std::string field;
  std::string reason;
};

// The state of the document being read: what the tree walk of earlier versions selected
// (h:id, h:recordTarget/h:patientRole, …), gathered from the SAX events instead of a tree. For
// each path that must select one node, the number of nodes selected and the first one's data.
struct DocumentState {
  Single id, version, code, time;
  std::uint32_t roles = 0;  // recordTarget/patientRole: only the first one's content is kept
  Single resident, sex, birth, ward;
  Address address;
  PersonName ide, syl;
  std::deque<Observation> observations;  // deque: text buffers point into them while they grow
  std::size_t observations_used = 0;
  std::string part;  // the text of the name part or address line being read

  void reset() {
    id = version = code = time = Single{};
    roles = 0;
    resident = sex = birth = ward = Single{};
    address = Address{};
    ide = syl = PersonName{};
    observations_used = 0;
  }
  Observation& add_observation() {
    if (observations_used == observations.size()) observations.emplace_back();
    Observation& observation = observations[observations_used++];
    observation = Observation{};
    return observation;
  }
};

void append_joined(std::string& joined, std::string_view text, std::string_view separator) {
  text = trim(text);
  if (text.empty()) return;
  if (!joined.empty()) joined += separator;
  joined += text;
}

// One decode() call: the input, the slicer gating it, the SAX2 push parser and what it reported.
// Each document is read from the parser's events as they come, nothing is built; at its end tag
// its record is made and delivered.
class ExportRun {
 public:
  ExportRun(std::istream& in, const HcDecoderOptions& options, const std::string& origin,
            RecordSink& sink)
      : in_(in),
        options_(options),
        origin_(origin),
        sink_(sink),
        slicer_(options.max_document_bytes),
        chunk_(std::max<std::size_t>(options.read_buffer_bytes, 4096)),
        parse_chunk_(kParseChunkBytes) {}

  DecodeResult run();
  DecodeResult& result() { return result_; }

  // The SAX2 callbacks (none throws: a failure stops the parser and is rethrown by run()).
  void on_start(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
                int attribute_count, const xmlChar** attributes) noexcept;
  void on_end() noexcept;
  void on_text(const xmlChar* text, int length) noexcept;
  void on_declaration(const char* what) noexcept;
  void on_error(ErrorArg error) noexcept;

 private:
  void read_more() noexcept;
  void read_input();
  bool input_ended() const {
    return slicer_.refusal().has_value() || !read_error_.empty() || slicer_.finished();
  }
  void stop_parser() { xmlStopParser(context_.get()); }
  bool is_cda(const xmlChar* uri) {
    if (uri == nullptr) return false;
    if (uri == cda_uri_) return true;  // names and URIs come from the parser's dictionary
    if (!equals(uri, kCdaNamespace)) return false;
    cda_uri_ = uri;
    return true;
  }
  void start_root(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri);
  void start_document(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri);
  void start_inside(const xmlChar* local, const xmlChar* uri, const SaxAttributes& attributes);
  void end_inside(const Frame& frame);
  void too_deep();
  void collect_text(Frame& frame, std::string& buffer) {
    frame.collects_text = true;
    buffer.clear();
    text_.push_back(&buffer);
  }
  void end_document();
  void read_fields(NativeRecord& record, std::vector<Problem>& problems);
  void read_observations(NativeRecord& record, std::vector<Problem>& problems);
  void attribute_parser_errors(const DocumentSlice& slice, std::vector<Problem>& problems);
  bool deliver(NativeRecord&& record);
  DecodeResult failure(std::string message);
  DecodeResult refused();
  DecodeResult stopped_by_parser();
  const ParserError* first_fatal_error() const;
  std::string delivered_so_far() const;

  std::istream& in_;
  const HcDecoderOptions& options_;
  const std::string& origin_;
  RecordSink& sink_;
  ExportSlicer slicer_;
  std::vector<char> chunk_;
  std::vector<char> parse_chunk_;
  std::uint64_t fed_ = 0;  // bytes given to the parser
  std::string read_error_;
  std::string head_;  // the first bytes of the input, to describe a file that is not XML

  std::unique_ptr<xmlParserCtxt, ParserFree> context_;
  const xmlChar* cda_uri_ = nullptr;
  NameCache names_;
  std::vector<ParserError> errors_;
  std::exception_ptr exception_;          // thrown in a callback, rethrown once the parser returns
  std::optional<std::string> abandoned_;  // why the run stopped itself (not the parser)
  bool broken_ = false;                   // a break the decoder found for the parser (too deep)
  std::uint64_t number_ = 0;              // root child elements met
  bool root_seen_ = false;
  std::optional<DocumentSlice> last_;  // the slice of the last document met (raw moved out)

  // The document being read.
  enum class Reading : std::uint8_t { none, fields, wrong_element, oversized, unsliced };
  Reading reading_ = Reading::none;
  std::vector<Frame> open_;         // the open elements, the root first
  std::vector<std::string*> text_;  // where character data goes: the open collecting elements
  DocumentState document_;
  std::optional<Problem> wrong_element_;  // a wrong document element; an oversized one: its name
  DecodeResult result_;
};

// ---- the callbacks libxml2 calls ------------------------------------------------------------

ExportRun& run_of(void* context) {
  return *static_cast<ExportRun*>(context);
}

void sax_start(void* context, const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
               int /*namespace_count*/, const xmlChar** /*namespaces*/, int attribute_count,
               int /*defaulted_count*/, const xmlChar** attributes) {
  run_of(context).on_start(local, prefix, uri, attribute_count, attributes);
}

void sax_end(void* context, const xmlChar* /*local*/, const xmlChar* /*prefix*/,
             const xmlChar* /*uri*/) {
  run_of(context).on_end();
}

void sax_text(void* context, const xmlChar* text, int length) {
  run_of(context).on_text(text, length);
}

void sax_internal_subset(void* context, const xmlChar* /*name*/, const xmlChar* /*external_id*/,
                         const xmlChar* /*system_id*/) {
  run_of(context).on_declaration("the file declares a DTD (<!DOCTYPE …>); rejected as hostile");
}

void sax_reference(void* context, const xmlChar* /*name*/) {
  run_of(context).on_declaration("an entity reference reached the parser; rejected as hostile");
}

void sax_error(void* context, ErrorArg error) {
  run_of(context).on_error(error);
}

// Only what the decoder needs: element events, character data and CDATA, errors. No entity,
// DTD or external subset handler, so the parser can neither learn nor fetch one.
xmlSAXHandler make_handler() {
  xmlSAXHandler handler;
  std::memset(&handler, 0, sizeof handler);
  handler.initialized = XML_SAX2_MAGIC;
  handler.startElementNs = sax_start;
  handler.endElementNs = sax_end;
  handler.characters = sax_text;
  handler.ignorableWhitespace = sax_text;
  handler.cdataBlock = sax_text;
  handler.internalSubset = sax_internal_subset;
  handler.reference = sax_reference;
  handler.serror = sax_error;
  return handler;
}

void ExportRun::read_more() noexcept {
  try {
    read_input();
  } catch (const std::exception& e) {
    try {
      read_error_ = std::string("reading the input failed: ") + e.what();
    } catch (...) {
    }
  } catch (...) {
    try {
      read_error_ = "reading the input failed";
    } catch (...) {
    }
  }
}

void ExportRun::read_input() {
  in_.read(chunk_.data(), static_cast<std::streamsize>(chunk_.size()));
  const std::streamsize got = in_.gcount();
  if (got > 0) {
    const std::string_view bytes(chunk_.data(), static_cast<std::size_t>(got));
    if (head_.size() < kHeadBytes) head_.append(bytes.substr(0, kHeadBytes - head_.size()));
    slicer_.feed(bytes);
  }
  if (in_.bad()) {
    // The documents completed before the failure still go to the parser.
    read_error_ = "reading the input failed";
  } else if (got <= 0 || in_.eof() || in_.fail()) {
    slicer_.finish();
  }
}

void ExportRun::on_error(ErrorArg error) noexcept {
  try {
    if (error == nullptr || error->level == XML_ERR_WARNING) return;
    // The fatal error is the one that explains a break: never dropped for the cap.
    if (errors_.size() >= kMaxLoggedErrors && error->level != XML_ERR_FATAL) return;
    ParserError logged;
    logged.level = error->level;
    logged.line = error->line;
    logged.column = error->int2;
    if (context_) {
      const long consumed = xmlByteConsumed(context_.get());
      if (consumed > 0) logged.offset = static_cast<std::uint64_t>(consumed);
    }
    logged.message = error->message != nullptr ? error->message : "unknown XML error";
    while (!logged.message.empty() &&
           (logged.message.back() == '\n' || logged.message.back() == ' ')) {
      logged.message.pop_back();
    }
    errors_.push_back(std::move(logged));
  } catch (...) {
    // Out of memory while logging: the parser's own status still stops the run.
  }
}

void ExportRun::on_declaration(const char* what) noexcept {
  // Unreachable while the slicer refuses every declaration; kept so that the parser's view
  // decides too.
  try {
    abandoned_ = what;
  } catch (...) {
    exception_ = std::current_exception();
  }
  stop_parser();
}

void ExportRun::on_text(const xmlChar* text, int length) noexcept {
  if (text_.empty() || length <= 0) return;
  try {
    const std::string_view chars(reinterpret_cast<const char*>(text),
                                 static_cast<std::size_t>(length));
    // An element's text is all the character data below it, as xmlNodeGetContent joins it.
    for (std::string* buffer : text_) buffer->append(chars);
  } catch (...) {
    exception_ = std::current_exception();
    stop_parser();
  }
}

void ExportRun::on_start(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri,
                         int attribute_count, const xmlChar** attributes) noexcept {
  try {
    const std::size_t level = open_.size();
    if (level > kMaxDepth) {
      too_deep();
      return;
    }
    if (level == 0) {
      start_root(local, prefix, uri);
    } else if (level == 1) {
      start_document(local, prefix, uri);
    } else if (reading_ == Reading::fields) {
      start_inside(local, uri, SaxAttributes(attributes, attribute_count));
    } else {
      open_.emplace_back();
    }
  } catch (...) {
    exception_ = std::current_exception();
    stop_parser();
  }
}

// A fatal error of the parser's own kind, with its message, so that it is reported as a break.
void ExportRun::too_deep() {
  ParserError error;
  error.level = XML_ERR_FATAL;
  error.line = xmlSAX2GetLineNumber(context_.get());
  error.column = xmlSAX2GetColumnNumber(context_.get());
  error.offset = static_cast<std::uint64_t>(std::max(0L, xmlByteConsumed(context_.get())));
  error.message =
      "Excessive depth in document: " + std::to_string(kMaxDepth) + " use XML_PARSE_HUGE option";
  errors_.push_back(std::move(error));
  broken_ = true;
  stop_parser();
}

void ExportRun::on_end() noexcept {
  try {
    if (open_.empty()) return;
    const Frame frame = open_.back();
    open_.pop_back();
    if (frame.collects_text) text_.pop_back();
    if (open_.size() == 1) {
      end_document();
    } else if (open_.size() > 1 && reading_ == Reading::fields) {
      end_inside(frame);
    }
  } catch (...) {
    exception_ = std::current_exception();
    stop_parser();
  }
}

// The element name as libxml2's tree builder makes it: a prefix that is not declared stays part
// of the name, and the element is then in no namespace.
std::string built_name(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri) {
  if (prefix != nullptr && uri == nullptr) {
    return std::string(view(prefix)).append(":").append(view(local));
  }
  return std::string(view(local));
}

void ExportRun::start_root(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri) {
  root_seen_ = true;
  open_.emplace_back();
  const std::string root_name = built_name(local, prefix, uri);
  const std::string_view root_namespace = view(uri);
  if (root_name != "HealthCentreExport" || root_namespace != kExportNamespace) {
    std::string found = root_namespace.empty() ? "'" + root_name + "' in no namespace"
                                               : "'" + root_name + "' in namespace '" +
                                                     std::string(root_namespace) + "'";
    abandoned_ = "not a 健康管理システム export: the root element is " + found +
                 ", expected 'HealthCentreExport' in namespace '" + std::string(kExportNamespace) +
                 "'; nothing was delivered";
    stop_parser();
  }
}

void ExportRun::start_document(const xmlChar* local, const xmlChar* prefix, const xmlChar* uri) {
  open_.emplace_back();
  const std::uint64_t number = ++number_;
  last_ = slicer_.take(number);
  if (!last_) {
    // At the end of the input the slicer releases a document it has not seen end: the parser is
    // about to reject it. Anything else would be the two disagreeing; end_document() decides.
    reading_ = Reading::unsliced;
    return;
  }
  const std::string name = built_name(local, prefix, uri);
  if (last_->oversized) {
    // Its content streams past unread; the record goes out at its end tag, so that a document
    // the parser then finds broken is not delivered, like any other.
    reading_ = Reading::oversized;
    wrong_element_ = Problem{name, {}};
    return;
  }
  const std::string_view ns = view(uri);
  if (name != "ClinicalDocument" || ns != kCdaNamespace) {
    reading_ = Reading::wrong_element;
    std::string reason =
        "expected a ClinicalDocument in namespace '" + std::string(kCdaNamespace) + "', found ";
    if (name == "ClinicalDocument") {
      reason = ns.empty() ? "the document is in no namespace"
                          : "the document is in namespace '" + std::string(ns) + "'";
      reason += ", expected '" + std::string(kCdaNamespace) + "'";
    } else {
      reason += "'" + (ns.empty() ? std::string() : "{" + std::string(ns) + "}") + name + "'";
    }
    wrong_element_ = Problem{name, std::move(reason)};
    return;
  }
  reading_ = Reading::fields;
  document_.reset();
}

// An element below the document (level 2 and deeper). The rules are those of the XPath-like
// paths of read_fields(): a child of the document, of its first patientRole, …
void ExportRun::start_inside(const xmlChar* local, const xmlChar* uri,
                             const SaxAttributes& attributes) {
  const std::size_t level = open_.size();  // of the new element; the document is level 1
  const Cda cda = is_cda(uri) ? names_.classify(local) : Cda::none;
  const Frame& parent = open_.back();
  Frame frame;
  frame.cda = cda;
  DocumentState& d = document_;

  if (level == 2) {
    const auto header = [&](Single& single, std::string_view attribute) {
      if (++single.count == 1) single.attribute.take(attributes, attribute);
    };
    switch (cda) {
      case Cda::id:
        header(d.id, "extension");
        break;
      case Cda::versionNumber:
        header(d.version, "value");
        break;
      case Cda::code:
        header(d.code, "code");
        break;
      case Cda::effectiveTime:
        header(d.time, "value");
        break;
      default:
        break;
    }
  } else if (level == 3 && parent.cda == Cda::recordTarget && cda == Cda::patientRole) {
    // Every recordTarget/patientRole is counted; only the first is read (two are an error).
    if (++d.roles == 1) frame.role = Role::role;
  } else {
    switch (parent.role) {
      case Role::role:
        if (cda == Cda::id && attributes.equal("root", kResidentIdRoot)) {
          if (++d.resident.count == 1) d.resident.attribute.take(attributes, "extension");
        } else if (cda == Cda::addr) {
          if (++d.address.count == 1) {
            frame.role = Role::address;
            collect_text(frame, d.address.text);
            d.address.joined.clear();
          }
        } else if (cda == Cda::patient) {
          frame.role = Role::patient;
        } else if (cda == Cda::providerOrganization) {
          frame.role = Role::organization;
        }
        break;
      case Role::address:
        d.address.lines = true;  // any element child is a line
        frame.role = Role::address_line;
        collect_text(frame, d.part);
        break;
      case Role::patient:
        if (cda == Cda::name && attributes.equal("use", "IDE")) {
          if (++d.ide.count == 1) {
            frame.role = Role::name_ide;
            collect_text(frame, d.ide.text);
          }
        } else if (cda == Cda::name && attributes.equal("use", "SYL")) {
          if (++d.syl.count == 1) {
            frame.role = Role::name_syl;
            collect_text(frame, d.syl.text);
          }
        } else if (cda == Cda::administrativeGenderCode) {
          if (++d.sex.count == 1) d.sex.attribute.take(attributes, "code");
        } else if (cda == Cda::birthTime) {
          if (++d.birth.count == 1) d.birth.attribute.take(attributes, "value");
        }
        break;
      case Role::name_ide:
      case Role::name_syl:
        if (cda == Cda::family || cda == Cda::given) {
          (parent.role == Role::name_ide ? d.ide : d.syl).parts = true;
          frame.role = cda == Cda::family ? Role::family : Role::given;
          collect_text(frame, d.part);
        }
        break;
      case Role::organization:
        if (cda == Cda::id && attributes.equal("root", kWardRoot)) {
          if (++d.ward.count == 1) d.ward.attribute.take(attributes, "extension");
        }
        break;
      case Role::observation: {
        Observation& observation = d.observations[parent.observation];
        if (cda == Cda::code) {
          if (++observation.codes == 1) {
            const auto code = attributes.find("code");
            observation.code = code ? trimmed(decoded(*code)) : std::string();
          }
        } else if (cda == Cda::value) {
          if (++observation.values == 1) {
            const auto type = attributes.find("type", kXsiNamespace);
            observation.type = type ? trimmed(decoded(*type)) : std::string();
            if (const std::size_t colon = observation.type.find(':'); colon != std::string::npos) {
              observation.type.erase(0, colon + 1);
            }
            observation.code_attribute.take(attributes, "code");
            observation.value_attribute.take(attributes, "value");
            frame.role = Role::value;
            collect_text(frame, observation.text);
          }
        }
        break;
      }
      default:
        break;
    }
    // h:component/h:structuredBody//h:section/h:entry/h:observation, in document order.
    if (cda == Cda::observation && level >= 5 && parent.cda == Cda::entry &&
        open_[level - 2].cda == Cda::section && open_[2].cda == Cda::component &&
        open_[3].cda == Cda::structuredBody) {
      // (Never also an address line or a name part: those lie under recordTarget.)
      frame.observation = static_cast<std::uint32_t>(d.observations_used);
      Observation& observation = d.add_observation();
      observation.line = static_cast<std::uint64_t>(xmlSAX2GetLineNumber(context_.get()));
      frame.role = Role::observation;
    }
  }
  open_.push_back(frame);
}

void ExportRun::end_inside(const Frame& frame) {
  DocumentState& d = document_;
  switch (frame.role) {
    case Role::address_line:
      append_joined(d.address.joined, d.part, " ");
      break;
    case Role::family:
    case Role::given: {
      PersonName& name = open_.back().role == Role::name_ide ? d.ide : d.syl;
      append_joined(frame.role == Role::family ? name.family : name.given, d.part, kFullWidthSpace);
      break;
    }
    default:
      break;
  }
}

void ExportRun::end_document() {
  const Reading reading = reading_;
  reading_ = Reading::none;
  if (reading == Reading::unsliced) {
    // The slicer found no such document, yet the parser read one whole: the two disagree about
    // where documents are, which well-formed input cannot cause. The file is stopped rather than
    // a document delivered without its bytes.
    abandoned_ = "the document scanner found no document " + std::to_string(number_) +
                 " where the XML parser read one (ending at line " +
                 std::to_string(xmlSAX2GetLineNumber(context_.get())) + "); " + delivered_so_far() +
                 ", the rest of the file was not read";
    stop_parser();
    return;
  }
  if (!last_ || reading == Reading::none) return;
  NativeRecord record;
  record.number = number_;
  record.line = last_->line;
  record.raw = std::move(last_->raw);
  last_->raw.clear();
  if (reading == Reading::oversized) {
    // Where it ended, for placing a later break (the slicer did not keep its end).
    last_->end = std::max<std::uint64_t>(
        last_->start + 1,
        static_cast<std::uint64_t>(std::max(0L, xmlByteConsumed(context_.get()))));
    record.error_field = std::move(wrong_element_->field);
    wrong_element_.reset();
    record.error = "the document is larger than max_document_bytes (" +
                   std::to_string(options_.max_document_bytes) +
                   " bytes); it was skipped unread (raw keeps its first " +
                   std::to_string(record.raw.size()) + " bytes)";
    if (!deliver(std::move(record))) stop_parser();
    return;
  }
  std::vector<Problem> problems;
  attribute_parser_errors(*last_, problems);
  if (reading == Reading::wrong_element) {
    problems.push_back(std::move(*wrong_element_));
    wrong_element_.reset();
  } else {
    read_fields(record, problems);
  }
  if (!problems.empty()) {
    record.error_field = problems.front().field;
    record.error = problems.front().reason;
    for (std::size_t i = 1; i < problems.size(); ++i) {
      record.error += "; " + problems[i].field + ": " + problems[i].reason;
    }
  }
  if (!deliver(std::move(record))) stop_parser();
}

// Errors the parser reported but went on after (an undeclared namespace prefix, say) belong to
// the document they lie in.
void ExportRun::attribute_parser_errors(const DocumentSlice& slice,
                                        std::vector<Problem>& problems) {
  auto it = errors_.begin();
  while (it != errors_.end()) {
    if (it->level == XML_ERR_FATAL || it->offset >= slice.end) {
      ++it;
      continue;
    }
    if (it->offset >= slice.start) {
      problems.push_back({"ClinicalDocument", "XML error at line " + std::to_string(it->line) +
                                                  ", column " + std::to_string(it->column) + ": " +
                                                  it->message});
    }
    it = errors_.erase(it);
  }
}

// The native fields in the order of their names, so that the map is built at its end.
enum SortedField : std::size_t {
  kCodeAt,
  kEffectiveTimeAt,
  kIdAt,
  kAddressAt,
  kSexAt,
  kBirthTimeAt,
  kResidentIdAt,
  kNameAt,
  kNameKanaAt,
  kWardAt,
  kVersionNumberAt,
  kFieldCount
};
constexpr std::array<std::string_view, kFieldCount> kSortedFields = {
    field::kCode,     field::kEffectiveTime, field::kId,           field::kAddress,
    field::kSex,      field::kBirthTime,     field::kResidentId,   field::kName,
    field::kNameKana, field::kWard,          field::kVersionNumber};
static_assert(std::is_sorted(kSortedFields.begin(), kSortedFields.end()));
static_assert(kSortedFields.size() == kDocumentFields.size());

// One of the paths that select one node or none: a problem when it selected several (or none
// and the element is required); the node's data otherwise.
bool is_single(std::uint32_t count, std::string_view field, std::string_view element, bool required,
               std::vector<Problem>& problems) {
  if (count == 1) return true;
  if (count == 0) {
    if (required) {
      problems.push_back({std::string(field),
                          "missing: the document has no " + std::string(element) + " element"});
    }
    return false;
  }
  problems.push_back({std::string(field), std::to_string(count) + " " + std::string(element) +
                                              " elements; a document has at most one"});
  return false;
}

void take_attribute(const Single& single, const char* name, std::string_view field,
                    std::string_view element, bool required, std::string& out,
                    std::vector<Problem>& problems) {
  if (!is_single(single.count, field, element, required, problems)) return;
  const Attribute& attribute = single.attribute;
  if (attribute.value.empty() && required) {
    problems.push_back({std::string(field), std::string(element) + " has " +
                                                (attribute.present ? "an empty " : "no ") + name +
                                                " attribute"});
  }
  out = attribute.value;
}

std::string person_name(const PersonName& name) {
  if (!name.parts) return trimmed(name.text);
  std::string joined = name.family;
  if (!joined.empty() && !name.given.empty()) joined += kFullWidthSpace;
  return joined += name.given;
}

void ExportRun::read_fields(NativeRecord& record, std::vector<Problem>& problems) {
  const DocumentState& d = document_;
  std::array<std::string, kFieldCount> values;

  // CDA R2 requires id, code, effectiveTime and recordTarget of every document; versionNumber is
  // optional there, so whether it must be present is the mapping's call.
  take_attribute(d.id, "extension", field::kId, "<id>", true, values[kIdAt], problems);
  take_attribute(d.version, "value", field::kVersionNumber, "<versionNumber>", false,
                 values[kVersionNumberAt], problems);
  take_attribute(d.code, "code", field::kCode, "<code>", true, values[kCodeAt], problems);
  take_attribute(d.time, "value", field::kEffectiveTime, "<effectiveTime>", true,
                 values[kEffectiveTimeAt], problems);
  if (is_single(d.roles, "recordTarget", "<recordTarget><patientRole>", true, problems)) {
    take_attribute(d.resident, "extension", field::kResidentId,
                   "<id root=\"urn:sapporo:resident-id\">", false, values[kResidentIdAt], problems);
    if (is_single(d.address.count, field::kAddress, "<addr>", false, problems)) {
      values[kAddressAt] = d.address.lines ? d.address.joined : trimmed(d.address.text);
    }
    if (is_single(d.ide.count, field::kName, "<patient><name use=\"IDE\">", false, problems)) {
      values[kNameAt] = person_name(d.ide);
    }
    if (is_single(d.syl.count, field::kNameKana, "<patient><name use=\"SYL\">", false, problems)) {
      values[kNameKanaAt] = person_name(d.syl);
    }
    take_attribute(d.sex, "code", field::kSex, "<administrativeGenderCode>", false, values[kSexAt],
                   problems);
    take_attribute(d.birth, "value", field::kBirthTime, "<birthTime>", false, values[kBirthTimeAt],
                   problems);
    take_attribute(d.ward, "extension", field::kWard,
                   "<providerOrganization><id root=\"urn:sapporo:ward\">", false, values[kWardAt],
                   problems);
  }
  for (std::size_t i = 0; i < kFieldCount; ++i) {
    record.fields.emplace_hint(record.fields.end(), kSortedFields[i], std::move(values[i]));
  }
  read_observations(record, problems);
}

// Every observation becomes the field named by its code; a code met again appends its value
// after the item separator (NEED is repeatable). Which codes matter is the mapping's business.
void ExportRun::read_observations(NativeRecord& record, std::vector<Problem>& problems) {
  const DocumentState& d = document_;
  for (std::size_t i = 0; i < d.observations_used; ++i) {
    const Observation& observation = d.observations[i];
    static const std::string kNoCode;
    const std::string& code = observation.codes == 1 ? observation.code : kNoCode;
    const std::string line = std::to_string(observation.line);  // for a problem only
    if (code.empty()) {
      problems.push_back(
          {"observation", "the observation at line " + line +
                              (observation.codes > 1 ? " has more than one <code>"
                                                     : " has no code (code/@code)")});
      continue;
    }
    if (std::find(kDocumentFields.begin(), kDocumentFields.end(), code) != kDocumentFields.end()) {
      problems.push_back({code, "the observation at line " + line + " has the code '" + code +
                                    "', which is the name of a document field"});
      continue;
    }
    if (observation.values > 1) {
      problems.push_back({code, "the observation at line " + line + " has " +
                                    std::to_string(observation.values) +
                                    " <value> elements; it has at most one"});
      continue;
    }
    std::string value;
    if (observation.values == 1) {
      const std::string& type = observation.type;
      // The HL7 data type says where the value is: a code (CD and its kin), a literal
      // attribute (TS, INT, PQ, BL, …) or the text (ST, ED). Without a type: whichever is there.
      if (type == "CD" || type == "CE" || type == "CV" || type == "CS" || type == "CO") {
        value = observation.code_attribute.value;
      } else if (type == "ST" || type == "ED" || type == "SC") {
        value = trimmed(observation.text);
      } else if (!type.empty()) {
        value = observation.value_attribute.value;
      } else if (observation.code_attribute.present) {
        value = observation.code_attribute.value;
      } else if (observation.value_attribute.present) {
        value = observation.value_attribute.value;
      } else {
        value = trimmed(observation.text);
      }
    }
    const auto [slot, inserted] = record.fields.try_emplace(code, value);
    if (!inserted && !value.empty()) {
      if (!slot->second.empty()) slot->second += options_.item_separator;
      slot->second += value;
    }
  }
}

DecodeResult ExportRun::failure(std::string message) {
  result_.ok = false;
  result_.message = origin_ + ": " + std::move(message);
  return result_;
}

std::string ExportRun::delivered_so_far() const {
  if (result_.records == 0) return "no document was delivered";
  if (result_.records == 1) return "document 1 was delivered";
  return "documents 1 to " + std::to_string(result_.records) + " were delivered";
}

DecodeResult ExportRun::refused() {
  const Refusal& refusal = *slicer_.refusal();
  if (refusal.what == "UTF-16") {
    return failure(
        "the file is UTF-16, but the 健康管理システム export is UTF-8; nothing was read");
  }
  std::string message = "line " + std::to_string(refusal.line) + ": the file ";
  message += refusal.what == "<!DOCTYPE" ? "declares a DTD (<!DOCTYPE …>)"
                                         : "contains a markup declaration (" + refusal.what + " …)";
  message +=
      ". A health-centre export needs no DTD or entity, so the file is treated as hostile (XXE, "
      "entity expansion) and rejected as a whole: the declaration was not parsed, no entity was "
      "expanded and nothing it names was fetched";
  if (result_.records > 0) message += "; " + delivered_so_far() + " before it";
  return failure(std::move(message));
}

const ParserError* ExportRun::first_fatal_error() const {
  for (const ParserError& error : errors_) {
    if (error.level == XML_ERR_FATAL) return &error;
  }
  return errors_.empty() ? nullptr : &errors_.front();
}

DecodeResult ExportRun::stopped_by_parser() {
  if (slicer_.refusal()) return refused();
  if (!read_error_.empty()) {
    return failure(read_error_ + " at or after byte " + std::to_string(slicer_.scanned()) + "; " +
                   delivered_so_far() + ", the rest of the file was not read");
  }
  if (slicer_.scanned() == 0) return failure("the input is empty; expected a HealthCentreExport");
  if (number_ == 0 && !root_seen_) {
    // The commonest operator mistake: another system's file in this spool.
    std::string_view head = head_;
    if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
    const std::size_t first = head.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && head[first] != '<') {
      std::string begins(utf8_prefix(head.substr(first), 24));
      std::replace_if(
          begins.begin(), begins.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
      return failure("not XML: the file begins with '" + begins +
                     "', expected a HealthCentreExport document; nothing was delivered");
    }
  }
  const ParserError* error = first_fatal_error();
  if (error == nullptr) {
    return failure("the XML parser stopped without saying why; " + delivered_so_far() +
                   ", the rest of the file was not read");
  }
  std::string where;
  std::uint64_t document_line = 0;
  // The last document met holds the break if the break lies in its bytes, or if the parser had
  // not closed it yet (its end tag may be what broke, past the bytes the slicer gave it).
  const bool in_last = last_ && error->offset >= last_->start &&
                       (error->offset < last_->end || reading_ != Reading::none);
  if (in_last) {
    where = "in document " + std::to_string(last_->ordinal) + ", which starts at line " +
            std::to_string(last_->line);
  } else if (const std::uint64_t ordinal = slicer_.ordinal_at(error->offset, &document_line);
             ordinal != 0) {
    where = "in document " + std::to_string(ordinal) + ", which starts at line " +
            std::to_string(document_line);
  } else if (number_ > 0) {
    where = "after document " + std::to_string(number_);
  } else {
    where = "before the first document";
  }
  return failure("the XML is not well-formed at line " + std::to_string(error->line) + ", column " +
                 std::to_string(error->column) + " (" + where + "): " + error->message + "; " +
                 delivered_so_far() + ", the rest of the file was not read");
}

bool ExportRun::deliver(NativeRecord&& record) {
  ++result_.records;
  if (sink_.accept(std::move(record))) return true;
  result_.stopped = true;
  return false;
}

DecodeResult ExportRun::run() {
  // As libxml2's own reader does: the parser is created with the first four bytes, from which
  // it tells the encoding.
  while (slicer_.releasable() < 4 && !input_ended()) read_more();
  const std::size_t first = slicer_.release(parse_chunk_.data(), 4);
  fed_ = first;
  xmlSAXHandler handler = make_handler();
  context_.reset(xmlCreatePushParserCtxt(&handler, this, first == 4 ? parse_chunk_.data() : nullptr,
                                         first == 4 ? 4 : 0, nullptr));
  if (!context_) return failure("cannot create an XML parser");
  xmlCtxtUseOptions(context_.get(), kParseOptions);
  xmlParserCtxt* context = context_.get();
  if (first > 0 && first < 4)
    xmlParseChunk(context, parse_chunk_.data(), static_cast<int>(first), 0);

  // The slicer releases only complete (or oversized) documents and never a markup declaration;
  // the parser gets what it releases, in pieces ending at multiples of kParseChunkBytes.
  bool parsing = true;
  while (parsing) {
    const std::size_t want = kParseChunkBytes - static_cast<std::size_t>(fed_ % kParseChunkBytes);
    while (slicer_.releasable() < want && !input_ended()) read_more();
    const std::size_t n = slicer_.release(parse_chunk_.data(), want);
    if (n == 0) break;  // the end, a refusal or a read error: what came before is parsed
    fed_ += n;
    xmlParseChunk(context, parse_chunk_.data(), static_cast<int>(n), 0);
    parsing =
        context->wellFormed != 0 && !broken_ && !exception_ && !abandoned_ && !result_.stopped;
  }
  if (parsing) xmlParseChunk(context, nullptr, 0, 1);  // the end: anything unclosed is an error

  if (exception_) std::rethrow_exception(exception_);
  if (result_.stopped) return result_;
  if (abandoned_) return failure(std::move(*abandoned_));
  // A refusal or read error is reported once the parser has used up the bytes before it: the
  // documents there are still delivered.
  if (context->wellFormed == 0 || broken_ || slicer_.refusal() || !read_error_.empty()) {
    return stopped_by_parser();
  }
  return result_;
}

}  // namespace

bool options_from_settings(const PluginSettings& settings, HcDecoderOptions& options,
                           std::string& error) {
  for (const auto& [name, value] : settings) {
    if (name == "max_document_bytes") {
      std::size_t bytes = 0;
      const auto [end, status] = std::from_chars(value.data(), value.data() + value.size(), bytes);
      if (status != std::errc() || end != value.data() + value.size() ||
          bytes < kMinDocumentBytes || bytes > kMaxDocumentBytes) {
        error = "health_centre adapter: setting max_document_bytes is '" + value +
                "', expected a whole number of bytes from " + std::to_string(kMinDocumentBytes) +
                " to " + std::to_string(kMaxDocumentBytes);
        return false;
      }
      options.max_document_bytes = bytes;
    } else if (name == "item_separator") {
      if (value.empty() || value.size() > kMaxSeparatorBytes ||
          value.find_first_of("<&") != std::string::npos) {
        error = "health_centre adapter: setting item_separator is '" + value + "', expected 1 to " +
                std::to_string(kMaxSeparatorBytes) + " characters, none of them '<' or '&'";
        return false;
      }
      options.item_separator = value;
    } else {
      error = "health_centre adapter: unknown setting '" + name +
              "' (the settings are max_document_bytes and item_separator)";
      return false;
    }
  }
  return true;
}

HcExportDecoder::HcExportDecoder(HcDecoderOptions options) : options_(std::move(options)) {}

DecodeResult HcExportDecoder::decode(std::istream& in, const std::string& origin,
                                     RecordSink& sink) noexcept {
  std::unique_ptr<ExportRun> run;
  try {
    run = std::make_unique<ExportRun>(in, options_, origin, sink);
    return run->run();
  } catch (const std::exception& e) {
    DecodeResult result = run ? run->result() : DecodeResult{};
    result.ok = false;
    try {
      result.message = origin + ": decoding stopped after document " +
                       std::to_string(result.records) + ": " + e.what();
    } catch (...) {
    }
    return result;
  } catch (...) {
    DecodeResult result = run ? run->result() : DecodeResult{};
    result.ok = false;
    try {
      result.message = origin + ": decoding stopped after document " +
                       std::to_string(result.records) + ": unknown exception";
    } catch (...) {
    }
    return result;
  }
}

DecodeResult HcExportDecoder::decode_record(const std::string& raw, RecordSink& sink) noexcept {
  try {
    std::istringstream in("<HealthCentreExport xmlns=\"" + std::string(kExportNamespace) +
                          "\" xmlns:xsi=\"" + std::string(kXsiNamespace) + "\">" + raw +
                          "</HealthCentreExport>");
    return decode(in, "quarantined record", sink);
  } catch (const std::exception& e) {
    DecodeResult result;
    result.ok = false;
    result.message = std::string("quarantined record: ") + e.what();
    return result;
  }
}

}  // namespace tsunagu::health_centre
