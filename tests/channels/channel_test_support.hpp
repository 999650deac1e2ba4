// Shared by the channel tests: the real built plugin, loaded through the registry as the hub
// loads it, and a delivery with personal data in it whose values must never leak where they
// should not.
#pragma once

#include <filesystem>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include <tsunagu/channel.hpp>

#include "plugin/plugin_registry.hpp"

namespace tsunagu_test {

inline std::filesystem::path channel_plugin_dir() {
  return std::filesystem::path(TSUNAGU_BINARY_DIR) / "plugins";
}

// Loads build/plugins/tsunagu-channel-<name>.so into `registry` (fails the test if refused).
inline void load_channel_plugin(tsunagu::plugin::PluginRegistry& registry,
                                const std::string& name) {
  const auto file = channel_plugin_dir() / ("tsunagu-channel-" + name + ".so");
  if (!registry.load_file(file)) {
    const std::string reason =
        registry.refusals().empty() ? "not found" : registry.refusals().back().reason;
    throw std::runtime_error(file.string() + " was refused: " + reason);
  }
}

// scripts/make-certs.sh DIR SYSTEM…: a local CA, a server certificate for localhost and
// 127.0.0.1, and a client certificate per system. Nothing touches the network.
inline void make_test_certificates(const std::filesystem::path& dir,
                                   const std::vector<std::string>& systems) {
  std::vector<std::string> args{dir.string()};
  args.insert(args.end(), systems.begin(), systems.end());
  Poco::Pipe pipe;
  auto handle = Poco::Process::launch(
      (std::filesystem::path(TSUNAGU_SOURCE_DIR) / "scripts" / "make-certs.sh").string(), args,
      nullptr, &pipe, &pipe);
  Poco::PipeInputStream in(pipe);
  const std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (handle.wait() != 0) throw std::runtime_error("make-certs.sh failed: " + out);
}

// Values that are personal data: tests check they never appear in mails or results.
inline constexpr const char* kChildName = "髙橋 ①子";
inline constexpr const char* kChildKana = "タカハシ イチコ";
inline constexpr const char* kAddress = "札幌市北区北24条西6丁目1-1";
inline constexpr const char* kReason = "北区の世帯で乳幼児健診未受診が続いています";

inline tsunagu::ChannelDelivery sample_delivery(const std::string& delivery_id = "n-42.r-7.x") {
  tsunagu::ChannelDelivery d;
  d.delivery_id = delivery_id;
  d.notice_id = "n-42";
  d.attempt = 1;
  d.recipient_id = "officer-07";
  d.recipient_name = "佐藤 一郎";
  d.recipient_email = "liaison07@city.sapporo.example";
  d.recipient_role = "liaison";
  d.ward_code = "01102";
  d.kind = "hc.checkup_missed";
  d.kind_label = "乳幼児健診未受診";
  d.title = "健診未受診の継続";
  d.reason = kReason;
  d.legal_basis = "児童福祉法第25条の3";
  d.policy = "P-HC-01";
  d.due_at = "2019-06-07T17:00:00+09:00";
  d.created_at = "2019-06-05T09:12:00+09:00";
  d.fields = {{"氏名", kChildName},
              {"氏名カナ", kChildKana},
              {"住所", kAddress},
              {"生年月日", "2017-03-04"},
              {"備考", "<注意> & \"引継ぎ\""}};
  d.unread_for_recipient = 3;
  d.earliest_due_for_recipient = "2019-06-06T12:30:00+09:00";
  return d;
}

}  // namespace tsunagu_test
