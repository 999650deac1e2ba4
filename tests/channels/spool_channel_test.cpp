// The spool channel plugin, loaded through the registry, writing into a real directory: exact
// CP932 bytes, a document libxml2 reads back, atomic and idempotent files, and clear dead results.
#include <sys/stat.h>

#include <atomic>
#include <thread>

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "channels/channel_test_support.hpp"
#include "support/temp_dir.hpp"

namespace {

using namespace tsunagu_test;
using tsunagu::ChannelResult;
namespace fs = std::filesystem;

class SpoolChannel : public ::testing::Test {
 protected:
  void SetUp() override { load_channel_plugin(registry_, "spool"); }

  std::shared_ptr<tsunagu::Channel> channel(tsunagu::PluginSettings settings = {}) {
    settings.emplace("directory", (dir_ / "out").string());
    fs::create_directories(dir_ / "out");
    return registry_.create_channel("spool", settings);
  }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "out")) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string refusal(const tsunagu::PluginSettings& settings) {
    try {
      registry_.create_channel("spool", settings);
    } catch (const tsunagu::plugin::PluginError& e) {
      return e.what();
    }
    return "accepted";
  }

  tsunagu::plugin::PluginRegistry registry_;
  TempDir dir_;
};

// Reads one <field name="…"> (or an element) back with libxml2, which decodes Windows-31J itself.
std::map<std::string, std::string> read_back(const fs::path& file) {
  std::map<std::string, std::string> values;
  xmlDocPtr doc = xmlReadFile(file.c_str(), nullptr, XML_PARSE_NONET);
  if (doc == nullptr) return values;
  xmlNodePtr root = xmlDocGetRootElement(doc);
  auto text = [](xmlNodePtr n) {
    xmlChar* t = xmlNodeGetContent(n);
    std::string s = t != nullptr ? reinterpret_cast<const char*>(t) : "";
    xmlFree(t);
    return s;
  };
  xmlChar* id = xmlGetProp(root, BAD_CAST "delivery-id");
  values["@delivery-id"] = reinterpret_cast<const char*>(id);
  xmlFree(id);
  for (xmlNodePtr n = root->children; n != nullptr; n = n->next) {
    if (n->type != XML_ELEMENT_NODE) continue;
    const std::string name = reinterpret_cast<const char*>(n->name);
    if (name != "fields") {
      values[name] = text(n);
      continue;
    }
    for (xmlNodePtr f = n->children; f != nullptr; f = f->next) {
      if (f->type != XML_ELEMENT_NODE) continue;
      xmlChar* key = xmlGetProp(f, BAD_CAST "name");
      values["field:" + std::string(reinterpret_cast<const char*>(key))] = text(f);
      xmlFree(key);
    }
  }
  xmlFreeDoc(doc);
  return values;
}

TEST_F(SpoolChannel, WritesOneCp932NoticeNamedByTheDeliveryId) {
  auto spool = channel();
  EXPECT_STREQ(spool->name(), "spool");
  const auto result = spool->deliver(sample_delivery("n-42.r-7.spool"));
  ASSERT_EQ(result.outcome, ChannelResult::Outcome::delivered) << result.detail;
  EXPECT_EQ(files(), (std::vector<std::string>{"n-42.r-7.spool.xml"}));

  const std::string bytes = read_file(dir_ / "out" / "n-42.r-7.spool.xml");
  EXPECT_EQ(bytes.rfind("<?xml version=\"1.0\" encoding=\"Windows-31J\"?>\n", 0), 0u);
  // 髙 (IBM extension) FB FC, 橋 8B B4, ① (NEC special) 87 40, 子 8E 71 — CP932, not Shift_JIS.
  EXPECT_NE(bytes.find("\xFB\xFC\x8B\xB4 \x87\x40\x8E\x71"), std::string::npos);
  EXPECT_EQ(bytes.find("髙橋"), std::string::npos) << "no UTF-8 in a CP932 file";
  EXPECT_EQ(bytes.find("attempt"), std::string::npos) << "retries must write the same bytes";

  const auto values = read_back(dir_ / "out" / "n-42.r-7.spool.xml");
  EXPECT_EQ(values.at("@delivery-id"), "n-42.r-7.spool");
  EXPECT_EQ(values.at("field:氏名"), kChildName);
  EXPECT_EQ(values.at("field:住所"), kAddress);
  EXPECT_EQ(values.at("field:備考"), "<注意> & \"引継ぎ\"");
  EXPECT_EQ(values.at("kind-label"), "乳幼児健診未受診");
  EXPECT_EQ(values.at("legal-basis"), "児童福祉法第25条の3");
  EXPECT_EQ(values.at("due-at"), "2019-06-07T17:00:00+09:00");

  // The detail is for logs: no personal data in it.
  EXPECT_EQ(result.detail.find(kChildName), std::string::npos);
  EXPECT_NE(result.detail.find("n-42.r-7.spool.xml"), std::string::npos) << result.detail;
}

