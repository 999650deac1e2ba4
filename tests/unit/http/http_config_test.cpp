// <http> in the hub's configuration: defaults, paths, client certificates, and the errors a
// person gets for a wrong value. Also the listener's own start-up checks.
#include <gtest/gtest.h>

#include "config/hub_config.hpp"
#include "http/https_server.hpp"
#include "support/temp_dir.hpp"

namespace {

using tsunagu::config::ConfigError;
using tsunagu::config::HubConfig;
using tsunagu::config::LoadOptions;
namespace fs = std::filesystem;

const std::string kSha1 = "AB:CD:" + std::string(60, 'e');  // colons and upper case allowed
const std::string kSha2(64, '2');

std::string config_with(const std::string& http) {
  return R"(<tsunagu>
  <data-dir>data</data-dir>
  <mappings><directory>maps</directory></mappings>
  <systems>
    <public_assistance>
      <adapter>public_assistance</adapter><mapping>pa.xml</mapping>
    </public_assistance>
    <child_guidance><adapter>child_guidance</adapter><mapping>cg.xml</mapping></child_guidance>
  </systems>
  )" + http +
         R"(
</tsunagu>)";
}

HubConfig load(const tsunagu_test::TempDir& dir, const std::string& http) {
  return tsunagu::config::load(dir.write("etc/tsunagu.xml", config_with(http)), LoadOptions{});
}

std::string load_error(const std::string& http) {
  tsunagu_test::TempDir dir;
  try {
    load(dir, http);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(HttpConfig, NoHttpElementMeansNoListener) {
  tsunagu_test::TempDir dir;
  EXPECT_FALSE(load(dir, "").http.enabled);
}

TEST(HttpConfig, AnHttpElementTurnsItOnWithProductionDefaultsAndTlsFilesUnderTheDataDir) {
  tsunagu_test::TempDir dir;
  const auto c = load(dir, "<http/>");
  EXPECT_TRUE(c.http.enabled);
  EXPECT_EQ(c.http.bind, "127.0.0.1");
  EXPECT_EQ(c.http.port, 8443);
  EXPECT_EQ(c.http.max_body_bytes, 8u << 20);
  EXPECT_EQ(c.http.max_keep_alive_requests, 1000);
  EXPECT_EQ(c.http.certificate, dir.path() / "etc" / "data" / "tls" / "server.crt");
  EXPECT_EQ(c.http.private_key, dir.path() / "etc" / "data" / "tls" / "server.key");
  EXPECT_EQ(c.http.ca, dir.path() / "etc" / "data" / "tls" / "ca.crt");
  EXPECT_TRUE(c.http.clients.empty());
}

TEST(HttpConfig, ExplicitValuesAndPathsRelativeToTheConfigFile) {
  tsunagu_test::TempDir dir;
  const auto c = load(dir, R"(<http>
    <enabled>false</enabled><bind>0.0.0.0</bind><port>0</port><threads>4</threads>
    <max-queued>10</max-queued><timeout-ms>2000</timeout-ms>
    <keep-alive-timeout-ms>0</keep-alive-timeout-ms><max-keep-alive-requests>7</max-keep-alive-requests>
    <shutdown-grace-ms>100</shutdown-grace-ms><max-body-bytes>1024</max-body-bytes>
    <tls>
      <certificate>tls/s.pem</certificate><private-key>/abs/s.key</private-key><ca>../ca.pem</ca>
    </tls>
  </http>)");
  EXPECT_FALSE(c.http.enabled);
  EXPECT_EQ(c.http.bind, "0.0.0.0");
  EXPECT_EQ(c.http.port, 0);
  EXPECT_EQ(c.http.threads, 4);
  EXPECT_EQ(c.http.max_queued, 10);
  EXPECT_EQ(c.http.timeout.count(), 2000);
  EXPECT_EQ(c.http.keep_alive_timeout.count(), 0);
  EXPECT_EQ(c.http.max_keep_alive_requests, 7);
  EXPECT_EQ(c.http.shutdown_grace.count(), 100);
  EXPECT_EQ(c.http.max_body_bytes, 1024u);
  EXPECT_EQ(c.http.certificate, dir.path() / "etc" / "tls" / "s.pem");
  EXPECT_EQ(c.http.private_key, fs::path("/abs/s.key"));
  EXPECT_EQ(c.http.ca, dir.path() / "ca.pem");
}

TEST(HttpConfig, ClientsByFingerprintAndCommonNameWithTheirContentTypes) {
  tsunagu_test::TempDir dir;
  const auto c = load(dir, R"(<http><clients>
    <child_guidance>
      <certificate-sha256>)" + kSha1 +
                               R"(</certificate-sha256>
      <certificate-sha256>)" + kSha2 +
                               R"(</certificate-sha256>
      <content-types>application/json, Application/X-NDJSON</content-types>
    </child_guidance>
    <public_assistance>
      <certificate-cn>public_assistance</certificate-cn>
      <content-types>text/csv</content-types>
    </public_assistance>
  </clients></http>)");
  ASSERT_EQ(c.http.clients.size(), 2u);
  const auto* cg = c.http.find_client("child_guidance");
  ASSERT_NE(cg, nullptr);
  EXPECT_EQ(cg->certificate_sha256,
            (std::vector<std::string>{"abcd" + std::string(60, 'e'), kSha2}));
  EXPECT_EQ(cg->content_types,
            (std::vector<std::string>{"application/json", "application/x-ndjson"}));
  const auto* pa = c.http.find_client("public_assistance");
  ASSERT_NE(pa, nullptr);
  EXPECT_EQ(pa->certificate_cn, std::vector<std::string>{"public_assistance"});
  EXPECT_EQ(c.http.find_client("education"), nullptr);
}

