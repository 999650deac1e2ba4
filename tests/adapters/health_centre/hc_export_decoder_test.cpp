// The health-centre export decoder: the sample export field by field, the bad samples (one class
// each, the rest of the batch delivered), streaming, settings.
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <streambuf>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "hc_test_support.hpp"
#include "support/failing_stream.hpp"
#include "support/temp_dir.hpp"

namespace {

using hc_test::CollectingSink;
using hc_test::decode;
using hc_test::decode_file;
using hc_test::document;
using hc_test::file_bytes;
using hc_test::kDataDir;
using hc_test::kExportClose;
using hc_test::kExportOpen;
using hc_test::line_of;
using hc_test::numbered;
using tsunagu::DecodeResult;
using tsunagu::NativeRecord;
using tsunagu::health_centre::HcDecoderOptions;
using tsunagu::health_centre::HcExportDecoder;
using Fields = std::map<std::string, std::string>;

// ---- the sample export -----------------------------------------------------------------------

TEST(HcSample, DecodesEveryDocument) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190605.xml", sink);
  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_FALSE(result.stopped);
  EXPECT_EQ(result.records, 20u);
  ASSERT_EQ(sink.records.size(), 20u);

  std::set<std::string> codes, results, checkups, wards, times;
  std::size_t without_resident_id = 0, without_kana = 0, without_address = 0;
  std::uint64_t previous_line = 0;
  for (std::size_t i = 0; i < sink.records.size(); ++i) {
    const NativeRecord& record = sink.records[i];
    EXPECT_EQ(record.number, i + 1);
    EXPECT_TRUE(record.error.empty()) << "record " << record.number << ": " << record.error;
    EXPECT_TRUE(record.error_field.empty());
    EXPECT_GT(record.line, previous_line);
    previous_line = record.line;
    EXPECT_TRUE(record.raw.starts_with("<ClinicalDocument") ||
                record.raw.starts_with("<v3:ClinicalDocument"))
        << record.raw.substr(0, 40);
    EXPECT_TRUE(record.raw.ends_with("ClinicalDocument>")) << record.number;
    for (const auto name : tsunagu::health_centre::kDocumentFields) {
      EXPECT_EQ(record.fields.count(std::string(name)), 1u) << record.number << " " << name;
    }
    codes.insert(record.fields.at("code"));
    if (record.fields.count("RESULT")) results.insert(record.fields.at("RESULT"));
    if (record.fields.count("CHECKUP_TYPE")) checkups.insert(record.fields.at("CHECKUP_TYPE"));
    wards.insert(record.fields.at("providerOrganization.id"));
    times.insert(record.fields.at("effectiveTime"));
    without_resident_id += record.fields.at("patient.id").empty() ? 1 : 0;
    without_kana += record.fields.at("patient.name_kana").empty() ? 1 : 0;
    without_address += record.fields.at("patient.addr").empty() ? 1 : 0;
  }
  EXPECT_EQ(codes, (std::set<std::string>{"PREGNANCY_NOTIFICATION", "PREGNANCY_QUESTIONNAIRE",
                                          "SPECIFIED_EXPECTANT_MOTHER", "HOME_VISIT",
                                          "INFANT_CHECKUP", "PSYCH_CONSULT"}));
  EXPECT_EQ(results,
            (std::set<std::string>{"COMPLETED", "UNREACHABLE", "ATTENDED", "CONCERN", "MISSED"}));
  EXPECT_EQ(checkups, (std::set<std::string>{"4M", "10M", "18M", "36M", "FOLLOWUP"}));
  EXPECT_EQ(wards.size(), 10u);
  EXPECT_TRUE(times.count("20190604213000+0900"));
  EXPECT_EQ(without_resident_id, 3u);
  EXPECT_EQ(without_kana, 3u);
  EXPECT_EQ(without_address, 2u);
}

