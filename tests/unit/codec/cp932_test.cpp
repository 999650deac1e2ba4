#include <string>
#include <utility>

#include <gtest/gtest.h>

#include <codec/cp932.hpp>

namespace {

using tsunagu::codec::Cp932Decoder;
using tsunagu::codec::Cp932Encoder;

std::string decoded(std::string_view cp932) {
  Cp932Decoder decoder;
  std::string out;
  std::string error;
  EXPECT_TRUE(decoder.decode(cp932, out, error)) << error;
  return out;
}

// Decodes bytes that must fail; returns the error and checks the decoder is still usable.
std::string decode_error(std::string_view cp932, std::string* partial = nullptr) {
  Cp932Decoder decoder;
  std::string out = "left over from before";
  std::string error;
  EXPECT_FALSE(decoder.decode(cp932, out, error));
  if (partial) *partial = out;
  std::string again;
  std::string again_error;
  EXPECT_TRUE(decoder.decode("\x92\x72", again, again_error)) << again_error;
  EXPECT_EQ(again, "池");
  return error;
}

TEST(Cp932Helpers, IsAsciiAndHexBytes) {
  EXPECT_TRUE(tsunagu::codec::is_ascii(""));
  EXPECT_TRUE(tsunagu::codec::is_ascii("PA2019060500001,\\~\x7F"));
  EXPECT_FALSE(tsunagu::codec::is_ascii("abc\x80"));
  EXPECT_EQ(tsunagu::codec::hex_bytes(std::string_view("\x81\x20\x00\xFF", 4)),
            "0x81 0x20 0x00 0xFF");
  EXPECT_EQ(tsunagu::codec::hex_bytes(""), "");
}

TEST(Cp932Decoder, AsciiIsCopiedUnchangedIncludingBackslashAndTilde) {
  // CP932 keeps 0x5C and 0x7E as \ and ~ (Shift_JIS proper would give ¥ and ‾).
  EXPECT_EQ(decoded("PA2019060500012,C:\\spool,~"), "PA2019060500012,C:\\spool,~");
  EXPECT_EQ(decoded(std::string_view("a\0b", 3)), std::string("a\0b", 3));
  EXPECT_EQ(decoded(""), "");
}

TEST(Cp932Decoder, DecodesKanjiAndFullWidthSpace) {
  EXPECT_EQ(decoded("\x92\x72\x93\x63\x81\x40\x89\xD4\x8E\x71"), "池田　花子");
  // 表 has 0x5C as its trail byte: the classic Shift_JIS trap for byte-oriented code.
  EXPECT_EQ(decoded("\x95\x5C"), "表");
}

TEST(Cp932Decoder, DecodesHalfWidthKatakana) {
  EXPECT_EQ(decoded("\xB2\xB9\xC0\xDE \xCA\xC5\xBA"), "ｲｹﾀﾞ ﾊﾅｺ");
}

TEST(Cp932Decoder, DecodesMicrosoftExtensions) {
  EXPECT_EQ(decoded("\x87\x40"), "①");   // NEC special character
  EXPECT_EQ(decoded("\x87\x55"), "Ⅱ");   // NEC special character
  EXPECT_EQ(decoded("\xFB\xFC"), "髙");  // IBM extension kanji
  EXPECT_EQ(decoded("\x81\x60"), "～");  // U+FF5E, not Shift_JIS's U+301C
  EXPECT_EQ(decoded("\x81\x5F"), "＼");  // U+FF3C
}

TEST(Cp932Decoder, DecodesMixedTextOfAnyLength) {
  // All half-width katakana: three UTF-8 bytes per input byte, the largest growth there is.
  const std::string kana(100000, '\xB1');
  std::string expected;
  for (int i = 0; i < 100000; ++i) expected += "ｱ";
  EXPECT_EQ(decoded(kana), expected);
  EXPECT_EQ(decoded("CW0312 \x92\x53\x93\x96 \xB2\xB9\xC0\xDE"), "CW0312 担当 ｲｹﾀﾞ");
}

TEST(Cp932Decoder, LoneLeadByteAtTheEndIsIncomplete) {
  std::string partial;
  EXPECT_EQ(decode_error("A\x92\x72\x81", &partial),
            "incomplete CP932 character 0x81 at the end (byte offset 3)");
  EXPECT_EQ(partial, "A池");
}

TEST(Cp932Decoder, InvalidTrailByteNamesThePairAndItsOffset) {
  std::string partial;
  EXPECT_EQ(decode_error("ab\x81 cd", &partial),
            "invalid CP932 byte sequence 0x81 0x20 at byte offset 2");
  EXPECT_EQ(partial, "ab");
  EXPECT_EQ(decode_error("\x92\x72\x81\x7F"),
            "invalid CP932 byte sequence 0x81 0x7F at byte offset 2");
}

TEST(Cp932Decoder, BytesThatAreNeverCp932AreInvalid) {
  EXPECT_EQ(decode_error("\xA0"), "invalid CP932 byte sequence 0xA0 at byte offset 0");
  EXPECT_EQ(decode_error("x\xFD"), "invalid CP932 byte sequence 0xFD at byte offset 1");
  EXPECT_EQ(decode_error("xy\xFEz"), "invalid CP932 byte sequence 0xFE at byte offset 2");
  EXPECT_EQ(decode_error("\xFF\x40"), "invalid CP932 byte sequence 0xFF at byte offset 0");
  EXPECT_EQ(decode_error("\x80"), "invalid CP932 byte sequence 0x80 at byte offset 0");
}

TEST(Cp932Decoder, MovedDecoderKeepsWorking) {
  Cp932Decoder first;
  Cp932Decoder second(std::move(first));
  Cp932Decoder third;
  third = std::move(second);
  std::string out;
  std::string error;
  EXPECT_TRUE(third.decode("\x8E\x71", out, error)) << error;
  EXPECT_EQ(out, "子");
}

TEST(Cp932Encoder, EncodesKnownBytes) {
  Cp932Encoder encoder;
  std::string out;
  std::string error;
  ASSERT_TRUE(encoder.encode("池田　花子,ｲｹﾀﾞ ﾊﾅｺ", out, error)) << error;
  EXPECT_EQ(out, "\x92\x72\x93\x63\x81\x40\x89\xD4\x8E\x71,\xB2\xB9\xC0\xDE \xCA\xC5\xBA");
  ASSERT_TRUE(encoder.encode("plain ASCII", out, error)) << error;
  EXPECT_EQ(out, "plain ASCII");
}

TEST(Cp932Encoder, RoundTripsThroughTheDecoder) {
  const std::string text =
      "髙橋　由美子,タカハシ　ユミコ,ﾔﾏﾓﾄ ｶｽﾞｺ,札幌市西区琴似2条3丁目 ハイツ琴似Ⅱ 305,"
      "①②,5月中旬～欠席,＼,令和元年6月5日";
  Cp932Encoder encoder;
  Cp932Decoder decoder;
  std::string cp932;
  std::string utf8;
  std::string error;
  ASSERT_TRUE(encoder.encode(text, cp932, error)) << error;
  ASSERT_TRUE(decoder.decode(cp932, utf8, error)) << error;
  EXPECT_EQ(utf8, text);
}

TEST(Cp932Encoder, CharactersWithoutCp932CodeAreErrors) {
  Cp932Encoder encoder;
  std::string out;
  std::string error;
  EXPECT_FALSE(encoder.encode("A\xF0\x9F\x98\x80", out, error));  // U+1F600
  EXPECT_EQ(error, "character U+1F600 at byte offset 1 has no CP932 encoding");
  EXPECT_EQ(out, "A");
  EXPECT_FALSE(encoder.encode("池한", out, error));  // Hangul
  EXPECT_EQ(error, "character U+D55C at byte offset 3 has no CP932 encoding");
  EXPECT_EQ(out, "\x92\x72");
  // The encoder is usable after a failure.
  EXPECT_TRUE(encoder.encode("子", out, error)) << error;
  EXPECT_EQ(out, "\x8E\x71");
}

TEST(Cp932Encoder, InvalidUtf8IsAnError) {
  Cp932Encoder encoder;
  std::string out;
  std::string error;
  EXPECT_FALSE(encoder.encode("\xC3\x28", out, error));
  EXPECT_EQ(error, "invalid UTF-8 byte sequence 0xC3 at byte offset 0");
  EXPECT_FALSE(encoder.encode("ab\xE3\x81", out, error));
  EXPECT_EQ(error, "incomplete UTF-8 sequence 0xE3 0x81 at the end (byte offset 2)");
  EXPECT_FALSE(encoder.encode("\xED\xA0\x80", out, error));  // a surrogate
  EXPECT_EQ(error, "invalid UTF-8 byte sequence 0xED 0xA0 0x80 at byte offset 0");
}

}  // namespace