TEST_F(SpoolChannel, FileHasTheConfiguredPermissions) {
  auto spool = channel({{"file_mode", "0600"}});
  ASSERT_EQ(spool->deliver(sample_delivery("d1")).outcome, ChannelResult::Outcome::delivered);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "out" / "d1.xml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SpoolChannel, ARetryRewritesTheSameFileAndLeavesNoTemporaryFile) {
  auto spool = channel();
  auto d = sample_delivery("n-42.r-7.spool");
  ASSERT_EQ(spool->deliver(d).outcome, ChannelResult::Outcome::delivered);
  const std::string first = read_file(dir_ / "out" / "n-42.r-7.spool.xml");
  d.attempt = 2;
  ASSERT_EQ(spool->deliver(d).outcome, ChannelResult::Outcome::delivered);
  EXPECT_EQ(files(), (std::vector<std::string>{"n-42.r-7.spool.xml"}));
  EXPECT_EQ(read_file(dir_ / "out" / "n-42.r-7.spool.xml"), first) << "same delivery, same bytes";
  // A changed notice under the same delivery id replaces the file rather than adding one.
  d.fields["備考"] = "更新";
  ASSERT_EQ(spool->deliver(d).outcome, ChannelResult::Outcome::delivered);
  EXPECT_EQ(files(), (std::vector<std::string>{"n-42.r-7.spool.xml"}));
  EXPECT_EQ(read_back(dir_ / "out" / "n-42.r-7.spool.xml").at("field:備考"), "更新");
}

TEST_F(SpoolChannel, AReaderNeverSeesAPartialFile) {
  auto spool = channel();
  auto d = sample_delivery("big");
  d.fields["備考"] = std::string(200000, 'x');  // big enough to take several writes
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};
  std::atomic<int> torn{0};
  std::thread reader([&] {
    while (!done) {
      const std::string bytes = read_file(dir_ / "out" / "big.xml");
      if (bytes.empty()) continue;  // not there yet
      ++reads;
      if (bytes.size() < 200000 || bytes.substr(bytes.size() - 10) != "</notice>\n") ++torn;
    }
  });
  for (int i = 0; i < 30; ++i) {
    d.attempt = i + 1;
    ASSERT_EQ(spool->deliver(d).outcome, ChannelResult::Outcome::delivered);
  }
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(files(), (std::vector<std::string>{"big.xml"}));
}