TEST(HcSample, GoldenRecords) {
  CollectingSink sink;
  ASSERT_TRUE(decode_file("HC_20190605.xml", sink).ok);
  const auto& records = sink.records;
  const std::string file = file_bytes(kDataDir + "HC_20190605.xml");

  const NativeRecord& first = numbered(records, 1);
  EXPECT_EQ(first.line, 4u);  // after the XML declaration, the root and a comment
  EXPECT_EQ(first.fields, (Fields{
                              {"id", "HC-2019-000101"},
                              {"versionNumber", "1"},
                              {"code", "PREGNANCY_NOTIFICATION"},
                              {"effectiveTime", "20190605"},
                              {"patient.id", "0103456789"},
                              {"patient.addr", "札幌市東区北15条東3丁目4-12 コーポ北栄201"},
                              {"patient.name", "佐々木　美咲"},
                              {"patient.name_kana", "ササキ　ミサキ"},
                              {"patient.administrativeGenderCode", "2"},
                              {"patient.birthTime", "19940312"},
                              {"providerOrganization.id", "01103"},
                              {"EDD", "20191218"},
                          }));
  // raw is the document's bytes exactly as in the file.
  const std::size_t start = file.find("<ClinicalDocument");
  const std::string end_tag = "</ClinicalDocument>";
  EXPECT_EQ(first.raw, file.substr(start, file.find(end_tag) + end_tag.size() - start));

  // A repeated NEED is one field, joined with the item separator.
  const NativeRecord& flagged = numbered(records, 3);
  EXPECT_EQ(flagged.fields.at("NEED"), "FINANCIAL,ISOLATION");
  EXPECT_EQ(flagged.fields.at("EDD"), "20191105");
  EXPECT_EQ(numbered(records, 4).fields.at("NEED"), "NONE");

  // An effectiveTime with a time and an offset; no kana name.
  const NativeRecord& at_night = numbered(records, 5);
  EXPECT_EQ(at_night.fields, (Fields{
                                 {"id", "HC-2019-000105"},
                                 {"versionNumber", "1"},
                                 {"code", "PREGNANCY_QUESTIONNAIRE"},
                                 {"effectiveTime", "20190604213000+0900"},
                                 {"patient.id", "0107788990"},
                                 {"patient.addr", "札幌市西区琴似2条5丁目2-14"},
                                 {"patient.name", "中川　優子"},
                                 {"patient.name_kana", ""},
                                 {"patient.administrativeGenderCode", "2"},
                                 {"patient.birthTime", "19960715"},
                                 {"providerOrganization.id", "01107"},
                                 {"NEED", "MENTAL_HEALTH"},
                                 {"EDD", "20191230"},
                                 {"NOTE", "夜間にオンラインで回答。EPDS 12点。"},
                             }));

  EXPECT_EQ(numbered(records, 7).fields.at("versionNumber"), "2");
  // Character references are resolved; raw keeps them as written.
  const NativeRecord& visit = numbered(records, 8);
  EXPECT_EQ(visit.fields.at("NOTE"),
            "新生児訪問。体重増加良好。母の睡眠不足の訴えあり（睡眠<4時間/日）。");
  EXPECT_NE(visit.raw.find("&lt;4時間&#x2F;日"), std::string::npos);
  EXPECT_EQ(numbered(records, 9).fields.at("RESULT"), "UNREACHABLE");
  EXPECT_EQ(numbered(records, 11).fields.at("patient.addr"), "");
  EXPECT_EQ(numbered(records, 13).fields.at("patient.id"), "");
  EXPECT_EQ(numbered(records, 13).fields.at("RESULT"), "MISSED");
  // Two address lines, one space between them.
  EXPECT_EQ(numbered(records, 15).fields.at("patient.addr"),
            "札幌市中央区南8条西9丁目1022-5 サンハイツ中島402");

  // No resident id, no address, no kana.
  const NativeRecord& anonymous = numbered(records, 18);
  EXPECT_EQ(anonymous.fields, (Fields{
                                  {"id", "HC-2019-000118"},
                                  {"versionNumber", "1"},
                                  {"code", "PSYCH_CONSULT"},
                                  {"effectiveTime", "20190605"},
                                  {"patient.id", ""},
                                  {"patient.addr", ""},
                                  {"patient.name", "原　恭子"},
                                  {"patient.name_kana", ""},
                                  {"patient.administrativeGenderCode", "2"},
                                  {"patient.birthTime", "19850918"},
                                  {"providerOrganization.id", "01106"},
                                  {"NOTE", "匿名に近い電話相談から面接へ。住所は聞き取れず。"},
                              }));

  // The CDA namespace bound to a prefix instead of the default: the same fields.
  const NativeRecord& prefixed = numbered(records, 20);
  EXPECT_TRUE(prefixed.raw.starts_with("<v3:ClinicalDocument xmlns:v3=\"urn:hl7-org:v3\""));
  EXPECT_EQ(prefixed.fields, (Fields{
                                 {"id", "HC-2019-000119"},
                                 {"versionNumber", "1"},
                                 {"code", "HOME_VISIT"},
                                 {"effectiveTime", "20190605"},
                                 {"patient.id", "0110123459"},
                                 {"patient.addr", "札幌市清田区北野6条2丁目11-4"},
                                 {"patient.name", "小松　悠真"},
                                 {"patient.name_kana", ""},
                                 {"patient.administrativeGenderCode", "1"},
                                 {"patient.birthTime", "20190420"},
                                 {"providerOrganization.id", "01110"},
                                 {"RESULT", "COMPLETED"},
                             }));
  EXPECT_EQ(prefixed.line, line_of(file, "<v3:ClinicalDocument"));
}

TEST(HcSample, DemoSpoolHoldsTheSameFiles) {
  const std::string spool = TSUNAGU_SOURCE_DIR "/config/demo/spool/health_centre/";
  EXPECT_EQ(file_bytes(spool + "HC_20190605.xml"), file_bytes(kDataDir + "HC_20190605.xml"));
  EXPECT_EQ(file_bytes(spool + "HC_20190612.xml"),
            file_bytes(kDataDir + "HC_20190612_unknown_code.xml"));
}

// ---- the bad samples: one class each ---------------------------------------------------------

TEST(HcBadSamples, NotWellFormedPartWayDeliversTheDocumentsBeforeTheBreak) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190606_malformed.xml", sink);
  const std::string file = file_bytes(kDataDir + "HC_20190606_malformed.xml");
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.records, 2u);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_EQ(sink.records[0].fields.at("id"), "HC-2019-000201");
  EXPECT_EQ(sink.records[1].fields.at("id"), "HC-2019-000202");
  for (const auto& record : sink.records) EXPECT_TRUE(record.error.empty()) << record.error;

  // The third document's <effectiveTime> is never closed: the parser finds out at its end tag.
  const std::size_t third = file.find("HC-2019-000203");
  const std::uint64_t third_starts = line_of(file, "HC-2019-000203") - 1;
  const std::uint64_t unclosed = line_of(file.substr(third), "<effectiveTime") + third_starts;
  const std::uint64_t end_tag = line_of(file.substr(third), "</ClinicalDocument>") + third_starts;
  EXPECT_EQ(
      result.message,
      "HC_20190606_malformed.xml: the XML is not well-formed at line " + std::to_string(end_tag) +
          ", column 22 (in document 3, which starts at line " + std::to_string(third_starts) +
          "): Opening and ending tag mismatch: effectiveTime line " + std::to_string(unclosed) +
          " and ClinicalDocument; documents 1 to 2 were delivered, the rest of the file was "
          "not read");
}

