#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <codec/csv_reader.hpp>

#include "support/failing_stream.hpp"

namespace {

using tsunagu::codec::CsvReader;
using tsunagu::codec::CsvReaderOptions;
using tsunagu::codec::CsvRecord;

using Fields = std::vector<std::string>;

std::vector<CsvRecord> read_with(const std::string& input, CsvReaderOptions options) {
  std::istringstream in(input);
  CsvReader reader(in, options);
  std::vector<CsvRecord> records;
  CsvRecord record;
  while (reader.next(record)) records.push_back(record);
  EXPECT_TRUE(reader.read_error().empty()) << reader.read_error();
  EXPECT_EQ(reader.records(), records.size());
  return records;
}

// Reads `input` with the default buffer and again with tiny ones, so that every record, quote,
// CR and LF also falls across a buffer boundary; the results must not differ.
std::vector<CsvRecord> read_all(const std::string& input, std::size_t max_record_bytes = 1048576) {
  std::vector<CsvRecord> expected = read_with(input, {65536, max_record_bytes});
  for (const std::size_t buffer_bytes : {1, 2, 3, 5, 7, 16}) {
    const std::vector<CsvRecord> records = read_with(input, {buffer_bytes, max_record_bytes});
    EXPECT_TRUE(records == expected) << "with a buffer of " << buffer_bytes << " bytes";
  }
  return expected;
}

TEST(CsvReader, SplitsCrlfRecordsIntoFields) {
  const auto records = read_all("a,b,c\r\nd,e,f\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"a", "b", "c"}));
  EXPECT_EQ(records[0].number, 1u);
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[0].raw, "a,b,c");
  EXPECT_TRUE(records[0].error.empty());
  EXPECT_EQ(records[0].error_field, CsvRecord::kNoField);
  EXPECT_EQ(records[1].fields, (Fields{"d", "e", "f"}));
  EXPECT_EQ(records[1].number, 2u);
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[1].raw, "d,e,f");
}

TEST(CsvReader, EmptyInputHasNoRecords) {
  EXPECT_TRUE(read_all("").empty());
}

TEST(CsvReader, DoubledQuotesInsideQuotesAreOneQuote) {
  const auto records = read_all("\"he said \"\"hi\"\"\",x,\"\"\"\"\r\n");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (Fields{"he said \"hi\"", "x", "\""}));
  EXPECT_EQ(records[0].raw, "\"he said \"\"hi\"\"\",x,\"\"\"\"");
}

TEST(CsvReader, QuotedFieldsKeepCommasAndLineBreaks) {
  const auto records = read_all("\"a,b\",\"c\r\nd\",\"e\nf\"\r\nnext,1\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].fields, (Fields{"a,b", "c\r\nd", "e\nf"}));
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[0].raw, "\"a,b\",\"c\r\nd\",\"e\nf\"");
  EXPECT_EQ(records[1].fields, (Fields{"next", "1"}));
  EXPECT_EQ(records[1].line, 4u);  // the first record took lines 1 to 3
  EXPECT_EQ(records[1].number, 2u);
}

TEST(CsvReader, EmptyAndQuotedEmptyFields) {
  const auto records = read_all(",,\r\na,,b\r\n\"\",\"\"\r\n\"\"\r\n");
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records[0].fields, (Fields{"", "", ""}));
  EXPECT_EQ(records[1].fields, (Fields{"a", "", "b"}));
  EXPECT_EQ(records[2].fields, (Fields{"", ""}));
  EXPECT_EQ(records[3].fields, (Fields{""}));
  EXPECT_EQ(records[3].raw, "\"\"");
}

TEST(CsvReader, BlankLineIsARecordWithOneEmptyField) {
  const auto records = read_all("a\r\n\r\nb\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[1].fields, (Fields{""}));
  EXPECT_EQ(records[1].raw, "");
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].line, 3u);
}

