// One event object → native fields: names, JSON types, null and absent, unknown members, and
// every way a record can fail to be a usable object.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include <child_guidance/cg_event_parser.hpp>

namespace tsunagu::child_guidance {
namespace {

using Fields = std::map<std::string, std::string>;

NativeRecord parse(const std::string& text) {
  EventParser parser;
  NativeRecord record;
  parser.parse(text, record);
  return record;
}

// The example of the interface specification (SYSTEMS.md, "child_guidance"), as written there.
constexpr const char* kSpecificationExample =
    R"({"event_id": "CG-2019-0456", "revision": 1, "type": "report_received",
 "occurred_at": "2019-05-15T21:30:00+09:00",
 "child": {"resident_id": null, "name": "山田 花子", "name_kana": "ヤマダ ハナコ",
           "birth_date": "2017-11-30", "sex": "F"},
 "ward_code": "01102", "risk_level": "B", "report_source": "警察",
 "address": "札幌市北区…", "note": "泣き声通告"})";

TEST(CgEventParser, TheSpecificationExampleBecomesFlatFields) {
  const NativeRecord record = parse(kSpecificationExample);
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.fields, (Fields{
                               {"event_id", "CG-2019-0456"},
                               {"revision", "1"},
                               {"type", "report_received"},
                               {"occurred_at", "2019-05-15T21:30:00+09:00"},
                               {"child.resident_id", ""},
                               {"child.name", "山田 花子"},
                               {"child.name_kana", "ヤマダ ハナコ"},
                               {"child.birth_date", "2017-11-30"},
                               {"child.sex", "F"},
                               {"ward_code", "01102"},
                               {"risk_level", "B"},
                               {"report_source", "警察"},
                               {"address", "札幌市北区…"},
                               {"note", "泣き声通告"},
                           }));
  // Every name the adapter documents, and no other.
  for (const std::string_view name : kNativeFields) {
    EXPECT_EQ(record.fields.count(std::string(name)), 1u) << name;
  }
}

TEST(CgEventParser, NullIsEmptyAndAbsentStaysAbsent) {
  const NativeRecord record = parse(
      R"({"event_id": "CG-1", "revision": null, "note": null, "child": {"name": "x", "sex": null}})");
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-1"},
                                   {"revision", ""},
                                   {"note", ""},
                                   {"child.name", "x"},
                                   {"child.sex", ""}}));

  // A null child: none of its members.
  EXPECT_EQ(parse(R"({"event_id": "CG-1", "child": null})").fields, (Fields{{"event_id", "CG-1"}}));
  EXPECT_EQ(parse(R"({})").fields, Fields{});
  EXPECT_EQ(parse(R"({})").error, "");
}

TEST(CgEventParser, UnknownMembersAreIgnoredAtAnyDepthWhateverTheirType) {
  const NativeRecord record = parse(
      R"({"event_id": "CG-1", "caseworker": "CGW-1", "attachments": [{"id": 1}, [null, true]],)"
      R"( "meta": {"revision": "not the event's", "child": 7, "ward_code": {}},)"
      R"( "child": {"name": "x", "nickname": "y", "school": {"name": "z"}, "siblings": []},)"
      R"( "score": 1.5, "flag": false, "nothing": null})");
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-1"}, {"child.name", "x"}}));
}

TEST(CgEventParser, EscapesAreDecoded) {
  const NativeRecord record = parse(
      R"({"child": {"name": "\u5c71\u7530 \u82b1\u5b50"}, "note": "a\nb\t\"c\" \/ \ud83d\ude00"})");
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.fields.at("child.name"), "山田 花子");
  EXPECT_EQ(record.fields.at("note"), "a\nb\t\"c\" / \xF0\x9F\x98\x80");
}

TEST(CgEventParser, RevisionMustBeAnIntegerNumber) {
  EXPECT_EQ(parse(R"({"revision": 12})").fields.at("revision"), "12");
  // Out of the mapping's range, but a JSON integer: the mapping judges it.
  EXPECT_EQ(parse(R"({"revision": 0})").fields.at("revision"), "0");
  EXPECT_EQ(parse(R"({"revision": -3})").fields.at("revision"), "-3");
  EXPECT_EQ(parse(R"({"revision": 18446744073709551615})").fields.at("revision"),
            "18446744073709551615");

  const struct {
    const char* json;
    const char* error;
  } cases[] = {
      {R"({"revision": "1"})", R"(expected an integer number or null, got the string "1")"},
      {R"({"revision": 1.0})",
       "expected an integer number or null, got a number with a fraction or exponent"},
      {R"({"revision": 1e2})",
       "expected an integer number or null, got a number with a fraction or exponent"},
      {R"({"revision": true})", "expected an integer number or null, got true"},
      {R"({"revision": {"n": 1}})", "expected an integer number or null, got an object"},
      {R"({"revision": [1]})", "expected an integer number or null, got an array"},
      {R"({"revision": 123456789012345678901234567890})",
       "the number is out of range (Not a valid unsigned integer: "
       "123456789012345678901234567890)"},
  };
  for (const auto& c : cases) {
    const NativeRecord record = parse(c.json);
    EXPECT_EQ(record.error_field, "revision") << c.json;
    EXPECT_EQ(record.error, c.error) << c.json;
    EXPECT_EQ(record.fields.count("revision"), 0u) << c.json;
  }
}