TEST(HcBadSamples, ExternalEntityRejectsTheFileUnread) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190607_xxe.xml", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.records, 0u);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_EQ(result.message,
            "HC_20190607_xxe.xml: line 2: the file declares a DTD (<!DOCTYPE …>). A "
            "health-centre export needs no DTD or entity, so the file is treated as hostile (XXE, "
            "entity expansion) and rejected as a whole: the declaration was not parsed, no entity "
            "was expanded and nothing it names was fetched");
  EXPECT_EQ(result.message.find("root:"), std::string::npos);  // nothing of /etc/passwd
}

TEST(HcBadSamples, BillionLaughsRejectsTheFileUnexpanded) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190608_billion_laughs.xml", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.records, 0u);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_TRUE(result.message.starts_with(
      "HC_20190608_billion_laughs.xml: line 2: the file declares a DTD (<!DOCTYPE …>)"))
      << result.message;
  EXPECT_EQ(result.message.find("lol"), std::string::npos);
}

TEST(HcBadSamples, DocumentsInAWrongNamespaceAreRejectedAlone) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190609_wrong_namespace.xml", sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 5u);
  for (const std::size_t good : {1, 3, 5}) {
    EXPECT_TRUE(numbered(sink.records, good).error.empty()) << numbered(sink.records, good).error;
    EXPECT_EQ(numbered(sink.records, good).fields.size(), 13u);
  }
  const NativeRecord& v2 = numbered(sink.records, 2);
  EXPECT_EQ(v2.error_field, "ClinicalDocument");
  EXPECT_EQ(v2.error, "the document is in namespace 'urn:hl7-org:v2', expected 'urn:hl7-org:v3'");
  EXPECT_TRUE(v2.fields.empty());
  EXPECT_NE(v2.raw.find("HC-2019-000502"), std::string::npos);  // kept for quarantine
  const NativeRecord& none = numbered(sink.records, 4);
  EXPECT_EQ(none.error_field, "ClinicalDocument");
  EXPECT_EQ(none.error, "the document is in no namespace, expected 'urn:hl7-org:v3'");
}

TEST(HcBadSamples, RootInAWrongNamespaceRejectsTheFile) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190610_wrong_root_namespace.xml", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_EQ(result.message,
            "HC_20190610_wrong_root_namespace.xml: not a 健康管理システム export: the root element "
            "is 'HealthCentreExport' in namespace 'urn:sapporo:health-centre:export:2', expected "
            "'HealthCentreExport' in namespace 'urn:sapporo:health-centre:export:1'; nothing was "
            "delivered");
}

TEST(HcBadSamples, MissingRequiredElementsAreNamed) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190611_missing_id.xml", sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 6u);
  for (const std::size_t good : {1, 4, 6}) {
    EXPECT_TRUE(numbered(sink.records, good).error.empty()) << numbered(sink.records, good).error;
  }
  const NativeRecord& no_id = numbered(sink.records, 2);
  EXPECT_EQ(no_id.error_field, "id");
  EXPECT_EQ(no_id.error, "missing: the document has no <id> element");
  EXPECT_EQ(no_id.fields.at("id"), "");
  EXPECT_EQ(no_id.fields.at("CHECKUP_TYPE"), "10M");  // the rest is read, to help find it

  const NativeRecord& no_extension = numbered(sink.records, 3);
  EXPECT_EQ(no_extension.error_field, "id");
  EXPECT_EQ(no_extension.error, "<id> has no extension attribute");

  const NativeRecord& no_patient = numbered(sink.records, 5);
  EXPECT_EQ(no_patient.error_field, "recordTarget");
  EXPECT_EQ(no_patient.error, "missing: the document has no <recordTarget><patientRole> element");
  EXPECT_EQ(no_patient.fields.at("id"), "HC-2019-000705");
}

TEST(HcBadSamples, UnknownCodesPassTheDecoderForTheMappingToJudge) {
  CollectingSink sink;
  const DecodeResult result = decode_file("HC_20190612_unknown_code.xml", sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 6u);
  for (const auto& record : sink.records) EXPECT_TRUE(record.error.empty()) << record.error;
  EXPECT_EQ(numbered(sink.records, 2).fields.at("code"), "BIRTH_REGISTRATION");
  EXPECT_EQ(numbered(sink.records, 3).fields.at("RESULT"), "LATE");
  EXPECT_EQ(numbered(sink.records, 4).fields.at("CHECKUP_TYPE"), "24M");
  EXPECT_EQ(numbered(sink.records, 5).fields.at("NEED"), "CHILDCARE");
}

// ---- document structure ----------------------------------------------------------------------

