#include "health_centre/hc_export_decoder.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlversion.h>
#include <boost/container/small_vector.hpp>

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
// markup declaration is what guarantees it.
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

struct ReaderFree {
  void operator()(xmlTextReader* reader) const noexcept { xmlFreeTextReader(reader); }
};
struct XmlCharFree {
  void operator()(xmlChar* text) const noexcept { xmlFree(text); }
};

std::string_view view(const xmlChar* text) {
  return text == nullptr ? std::string_view() : reinterpret_cast<const char*>(text);
}

std::string take_string(xmlChar* text) {
  const std::unique_ptr<xmlChar, XmlCharFree> owner(text);
  return std::string(view(text));
}

const xmlChar* xml(std::string_view literal_text) {
  return reinterpret_cast<const xmlChar*>(literal_text.data());
}

// XML white space only: a full-width space is content.
std::string trimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const std::size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(kSpace) - first + 1));
}

// The text of a node list that is one text node, without copying it; nullopt otherwise.
std::optional<std::string_view> single_text(const xmlNode* children) {
  if (children != nullptr && children->next == nullptr && children->type == XML_TEXT_NODE &&
      children->content != nullptr) {
    return view(children->content);
  }
  return std::nullopt;
}

std::string attribute(xmlNode* node, const char* name) {
  // The usual attribute, one text node, is read in place; anything else as libxml2 joins it.
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    if (a->ns == nullptr && xmlStrEqual(a->name, xml(name)) != 0) {
      if (const auto text = single_text(a->children)) return trimmed(*text);
      break;
    }
  }
  return trimmed(take_string(xmlGetNoNsProp(node, xml(name))));
}

std::string text_of(xmlNode* node) {
  if (const auto text = single_text(node->children)) return trimmed(*text);
  return trimmed(take_string(xmlNodeGetContent(node)));
}

// At most `bytes` bytes of `text`, not cutting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return text;
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return text.substr(0, bytes);
}

// "{namespace}name" for messages, "name" when the element is in no namespace.
std::string qualified_name(xmlNode* node) {
  std::string name;
  if (node->ns != nullptr && node->ns->href != nullptr) {
    name.append("{").append(view(node->ns->href)).append("}");
  }
  return name.append(view(node->name));
}

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

// The paths the decoder reads, walked directly over the expanded document: the XPath engine
// (compile once, evaluate per node: node sets allocated, sorted and freed for every field) was a
// quarter of the decoder's time. Each path gives the nodes its XPath form selected, in document
// order; "h" is urn:hl7-org:v3.
// A NUL-terminated libxml2 string equals `v` (without measuring it first).
bool equals(const xmlChar* text, std::string_view v) {
  return text != nullptr && !v.empty() && text[0] == static_cast<unsigned char>(v[0]) &&
         std::strncmp(reinterpret_cast<const char*>(text), v.data(), v.size()) == 0 &&
         text[v.size()] == '\0';
}

bool is_cda_element(const xmlNode* node, std::string_view local) {
  return node->type == XML_ELEMENT_NODE && equals(node->name, local) && node->ns != nullptr &&
         equals(node->ns->href, kCdaNamespace);
}

// The value of the no-namespace attribute `name` equals `value` (XPath [@name='value']).
bool attribute_equals(xmlNode* node, const char* name, std::string_view value) {
  for (const xmlAttr* a = node->properties; a != nullptr; a = a->next) {
    if (a->ns != nullptr || !equals(a->name, name)) continue;
    // The usual case, one text node, compared in place; anything else as libxml2 joins it.
    if (a->children != nullptr && a->children->next == nullptr &&
        a->children->type == XML_TEXT_NODE) {
      return equals(a->children->content, value);
    }
    const std::unique_ptr<xmlChar, XmlCharFree> actual(xmlGetNoNsProp(node, xml(name)));
    return actual != nullptr && view(actual.get()) == value;
  }
  return false;
}

struct Step {
  Step(std::string_view element) : local(element), any(element == "*") {}  // NOLINT
  Step(std::string_view element, const char* with_attribute, std::string_view equal_to)
      : local(element), any(element == "*"), attribute(with_attribute), value(equal_to) {}
  std::string_view local;  // h:<local>, or "*" for any element
  bool any;
  const char* attribute = nullptr;  // with [@attribute='value']
  std::string_view value;
};

// Almost every path selects one node or none: kept inline, no allocation.
using Nodes = boost::container::small_vector<xmlNode*, 4>;

