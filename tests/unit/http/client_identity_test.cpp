// Client certificates → systems, and who may push where.
#include <gtest/gtest.h>

#include "http/client_identity.hpp"

namespace {

using tsunagu::http::ClientCertificate;
using tsunagu::http::ClientDirectory;
using tsunagu::http::PushDecision;

const std::string kCgSha(64, 'c');
const std::string kPaSha(64, 'a');

ClientDirectory directory() {
  tsunagu::config::HttpClientConfig cg;
  cg.system = "child_guidance";
  cg.certificate_sha256 = {kCgSha};
  cg.content_types = {"application/json", "application/x-ndjson"};
  tsunagu::config::HttpClientConfig pa;
  pa.system = "public_assistance";
  pa.certificate_sha256 = {kPaSha};
  pa.certificate_cn = {"public_assistance", "pa-backup"};
  pa.content_types = {"text/csv"};
  return ClientDirectory({cg, pa});
}

ClientCertificate cert(const std::string& sha256, const std::string& cn) {
  return {sha256, cn, "CN=" + cn};
}

TEST(ClientDirectory, TheFingerprintNamesTheSystemEvenWhenTheCommonNameSaysOtherwise) {
  const auto d = directory();
  EXPECT_EQ(d.system_of(cert(kCgSha, "public_assistance")), "child_guidance");
}

TEST(ClientDirectory, TheCommonNameIsUsedWhenTheFingerprintIsNotConfigured) {
  const auto d = directory();
  EXPECT_EQ(d.system_of(cert(std::string(64, '0'), "pa-backup")), "public_assistance");
  EXPECT_EQ(d.system_of(cert(std::string(64, '0'), "child_guidance")), std::nullopt);
  EXPECT_EQ(d.system_of(cert(std::string(64, '0'), "")), std::nullopt);
}

TEST(ClientDirectory, PushDecisions) {
  const auto d = directory();
  EXPECT_EQ(d.authorize_push(std::nullopt, "child_guidance"), PushDecision::no_certificate);
  EXPECT_EQ(d.authorize_push(cert(std::string(64, '0'), "stranger"), "child_guidance"),
            PushDecision::unknown_certificate);
  EXPECT_EQ(d.authorize_push(cert(kPaSha, "public_assistance"), "child_guidance"),
            PushDecision::other_system);
  EXPECT_EQ(d.authorize_push(cert(kCgSha, "child_guidance"), "child_guidance"),
            PushDecision::allowed);
}

TEST(ClientDirectory, RefusalsAre401WithoutACertificateAnd403WithTheWrongOne) {
  EXPECT_EQ(tsunagu::http::http_status(PushDecision::no_certificate), 401);
  EXPECT_EQ(tsunagu::http::http_status(PushDecision::unknown_certificate), 403);
  EXPECT_EQ(tsunagu::http::http_status(PushDecision::other_system), 403);
  EXPECT_EQ(tsunagu::http::describe(PushDecision::other_system, "child_guidance",
                                    std::string("public_assistance")),
            "the client certificate is that of public_assistance, not of child_guidance");
}

TEST(ClientDirectory, FindsTheClientEntryOfASystem) {
  const auto d = directory();
  ASSERT_NE(d.client("child_guidance"), nullptr);
  EXPECT_EQ(d.client("child_guidance")->content_types.size(), 2u);
  EXPECT_EQ(d.client("education"), nullptr);
}

TEST(MediaType, DropsParametersAndCase) {
  EXPECT_EQ(tsunagu::http::media_type("Text/CSV; charset=Shift_JIS"), "text/csv");
  EXPECT_EQ(tsunagu::http::media_type("  application/x-ndjson  "), "application/x-ndjson");
  EXPECT_EQ(tsunagu::http::media_type("application/json;charset=utf-8"), "application/json");
  EXPECT_EQ(tsunagu::http::media_type(""), "");
  EXPECT_EQ(tsunagu::http::media_type(" ; x=y"), "");
}

}  // namespace