TEST(HcDocuments, RepeatedSingleElementsAndBadObservationsAreErrors) {
  const std::string twice = document("HC-T-1", "", "<effectiveTime value=\"20190606\"/>");
  const std::string observations = document(
      "HC-T-2",
      "<entry><observation><value xsi:type=\"ST\">no code</value></observation></entry>"
      "<entry><observation><code code=\"id\"/><value xsi:type=\"ST\">x</value></observation>"
      "</entry>"
      "<entry><observation><code code=\"NOTE\"/><value xsi:type=\"ST\">a</value>"
      "<value xsi:type=\"ST\">b</value></observation></entry>");
  CollectingSink sink;
  ASSERT_TRUE(
      decode(kExportOpen + twice + observations + document("HC-T-3") + kExportClose, sink).ok);
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[0].error_field, "effectiveTime");
  EXPECT_EQ(sink.records[0].error, "2 <effectiveTime> elements; a document has at most one");
  EXPECT_EQ(sink.records[1].error_field, "observation");
  EXPECT_EQ(sink.records[1].error,
            "the observation at line 13 has no code (code/@code); id: the observation at line 13 "
            "has the code 'id', which is the name of a document field; NOTE: the observation at "
            "line 13 has 2 <value> elements; it has at most one");
  EXPECT_TRUE(sink.records[2].error.empty()) << sink.records[2].error;
}

TEST(HcDocuments, ValuesFollowTheirHl7DataType) {
  const std::string body =
      "<entry><observation><code code=\"CHECKUP_TYPE\"/>"
      "<value xmlns:t=\"http://www.w3.org/2001/XMLSchema-instance\" t:type=\"v3:CD\" code=\"4M\" "
      "xmlns:v3=\"urn:hl7-org:v3\">ignored text</value></observation></entry>"
      "<entry><observation><code code=\"EDD\"/><value xsi:type=\"TS\" value=\"20191201\"/>"
      "</observation></entry>"
      "<entry><observation><code code=\"NOTE\"/><value xsi:type=\"ST\">\n  <![CDATA[a<b & c]]>"
      "<!-- a comment > with quotes \" ' --> d\n</value></observation></entry>"
      "<entry><observation><code code=\"NEED\"/><value code=\"HOUSING\"/></observation></entry>"
      "<entry><observation><code code=\"NEED\"/><value xsi:type=\"CD\" nullFlavor=\"UNK\"/>"
      "</observation></entry>"
      "<entry><observation><code code=\"NEED\"/><value code=\"ISOLATION\"/></observation></entry>"
      "<entry><observation><code code=\"WEIGHT\"/><value xsi:type=\"PQ\" value=\"7.2\" "
      "unit=\"kg\"/></observation></entry>"
      "<entry><observation><code code=\"EMPTY\"/></observation></entry>";
  CollectingSink sink;
  HcDecoderOptions options;
  options.item_separator = " | ";
  ASSERT_TRUE(decode(kExportOpen + document("HC-T-1", body) + kExportClose, sink, options).ok);
  ASSERT_EQ(sink.records.size(), 1u);
  const Fields& fields = sink.records[0].fields;
  EXPECT_TRUE(sink.records[0].error.empty()) << sink.records[0].error;
  EXPECT_EQ(fields.at("CHECKUP_TYPE"), "4M");
  EXPECT_EQ(fields.at("EDD"), "20191201");
  EXPECT_EQ(fields.at("NOTE"), "a<b & c d");
  EXPECT_EQ(fields.at("NEED"), "HOUSING | ISOLATION");  // the unknown (nullFlavor) one adds nothing
  EXPECT_EQ(fields.at("WEIGHT"), "7.2");  // unused codes pass through; the mapping ignores them
  EXPECT_EQ(fields.at("EMPTY"), "");
}

TEST(HcDocuments, OtherElementsUnderTheRootAreRejectedAlone) {
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-T-1") + "  stray text\n  <Summary count=\"2\"/>\n" +
                 document("HC-T-2") + kExportClose,
             sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[1].number, 2u);
  EXPECT_EQ(sink.records[1].error_field, "Summary");
  EXPECT_EQ(sink.records[1].error,
            "expected a ClinicalDocument in namespace 'urn:hl7-org:v3', found "
            "'{urn:sapporo:health-centre:export:1}Summary'");
  EXPECT_EQ(sink.records[1].raw, "<Summary count=\"2\"/>");
  EXPECT_EQ(sink.records[2].fields.at("id"), "HC-T-2");
}

TEST(HcDocuments, AnUndeclaredPrefixIsAnErrorOfItsDocument) {
  const std::string bad = document("HC-T-2",
                                   "<entry><observation><code code=\"NOTE\"/>"
                                   "<x:value>y</x:value></observation></entry>");
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-T-1") + bad + document("HC-T-3") + kExportClose, sink);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_TRUE(sink.records[0].error.empty()) << sink.records[0].error;
  EXPECT_EQ(sink.records[1].error_field, "ClinicalDocument");
  EXPECT_EQ(sink.records[1].error,
            "XML error at line 13, column 99: Namespace prefix x on value is not defined");
  EXPECT_TRUE(sink.records[2].error.empty()) << sink.records[2].error;
}

TEST(HcDocuments, AttributeValuesWithMarkupCharactersDoNotConfuseTheSlices) {
  const std::string tricky =
      document("HC-T-2",
               "<entry><observation><code code=\"NOTE\" displayName='a/>b'/>"
               "<value xsi:type=\"ST\" title=\"x>y\">ok</value></observation></entry>");
  CollectingSink sink;
  ASSERT_TRUE(
      decode(kExportOpen + document("HC-T-1") + tricky + document("HC-T-3") + kExportClose, sink)
          .ok);
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[1].raw + "\n", tricky.substr(2));
  EXPECT_EQ(sink.records[1].fields.at("NOTE"), "ok");
  EXPECT_EQ(sink.records[2].fields.at("id"), "HC-T-3");
}