// child::h:a/child::h:b… from `at`.
Nodes children_path(xmlNode* at, std::initializer_list<Step> steps) {
  Nodes current{at}, next;
  for (const Step& step : steps) {
    next.clear();
    for (xmlNode* parent : current) {
      for (xmlNode* child = parent->children; child != nullptr; child = child->next) {
        const bool match =
            step.any ? child->type == XML_ELEMENT_NODE : is_cda_element(child, step.local);
        if (match &&
            (step.attribute == nullptr || attribute_equals(child, step.attribute, step.value))) {
          next.push_back(child);
        }
      }
    }
    current.swap(next);
  }
  return current;
}

// h:component/h:structuredBody//h:section/h:entry/h:observation: the observations under an
// entry of a section anywhere below a structuredBody, found depth-first in document order.
void observations_below(xmlNode* node, std::vector<xmlNode*>& out) {
  for (xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (is_cda_element(child, "observation") && is_cda_element(node, "entry") &&
        node->parent != nullptr && is_cda_element(node->parent, "section")) {
      out.push_back(child);
    }
    observations_below(child, out);
  }
}

std::vector<xmlNode*> observations_of(xmlNode* document) {
  std::vector<xmlNode*> out;
  for (xmlNode* body : children_path(document, {{"component"}, {"structuredBody"}})) {
    observations_below(body, out);
  }
  return out;
}

// One decode() call: the input, the slicer gating it, the reader and what it reported.
class ExportRun {
 public:
  ExportRun(std::istream& in, const HcDecoderOptions& options, const std::string& origin,
            RecordSink& sink)
      : in_(in),
        options_(options),
        origin_(origin),
        sink_(sink),
        slicer_(options.max_document_bytes),
        chunk_(std::max<std::size_t>(options.read_buffer_bytes, 4096)) {}

  DecodeResult run();
  DecodeResult& result() { return result_; }

  // libxml2's input callback.
  int read(char* buffer, int length) noexcept;
  // libxml2's structured error callback (the parser's).
  void on_error(ErrorArg error) noexcept;

 private:
  int document();
  void read_document(xmlNode* document, NativeRecord& record, std::vector<Problem>& problems);
  void read_observations(xmlNode* document, NativeRecord& record, std::vector<Problem>& problems);
  xmlNode* single(const Nodes& nodes, std::string_view field, std::string_view element,
                  bool required, std::vector<Problem>& problems);
  void take_attribute(xmlNode* node, const char* name, std::string_view field,
                      std::string_view element, bool required, NativeRecord& record,
                      std::vector<Problem>& problems);
  std::string person_name(xmlNode* name);
  std::string address(xmlNode* addr);
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
  std::string read_error_;
  std::string head_;  // the first bytes of the input, to describe a file that is not XML

  std::unique_ptr<xmlTextReader, ReaderFree> reader_;
  std::vector<ParserError> errors_;
  std::uint64_t number_ = 0;  // root child elements met
  bool root_seen_ = false;
  std::optional<DocumentSlice> last_;  // the slice of the last document read (raw moved out)
  DecodeResult result_;
};

int read_input(void* context, char* buffer, int length) noexcept {
  return static_cast<ExportRun*>(context)->read(buffer, length);
}

void on_reader_error(void* context, ErrorArg error) noexcept {
  static_cast<ExportRun*>(context)->on_error(error);
}

