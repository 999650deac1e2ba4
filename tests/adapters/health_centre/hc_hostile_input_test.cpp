// Hostile exports: external entities and DTDs are never fetched, entities never expanded, and
// nothing the parser says goes to libxml2's process-wide error handlers.
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <libxml/xmlerror.h>

#include "hc_test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using hc_test::CollectingSink;
using hc_test::decode;
using hc_test::document;
using hc_test::kExportClose;
using hc_test::kExportOpen;
using tsunagu::DecodeResult;

constexpr const char* kMarker = "TSUNAGU-SECRET-MARKER-3f9c";

// Watches one file for being opened or read by anyone, this process included.
class OpenWatch {
 public:
  explicit OpenWatch(const std::filesystem::path& file) : fd_(inotify_init1(IN_NONBLOCK)) {
    if (fd_ < 0 || inotify_add_watch(fd_, file.c_str(), IN_OPEN | IN_ACCESS) < 0) {
      throw std::runtime_error("inotify: " + std::string(std::strerror(errno)));
    }
  }
  ~OpenWatch() { ::close(fd_); }
  OpenWatch(const OpenWatch&) = delete;
  OpenWatch& operator=(const OpenWatch&) = delete;

  // True if the file was opened or read since the last call.
  bool touched() {
    alignas(inotify_event) char events[4096];
    bool any = false;
    while (::read(fd_, events, sizeof events) > 0) any = true;
    return any;
  }

 private:
  int fd_;
};

TEST(HcHostile, ExternalEntitiesAndDtdsAreNeverFetched) {
  tsunagu_test::TempDir dir;
  const auto secret = dir.write("secret.txt", kMarker);
  const std::string url = "file://" + secret.string();
  OpenWatch watch(secret);
  ASSERT_FALSE(watch.touched());

  const std::string note =
      "<entry><observation><code code=\"NOTE\"/><value xsi:type=\"ST\">&xxe;</value>"
      "</observation></entry>";
  const std::string in_attribute =
      "<entry><observation><code code=\"&xxe;\"/></observation></entry>";
  const std::string prolog = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const std::string root = kExportOpen.substr(kExportOpen.find("<HealthCentreExport"));
  const std::vector<std::string> attacks = {
      // A general external entity used in content and in an attribute.
      prolog + "<!DOCTYPE HealthCentreExport [<!ENTITY xxe SYSTEM \"" + url + "\">]>\n" + root +
          document("HC-X-1", note) + kExportClose,
      prolog + "<!DOCTYPE HealthCentreExport [<!ENTITY xxe SYSTEM \"" + url + "\">]>\n" + root +
          document("HC-X-1", in_attribute) + kExportClose,
      // An external DTD subset.
      prolog + "<!DOCTYPE HealthCentreExport SYSTEM \"" + url + "\">\n" + root +
          document("HC-X-1") + kExportClose,
      // A parameter entity, expanded inside the DTD itself.
      prolog + "<!DOCTYPE HealthCentreExport [<!ENTITY % p SYSTEM \"" + url + "\"> %p;]>\n" + root +
          document("HC-X-1") + kExportClose,
      // A public identifier with a system literal.
      prolog + "<!DOCTYPE HealthCentreExport PUBLIC \"-//X//EN\" \"" + url + "\">\n" + root +
          document("HC-X-1") + kExportClose,
  };
  for (const std::string& attack : attacks) {
    CollectingSink sink;
    const DecodeResult result = decode(attack, sink);
    EXPECT_FALSE(result.ok) << attack;
    EXPECT_TRUE(sink.records.empty());
    EXPECT_TRUE(result.message.starts_with("HC_TEST.xml: line 2: the file declares a DTD"))
        << result.message;
    EXPECT_EQ(result.message.find(kMarker), std::string::npos);
    EXPECT_FALSE(watch.touched()) << "the decoder opened the file an entity names:\n" << attack;
  }

  // The probe itself works: reading the file is seen.
  std::string content;
  std::ifstream(secret) >> content;
  EXPECT_EQ(content, kMarker);
  EXPECT_TRUE(watch.touched());
}