// The decoder reads the parser's events, not a tree: the paths select what an XPath over the
// document would (first element of each single path, text as all character data below an
// element, observations in document order, nested ones too), and values are attribute values as
// the parser normalised them.
TEST(HcDocuments, FieldsAreWhatThePathsSelectHoweverTheMarkupIsNested) {
  const std::string role =
      "<patientRole><id root=\"urn:sapporo:resident-id\" extension=\"A&amp;B&#38;C\"/>"
      "<addr>札幌 <streetAddressLine> 北1条 </streetAddressLine><x:city xmlns:x=\"urn:x\">中央区"
      "<b>内</b></x:city><empty/></addr>"
      "<patient><name use=\"IDE\">  山田 <family>山田</family><given>太郎</given><given> </given>"
      "<family>二</family></name><name use=\"SYL\"> ヤマダ　タロウ </name>"
      "<birthTime value=\"&#x20;2019&#10;0101\"/></patient>"
      "<patient><administrativeGenderCode foo:code=\"9\" xmlns:foo=\"urn:foo\"/></patient>"
      "<providerOrganization><id root=\"urn:sapporo:ward \" extension=\"X\"/>"
      "<id root=\"urn:sapporo:ward\" extension=\"01101\"/></providerOrganization></patientRole>";
  const std::string body =
      "<entry><observation><code code=\"OUTER\"/><value xsi:type=\"ST\">a<section><entry>"
      "<observation><code code=\"INNER\"/><value xsi:type=\"ST\"> b </value></observation>"
      "</entry></section> c</value><code2/></observation></entry>"
      "<entry><observation><code code=\"Y\"/><value p:code=\"c1\" value=\"v1\" "
      "xmlns:p=\"urn:p\"/></observation></entry>"
      "<entry><observation><code code=\"Z\"/><value xsi:type=\" x: CD \" code=\"c\" "
      "value=\"v\"/></observation></entry>"
      "<entry><observation><code code=\" W \"/><value xsi:type=\"ED\"><![CDATA[ cd ]]>ata"
      "<!-- no -->x</value></observation></entry>"
      "<section><entry><observation><code code=\"DEEP\"/><value value=\"d\"/></observation>"
      "</entry></section>"
      "<entry><other><observation><code code=\"NOT\"/></observation></other></entry>";
  const std::string first =
      "<ClinicalDocument xmlns=\"urn:hl7-org:v3\" "
      "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><id extension=\" HC-1 \"/>"
      "<code code=\"HOME_VISIT\"/><effectiveTime value=\"20190605\"/><recordTarget>" +
      role + "</recordTarget><component><structuredBody><component><section>" + body +
      "</section></component></structuredBody></component></ClinicalDocument>\n";
  const std::string prefixed =
      "<v3:ClinicalDocument xmlns:v3=\"urn:hl7-org:v3\"><v3:id extension=\"P\"/>"
      "<v3:code code=\"C\"/><v3:effectiveTime value=\"20190101\"/><v3:recordTarget>"
      "<v3:patientRole><v3:patient><v3:name use=\"IDE\"><v3:family>F</v3:family></v3:name>"
      "</v3:patient></v3:patientRole></v3:recordTarget></v3:ClinicalDocument>\n";
  CollectingSink sink;
  ASSERT_TRUE(decode(kExportOpen + first + prefixed + kExportClose, sink).ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_TRUE(sink.records[0].error.empty()) << sink.records[0].error;
  EXPECT_EQ(sink.records[0].fields,
            (Fields{
                {"id", "HC-1"},
                {"versionNumber", ""},
                {"code", "HOME_VISIT"},
                {"effectiveTime", "20190605"},
                {"patient.id", "A&B&C"},
                {"patient.addr", "北1条 中央区内"},  // the lines; text outside them is not one
                {"patient.name", "山田　二　太郎"},  // families first, empty parts left out
                {"patient.name_kana", "ヤマダ　タロウ"},
                {"patient.administrativeGenderCode", ""},  // a namespaced code is not @code
                {"patient.birthTime", "2019\n0101"},   // a character reference is not normalised
                {"providerOrganization.id", "01101"},  // root compared exactly
                {"OUTER", "a b  c"},                   // all the text below <value>
                {"INNER", "b"},
                {"Y", ""},   // no @code but a p:code: the HL7 rule takes @code
                {"Z", "v"},  // type " x: CD " is not CD
                {"W", "cd atax"},
                {"DEEP", "d"},
            }));
  EXPECT_TRUE(sink.records[1].error.empty()) << sink.records[1].error;
  EXPECT_EQ(sink.records[1].fields.at("id"), "P");
  EXPECT_EQ(sink.records[1].fields.at("patient.name"), "F");
}

TEST(HcDocuments, ADocumentTheParserFindsBrokenAtItsEndIsNotDelivered) {
  // The end tag is misspelt: the slicer sees a whole document, the parser a break at its end.
  std::string broken = document("HC-T-2");
  broken.replace(broken.rfind("</ClinicalDocument>"), 19, "</JlinicalDocument>");
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-T-1") + broken + document("HC-T-3") + kExportClose, sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].fields.at("id"), "HC-T-1");
  EXPECT_NE(result.message.find("(in document 2, which starts at line 9): Opening and ending tag "
                                "mismatch: ClinicalDocument line 9 and JlinicalDocument; document "
                                "1 was delivered"),
            std::string::npos)
      << result.message;
}

TEST(HcDocuments, AWrongRootNamespaceIsReportedEvenWhenABreakFollows) {
  CollectingSink sink;
  const DecodeResult result =
      decode("<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:2\">" +
                 document("HC-T-1") + "<broken attr></HealthCentreExport>",
             sink);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(sink.records.empty());
  EXPECT_EQ(result.message,
            "HC_TEST.xml: not a 健康管理システム export: the root element is 'HealthCentreExport' "
            "in namespace 'urn:sapporo:health-centre:export:2', expected 'HealthCentreExport' in "
            "namespace 'urn:sapporo:health-centre:export:1'; nothing was delivered");
}

// ---- whole-file problems ---------------------------------------------------------------------

TEST(HcFile, EmptyRootIsAValidEmptyExport) {
  CollectingSink sink;
  const DecodeResult result = decode(
      "<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\" created=\"x\"/>", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 0u);
}

TEST(HcFile, EmptyAndNonXmlInput) {
  CollectingSink sink;
  DecodeResult result = decode("", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message, "HC_TEST.xml: the input is empty; expected a HealthCentreExport");

  // Another system's export dropped into this spool.
  result = decode("処理番号,版,異動区分,発生日,世帯番号\r\nPA1,1,01\r\n", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.message,
            "HC_TEST.xml: not XML: the file begins with '処理番号,版,異動', expected a "
            "HealthCentreExport document; nothing was delivered");

  result = decode("  \n<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\">", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(result.message.starts_with("HC_TEST.xml: the XML is not well-formed at line 2, "))
      << result.message;
  EXPECT_TRUE(sink.records.empty());
}

TEST(HcFile, Utf16IsRefused) {
  const std::string utf8 = kExportOpen + document("HC-T-1") + kExportClose;
  std::string utf16 = "\xFF\xFE";
  for (const char c : utf8) utf16 += std::string{c, '\0'};  // ASCII is enough to show it
  CollectingSink sink;
  const DecodeResult result = decode(utf16, sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(
      result.message,
      "HC_TEST.xml: the file is UTF-16, but the 健康管理システム export is UTF-8; nothing was "
      "read");
  EXPECT_TRUE(sink.records.empty());
}

TEST(HcFile, TruncatedFileDeliversTheWholeDocumentsFirst) {
  const std::string file = file_bytes(kDataDir + "HC_20190605.xml");
  const std::size_t third = file.find("HC-2019-000103");
  CollectingSink sink;
  const DecodeResult result = decode(file.substr(0, third + 200), sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 2u);
  EXPECT_NE(result.message.find("(in document 3, which starts at line " +
                                std::to_string(line_of(file, "HC-2019-000103") - 1) + ")"),
            std::string::npos)
      << result.message;
  EXPECT_TRUE(result.message.ends_with(
      "; documents 1 to 2 were delivered, the rest of the file was not read"))
      << result.message;
}

TEST(HcFile, ABreakRightAfterADocumentOnTheSameLineIsPlacedInTheNextOne) {
  // A one-line export: the parser reads past the first document's end into the broken second one
  // within one chunk; the first is still whole and delivered.
  std::string first = document("HC-T-1");
  std::string second = document("HC-T-2", "<entry><observation></entry>");
  for (std::string* text : {&first, &second}) std::erase(*text, '\n');
  CollectingSink sink;
  const DecodeResult result =
      decode("<HealthCentreExport xmlns=\"urn:sapporo:health-centre:export:1\">" + first + second +
                 document("HC-T-3") + kExportClose,
             sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].fields.at("id"), "HC-T-1");
  EXPECT_TRUE(sink.records[0].error.empty()) << sink.records[0].error;
  EXPECT_NE(result.message.find("(in document 2, which starts at line 1): Opening and ending tag "
                                "mismatch: observation line 1 and entry; document 1 was delivered"),
            std::string::npos)
      << result.message;
}

TEST(HcFile, UndeclaredEntityIsABreakNotAnExpansion) {
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-T-1") +
                 document("HC-T-2",
                          "<entry><observation><code code=\"NOTE\"/>"
                          "<value xsi:type=\"ST\">&xxe;</value></observation></entry>") +
                 kExportClose,
             sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_NE(result.message.find("(in document 2, which starts at line 9): Entity 'xxe' not "
                                "defined; document 1 was delivered"),
            std::string::npos)
      << result.message;
}

TEST(HcFile, OversizedDocumentIsSkippedAlone) {
  HcDecoderOptions options;
  options.max_document_bytes = 4096;
  options.read_buffer_bytes = 16384;
  const std::string huge =
      document("HC-T-2", "<entry><observation><code code=\"NOTE\"/><value xsi:type=\"ST\">" +
                             std::string(200000, 'x') + "</value></observation></entry>");
  // Complete within one read, yet over the limit.
  const std::string fits_in_one_read =
      document("HC-T-3", "<entry><observation><code code=\"NOTE\"/><value xsi:type=\"ST\">" +
                             std::string(4000, 'y') + "</value></observation></entry>");
  CollectingSink sink;
  const DecodeResult result = decode(kExportOpen + document("HC-T-1") + huge + fits_in_one_read +
                                         document("HC-T-4") + kExportClose,
                                     sink, options);
  ASSERT_TRUE(result.ok) << result.message;
  ASSERT_EQ(sink.records.size(), 4u);
  EXPECT_TRUE(sink.records[0].error.empty());
  EXPECT_EQ(sink.records[1].error_field, "ClinicalDocument");
  // raw keeps what was held when the document outgrew the limit: enough to identify it.
  const std::string& prefix = sink.records[1].raw;
  EXPECT_GE(prefix.size(), 4096u);
  EXPECT_LE(prefix.size(), 4096u + 16384u);
  EXPECT_EQ(prefix, huge.substr(2, prefix.size()));
  EXPECT_EQ(sink.records[1].error,
            "the document is larger than max_document_bytes (4096 bytes); it was skipped unread "
            "(raw keeps its first " +
                std::to_string(prefix.size()) + " bytes)");
  EXPECT_TRUE(sink.records[1].fields.empty());
  EXPECT_EQ(sink.records[2].error_field, "ClinicalDocument");
  EXPECT_EQ(sink.records[2].error.substr(0, 40), "the document is larger than max_document");
  EXPECT_EQ(sink.records[2].raw, fits_in_one_read.substr(2, sink.records[2].raw.size()));
  EXPECT_EQ(sink.records[3].fields.at("id"), "HC-T-4");
  EXPECT_TRUE(sink.records[3].error.empty());
}

TEST(HcFile, ArbitrarilyDamagedInputNeverCrashesAndAlwaysSaysWhy) {
  const std::string sample = file_bytes(kDataDir + "HC_20190605.xml");
  std::mt19937 random(20190605);  // seeded: the same damage every run
  const std::string inserts[] = {"<",
                                 ">",
                                 "&",
                                 "\"",
                                 "'",
                                 "<!",
                                 "<!DOCTYPE x>",
                                 "]]>",
                                 "<?",
                                 "</ClinicalDocument>",
                                 "<ClinicalDocument>",
                                 "\xFF",
                                 "\0",
                                 "&#0;"};
  HcDecoderOptions options;
  options.max_document_bytes = 2048;  // some documents are oversized, too
  options.read_buffer_bytes = 4096;
  for (int round = 0; round < 400; ++round) {
    std::string damaged = sample;
    for (int change = 0; change < 1 + round % 4; ++change) {
      const std::size_t at = random() % damaged.size();
      switch (random() % 4) {
        case 0:
          damaged.resize(at);
          break;
        case 1:
          damaged[at] = static_cast<char>(random() % 256);
          break;
        case 2:
          damaged.insert(at, inserts[random() % std::size(inserts)]);
          break;
        default:
          damaged.erase(at, random() % 200);
          break;
      }
      if (damaged.empty()) damaged = "<";
    }
    CollectingSink sink;
    const DecodeResult result = decode(damaged, sink, options);
    SCOPED_TRACE("round " + std::to_string(round));
    EXPECT_EQ(result.records, sink.records.size());
    if (!result.ok) {
      EXPECT_FALSE(result.message.empty());
    }
    for (std::size_t i = 0; i < sink.records.size(); ++i) {
      EXPECT_EQ(sink.records[i].number, i + 1);
      if (!sink.records[i].error.empty()) {
        EXPECT_FALSE(sink.records[i].error_field.empty()) << sink.records[i].error;
      }
    }
  }
}

// ---- streaming and control -------------------------------------------------------------------

TEST(HcStream, StopsWhenTheSinkSaysSo) {
  CollectingSink sink(3);
  const DecodeResult result = decode_file("HC_20190605.xml", sink);
  EXPECT_TRUE(result.ok) << result.message;
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(result.records, 3u);
  ASSERT_EQ(sink.records.size(), 3u);
  EXPECT_EQ(sink.records[2].fields.at("id"), "HC-2019-000103");
}

using tsunagu_test::FailingBuffer;

TEST(HcStream, ReadErrorFailsTheInputAfterDeliveringWhatWasRead) {
  const std::string file = file_bytes(kDataDir + "HC_20190605.xml");
  // The read that fails loses what it read (std::istream::read), so make it start after the
  // third document: everything before that read arrived.
  const std::size_t read_before_failure = (file.find("HC-2019-000104") / 4096 + 1) * 4096;
  std::size_t complete = 0;
  for (std::size_t at = file.find("</ClinicalDocument>"); at + 19 <= read_before_failure;
       at = file.find("</ClinicalDocument>", at + 1)) {
    ++complete;
  }
  ASSERT_GE(complete, 3u);
  FailingBuffer buffer(file, read_before_failure + 5);
  std::istream in(&buffer);
  HcExportDecoder decoder(HcDecoderOptions{.read_buffer_bytes = 4096});
  CollectingSink sink;
  const DecodeResult result = decoder.decode(in, "HC_TEST.xml", sink);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.records, complete);
  EXPECT_EQ(sink.records.back().fields.at("id"), "HC-2019-00010" + std::to_string(complete));
  EXPECT_EQ(result.message, "HC_TEST.xml: reading the input failed at or after byte " +
                                std::to_string(read_before_failure) + "; documents 1 to " +
                                std::to_string(complete) +
                                " were delivered, the rest of the file was not read");
}

TEST(HcStream, OneDecoderServesManyFilesAndThreads) {
  const std::string good = file_bytes(kDataDir + "HC_20190605.xml");
  const std::string bad = file_bytes(kDataDir + "HC_20190611_missing_id.xml");
  const std::string hostile = file_bytes(kDataDir + "HC_20190608_billion_laughs.xml");
  HcExportDecoder decoder;
  std::vector<std::size_t> counts(6);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < counts.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        std::istringstream in(t % 3 == 0 ? good : t % 3 == 1 ? bad : hostile);
        CollectingSink sink;
        const DecodeResult result = decoder.decode(in, "x", sink);
        if (round == 0) counts[t] = result.ok ? sink.records.size() : 1000 + sink.records.size();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counts, (std::vector<std::size_t>{20, 6, 1000, 20, 6, 1000}));
}