TEST(CsvReader, MissingFinalLineBreak) {
  const auto records = read_all("a,b\r\nc,d");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ(records[1].raw, "c,d");

  const auto trailing_comma = read_all("a,");
  ASSERT_EQ(trailing_comma.size(), 1u);
  EXPECT_EQ(trailing_comma[0].fields, (Fields{"a", ""}));

  const auto quoted_last = read_all("a,\"b\"");
  ASSERT_EQ(quoted_last.size(), 1u);
  EXPECT_EQ(quoted_last[0].fields, (Fields{"a", "b"}));

  const auto cr_last = read_all("a,b\r");  // a CR at the very end is the line break
  ASSERT_EQ(cr_last.size(), 1u);
  EXPECT_EQ(cr_last[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(cr_last[0].raw, "a,b");
}

TEST(CsvReader, BareLfEndsRecordsToo) {
  const auto records = read_all("a,b\nc,d\r\ne,f\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(records[0].raw, "a,b");
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].fields, (Fields{"e", "f"}));
  EXPECT_EQ(records[2].line, 3u);
}

TEST(CsvReader, Cp932BytesPassThroughUntouched) {
  // 表 is 0x95 0x5C and ソ is 0x83 0x5C: trail bytes that are '\' in ASCII. ｲ is 0xB2.
  const std::string input = "\x95\x5C,\"\x83\x5C,\xB2\",\x81\x40\r\n";
  const auto records = read_all(input);
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].fields, (Fields{"\x95\x5C", "\x83\x5C,\xB2", "\x81\x40"}));
  EXPECT_EQ(records[0].raw, input.substr(0, input.size() - 2));
}

TEST(CsvReader, QuoteInsideUnquotedFieldIsAnErrorAndReadingGoesOn) {
  const auto records = read_all("x,ab\"c,d\r\nok,1\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error,
            "a quote inside an unquoted field at byte 5 of line 1 (a field containing quotes must "
            "itself be quoted)");
  EXPECT_EQ(records[0].error_field, 1u);
  EXPECT_EQ(records[0].fields, (Fields{"x"}));  // the fields completed before the error
  EXPECT_EQ(records[0].raw, "x,ab\"c,d");
  EXPECT_EQ(records[0].number, 1u);
  EXPECT_TRUE(records[1].error.empty());
  EXPECT_EQ(records[1].fields, (Fields{"ok", "1"}));
  EXPECT_EQ(records[1].number, 2u);
  EXPECT_EQ(records[1].line, 2u);
}

TEST(CsvReader, TextAfterClosingQuoteIsAnErrorAndReadingGoesOn) {
  const auto records = read_all("\"abc\"d,\"e\r\nf\"\r\nok\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error,
            "text after the closing quote of a quoted field at byte 6 of line 1 (a quote inside "
            "a quoted field must be doubled)");
  EXPECT_EQ(records[0].error_field, 0u);
  EXPECT_TRUE(records[0].fields.empty());
  // Resynchronised at the next line break, even though it sits in what looks like quotes: the
  // record is already known to be broken, so its quoting is not trusted.
  EXPECT_EQ(records[0].raw, "\"abc\"d,\"e");
  EXPECT_EQ(records[1].error.substr(0, 32), "a quote inside an unquoted field");  // f"
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[2].fields, (Fields{"ok"}));
  EXPECT_EQ(records[2].line, 3u);
  EXPECT_EQ(records[2].number, 3u);
}

