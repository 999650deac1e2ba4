// Decoder for the 健康管理システム (maternal and child health) export HC_<YYYYMMDD>.xml
// (SYSTEMS.md, "health_centre"): a root HealthCentreExport in urn:sapporo:health-centre:export:1
// holding documents modelled on HL7 CDA R2 (ClinicalDocument, urn:hl7-org:v3).
//
// Each document becomes one NativeRecord whose fields are keyed by the names below. The decoder
// only reads values out of the CDA structure; whether a code, a date or a required value is right
// is for mappings/health_centre.xml to judge. A document is rejected here only when the structure
// itself is wrong: not a ClinicalDocument in urn:hl7-org:v3, a header element CDA R2 requires
// missing, an element that must be single repeated, an observation without a code.
#pragma once

#include <array>
#include <cstddef>
#include <istream>
#include <string>
#include <string_view>

#include <tsunagu/adapter.hpp>

namespace tsunagu::health_centre {

inline constexpr std::string_view kExportNamespace = "urn:sapporo:health-centre:export:1";
inline constexpr std::string_view kCdaNamespace = "urn:hl7-org:v3";

// Native field names. Every record carries all of the document fields (empty when the element is
// absent); observations add one field each, named by the observation's code.
namespace field {
// The document header.
inline constexpr std::string_view kId = "id";                        // id/@extension
inline constexpr std::string_view kVersionNumber = "versionNumber";  // versionNumber/@value
inline constexpr std::string_view kCode = "code";                    // code/@code: document type
inline constexpr std::string_view kEffectiveTime = "effectiveTime";  // effectiveTime/@value (TS)
// recordTarget/patientRole: id[@root='urn:sapporo:resident-id']/@extension (宛名番号); addr, its
// lines joined by one space; name[@use='IDE'] and name[@use='SYL'], family and given joined by a
// full-width space; administrativeGenderCode/@code; birthTime/@value (TS);
// providerOrganization/id[@root='urn:sapporo:ward']/@extension.
inline constexpr std::string_view kResidentId = "patient.id";
inline constexpr std::string_view kAddress = "patient.addr";
inline constexpr std::string_view kName = "patient.name";
inline constexpr std::string_view kNameKana = "patient.name_kana";
inline constexpr std::string_view kSex = "patient.administrativeGenderCode";
inline constexpr std::string_view kBirthTime = "patient.birthTime";
inline constexpr std::string_view kWard = "providerOrganization.id";
}  // namespace field

inline constexpr std::array<std::string_view, 11> kDocumentFields = {
    field::kId,         field::kVersionNumber, field::kCode, field::kEffectiveTime,
    field::kResidentId, field::kAddress,       field::kName, field::kNameKana,
    field::kSex,        field::kBirthTime,     field::kWard};

inline constexpr std::string_view kResidentIdRoot = "urn:sapporo:resident-id";
inline constexpr std::string_view kWardRoot = "urn:sapporo:ward";

struct HcDecoderOptions {
  // A document longer than this is rejected on its own (skipped unread, a prefix kept as raw).
  std::size_t max_document_bytes = 4194304;  // 4 MiB; a real document is a few kilobytes
  // Joins the values of an observation code that occurs more than once (NEED); the mapping
  // splits with the same string (item-separator).
  std::string item_separator = ",";
  std::size_t read_buffer_bytes = 65536;  // 64 KiB
};

// Reads the adapter's settings: max_document_bytes (1024 to 268435456) and item_separator (1 to
// 8 characters, no '<' or '&'). Unknown settings are errors, as everywhere in the configuration.
// On failure returns false and sets `error` to a message naming the setting.
bool options_from_settings(const PluginSettings& settings, HcDecoderOptions& options,
                           std::string& error);

class HcExportDecoder final : public Adapter {
 public:
  explicit HcExportDecoder(HcDecoderOptions options = {});

  const char* system() const noexcept override { return "health_centre"; }

  // Streams the export through libxml2's SAX2 push parser: the fields of each ClinicalDocument
  // are picked out of the parser's events as they come, no tree is built, and the record goes to
  // the sink at the document's end tag, so memory does not grow with the number of documents.
  // Each child element of the root is one record: number counts them from 1, line is where it
  // starts, raw is its bytes exactly as in the file. A document that cannot be read (wrong element
  // or namespace, a required header element missing, …) still goes to the sink, with error and
  // error_field set; a document the parser finds broken is not delivered (see below).
  //
  // Returns ok=false when the input as a whole is unusable:
  //  - it declares a DTD or any other markup declaration (<!DOCTYPE, <!ENTITY, …): hostile
  //    (XXE, entity bombs). The parser never sees the declaration, so nothing is expanded or
  //    fetched; the whole file is rejected. A declaration can only stand in the prologue, so
  //    normally no document has been delivered; one after a document is refused the same way;
  //  - it is not UTF-8-compatible (UTF-16), empty, or its root is not HealthCentreExport in
  //    urn:sapporo:health-centre:export:1 — nothing is delivered from a file of the wrong kind;
  //  - it stops being well-formed part-way (nesting deeper than 256 elements included), or
  //    reading fails: the documents whose end tag the parser reached before the break have been
  //    delivered, the one holding the break has not; the message names the line, column and
  //    document of the break, and the rest of the file is not read (a file error, so the file is
  //    re-sent; documents already stored are then duplicates).
  // Parser options: XML_PARSE_NONET (and XML_PARSE_NO_XXE where libxml2 has it); no DTD loading,
  // entity substitution or DTD validation, and no SAX handler that could declare, load or expand
  // an entity. Errors go to a structured handler of this call's own parser context, never the
  // global one. Safe to call from several threads at once; the caller (the hub) has called
  // xmlInitParser().
  DecodeResult decode(std::istream& in, const std::string& origin,
                      RecordSink& sink) noexcept override;

  // `raw` is one document's bytes as decode() handed them out (NativeRecord::raw). It is decoded
  // again under a root that declares the export namespace and the xsi prefix (CDA producers often
  // declare xsi on the root), so a document that used prefixes declared only on its original
  // root is reported as an error of that document rather than guessed at. For quarantine retry.
  DecodeResult decode_record(const std::string& raw, RecordSink& sink) noexcept override;

 private:
  HcDecoderOptions options_;
};

}  // namespace tsunagu::health_centre