int ExportRun::read(char* buffer, int length) noexcept {
  // Never -1: libxml2 reports a failing read callback through the process-wide error handler,
  // not the reader's. The end of input is reported instead, and decode() says why from its own
  // state (refusal, read error), which takes precedence over what the parser then complains of.
  try {
    if (length <= 0) return 0;
    while (slicer_.releasable() == 0) {
      if (slicer_.refusal() || !read_error_.empty() || slicer_.finished()) return 0;
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
    return static_cast<int>(slicer_.release(buffer, static_cast<std::size_t>(length)));
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
  return 0;
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
    if (reader_) {
      const long consumed = xmlTextReaderByteConsumed(reader_.get());
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
    return failure("the XML reader stopped without saying why; " + delivered_so_far() +
                   ", the rest of the file was not read");
  }
  std::string where;
  std::uint64_t document_line = 0;
  if (last_ && error->offset >= last_->start && error->offset < last_->end) {
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
  reader_.reset(xmlReaderForIO(read_input, nullptr, this, nullptr, nullptr, kParseOptions));
  if (!reader_) {
    if (slicer_.refusal()) return refused();
    return failure("cannot create an XML reader" +
                   (read_error_.empty() ? std::string() : ": " + read_error_));
  }
  xmlTextReaderSetStructuredErrorHandler(reader_.get(), on_reader_error, this);
  xmlTextReader* reader = reader_.get();

  // The prologue, up to the root element.
  int status = 0;
  while ((status = xmlTextReaderRead(reader)) == 1) {
    const int type = xmlTextReaderNodeType(reader);
    if (type == XML_READER_TYPE_ELEMENT) break;
    if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
      // Unreachable while the slicer refuses every declaration; kept so that the parser's view
      // decides too.
      return failure("the file declares a DTD (<!DOCTYPE …>); rejected as hostile");
    }
  }
  // A refusal or read error met while reading ahead is reported once the parser has used up the
  // bytes before it: the documents there are still delivered.
  if (status != 1) return stopped_by_parser();

  root_seen_ = true;
  const std::string_view root_name = view(xmlTextReaderConstLocalName(reader));
  const std::string_view root_namespace = view(xmlTextReaderConstNamespaceUri(reader));
  if (root_name != "HealthCentreExport" || root_namespace != kExportNamespace) {
    std::string found = root_namespace.empty() ? "'" + std::string(root_name) + "' in no namespace"
                                               : "'" + std::string(root_name) + "' in namespace '" +
                                                     std::string(root_namespace) + "'";
    return failure("not a 健康管理システム export: the root element is " + found +
                   ", expected 'HealthCentreExport' in namespace '" +
                   std::string(kExportNamespace) + "'; nothing was delivered");
  }
  status = xmlTextReaderIsEmptyElement(reader) == 1 ? 0 : xmlTextReaderRead(reader);

  while (status == 1) {
    const int type = xmlTextReaderNodeType(reader);
    if (type == XML_READER_TYPE_ELEMENT && xmlTextReaderDepth(reader) == 1) {
      status = document();
      if (result_.stopped) return result_;
      continue;
    }
    if (type == XML_READER_TYPE_DOCUMENT_TYPE || type == XML_READER_TYPE_ENTITY_REFERENCE) {
      return failure("an entity reference or DTD reached the parser; rejected as hostile");
    }
    // White space, comments and the root's end tag.
    status = xmlTextReaderRead(reader);
  }
  // The reader may end cleanly on an input cut at a lucky place: the slicer and the read error
  // still know better.
  if (status != 0 || slicer_.refusal() || !read_error_.empty()) return stopped_by_parser();
  return result_;
}

int ExportRun::document() {
  xmlTextReader* reader = reader_.get();
  NativeRecord record;
  record.number = ++number_;
  std::optional<DocumentSlice> slice = slicer_.take(record.number);
  if (slice) record.line = slice->line;

  if (slice && slice->oversized) {
    record.raw = std::move(slice->raw);
    record.error_field = std::string(view(xmlTextReaderConstLocalName(reader)));
    record.error = "the document is larger than max_document_bytes (" +
                   std::to_string(options_.max_document_bytes) +
                   " bytes); it was skipped unread (raw keeps its first " +
                   std::to_string(record.raw.size()) + " bytes)";
    slice->raw.clear();
    last_ = std::move(slice);
    if (!deliver(std::move(record))) return 0;
    return xmlTextReaderNext(reader);  // streams through it without building it
  }

  const std::size_t errors_before = errors_.size();
  xmlNode* node = xmlTextReaderExpand(reader);
  bool broken_after = false;
  if (node == nullptr) {
    // The parser reads ahead: the error (or the end of what it was given) may lie after this
    // document, which is then whole — its end tag has been parsed.
    std::uint64_t stopped_at = 0;
    for (std::size_t i = errors_before; i < errors_.size(); ++i) {
      if (errors_[i].level == XML_ERR_FATAL) {
        stopped_at = errors_[i].offset;
        break;
      }
    }
    if (stopped_at == 0) {
      stopped_at = static_cast<std::uint64_t>(std::max(0L, xmlTextReaderByteConsumed(reader)));
    }
    if (slice && slice->end > 0 && stopped_at >= slice->end) {
      node = xmlTextReaderCurrentNode(reader);
      broken_after = node != nullptr;
    }
    if (node == nullptr) {
      last_ = std::move(slice);  // not delivered: the break is reported for the file
      return -1;
    }
  }

  std::vector<Problem> problems;
  if (slice) {
    record.raw = std::move(slice->raw);
    attribute_parser_errors(*slice, problems);
  } else {
    // The slicer and the parser disagree about where documents are, which only a file the
    // parser is about to reject can cause; keep what the parser built.
    const std::unique_ptr<xmlBuffer, decltype(&xmlBufferFree)> dump(xmlBufferCreate(),
                                                                    xmlBufferFree);
    if (dump && xmlNodeDump(dump.get(), node->doc, node, 0, 0) >= 0) {
      record.raw.assign(reinterpret_cast<const char*>(xmlBufferContent(dump.get())),
                        static_cast<std::size_t>(xmlBufferLength(dump.get())));
    }
    record.line = static_cast<std::uint64_t>(std::max(0L, xmlGetLineNo(node)));
  }
  read_document(node, record, problems);
  if (!problems.empty()) {
    record.error_field = problems.front().field;
    record.error = problems.front().reason;
    for (std::size_t i = 1; i < problems.size(); ++i) {
      record.error += "; " + problems[i].field + ": " + problems[i].reason;
    }
  }
  if (slice) slice->raw.clear();
  last_ = std::move(slice);
  if (!deliver(std::move(record))) return 0;
  if (broken_after) return -1;
  return xmlTextReaderNext(reader);  // frees the subtree as it passes it
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

xmlNode* ExportRun::single(const Nodes& nodes, std::string_view field, std::string_view element,
                           bool required, std::vector<Problem>& problems) {
  if (nodes.size() == 1) return nodes.front();
  if (nodes.empty()) {
    if (required) {
      problems.push_back({std::string(field),
                          "missing: the document has no " + std::string(element) + " element"});
    }
    return nullptr;
  }
  problems.push_back({std::string(field), std::to_string(nodes.size()) + " " +
                                              std::string(element) +
                                              " elements; a document has at most one"});
  return nullptr;
}

void ExportRun::take_attribute(xmlNode* node, const char* name, std::string_view field,
                               std::string_view element, bool required, NativeRecord& record,
                               std::vector<Problem>& problems) {
  if (node == nullptr) return;
  std::string value = attribute(node, name);
  if (value.empty() && required) {
    const bool present = xmlHasProp(node, xml(name)) != nullptr;
    problems.push_back(
        {std::string(field),
         std::string(element) + " has " + (present ? "an empty " : "no ") + name + " attribute"});
  }
  record.fields[std::string(field)] = std::move(value);
}

std::string ExportRun::person_name(xmlNode* name) {
  std::string joined;
  bool parts = false;
  for (const std::string_view part : {std::string_view("family"), std::string_view("given")}) {
    for (xmlNode* node : children_path(name, {{part}})) {
      parts = true;
      const std::string text = text_of(node);
      if (text.empty()) continue;
      if (!joined.empty()) joined += kFullWidthSpace;
      joined += text;
    }
  }
  return parts ? joined : text_of(name);
}

std::string ExportRun::address(xmlNode* addr) {
  const Nodes lines = children_path(addr, {{"*"}});
  if (lines.empty()) return text_of(addr);
  std::string joined;
  for (xmlNode* line : lines) {
    const std::string text = text_of(line);
    if (text.empty()) continue;
    if (!joined.empty()) joined += ' ';
    joined += text;
  }
  return joined;
}

void ExportRun::read_document(xmlNode* document, NativeRecord& record,
                              std::vector<Problem>& problems) {
  const std::string_view ns =
      document->ns != nullptr ? view(document->ns->href) : std::string_view();
  if (view(document->name) != "ClinicalDocument" || ns != kCdaNamespace) {
    std::string reason =
        "expected a ClinicalDocument in namespace '" + std::string(kCdaNamespace) + "', found ";
    if (view(document->name) == "ClinicalDocument") {
      reason = ns.empty() ? "the document is in no namespace"
                          : "the document is in namespace '" + std::string(ns) + "'";
      reason += ", expected '" + std::string(kCdaNamespace) + "'";
    } else {
      reason += "'" + qualified_name(document) + "'";
    }
    problems.push_back({std::string(view(document->name)), std::move(reason)});
    return;
  }

  for (const std::string_view name : kDocumentFields) record.fields[std::string(name)];

  // CDA R2 requires id, code, effectiveTime and recordTarget of every document; versionNumber is
  // optional there, so whether it must be present is the mapping's call.
  take_attribute(single(children_path(document, {{"id"}}), field::kId, "<id>", true, problems),
                 "extension", field::kId, "<id>", true, record, problems);
  take_attribute(single(children_path(document, {{"versionNumber"}}), field::kVersionNumber,
                        "<versionNumber>", false, problems),
                 "value", field::kVersionNumber, "<versionNumber>", false, record, problems);
  take_attribute(
      single(children_path(document, {{"code"}}), field::kCode, "<code>", true, problems), "code",
      field::kCode, "<code>", true, record, problems);
  take_attribute(single(children_path(document, {{"effectiveTime"}}), field::kEffectiveTime,
                        "<effectiveTime>", true, problems),
                 "value", field::kEffectiveTime, "<effectiveTime>", true, record, problems);

  if (xmlNode* role = single(children_path(document, {{"recordTarget"}, {"patientRole"}}),
                             "recordTarget", "<recordTarget><patientRole>", true, problems)) {
    take_attribute(
        single(children_path(role, {{"id", "root", "urn:sapporo:resident-id"}}), field::kResidentId,
               "<id root=\"urn:sapporo:resident-id\">", false, problems),
        "extension", field::kResidentId, "", false, record, problems);
    if (xmlNode* addr =
            single(children_path(role, {{"addr"}}), field::kAddress, "<addr>", false, problems)) {
      record.fields[std::string(field::kAddress)] = address(addr);
    }
    if (xmlNode* name = single(children_path(role, {{"patient"}, {"name", "use", "IDE"}}),
                               field::kName, "<patient><name use=\"IDE\">", false, problems)) {
      record.fields[std::string(field::kName)] = person_name(name);
    }
    if (xmlNode* name = single(children_path(role, {{"patient"}, {"name", "use", "SYL"}}),
                               field::kNameKana, "<patient><name use=\"SYL\">", false, problems)) {
      record.fields[std::string(field::kNameKana)] = person_name(name);
    }
    take_attribute(single(children_path(role, {{"patient"}, {"administrativeGenderCode"}}),
                          field::kSex, "<administrativeGenderCode>", false, problems),
                   "code", field::kSex, "", false, record, problems);
    take_attribute(single(children_path(role, {{"patient"}, {"birthTime"}}), field::kBirthTime,
                          "<birthTime>", false, problems),
                   "value", field::kBirthTime, "", false, record, problems);
    take_attribute(
        single(children_path(role, {{"providerOrganization"}, {"id", "root", "urn:sapporo:ward"}}),
               field::kWard, "<providerOrganization><id root=\"urn:sapporo:ward\">", false,
               problems),
        "extension", field::kWard, "", false, record, problems);
  }
  read_observations(document, record, problems);
}

// Every observation becomes the field named by its code; a code met again appends its value
// after the item separator (NEED is repeatable). Which codes matter is the mapping's business.
void ExportRun::read_observations(xmlNode* document, NativeRecord& record,
                                  std::vector<Problem>& problems) {
  for (xmlNode* observation : observations_of(document)) {
    // Its line, for a problem only (most observations have none).
    const auto line = [observation] {
      return std::to_string(std::max(0L, xmlGetLineNo(observation)));
    };
    const Nodes codes = children_path(observation, {{"code"}});
    const std::string code = codes.size() == 1 ? attribute(codes.front(), "code") : std::string();
    if (code.empty()) {
      problems.push_back({"observation", "the observation at line " + line() +
                                             (codes.size() > 1 ? " has more than one <code>"
                                                               : " has no code (code/@code)")});
      continue;
    }
    if (std::find(kDocumentFields.begin(), kDocumentFields.end(), code) != kDocumentFields.end()) {
      problems.push_back({code, "the observation at line " + line() + " has the code '" + code +
                                    "', which is the name of a document field"});
      continue;
    }
    const Nodes values = children_path(observation, {{"value"}});
    if (values.size() > 1) {
      problems.push_back({code, "the observation at line " + line() + " has " +
                                    std::to_string(values.size()) +
                                    " <value> elements; it has at most one"});
      continue;
    }
    std::string value;
    if (!values.empty()) {
      xmlNode* node = values.front();
      std::string type = trimmed(take_string(xmlGetNsProp(node, xml("type"), xml(kXsiNamespace))));
      if (const std::size_t colon = type.find(':'); colon != std::string::npos) {
        type.erase(0, colon + 1);
      }
      // The HL7 data type says where the value is: a code (CD and its kin), a literal
      // attribute (TS, INT, PQ, BL, …) or the text (ST, ED). Without a type: whichever is there.
      if (type == "CD" || type == "CE" || type == "CV" || type == "CS" || type == "CO") {
        value = attribute(node, "code");
      } else if (type == "ST" || type == "ED" || type == "SC") {
        value = text_of(node);
      } else if (!type.empty()) {
        value = attribute(node, "value");
      } else if (xmlHasProp(node, xml("code")) != nullptr) {
        value = attribute(node, "code");
      } else if (xmlHasProp(node, xml("value")) != nullptr) {
        value = attribute(node, "value");
      } else {
        value = text_of(node);
      }
    }
    const auto [slot, inserted] = record.fields.try_emplace(code, value);
    if (!inserted && !value.empty()) {
      if (!slot->second.empty()) slot->second += options_.item_separator;
      slot->second += value;
    }
  }
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