// A large batch from make_batch.py, read from disk: every document arrives, and the decoder's
// memory stays far below the file's size (the file is ~26 MB; expanded at once it would be
// several times that).
#ifdef HC_PYTHON3
class CountingSink : public tsunagu::RecordSink {
 public:
  bool accept(NativeRecord&& record) noexcept override {
    ++count;
    errors += record.error.empty() ? 0 : 1;
    if (count == 1) first = record.fields["id"];
    last = record.fields["id"];
    return true;
  }
  std::size_t count = 0, errors = 0;
  std::string first, last;
};

// AddressSanitizer keeps freed memory in quarantine (256 MiB by default), so peak memory says
// nothing about the decoder there; the count is still checked.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kPeakMemoryIsMeaningful = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kPeakMemoryIsMeaningful = false;
#else
constexpr bool kPeakMemoryIsMeaningful = true;
#endif
#else
constexpr bool kPeakMemoryIsMeaningful = true;
#endif

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(HcStream, TwentyThousandDocumentsStreamInBoundedMemory) {
  tsunagu_test::TempDir dir;
  const auto batch = dir / "HC_20190701.xml";
  const std::string command =
      std::string(HC_PYTHON3) + " " + kDataDir + "make_batch.py 20000 > " + batch.string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  const auto bytes = std::filesystem::file_size(batch);
  ASSERT_GT(bytes, 20'000'000u);

  const long before = peak_rss_kib();
  std::ifstream in(batch, std::ios::binary);
  CountingSink sink;
  const DecodeResult result = HcExportDecoder().decode(in, "HC_20190701.xml", sink);
  const long grown_kib = peak_rss_kib() - before;

  ASSERT_TRUE(result.ok) << result.message;
  EXPECT_EQ(result.records, 20000u);
  EXPECT_EQ(sink.count, 20000u);
  EXPECT_EQ(sink.errors, 0u);
  EXPECT_EQ(sink.first, "HC-20190701-0000001");
  EXPECT_EQ(sink.last, "HC-20190701-0020000");
  if (!kPeakMemoryIsMeaningful) return;
  EXPECT_LT(grown_kib, 16 * 1024) << "peak memory grew by " << grown_kib << " KiB for a "
                                  << bytes / 1024 << " KiB file";
}
#endif

