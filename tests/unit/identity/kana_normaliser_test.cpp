#include "identity/kana_normaliser.hpp"

#include <gtest/gtest.h>

namespace {

using tsunagu::identity::normalise_kana;
using tsunagu::identity::normalise_kanji;

TEST(KanaNormaliser, HalfWidthHiraganaAndFullWidthSpellingsMeet) {
  const std::string expected = "イケダシオリ";
  EXPECT_EQ(normalise_kana("ｲｹﾀﾞ ｼｵﾘ"), expected);
  EXPECT_EQ(normalise_kana("いけだ しおり"), expected);
  EXPECT_EQ(normalise_kana("イケダ　シオリ"), expected);
  EXPECT_EQ(normalise_kana("イケダシオリ"), expected);
  EXPECT_EQ(normalise_kana(" ｲｹﾀﾞ　ｼｵﾘ "), expected);
}

TEST(KanaNormaliser, DifferentNamesStayDifferent) {
  EXPECT_NE(normalise_kana("サトウ"), normalise_kana("サトオ"));
  EXPECT_NE(normalise_kana("サトウ"), normalise_kana("サトー"));
  EXPECT_NE(normalise_kana("ヤマダ ハナコ"), normalise_kana("ヤマダ ハルコ"));
}

TEST(KanaNormaliser, VoicedMarkComposedFromTwoHalfWidthCharacters) {
  // ﾃ (U+FF83) followed by ﾞ (U+FF9E) is one デ.
  EXPECT_EQ(normalise_kana("\xEF\xBE\x83\xEF\xBE\x9E"), "デ");
  EXPECT_EQ(normalise_kana("ﾊﾟﾊﾟ"), "パパ");
  EXPECT_EQ(normalise_kana("ｳﾞｧｲｵﾘﾝ"), normalise_kana("ヴァイオリン"));
}

TEST(KanaNormaliser, LongVowelVariantsFold) {
  const std::string expected = normalise_kana("ユーコ");
  EXPECT_EQ(normalise_kana("ﾕｰｺ"), expected);
  EXPECT_EQ(normalise_kana("ユ－コ"), expected);  // U+FF0D full-width hyphen-minus
  EXPECT_EQ(normalise_kana("ユ―コ"), expected);  // U+2015 horizontal bar
  EXPECT_EQ(normalise_kana("ユ−コ"), expected);  // U+2212 minus sign
  EXPECT_EQ(normalise_kana("ゆーこ"), expected);
}

TEST(KanaNormaliser, SmallKanaFoldToFullSize) {
  // Half-width mainframe exports have no small kana: ｼﾖｳﾀ is how they write ショウタ.
  EXPECT_EQ(normalise_kana("ショウタ"), normalise_kana("ｼﾖｳﾀ"));
  EXPECT_EQ(normalise_kana("キャッツ"), normalise_kana("キヤツツ"));
  EXPECT_EQ(normalise_kana("ヶ"), "ケ");
}

TEST(KanaNormaliser, MiddleDotsAndSpacesGo) {
  EXPECT_EQ(normalise_kana("スミス・ジョン"), normalise_kana("スミス ジヨン"));
}

TEST(KanaNormaliser, EmptyAndInvalidInput) {
  EXPECT_EQ(normalise_kana(""), "");
  EXPECT_EQ(normalise_kana("\xFF\xFE"), "");
}

TEST(KanjiNormaliser, WidthAndSpacesOnly) {
  EXPECT_EQ(normalise_kanji("山田　花子"), "山田花子");
  EXPECT_EQ(normalise_kanji("山田 花子"), "山田花子");
  // 旧字体 is not folded: kanji are supporting evidence only.
  EXPECT_NE(normalise_kanji("髙橋"), normalise_kanji("高橋"));
}

}  // namespace
