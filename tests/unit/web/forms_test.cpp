// Query strings, urlencoded forms, cookies and HTML escaping.
#include <gtest/gtest.h>

#include "web/forms.hpp"

namespace {

using namespace tsunagu::web;

TEST(Forms, UrlencodedPairsAreDecoded) {
  const auto f =
      parse_urlencoded("login=alice&password=a+b%26c%3D&x=%E3%81%82&flag&=v&login=again");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->at("login"), "alice");  // the first wins
  EXPECT_EQ(f->at("password"), "a b&c=");
  EXPECT_EQ(f->at("x"), "あ");
  EXPECT_EQ(f->at("flag"), "");
  EXPECT_EQ(f->at(""), "v");
}

TEST(Forms, BadEscapesStayAsWrittenButNulAndBadUtf8AreRefused) {
  EXPECT_EQ(parse_urlencoded("a=%zz%4")->at("a"), "%zz%4");
  EXPECT_FALSE(parse_urlencoded("a=%00"));
  EXPECT_FALSE(parse_urlencoded("a=%ff"));
  EXPECT_FALSE(parse_urlencoded("a=%C0%AF"));     // overlong '/'
  EXPECT_FALSE(parse_urlencoded("a=%ED%A0%80"));  // a surrogate
  EXPECT_TRUE(parse_urlencoded(""));
}

TEST(Forms, CookieValuesByName) {
  const std::string h = "a=1; __Host-tsunagu_session=abc-_; other=__Host-tsunagu_session=x";
  EXPECT_EQ(cookie_value(h, "__Host-tsunagu_session"), "abc-_");
  EXPECT_EQ(cookie_value(h, "a"), "1");
  EXPECT_EQ(cookie_value(h, "missing"), "");
  EXPECT_EQ(cookie_value("", "a"), "");
}

TEST(Forms, HtmlEscapingCoversTextAndAttributes) {
  EXPECT_EQ(html_escape("<a href=\"x\" onclick='y'>&</a>"),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
  EXPECT_EQ(url_encode("a b/あ"), "a%20b%2F%E3%81%82");
}

}  // namespace