// ---- quarantine retry: one document again from its raw bytes ----------------------------------

TEST(HcDecodeRecord, DecodesADocumentAgainFromItsRawBytes) {
  CollectingSink all;
  ASSERT_TRUE(decode_file("HC_20190605.xml", all).ok);
  HcExportDecoder decoder;
  for (const std::size_t n : {1, 8, 20}) {  // plain, with character references, prefixed
    CollectingSink again;
    const DecodeResult result = decoder.decode_record(numbered(all.records, n).raw, again);
    ASSERT_TRUE(result.ok) << result.message;
    ASSERT_EQ(again.records.size(), 1u);
    EXPECT_EQ(again.records[0].fields, numbered(all.records, n).fields) << n;
    EXPECT_EQ(again.records[0].raw, numbered(all.records, n).raw);
  }

  CollectingSink bad;
  ASSERT_TRUE(decode_file("HC_20190611_missing_id.xml", bad).ok);
  CollectingSink again;
  ASSERT_TRUE(decoder.decode_record(numbered(bad.records, 2).raw, again).ok);
  ASSERT_EQ(again.records.size(), 1u);
  EXPECT_EQ(again.records[0].error_field, "id");
  EXPECT_EQ(again.records[0].error, "missing: the document has no <id> element");

  // Bytes that are not one whole document say so instead of producing one.
  CollectingSink none;
  const DecodeResult cut = decoder.decode_record(numbered(all.records, 1).raw.substr(0, 300), none);
  EXPECT_FALSE(cut.ok);
  EXPECT_TRUE(none.records.empty());
  EXPECT_TRUE(cut.message.starts_with("quarantined record: the XML is not well-formed"))
      << cut.message;
}

