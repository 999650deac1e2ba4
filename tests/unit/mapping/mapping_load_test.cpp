// Loading mapping files: the real ones load, and every kind of broken file is refused with its
// file, line and reason.
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mapping/mapping.hpp>

#include "mapping_test_support.hpp"

namespace tsunagu::mapping {
namespace {

using test_support::source_dir;
using test_support::test_data_dir;
using test_support::xsd_path;
using ::testing::HasSubstr;

// A small valid mapping. Each marker comment sits alone on its line, so replacing it with one
// element keeps the line numbers below: FIELDS is line 8, RULE line 13, TABLES line 16.
constexpr const char* kMinimal = R"(<?xml version="1.0" encoding="UTF-8"?>
<mapping xmlns="urn:tsunagu:mapping:1" system="test">
  <fields>
    <text native="id" target="source_ref" required="true"/>
    <integer native="rev" target="source_version" required="true"/>
    <datetime native="when" target="occurred_at" required="true" forms="iso iso-datetime"/>
    <text native="type"/>
    <!--FIELDS-->
  </fields>
  <kind-rules field="type">
    <rule kind="test.happened" sensitivity="normal">
      <equals field="type" value="x"/>
      <!--RULE-->
    </rule>
  </kind-rules>
  <!--TABLES-->
</mapping>
)";

std::string with(std::string text, const std::string& marker, const std::string& replacement) {
  const std::string comment = "<!--" + marker + "-->";
  const std::size_t at = text.find(comment);
  if (at == std::string::npos) ADD_FAILURE() << "no marker " << marker;
  return text.replace(at, comment.size(), replacement);
}

constexpr const char* kWardTable =
    R"(<code-tables><code-table name="ward"><code value="01101" label="中央区"/></code-table>)"
    R"(</code-tables>)";

class MappingLoad : public test_support::ScratchMappings {};

TEST_F(MappingLoad, RealPublicAssistanceMappingLoads) {
  const Mapping mapping =
      Mapping::load_file(source_dir() / "mappings" / "public_assistance.xml", xsd_path());
  EXPECT_EQ(mapping.system(), "public_assistance");
  EXPECT_TRUE(mapping.adapter_settings().empty());
  EXPECT_EQ(mapping.file(), source_dir() / "mappings" / "public_assistance.xml");
}

// Sketches of the other three systems' mappings show the vocabulary expresses them.
TEST_F(MappingLoad, SampleMappingsOfTheOtherSystemsLoad) {
  for (const char* system : {"health_centre", "child_guidance", "education"}) {
    SCOPED_TRACE(system);
    const Mapping mapping =
        Mapping::load_file(test_data_dir() / (std::string(system) + "_sample.xml"), xsd_path());
    EXPECT_EQ(mapping.system(), system);
  }
}

TEST_F(MappingLoad, MinimalMappingLoadsAndCopiesShareIt) {
  const Mapping mapping = Mapping::load_file(write("test.xml", kMinimal), xsd_path());
  const Mapping copy = mapping;  // NOLINT(performance-unnecessary-copy-initialization)
  EXPECT_EQ(copy.system(), "test");
}

TEST_F(MappingLoad, AdapterSettingsArePassedThrough) {
  const std::string xml = with(kMinimal, "FIELDS", "");
  const std::string with_settings =
      std::string(xml).replace(xml.find("  <fields>"), 0,
                               R"(<adapter-settings><setting name="encoding" value="CP932"/>)"
                               R"(<setting name="header" value="strict"/></adapter-settings>)");
  const Mapping mapping = Mapping::load_file(write("test.xml", with_settings), xsd_path());
  EXPECT_EQ(mapping.adapter_settings().at("encoding"), "CP932");
  EXPECT_EQ(mapping.adapter_settings().at("header"), "strict");
}

TEST_F(MappingLoad, ErrorNamesFileLineAndReason) {
  const std::filesystem::path file =
      write("bad.xml", with(kMinimal, "FIELDS", R"(<text native="x" target="subject.nmae"/>)"));
  try {
    Mapping::load_file(file, xsd_path());
    FAIL() << "loaded";
  } catch (const MappingError& e) {
    EXPECT_EQ(e.file(), file);
    ASSERT_EQ(e.problems().size(), 1U);
    EXPECT_EQ(e.problems()[0].line, 8);
    EXPECT_EQ(std::string(e.what()).rfind(file.string() + ":8: field 'x': unknown canonical "
                                                          "target 'subject.nmae'",
                                          0),
              0U)
        << e.what();
  }
}

TEST_F(MappingLoad, SchemaViolationIsRefused) {
  const std::string error =
      load_error(std::string(kMinimal).replace(std::string(kMinimal).find("normal"), 6, "secret"));
  EXPECT_THAT(error, HasSubstr("test.xml:11: "));
  EXPECT_THAT(error, HasSubstr("sensitivity"));
  EXPECT_THAT(error, HasSubstr("'secret'"));
}

TEST_F(MappingLoad, MissingRequiredAttributeIsRefused) {
  const std::string error = load_error(with(kMinimal, "FIELDS", R"(<digits native="n"/>)"));
  EXPECT_THAT(error, HasSubstr("test.xml:8: "));
  EXPECT_THAT(error, HasSubstr("length"));
}

TEST_F(MappingLoad, UnknownElementIsRefused) {
  const std::string error = load_error(with(kMinimal, "FIELDS", R"(<boolean native="flag"/>)"));
  EXPECT_THAT(error, HasSubstr("test.xml:8: "));
  EXPECT_THAT(error, HasSubstr("boolean"));
  EXPECT_THAT(error, HasSubstr("not expected"));
}

TEST_F(MappingLoad, UnknownAttributeIsRefused) {
  const std::string error =
      load_error(with(kMinimal, "FIELDS", R"(<text native="a" colour="red"/>)"));
  EXPECT_THAT(error, HasSubstr("test.xml:8: "));
  EXPECT_THAT(error, HasSubstr("colour"));
}

TEST_F(MappingLoad, WrongNamespaceIsRefused) {
  std::string xml = kMinimal;
  xml.replace(xml.find("urn:tsunagu:mapping:1"), 21, "urn:tsunagu:mapping:2");
  EXPECT_THAT(load_error(xml), HasSubstr("test.xml:2: "));
}

TEST_F(MappingLoad, UnknownCodeTableIsRefused) {
  const std::string xml = with(
      with(kMinimal, "FIELDS", R"(<code native="区コード" table="wards"/>)"), "TABLES", kWardTable);
  EXPECT_THAT(load_error(xml),
              HasSubstr("test.xml:8: field '区コード' names code table 'wards', which does not "
                        "exist (defined: 'ward')"));
}

TEST_F(MappingLoad, UnknownCanonicalTargetIsRefused) {
  EXPECT_THAT(load_error(with(kMinimal, "FIELDS", R"(<text native="a" target="subject.age"/>)")),
              HasSubstr("test.xml:8: field 'a': unknown canonical target 'subject.age'"));
  EXPECT_THAT(load_error(with(kMinimal, "FIELDS", R"(<text native="a" target="attributes.Bad"/>)")),
              HasSubstr("unknown canonical target 'attributes.Bad'"));
}

TEST_F(MappingLoad, MalformedXmlIsRefused) {
  std::string xml = kMinimal;
  xml.replace(xml.find("</fields>"), 9, "</field>");
  const std::string error = load_error(xml);
  EXPECT_THAT(error, HasSubstr("test.xml:9: "));
  EXPECT_THAT(error, HasSubstr("mismatch"));
}

TEST_F(MappingLoad, InternalDtdWithEntitiesIsRefused) {
  std::string xml = kMinimal;
  xml.insert(xml.find("<mapping"),
             "<!DOCTYPE mapping [\n"
             "  <!ENTITY a \"aaaaaaaaaa\">\n"
             "  <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
             "]>\n");
  xml = with(xml, "FIELDS", R"(<text native="&b;"/>)");
  const std::string error = load_error(xml);
  EXPECT_THAT(error, HasSubstr("test.xml:2: the file declares a DTD"));
}

TEST_F(MappingLoad, ExternalDtdIsRefusedWithoutFetchingIt) {
  std::string xml = kMinimal;
  xml.insert(xml.find("<mapping"), "<!DOCTYPE mapping SYSTEM \"http://198.51.100.1/evil.dtd\">\n");
  EXPECT_THAT(load_error(xml), HasSubstr("test.xml:2: the file declares a DTD"));
}

TEST_F(MappingLoad, UndeclaredEntityIsRefused) {
  const std::string error = load_error(with(kMinimal, "FIELDS", R"(<text native="&xxe;"/>)"));
  EXPECT_THAT(error, HasSubstr("test.xml:8: "));
  EXPECT_THAT(error, HasSubstr("xxe"));
}

TEST_F(MappingLoad, EveryProblemIsReportedAtOnce) {
  std::string xml = with(kMinimal, "FIELDS",
                         R"(<code native="sex" table="nope"/><text native="a" target="x.y"/>)");
  xml = with(xml, "RULE", R"(<equals field="typo" value="1"/>)");
  try {
    Mapping::load_file(write("test.xml", xml), xsd_path());
    FAIL() << "loaded";
  } catch (const MappingError& e) {
    ASSERT_EQ(e.problems().size(), 3U) << e.what();
    EXPECT_THAT(e.problems()[0].reason, HasSubstr("code table 'nope'"));
    EXPECT_THAT(e.problems()[1].reason, HasSubstr("unknown canonical target 'x.y'"));
    EXPECT_EQ(e.problems()[2].line, 13);
    EXPECT_THAT(e.problems()[2].reason,
                HasSubstr("the rule for test.happened tests field 'typo', which <fields> does "
                          "not declare"));
  }
}

TEST_F(MappingLoad, KindRulesMustNameADeclaredField) {
  std::string xml = kMinimal;
  xml.replace(xml.find("field=\"type\">"), 13, "field=\"kind\">");
  EXPECT_THAT(load_error(xml),
              HasSubstr("test.xml:10: <kind-rules> tests field 'kind', which <fields> does not "
                        "declare"));
}

TEST_F(MappingLoad, IdempotencyKeyAndTimeMustBeMapped) {
  std::string xml = kMinimal;
  xml.erase(
      xml.find("    <integer native=\"rev\""),
      std::string(kMinimal).find("    <datetime") - std::string(kMinimal).find("    <integer"));
  EXPECT_THAT(load_error(xml), HasSubstr("no field maps to source_version"));

  std::string optional_ref = kMinimal;
  optional_ref.replace(optional_ref.find(R"(target="source_ref" required="true")"), 35,
                       R"(target="source_ref")");
  EXPECT_THAT(load_error(optional_ref),
              HasSubstr("test.xml:4: field 'id' maps to source_ref, part of the idempotency key, "
                        "so it must be required=\"true\""));
}

TEST_F(MappingLoad, TargetTypesAreChecked) {
  EXPECT_THAT(
      load_error(with(kMinimal, "FIELDS", R"(<text native="dob" target="subject.birth_date"/>)")),
      HasSubstr("test.xml:8: field 'dob' maps to subject.birth_date, which must be declared with "
                "<date>"));
  EXPECT_THAT(
      load_error(with(kMinimal, "FIELDS", R"(<date native="dob" forms="iso compact-datetime"/>)")),
      HasSubstr("date field 'dob' cannot accept the compact-datetime form"));
}

TEST_F(MappingLoad, DuplicatesAreRefused) {
  EXPECT_THAT(load_error(with(kMinimal, "FIELDS", R"(<text native="id"/>)")),
              HasSubstr("test.xml:8: field 'id' is declared twice"));
  EXPECT_THAT(load_error(with(kMinimal, "FIELDS", R"(<text native="b" target="source_ref"/>)")),
              HasSubstr("field 'b' maps to source_ref, which field 'id' already maps to"));
  EXPECT_THAT(
      load_error(with(kMinimal, "TABLES",
                      R"(<code-tables><code-table name="t"><code value="1"/><code value="1"/>)"
                      R"(</code-table></code-tables>)")),
      HasSubstr("code '1' appears twice in code table 't'"));
}

TEST_F(MappingLoad, DefaultsAreChecked) {
  EXPECT_THAT(
      load_error(with(kMinimal, "FIELDS", R"(<digits native="n" length="3" default="1"/>)")),
      HasSubstr("test.xml:8: field 'n': the default is invalid: '1' is not 3 digits"));
  EXPECT_THAT(
      load_error(with(kMinimal, "FIELDS", R"(<text native="n" required="true" default="x"/>)")),
      HasSubstr("field 'n' is required and has a default"));
}

TEST_F(MappingLoad, SexTableMustGiveCanonicalLetters) {
  const std::string xml =
      with(with(kMinimal, "FIELDS", R"(<code native="性別" target="subject.sex" table="sex"/>)"),
           "TABLES",
           R"(<code-tables><code-table name="sex"><code value="1" canonical="male"/>)"
           R"(</code-table></code-tables>)");
  EXPECT_THAT(load_error(xml), HasSubstr("maps '1' to 'male' (subject.sex takes M, F or U)"));
}

TEST_F(MappingLoad, RulesMaySetOnlyUnmappedAttributes) {
  EXPECT_THAT(load_error(with(kMinimal, "RULE", R"(<set target="subject.name" value="x"/>)")),
              HasSubstr("test.xml:13: the rule for test.happened sets 'subject.name'; a rule may "
                        "only set attributes.<key> targets"));
  const std::string xml =
      with(with(kMinimal, "FIELDS", R"(<text native="r" target="attributes.result"/>)"), "RULE",
           R"(<set target="attributes.result" value="concern"/>)");
  EXPECT_THAT(load_error(xml),
              HasSubstr("sets attributes.result, which field 'r' already maps to"));
}

TEST_F(MappingLoad, MissingOrEmptyFileIsNamed) {
  try {
    Mapping::load_file(dir_ / "absent.xml", xsd_path());
    FAIL() << "loaded";
  } catch (const MappingError& e) {
    EXPECT_THAT(e.what(), HasSubstr("absent.xml: cannot read the file"));
  }
  EXPECT_THAT(load_error(""), HasSubstr("test.xml: the file is empty"));
}

TEST_F(MappingLoad, BrokenSchemaIsNamed) {
  const std::filesystem::path xsd = write("broken.xsd", "<xs:schema");
  try {
    Mapping::load_file(write("test.xml", kMinimal), xsd);
    FAIL() << "loaded";
  } catch (const MappingError& e) {
    EXPECT_EQ(e.file(), xsd);
  }
}

}  // namespace
}  // namespace tsunagu::mapping