TEST(HcHostile, ADeclarationAfterADocumentStopsTheFileThere) {
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-X-1") + "<!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n" +
                 document("HC-X-2") + kExportClose,
             sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_EQ(sink.records[0].fields.at("id"), "HC-X-1");
  EXPECT_EQ(result.message,
            "HC_TEST.xml: line 9: the file contains a markup declaration (<!ENTITY …). A "
            "health-centre export needs no DTD or entity, so the file is treated as hostile (XXE, "
            "entity expansion) and rejected as a whole: the declaration was not parsed, no entity "
            "was expanded and nothing it names was fetched; document 1 was delivered before it");
}

TEST(HcHostile, ExcessiveNestingIsABreakNotACrash) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += "<x>";
  for (int i = 0; i < 5000; ++i) deep += "</x>";
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-X-1") + document("HC-X-2", "<entry>" + deep + "</entry>") +
                 kExportClose,
             sink);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);
  EXPECT_NE(result.message.find("(in document 2, which starts at line 9): Excessive depth in "
                                "document: 256 use XML_PARSE_HUGE option"),
            std::string::npos)
      << result.message;
}

// No tree is built, so the nesting limit is the decoder's: it holds inside a document too large
// to be read, whose content otherwise streams past unread.
TEST(HcHostile, ExcessiveNestingInAnOversizedDocumentIsABreak) {
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "<x>";
  for (int i = 0; i < 300; ++i) deep += "</x>";
  tsunagu::health_centre::HcDecoderOptions options;
  options.max_document_bytes = 1024;
  CollectingSink sink;
  const DecodeResult result =
      decode(kExportOpen + document("HC-X-1") + document("HC-X-2", "<entry>" + deep + "</entry>") +
                 document("HC-X-3") + kExportClose,
             sink, options);
  EXPECT_FALSE(result.ok);
  ASSERT_EQ(sink.records.size(), 1u);  // the second is oversized and broken: not delivered
  EXPECT_NE(result.message.find("(in document 2, which starts at line 9): Excessive depth in "
                                "document: 256 use XML_PARSE_HUGE option"),
            std::string::npos)
      << result.message;
}

// libxml2 keeps process-wide error handlers; a plugin must not rely on them (another thread, or
// the core, may have set its own). Every diagnostic of a decode goes to its reader's handler.
int global_reports = 0;
void count_generic(void*, const char*, ...) {
  ++global_reports;
}
#if LIBXML_VERSION >= 21200
void count_structured(void*, const xmlError*) {
  ++global_reports;
}
#else
void count_structured(void*, xmlError*) {
  ++global_reports;
}
#endif

TEST(HcHostile, NothingReachesTheGlobalErrorHandlers) {
  xmlSetGenericErrorFunc(nullptr, count_generic);
  xmlSetStructuredErrorFunc(nullptr, count_structured);
  const std::string bad_namespace = document(
      "HC-X-2", "<entry><observation><code code=\"NOTE\"/><x:value/></observation></entry>");
  for (const std::string& input :
       {std::string(), std::string("not xml"), std::string("\xFF\xFE<\0r\0", 6),
        kExportOpen + document("HC-X-1") + "<broken>" + kExportClose,
        kExportOpen + bad_namespace + kExportClose,
        kExportOpen + document("HC-X-1") + "<!DOCTYPE x>" + kExportClose,
        kExportOpen.substr(0, kExportOpen.size() - 10)}) {
    CollectingSink sink;
    decode(input, sink);
  }
  for (const char* name :
       {"HC_20190606_malformed.xml", "HC_20190607_xxe.xml", "HC_20190608_billion_laughs.xml",
        "HC_20190609_wrong_namespace.xml", "HC_20190610_wrong_root_namespace.xml"}) {
    CollectingSink sink;
    hc_test::decode_file(name, sink);
  }
  xmlSetGenericErrorFunc(nullptr, nullptr);
  xmlSetStructuredErrorFunc(nullptr, nullptr);
  EXPECT_EQ(global_reports, 0);
}

}  // namespace
