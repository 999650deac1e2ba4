// The byte-level slicer: document boundaries, what it lets the parser see, and when.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <health_centre/hc_export_slicer.hpp>

#include "hc_test_support.hpp"

namespace {

using tsunagu::health_centre::DocumentSlice;
using tsunagu::health_centre::ExportSlicer;

const std::string kExport =
    "<?xml version=\"1.0\"?>\n"
    "<!-- <a> in a comment -->\n"
    "<r xmlns=\"urn:x\">\n"
    "  <d n='1' note=\"a>b\" slash='/'>\n"
    "    <x>text &amp; <![CDATA[ <y> ]]></x><?pi <z>?><!-- > -->\n"
    "  </d>\n"
    "  <d n=\"2\"/>\n"
    "  <d><e/><f></f></d>\n"
    "</r>\n";

std::string release_all(ExportSlicer& slicer) {
  std::string out(slicer.releasable(), '\0');
  out.resize(slicer.release(out.data(), out.size()));
  return out;
}

std::vector<DocumentSlice> take_all(ExportSlicer& slicer, std::uint64_t count) {
  std::vector<DocumentSlice> slices;
  for (std::uint64_t n = 1; n <= count; ++n) {
    auto slice = slicer.take(n);
    if (slice) slices.push_back(std::move(*slice));
  }
  return slices;
}

TEST(HcSlicer, FindsEveryChildOfTheRootExactly) {
  ExportSlicer slicer(1 << 20);
  slicer.feed(kExport);
  slicer.finish();
  EXPECT_EQ(release_all(slicer), kExport);
  const auto slices = take_all(slicer, 3);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0].raw,
            "<d n='1' note=\"a>b\" slash='/'>\n"
            "    <x>text &amp; <![CDATA[ <y> ]]></x><?pi <z>?><!-- > -->\n"
            "  </d>");
  EXPECT_EQ(slices[0].line, 4u);
  EXPECT_EQ(slices[0].end_line, 6u);
  EXPECT_EQ(slices[0].start, kExport.find("<d n='1'"));
  EXPECT_EQ(slices[1].raw, "<d n=\"2\"/>");
  EXPECT_EQ(slices[1].line, 7u);
  EXPECT_EQ(slices[2].raw, "<d><e/><f></f></d>");
  EXPECT_EQ(slices[2].ordinal, 3u);
  EXPECT_FALSE(slices[2].oversized);
}

TEST(HcSlicer, ByteByByteGivesTheSameSlicesAndHoldsEachDocumentUntilItIsComplete) {
  ExportSlicer slicer(1 << 20);
  std::string released;
  std::vector<DocumentSlice> slices;
  for (std::size_t i = 0; i < kExport.size(); ++i) {
    slicer.feed(kExport.substr(i, 1));
    released += release_all(slicer);
    // Never a byte of a document that is still open.
    const std::size_t first_open = kExport.find("<d n='1'");
    if (i >= first_open && i < kExport.find("</d>") + 3) {
      EXPECT_LE(released.size(), first_open) << "at byte " << i;
    }
    if (auto slice = slicer.take(slices.size() + 1)) slices.push_back(std::move(*slice));
  }
  slicer.finish();
  released += release_all(slicer);
  EXPECT_EQ(released, kExport);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[1].raw, "<d n=\"2\"/>");
  EXPECT_EQ(slices[2].raw, "<d><e/><f></f></d>");
}

TEST(HcSlicer, NeverReleasesAMarkupDeclaration) {
  const std::string head = "<?xml version=\"1.0\"?>\n";
  for (const char* declaration : {"<!DOCTYPE r [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>",
                                  "<!ENTITY e \"x\">", "<![INCLUDE[ ]]>", "<!-x -->"}) {
    for (const std::size_t step : {std::size_t{1}, std::size_t{4096}}) {
      ExportSlicer slicer(1 << 20);
      const std::string input = head + declaration + "\n<r>&e;</r>";
      std::string released;
      for (std::size_t i = 0; i < input.size(); i += step) {
        slicer.feed(input.substr(i, step));
        released += release_all(slicer);
      }
      slicer.finish();
      released += release_all(slicer);
      EXPECT_EQ(released, head) << declaration;
      ASSERT_TRUE(slicer.refusal()) << declaration;
      EXPECT_EQ(slicer.refusal()->line, 2u);
    }
  }
  ExportSlicer slicer(1 << 20);
  slicer.feed(head + "<!DOCTYPE r SYSTEM \"x.dtd\">");
  ASSERT_TRUE(slicer.refusal());
  EXPECT_EQ(slicer.refusal()->what, "<!DOCTYPE");
}

TEST(HcSlicer, AnOversizedDocumentStreamsThroughAndKeepsAPrefix) {
  const std::string big = "<d>" + std::string(100000, 'x') + "</d>";
  const std::string input = "<r>" + big + "<d>small</d></r>";
  ExportSlicer slicer(1024);
  std::string released;
  for (std::size_t i = 0; i < input.size(); i += 2048) {
    slicer.feed(input.substr(i, 2048));
    released += release_all(slicer);
    const std::size_t fed = std::min(input.size(), i + 2048);
    EXPECT_LE(fed - released.size(), 1024u + 2048u) << "held more than the limit and one read";
  }
  slicer.finish();
  released += release_all(slicer);
  EXPECT_EQ(released, input);
  const auto slices = take_all(slicer, 2);
  ASSERT_EQ(slices.size(), 2u);
  EXPECT_TRUE(slices[0].oversized);
  // A prefix: what was held when the limit was passed.
  EXPECT_GE(slices[0].raw.size(), 1024u);
  EXPECT_LE(slices[0].raw.size(), 1024u + 2048u);
  EXPECT_EQ(slices[0].raw, big.substr(0, slices[0].raw.size()));
  EXPECT_EQ(slices[0].end, 0u);
  EXPECT_FALSE(slices[1].oversized);
  EXPECT_EQ(slices[1].raw, "<d>small</d>");
}

TEST(HcSlicer, RefusesUtf16) {
  for (const std::string& start :
       {std::string("\xFF\xFE<\0", 4), std::string("\xFE\xFF\0<", 4), std::string("<\0r\0", 4)}) {
    ExportSlicer slicer(1 << 20);
    slicer.feed(start);
    ASSERT_TRUE(slicer.refusal());
    EXPECT_EQ(slicer.refusal()->what, "UTF-16");
    EXPECT_EQ(slicer.releasable(), 0u);
  }
}

TEST(HcSlicer, LocatesAnOffsetInADocument) {
  ExportSlicer slicer(1 << 20);
  slicer.feed(kExport);
  std::uint64_t line = 0;
  EXPECT_EQ(slicer.ordinal_at(kExport.find("CDATA"), &line), 1u);
  EXPECT_EQ(line, 4u);
  EXPECT_EQ(slicer.ordinal_at(kExport.find("<e/>")), 3u);
  EXPECT_EQ(slicer.ordinal_at(kExport.find("</r>")), 0u);
  EXPECT_EQ(slicer.ordinal_at(0), 0u);
}

}  // namespace
