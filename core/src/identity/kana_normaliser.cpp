#include "identity/kana_normaliser.hpp"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

namespace tsunagu::identity {
namespace {

const icu::Normalizer2* nfkc() {
  // ICU's singleton, looked up once rather than on every name.
  static const icu::Normalizer2* const instance = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFKCInstance(status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return instance;
}

bool is_space(UChar32 c) {
  return u_isUWhiteSpace(c) || c == 0x3000 || c == 0x30FB || c == 0xFF65;
}

bool is_long_vowel_variant(UChar32 c) {
  switch (c) {
    case 0x30FC:  // ー
    case 0x2010:
    case 0x2011:
    case 0x2012:
    case 0x2013:
    case 0x2014:
    case 0x2015:
    case 0x2212:  // −
    case 0xFF5E:  // ～
    case 0x301C:  // 〜
    case 0x002D:  // -
    case 0xFF70:  // ｰ (NFKC already maps it, kept for clarity)
      return true;
    default:
      return false;
  }
}

UChar32 full_size(UChar32 c) {
  switch (c) {
    case 0x30A1:
      return 0x30A2;  // ァ→ア
    case 0x30A3:
      return 0x30A4;  // ィ→イ
    case 0x30A5:
      return 0x30A6;  // ゥ→ウ
    case 0x30A7:
      return 0x30A8;  // ェ→エ
    case 0x30A9:
      return 0x30AA;  // ォ→オ
    case 0x30C3:
      return 0x30C4;  // ッ→ツ
    case 0x30E3:
      return 0x30E4;  // ャ→ヤ
    case 0x30E5:
      return 0x30E6;  // ュ→ユ
    case 0x30E7:
      return 0x30E8;  // ョ→ヨ
    case 0x30EE:
      return 0x30EF;  // ヮ→ワ
    case 0x30F5:
      return 0x30AB;  // ヵ→カ
    case 0x30F6:
      return 0x30B1;  // ヶ→ケ
    default:
      return c;
  }
}

std::string normalise(std::string_view utf8, bool kana) {
  const icu::Normalizer2* n = nfkc();
  if (n == nullptr) return std::string(utf8);
  const icu::UnicodeString in = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  if (in.indexOf(static_cast<UChar>(0xFFFD)) >= 0 &&
      utf8.find("\xEF\xBF\xBD") == std::string_view::npos) {
    return {};  // invalid UTF-8 was replaced
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString folded = n->normalize(in, status);
  if (U_FAILURE(status)) return {};
  icu::UnicodeString out;
  for (int32_t i = 0; i < folded.length();) {
    UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (is_space(c)) continue;
    if (kana) {
      if (c >= 0x3041 && c <= 0x3096) c += 0x60;  // hiragana → katakana
      if (c == 0x309D || c == 0x309E) c += 0x60;  // ゝゞ → ヽヾ
      if (is_long_vowel_variant(c)) c = 0x30FC;
      c = full_size(c);
    }
    out.append(c);
  }
  std::string result;
  out.toUTF8String(result);
  return result;
}

}  // namespace

std::string normalise_kana(std::string_view utf8) {
  return normalise(utf8, true);
}

std::string normalise_kanji(std::string_view utf8) {
  return normalise(utf8, false);
}

}  // namespace tsunagu::identity