TEST(CsvReader, ErrorOnALaterLineOfAMultiLineRecord) {
  const auto records = read_all("\"a\r\nb\"x,y\r\nc\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].error.find("at byte 3 of line 2"), std::string::npos) << records[0].error;
  EXPECT_EQ(records[0].line, 1u);
  EXPECT_EQ(records[0].raw, "\"a\r\nb\"x,y");
  EXPECT_EQ(records[1].fields, (Fields{"c"}));
  EXPECT_EQ(records[1].line, 3u);
}

TEST(CsvReader, CarriageReturnWithoutLineFeedIsAnError) {
  const auto records = read_all("a\rb,c\r\nok\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].error,
            "a carriage return not followed by a line feed at byte 2 of line 1 (outside quotes "
            "a CR may only end a line)");
  EXPECT_EQ(records[0].error_field, 0u);
  EXPECT_EQ(records[0].raw, "a\rb,c");
  EXPECT_EQ(records[1].fields, (Fields{"ok"}));

  const auto doubled = read_all("a\r\r\nb\r\n");
  ASSERT_EQ(doubled.size(), 2u);
  EXPECT_NE(doubled[0].error.find("at byte 2 of line 1"), std::string::npos) << doubled[0].error;
  EXPECT_EQ(doubled[0].raw, "a\r");  // the second CR belongs to the CRLF line break
  EXPECT_EQ(doubled[1].fields, (Fields{"b"}));
  EXPECT_EQ(doubled[1].line, 2u);
}

TEST(CsvReader, QuoteNeverClosedOnTheLastLine) {
  const auto records = read_all("ok,1\r\nx,\"abc,def");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_TRUE(records[0].error.empty());
  EXPECT_EQ(records[1].error,
            "a quoted field opened at byte 3 of line 2 is never closed before the end of the "
            "input");
  EXPECT_EQ(records[1].error_field, 1u);
  EXPECT_EQ(records[1].fields, (Fields{"x"}));
  EXPECT_EQ(records[1].raw, "x,\"abc,def");
  EXPECT_EQ(records[1].line, 2u);
}

TEST(CsvReader, QuoteNeverClosedCostsOnlyItsOwnLine) {
  const auto records = read_all("a,\"open\r\nb,c\r\nd,e\r\n");
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error,
            "a quoted field opened at byte 3 of line 1 is never closed before the end of the "
            "input; the record was cut at the end of line 1 and reading went on with line 2");
  EXPECT_EQ(records[0].error_field, 1u);
  EXPECT_EQ(records[0].fields, (Fields{"a"}));
  EXPECT_EQ(records[0].raw, "a,\"open");
  EXPECT_EQ(records[1].fields, (Fields{"b", "c"}));
  EXPECT_EQ(records[1].line, 2u);
  EXPECT_EQ(records[1].number, 2u);
  EXPECT_EQ(records[1].raw, "b,c");
  EXPECT_EQ(records[2].fields, (Fields{"d", "e"}));
  EXPECT_EQ(records[2].line, 3u);
}

TEST(CsvReader, QuoteNeverClosedAfterAGoodMultiLineField) {
  const auto records = read_all("\"x\r\ny\",\"open\r\nb\r\n");
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].error.find("opened at byte 4 of line 2"), std::string::npos)
      << records[0].error;
  EXPECT_EQ(records[0].fields, (Fields{"x\r\ny"}));
  EXPECT_EQ(records[0].raw, "\"x\r\ny\",\"open");
  EXPECT_EQ(records[1].fields, (Fields{"b"}));
  EXPECT_EQ(records[1].line, 3u);
}

TEST(CsvReader, RecordLongerThanTheLimitIsAnErrorAndReadingGoesOn) {
  const auto records = read_all("0123456789,0123456789\r\nok\r\n0123456789abcdef\r\n", 16);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].error,
            "the record is longer than the limit of 16 bytes at byte 17 of line 1; only its "
            "first 16 bytes were kept and the rest, up to the next line break, was skipped");
  EXPECT_EQ(records[0].raw, "0123456789,01234");
  EXPECT_EQ(records[0].error_field, 1u);
  EXPECT_EQ(records[1].fields, (Fields{"ok"}));
  EXPECT_EQ(records[1].line, 2u);
  // Exactly at the limit is fine: the line break does not count.
  EXPECT_TRUE(records[2].error.empty()) << records[2].error;
  EXPECT_EQ(records[2].fields, (Fields{"0123456789abcdef"}));
}

