// Normalises Japanese kana names so that the spellings of one name in different systems compare
// equal, and different names do not.
//
// Steps, in order:
//   1. ICU NFKC: half-width katakana become full-width (ｲｹﾀﾞ → イケダ, with ﾃﾞ composed to デ),
//      full-width Latin and digits become ASCII, the ideographic space becomes a space.
//   2. Hiragana → katakana (U+3041–U+3096 shifted to U+30A1–U+30F6; ゝゞ → ヽヾ).
//   3. Spaces (any Unicode white space, incl. U+3000) and middle dots (・) are removed.
//   4. Long-vowel marks: ー, and the dash-like characters systems type in its place (‐ ‑ ‒ – — ―
//      − ～ 〜 -), all become ー. A vowel is NOT folded into ー: サトウ and サトー stay different,
//      as サトウ and サトオ do — the systems spell these consistently, and folding them would link
//      different children.
//   5. Small kana become their full-size forms (ァ→ア, ッ→ツ, ャ→ヤ, ヮ→ワ, ヵ→カ, ヶ→ケ, …):
//      half-width and mainframe exports have no small kana, so ｼﾖｳ and ショウ must meet.
// The result is katakana in UTF-8. An input that is not valid UTF-8 yields an empty string.
#pragma once

#include <string>
#include <string_view>

namespace tsunagu::identity {

std::string normalise_kana(std::string_view utf8);

// Kanji names, for supporting evidence only: NFKC and spaces removed. 旧字体/新字体 variants are
// not folded (ICU has no such table), which is why kanji never decide a link.
std::string normalise_kanji(std::string_view utf8);

}  // namespace tsunagu::identity