TEST_F(SpoolChannel, OneChannelServesSeveralThreadsAtOnce) {
  auto spool = channel();
  std::vector<std::thread> threads;
  threads.reserve(4);
  std::atomic<int> delivered{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const auto d = sample_delivery("t" + std::to_string(t) + "-" + std::to_string(i));
        if (spool->deliver(d).outcome == ChannelResult::Outcome::delivered) ++delivered;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(delivered.load(), 40);
  EXPECT_EQ(files().size(), 40u);
  EXPECT_EQ(read_back(dir_ / "out" / "t3-9.xml").at("field:氏名"), kChildName);
}

TEST_F(SpoolChannel, ACharacterWithoutCp932CodeIsDeadAndNamesTheField) {
  auto spool = channel();
  auto d = sample_delivery("emoji");
  d.fields["氏名"] = "𠮷田 花子";  // 𠮷 (U+20BB7) is outside JIS X 0208 and CP932
  const auto result = spool->deliver(d);
  EXPECT_EQ(result.outcome, ChannelResult::Outcome::dead);
  EXPECT_NE(result.detail.find("field '氏名' has a character with no CP932 encoding"),
            std::string::npos)
      << result.detail;
  EXPECT_NE(result.detail.find("at byte offset 0"), std::string::npos) << result.detail;
  EXPECT_EQ(result.detail.find("花子"), std::string::npos) << "never the value";
  EXPECT_EQ(result.detail.find("𠮷"), std::string::npos) << "not even the character";
  EXPECT_TRUE(files().empty()) << "nothing written, nothing replaced";

  auto e = sample_delivery("title");
  e.reason = "要確認 😀";
  const auto r2 = spool->deliver(e);
  EXPECT_EQ(r2.outcome, ChannelResult::Outcome::dead);
  EXPECT_NE(r2.detail.find("reason has a character with no CP932 encoding"), std::string::npos)
      << r2.detail;
}

TEST_F(SpoolChannel, Utf8EncodingKeepsEveryCharacter) {
  auto spool = channel({{"encoding", "utf-8"}});
  auto d = sample_delivery("utf8");
  d.fields["氏名"] = "𠮷田 花子";
  ASSERT_EQ(spool->deliver(d).outcome, ChannelResult::Outcome::delivered);
  const std::string bytes = read_file(dir_ / "out" / "utf8.xml");
  EXPECT_EQ(bytes.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_EQ(read_back(dir_ / "out" / "utf8.xml").at("field:氏名"), "𠮷田 花子");
}

TEST_F(SpoolChannel, ControlCharactersAndInvalidUtf8AreDead) {
  auto spool = channel({{"encoding", "utf-8"}});
  auto d = sample_delivery("ctl");
  d.fields["住所"] = std::string("北区\x01");
  auto r = spool->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead);
  EXPECT_NE(r.detail.find("field '住所' contains a control character XML does not allow"),
            std::string::npos)
      << r.detail;
  d.fields["住所"] = std::string("北区\xFF");
  r = spool->deliver(d);
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead);
  EXPECT_NE(r.detail.find("field '住所' contains invalid UTF-8 at byte offset 6"),
            std::string::npos)
      << r.detail;
  EXPECT_TRUE(files().empty());
}

TEST_F(SpoolChannel, ADeliveryIdThatCannotNameAFileIsDead) {
  auto spool = channel();
  for (const std::string id : {"../escape", ".hidden", "a/b", ""}) {
    const auto r = spool->deliver(sample_delivery(id));
    EXPECT_EQ(r.outcome, ChannelResult::Outcome::dead) << id;
  }
  EXPECT_TRUE(files().empty());
  EXPECT_FALSE(fs::exists(dir_ / "escape.xml"));
}

TEST_F(SpoolChannel, AVanishedDirectoryIsRetryNotDead) {
  auto spool = channel();
  fs::remove_all(dir_ / "out");
  const auto r = spool->deliver(sample_delivery("d1"));
  EXPECT_EQ(r.outcome, ChannelResult::Outcome::retry);
  EXPECT_NE(r.detail.find("cannot create a temporary file in " + (dir_ / "out").string()),
            std::string::npos)
      << r.detail;
  // Once the directory is back, the same delivery goes through.
  fs::create_directories(dir_ / "out");
  EXPECT_EQ(spool->deliver(sample_delivery("d1")).outcome, ChannelResult::Outcome::delivered);
}

TEST_F(SpoolChannel, FactoryRefusesBadSettings) {
  EXPECT_NE(refusal({}).find("setting 'directory' is required"), std::string::npos);
  EXPECT_NE(refusal({{"directory", (dir_ / "missing").string()}}).find("is not a directory"),
            std::string::npos);
  EXPECT_NE(refusal({{"directory", dir_.path().string()}, {"encoding", "euc-jp"}})
                .find("setting 'encoding' is 'euc-jp', expected cp932 or utf-8"),
            std::string::npos);
  EXPECT_NE(refusal({{"directory", dir_.path().string()}, {"file_mode", "0044"}})
                .find("setting 'file_mode'"),
            std::string::npos);
  EXPECT_NE(refusal({{"directory", dir_.path().string()}, {"dir", "x"}})
                .find("unknown setting 'dir' (known: directory, encoding, file_mode)"),
            std::string::npos);
}

}  // namespace