TEST(CsvReader, LongQuotedFieldWithoutLineBreakSkipsToTheNextLine) {
  const auto records = read_all("\"" + std::string(40, 'x') + "\"\r\nok\r\n", 16);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].error.find("longer than the limit of 16 bytes"), std::string::npos);
  EXPECT_EQ(records[0].raw.size(), 16u);
  EXPECT_EQ(records[1].fields, (Fields{"ok"}));
}

TEST(CsvReader, RecordLimitInsideMultiLineQuotesCutsAtTheOpeningLine) {
  // An unclosed quote in a big file reaches the limit long before the end of the input; the
  // lines after it are records again.
  const auto records = read_all("id,\"aaaa\r\nbbbb\r\ncccc\r\ndddd\r\neeee\r\n", 20);
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].error,
            "a quoted field opened at byte 4 of line 1 runs past the record limit of 20 bytes at "
            "byte 5 of line 3 (probably a quote that is never closed); the record was cut at the "
            "end of line 1 and reading went on with line 2");
  EXPECT_EQ(records[0].raw, "id,\"aaaa");
  EXPECT_EQ(records[0].fields, (Fields{"id"}));
  for (std::size_t i = 1; i < 5; ++i) {
    EXPECT_TRUE(records[i].error.empty()) << records[i].error;
    EXPECT_EQ(records[i].line, i + 1);
    EXPECT_EQ(records[i].number, i + 1);
    EXPECT_EQ(records[i].fields, (Fields{std::string(4, static_cast<char>('a' + i))}));
  }
}

TEST(CsvReader, SeveralBadRecordsInARow) {
  const auto records = read_all("a\"\r\n\"b\"c\r\nd\re\r\ngood\r\n\"never");
  ASSERT_EQ(records.size(), 5u);
  for (const std::size_t bad : {0, 1, 2, 4}) {
    EXPECT_FALSE(records[bad].error.empty()) << "record " << bad + 1;
  }
  EXPECT_EQ(records[3].fields, (Fields{"good"}));
  EXPECT_EQ(records[3].line, 4u);
  EXPECT_EQ(records[4].line, 5u);
}

TEST(CsvReader, RecordsLargerThanTheReadBuffer) {
  const std::string big(300000, 'z');
  const std::string input = "\"" + big + "\r\n" + big + "\"," + big + "\r\nsmall\r\n";
  std::istringstream in(input);
  CsvReader reader(in);  // default options: 64 KiB buffer, 1 MiB records
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_TRUE(record.error.empty()) << record.error;
  ASSERT_EQ(record.fields.size(), 2u);
  EXPECT_EQ(record.fields[0], big + "\r\n" + big);
  EXPECT_EQ(record.fields[1], big);
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields, (Fields{"small"}));
  EXPECT_EQ(record.line, 3u);
  EXPECT_FALSE(reader.next(record));
}

using tsunagu_test::FailingBuffer;

TEST(CsvReader, ReadErrorStopsReadingAndDropsThePartialRecord) {
  FailingBuffer buffer("a,b\r\nc,d\r\ne,f\r\n", 8);
  std::istream in(&buffer);
  CsvReader reader(in, {4, 1024});
  CsvRecord record;
  ASSERT_TRUE(reader.next(record));
  EXPECT_EQ(record.fields, (Fields{"a", "b"}));
  EXPECT_FALSE(reader.next(record));  // "c,d" was cut by the error
  EXPECT_EQ(reader.read_error(), "reading failed at or after line 2");
  EXPECT_EQ(reader.records(), 1u);
  EXPECT_FALSE(reader.next(record));
}

TEST(CsvReader, RejectsUselessOptions) {
  std::istringstream in("a");
  EXPECT_THROW(CsvReader(in, {0, 10}), std::invalid_argument);
  EXPECT_THROW(CsvReader(in, {10, 0}), std::invalid_argument);
}

}  // namespace