TEST(CgEventParser, TextFieldsMustBeStrings) {
  const struct {
    const char* json;
    const char* field;
    const char* error;
  } cases[] = {
      {R"({"ward_code": 1102})", "ward_code", "expected a string or null, got the number 1102"},
      {R"({"event_id": 456})", "event_id", "expected a string or null, got the number 456"},
      {R"({"risk_level": false})", "risk_level", "expected a string or null, got false"},
      {R"({"note": ["a", "b"]})", "note", "expected a string or null, got an array"},
      {R"({"address": {"ward": "北区"}})", "address", "expected a string or null, got an object"},
      {R"({"child": {"birth_date": 20171130}})", "child.birth_date",
       "expected a string or null, got the number 20171130"},
      {R"({"child": {"sex": 2.5}})", "child.sex",
       "expected a string or null, got a number with a fraction or exponent"},
      {R"({"child": "山田 花子"})", "child",
       R"(expected an object or null, got the string "山田 花子")"},
      {R"({"child": [{"name": "x"}]})", "child", "expected an object or null, got an array"},
  };
  for (const auto& c : cases) {
    const NativeRecord record = parse(c.json);
    EXPECT_EQ(record.error_field, c.field) << c.json;
    EXPECT_EQ(record.error, c.error) << c.json;
  }
  // A child given as an array: what is inside is not taken for the child's members.
  EXPECT_EQ(parse(R"({"child": [{"name": "x"}]})").fields, Fields{});
}

TEST(CgEventParser, EveryProblemIsNamedTheFirstLeads) {
  const NativeRecord record =
      parse(R"({"event_id": "CG-1", "revision": "2", "ward_code": 1102, "child": {"sex": 1}})");
  EXPECT_EQ(record.error_field, "revision");
  EXPECT_EQ(record.error, R"(expected an integer number or null, got the string "2"; )"
                          "ward_code: expected a string or null, got the number 1102; "
                          "child.sex: expected a string or null, got the number 1");
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-1"}}));  // kept: it identifies the event

  const NativeRecord many =
      parse(R"({"event_id": 1, "revision": "1", "type": 1, "occurred_at": 1, "ward_code": 1,)"
            R"( "risk_level": 1, "report_source": 1, "address": 1, "note": 1, "child": 1})");
  EXPECT_EQ(many.error_field, "event_id");
  EXPECT_NE(many.error.find("; address: expected a string or null, got the number 1; and 2 more "
                            "problems"),
            std::string::npos)
      << many.error;
}

TEST(CgEventParser, AKnownMemberGivenTwiceIsAnError) {
  NativeRecord record = parse(R"({"event_id": "CG-1", "event_id": "CG-2"})");
  EXPECT_EQ(record.error_field, "event_id");
  EXPECT_EQ(record.error, "the member is given more than once in the object");
  EXPECT_EQ(record.fields.at("event_id"), "CG-1");

  record = parse(R"({"child": {"name": "a"}, "child": {"name": "b"}})");
  EXPECT_EQ(record.error_field, "child");
  EXPECT_EQ(record.fields.at("child.name"), "a");

  record = parse(R"({"child": {"name": "a", "name": null}})");
  EXPECT_EQ(record.error_field, "child.name");

  // Unknown members may repeat: they are ignored anyway.
  EXPECT_EQ(parse(R"({"x": 1, "x": 2, "event_id": "CG-1"})").error, "");
}

TEST(CgEventParser, ARecordThatIsNotAnObject) {
  const struct {
    const char* json;
    const char* error;
  } cases[] = {
      {R"(["CG-2019-0503", 1, "case_opened"])", "the record is an array, not a JSON object"},
      {"42", "the record is a number, not a JSON object"},
      {"-1.5", "the record is a number, not a JSON object"},
      {R"("report_received")", "the record is a string, not a JSON object"},
      {"null", "the record is null, not a JSON object"},
      {"true", "the record is true, not a JSON object"},
      {"", "invalid JSON: unexpected end of text"},
      {"  \t ", "invalid JSON: unexpected end of text"},
  };
  for (const auto& c : cases) {
    const NativeRecord record = parse(c.json);
    EXPECT_EQ(record.error, c.error) << c.json;
    EXPECT_EQ(record.error_field, "") << c.json;
    EXPECT_TRUE(record.fields.empty()) << c.json;
  }
}