TEST(HcDecoder, ReportsItsSystem) {
  EXPECT_STREQ(HcExportDecoder().system(), "health_centre");
}

// ---- settings --------------------------------------------------------------------------------

TEST(HcSettings, AcceptsTheLimitAndTheSeparatorAndRejectsEverythingElse) {
  using tsunagu::health_centre::options_from_settings;
  HcDecoderOptions options;
  std::string error;
  EXPECT_TRUE(options_from_settings({}, options, error)) << error;
  EXPECT_EQ(options.max_document_bytes, 4u * 1024u * 1024u);
  EXPECT_EQ(options.item_separator, ",");
  EXPECT_TRUE(options_from_settings({{"max_document_bytes", "65536"}, {"item_separator", " | "}},
                                    options, error))
      << error;
  EXPECT_EQ(options.max_document_bytes, 65536u);
  EXPECT_EQ(options.item_separator, " | ");

  EXPECT_FALSE(options_from_settings({{"need-separator", ","}}, options, error));
  EXPECT_EQ(error,
            "health_centre adapter: unknown setting 'need-separator' (the settings are "
            "max_document_bytes and item_separator)");
  for (const char* bad : {"", "0", "1023", "12x", "-1", "268435457", "99999999999999999999999"}) {
    EXPECT_FALSE(options_from_settings({{"max_document_bytes", bad}}, options, error)) << bad;
    EXPECT_EQ(error, "health_centre adapter: setting max_document_bytes is '" + std::string(bad) +
                         "', expected a whole number of bytes from 1024 to 268435456");
  }
  for (const char* bad : {"", "123456789", "<", "&amp;"}) {
    EXPECT_FALSE(options_from_settings({{"item_separator", bad}}, options, error)) << bad;
    EXPECT_EQ(error, "health_centre adapter: setting item_separator is '" + std::string(bad) +
                         "', expected 1 to 8 characters, none of them '<' or '&'");
  }
}

}  // namespace