TEST(HttpConfig, ErrorsNameTheElementAndWhatWasExpected) {
  EXPECT_NE(load_error("<http><prot>1</prot></http>")
                .find("<tsunagu/http/prot>: unknown element (allowed here: bind, clients"),
            std::string::npos);
  EXPECT_NE(load_error("<http><port>70000</port></http>")
                .find("<tsunagu/http/port>: 70000 is out of range [0, 65535]"),
            std::string::npos);
  EXPECT_NE(load_error("<http><max-keep-alive-requests>0</max-keep-alive-requests></http>")
                .find("<tsunagu/http/max-keep-alive-requests>: 0 is out of range [1, 1000000]"),
            std::string::npos);
  EXPECT_NE(load_error("<http><clients><education><certificate-cn>e</certificate-cn>"
                       "<content-types>text/plain</content-types></education></clients></http>")
                .find("<tsunagu/http/clients/education>: 'education' is not a configured system"),
            std::string::npos);
  EXPECT_NE(load_error(
                "<http><clients><child_guidance><certificate-sha256>12:34</certificate-sha256>"
                "<content-types>application/json</content-types></child_guidance></clients></http>")
                .find("'12:34' is not a SHA-256 fingerprint (64 hex digits, colons allowed)"),
            std::string::npos);
  EXPECT_NE(
      load_error("<http><clients><child_guidance><content-types>application/json</content-types>"
                 "</child_guidance></clients></http>")
          .find("names no certificate"),
      std::string::npos);
  EXPECT_NE(
      load_error("<http><clients><child_guidance><certificate-cn>x</certificate-cn>"
                 "</child_guidance></clients></http>")
          .find("<tsunagu/http/clients/child_guidance/content-types>: required element is missing"),
      std::string::npos);
  EXPECT_NE(load_error("<http><clients><child_guidance><certificate-cn>x</certificate-cn>"
                       "<content-types>json</content-types></child_guidance></clients></http>")
                .find("'json' is not a media type such as application/json"),
            std::string::npos);
  EXPECT_NE(load_error("<http><clients><child_guidance><certificate-cn>x</certificate-cn>"
                       "<content-types>application/json;charset=utf-8</content-types>"
                       "</child_guidance></clients></http>")
                .find("is not a media type"),
            std::string::npos);
  EXPECT_NE(
      load_error("<http><tls><ca>a</ca><ca>b</ca></tls></http>").find("appears more than once"),
      std::string::npos);
}

TEST(HttpConfig, OneCertificateCannotBeTwoSystems) {
  const std::string e = load_error(R"(<http><clients>
    <child_guidance><certificate-sha256>)" +
                                   kSha2 + R"(</certificate-sha256>
      <content-types>application/json</content-types></child_guidance>
    <public_assistance><certificate-sha256>)" +
                                   kSha2 + R"(</certificate-sha256>
      <content-types>text/csv</content-types></public_assistance>
  </clients></http>)");
  EXPECT_NE(e.find("the certificate is already that of child_guidance"), std::string::npos) << e;
  const std::string cn = load_error(R"(<http><clients>
    <child_guidance><certificate-cn>same</certificate-cn>
      <content-types>application/json</content-types></child_guidance>
    <public_assistance><certificate-cn>same</certificate-cn>
      <content-types>text/csv</content-types></public_assistance>
  </clients></http>)");
  EXPECT_NE(cn.find("'same' is already the name of child_guidance"), std::string::npos) << cn;
}

TEST(HttpsServer, AMissingCertificateStopsStartUpNamingTheElementAndHowToMakeOne) {
  tsunagu_test::TempDir dir;
  const auto c = load(dir, "<http><port>0</port></http>");
  try {
    tsunagu::http::HttpsServer server(c, {},
                                      [] { return std::unique_ptr<tsunagu::store::Store>(); });
    FAIL() << "started without certificates";
  } catch (const tsunagu::http::HttpError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("tsunagu.xml: <tsunagu/http/tls/certificate>: "), std::string::npos)
        << what;
    EXPECT_NE(what.find("server.crt: no such file (scripts/make-certs.sh"), std::string::npos)
        << what;
  }
}

}  // namespace