TEST(CgEventParser, InvalidJsonSaysWhereAsFarAsItCan) {
  // A comma missing after a member: the fields before it are kept.
  NativeRecord record = parse(
      R"({"event_id": "CG-2019-0502", "revision": 1, "type": "safety_confirmed" "ward_code": "01106"})");
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.error,
            "invalid JSON: expected ',' or '}' after member value (after member 'type')");
  EXPECT_EQ(
      record.fields,
      (Fields{{"event_id", "CG-2019-0502"}, {"revision", "1"}, {"type", "safety_confirmed"}}));

  // A value that cannot be read is blamed on its member.
  record = parse(R"({"event_id": "CG-1", "note": "cut off)");
  EXPECT_EQ(record.error_field, "note");
  EXPECT_EQ(record.error, "invalid JSON: unterminated string literal");

  record = parse(R"({"event_id": "CG-1", "child": {"name": tru}})");
  EXPECT_EQ(record.error_field, "child.name");
  EXPECT_EQ(record.error.substr(0, 14), "invalid JSON: ");

  for (const char* bad : {R"({"a": 1,})", R"({'event_id': 'x'})", R"({"a": NaN})", R"({"a": 01})",
                          "{\"note\": \"line\nbreak\"}", R"({"a": "\ud800"})", R"({"a": "\x41"})",
                          R"({"a": 1} // comment)",
                          R"({"a": 1})"
                          "}"}) {
    record = parse(bad);
    EXPECT_EQ(record.error.substr(0, 14), "invalid JSON: ") << bad << " → " << record.error;
  }
  EXPECT_EQ(parse(R"({"a":1}{"b":2})").error,
            "invalid JSON: there is more text after the end of the object (one object per record)");
}

TEST(CgEventParser, NestingIsBounded) {
  std::string deep = R"({"event_id": "CG-1", "extra": )";
  for (int i = 0; i < 100000; ++i) deep += '[';
  const NativeRecord record = parse(deep);
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.error, "invalid JSON: Maximum depth exceeded (after member 'extra')");
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-1"}}));

  std::string allowed = R"({"event_id": "CG-1", "extra": )";
  for (std::size_t i = 1; i < kMaxJsonDepth; ++i) allowed += '[';
  for (std::size_t i = 1; i < kMaxJsonDepth; ++i) allowed += ']';
  EXPECT_EQ(parse(allowed + "}").error, "");
}

TEST(CgEventParser, AStringMayNotHoldNul) {
  const NativeRecord record = parse(R"({"event_id": "CG-1", "note": "a\u0000b"})");
  EXPECT_EQ(record.error_field, "note");
  EXPECT_EQ(record.error, "the string holds the character U+0000, which no field may hold");
  EXPECT_EQ(record.fields.count("note"), 0u);
}

// ---- UTF-8 ------------------------------------------------------------------------------------

std::size_t invalid_at(std::string_view text, std::size_t& length) {
  return find_invalid_utf8(text, length);
}

TEST(CgUtf8, WellFormedTextPasses) {
  std::size_t length = 99;
  for (const char* text : {"", "ascii", "山田 花子 ヤマダ ﾊﾅｺ", "髙橋 Ⅱ ～", "\xF0\x9F\x98\x80",
                           "\xEF\xB7\x90", "\xF4\x8F\xBF\xBF", "\xED\x9F\xBF", "\xC2\x80"}) {
    EXPECT_EQ(invalid_at(text, length), std::string_view::npos) << text;
  }
  EXPECT_EQ(length, 0u);
  EXPECT_EQ(invalid_at(std::string_view("a\0b", 3), length), std::string_view::npos);
}

TEST(CgUtf8, IllFormedSequencesAreFoundWithTheirLength) {
  const struct {
    std::string_view text;
    std::size_t at;
    std::size_t length;
  } cases[] = {
      {"ab\x80", 2, 1},                                    // a lone continuation byte
      {"\xC0\xAF", 0, 1},                                  // overlong, C0 is never a lead
      {"\xC1\xBF", 0, 1},         {"\xE0\x80\x80", 0, 1},  // overlong three-byte form
      {"\xED\xA0\x80", 0, 1},                              // a surrogate
      {"\xF0\x80\x80\x80", 0, 1},                          // overlong four-byte form
      {"\xF4\x90\x80\x80", 0, 1},                          // above U+10FFFF
      {"\xF5\x80\x80\x80", 0, 1}, {"\xFF", 0, 1},
      {"x\xE3\x81", 1, 2},                                     // cut off at the end
      {"\xE3\x81y", 0, 2},                                     // cut off before ASCII
      {"\xF0\x9F\x98", 0, 3},     {"\x93\x63\x92\x86", 0, 1},  // CP932 田中
  };
  for (const auto& c : cases) {
    std::size_t length = 0;
    EXPECT_EQ(invalid_at(c.text, length), c.at) << testing::PrintToString(c.text);
    EXPECT_EQ(length, c.length) << testing::PrintToString(c.text);
  }
}

TEST(CgEventParser, InvalidUtf8NamesTheMemberThatHoldsIt) {
  // The child's name sent in CP932 (田中 空), the rest UTF-8.
  const std::string line =
      "{\"event_id\": \"CG-2019-0510\", \"child\": {\"name\": \"\x93\x63\x92\x86 \x8B\xF3\", "
      "\"name_kana\": \"タナカ ソラ\"}, \"ward_code\": \"01105\"}";
  const NativeRecord record = parse(line);
  EXPECT_EQ(record.error_field, "child.name");
  EXPECT_EQ(record.error, "invalid UTF-8 byte sequence 0x93 at byte offset 48 of the record");
  EXPECT_EQ(line[48], '\x93');
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-2019-0510"},
                                   {"child.name_kana", "タナカ ソラ"},
                                   {"ward_code", "01105"}}));

  // Several members: each named, with its own first bad byte.
  const NativeRecord two =
      parse("{\"note\": \"\xE3\x81\", \"address\": \"ok\", \"type\": \"\xFF\"}");
  EXPECT_EQ(two.error_field, "note");
  EXPECT_EQ(two.error,
            "invalid UTF-8 byte sequence 0xE3 0x81 at byte offset 10 of the record; type: invalid "
            "UTF-8 byte sequence 0xFF at byte offset 41 of the record");
  EXPECT_EQ(two.fields, (Fields{{"address", "ok"}}));

  // In a member Tsunagu ignores: still not a valid JSON text, and named by its path.
  const NativeRecord ignored = parse("{\"event_id\": \"CG-1\", \"extra\": [\"ok\", \"\xFF\"]}");
  EXPECT_EQ(ignored.error_field, "extra[1]");
  EXPECT_EQ(ignored.error, "invalid UTF-8 byte sequence 0xFF at byte offset 38 of the record");

  // In a member name.
  const NativeRecord key = parse("{\"child\": {\"na\xFFme\": \"x\"}}");
  EXPECT_EQ(key.error_field, "child");
  EXPECT_EQ(key.error,
            "a member name holds an invalid UTF-8 byte sequence 0xFF at byte offset 14 of the "
            "record");

  // Outside any string.
  const NativeRecord outside = parse("{\"event_id\": \"CG-1\",\xFF \"note\": \"x\"}");
  EXPECT_EQ(outside.error_field, "");
  EXPECT_EQ(outside.error, "invalid UTF-8 byte sequence 0xFF at byte offset 20 of the record");
}

TEST(CgEventParser, InvalidUtf8IsFoundWhenTheRecordHoldsNoncharacters) {
  // U+FDD0 and U+FDD1 occur as text and as an escape: the marker must be another one, or the
  // valid note would be blamed.
  const NativeRecord record = parse("{\"note\": \"\xEF\xB7\x90 \\uFDD1\", \"address\": \"\x81\"}");
  EXPECT_EQ(record.error_field, "address");
  EXPECT_EQ(record.fields.at("note"), "\xEF\xB7\x90 \xEF\xB7\x91");
}

TEST(CgEventParser, TextThatIsNotUtf8AtAllIsRejectedAsAWhole) {
  std::string line = "{\"note\": \"";
  for (int i = 0; i < 200; ++i) line += "\x82\xA0";  // CP932 あ, 200 times
  line += "\"}";
  const NativeRecord record = parse(line);
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.error,
            "not UTF-8 text: invalid UTF-8 byte sequence 0x82 at byte offset 10 of the record "
            "(the 児童相談所システム sends UTF-8; was the file converted to another encoding?)");
  EXPECT_TRUE(record.fields.empty());
}

TEST(CgEventParser, OneParserServesManyRecords) {
  EventParser parser;
  NativeRecord record;
  parser.parse(R"({"event_id": "CG-1", "child": {"name": "a")", record);
  EXPECT_NE(record.error, "");
  parser.parse("{\"note\": \"\xFF\"}", record);
  EXPECT_EQ(record.error_field, "note");
  parser.parse(R"({"event_id": "CG-2", "child": {"name": "b"}})", record);
  EXPECT_EQ(record.error, "");
  EXPECT_EQ(record.error_field, "");
  EXPECT_EQ(record.fields, (Fields{{"event_id", "CG-2"}, {"child.name", "b"}}));
  parser.parse(R"({"event_id": "CG-2", "event_id": "CG-3"})", record);
  parser.parse(R"({"event_id": "CG-4"})", record);  // seen members are forgotten between records
  EXPECT_EQ(record.error, "");
}

}  // namespace
}  // namespace tsunagu::child_guidance
