// A real tsunagud with HTTPS on port 0 and accounts made by the real CLI, for the tests of the
// pages and API (integration and browser). Certificates come from scripts/make-certs.sh into the
// instance's temp dir; nothing touches the network.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include "support/daemon.hpp"
#include "support/temp_dir.hpp"

namespace tsunagu_test {

// Runs a program; `input` is its standard input; returns the exit code, output (both streams)
// in `out`.
inline int run_program(const std::string& program, const std::vector<std::string>& args,
                       const std::string& input, std::string& out) {
  Poco::Pipe in_pipe, out_pipe;
  auto handle = Poco::Process::launch(program, args, &in_pipe, &out_pipe, &out_pipe);
  {
    Poco::PipeOutputStream to(in_pipe);
    to << input;
    to.close();
  }
  Poco::PipeInputStream from(out_pipe);
  out.assign(std::istreambuf_iterator<char>(from), std::istreambuf_iterator<char>());
  return handle.wait();
}

class WebInstance {
 public:
  static constexpr const char* kPassword = "correct horse battery staple";

  // `sign_interval_seconds`: how often the hub signs a tree head (1 lets tests wait for one).
  // `with_routing`: all four systems and the shipped routing configuration (config/policies.xml,
  // roster.xml, holidays.xml, routes.xml), so that dropped records become notices; needs every
  // adapter plugin built.
  explicit WebInstance(int sign_interval_seconds = 1, bool with_routing = false) {
    std::string out;
    const int rc = run_program((kSourceDir / "scripts" / "make-certs.sh").string(),
                               {tls().string(), "public_assistance"}, "", out);
    if (rc != 0) throw std::runtime_error("make-certs.sh failed: " + out);
    std::string sha = read_file(tls() / "clients" / "public_assistance.sha256").substr(0, 64);
    const std::string http = R"(<http>
      <port>0</port><threads>4</threads><max-queued>32</max-queued><timeout-ms>20000</timeout-ms>
      <keep-alive-timeout-ms>1000</keep-alive-timeout-ms><shutdown-grace-ms>2000</shutdown-grace-ms>
      <tls><certificate>)" + (tls() / "server.crt").string() +
                             "</certificate><private-key>" + (tls() / "server.key").string() +
                             "</private-key><ca>" + (tls() / "ca.crt").string() + R"(</ca></tls>
      <clients><public_assistance><certificate-sha256>)" +
                             sha + R"(</certificate-sha256>
        <content-types>text/csv</content-types></public_assistance></clients>
      <sessions><idle-minutes>30</idle-minutes><absolute-minutes>720</absolute-minutes></sessions>
    </http>
    <audit><sign-interval-seconds>)" +
                             std::to_string(sign_interval_seconds) +
                             "</sign-interval-seconds></audit>";
    std::string systems;
    std::string routing;
    if (with_routing) {
      systems = R"(
    <health_centre><adapter>health_centre</adapter><mapping>health_centre.xml</mapping></health_centre>
    <education><adapter>education</adapter><mapping>education.xml</mapping></education>
    <child_guidance><adapter>child_guidance</adapter><mapping>child_guidance.xml</mapping></child_guidance>)";
      const std::filesystem::path shipped = kSourceDir / "config";
      routing = "<routing><policies>" + (shipped / "policies.xml").string() +
                "</policies><roster>" + (shipped / "roster.xml").string() + "</roster><holidays>" +
                (shipped / "holidays.xml").string() + "</holidays><routes>" +
                (shipped / "routes.xml").string() + "</routes></routing>";
    }
    config_ = write_test_config(dir_, 50, systems, http + routing);
  }
  ~WebInstance() {
    if (daemon_ && daemon_->running()) daemon_->terminate();
  }
  WebInstance(const WebInstance&) = delete;
  WebInstance& operator=(const WebInstance&) = delete;

  // Through the CLI, as an administrator would: `tsunagu user add`, password on standard input.
  void add_account(const std::string& login, const std::string& role,
                   const std::string& officer = "", const std::string& ward = "") {
    std::vector<std::string> args{"--config",      config_.string(), "--data-dir",
                                  data().string(), "user",           "add",
                                  login,           "--role",         role};
    if (!officer.empty()) args.insert(args.end(), {"--officer", officer});
    if (!ward.empty()) args.insert(args.end(), {"--ward", ward});
    std::string out;
    if (run_program((kBinDir / "tsunagu").string(), args, std::string(kPassword) + "\n", out) !=
        0) {
      throw std::runtime_error("tsunagu user add " + login + " failed: " + out);
    }
  }

  // Any other CLI command on this instance.
  int cli(std::vector<std::string> args, std::string& out, const std::string& input = "") {
    args.insert(args.begin(), {"--config", config_.string(), "--data-dir", data().string()});
    return run_program((kBinDir / "tsunagu").string(), args, input, out);
  }

  void start() {
    daemon_ = std::make_unique<Daemon>(config_, data());
    daemon_->start();
    const auto port_file = data() / "run" / "https.port";
    if (!wait_until([&] { return std::filesystem::exists(port_file) || !daemon_->running(); }) ||
        !daemon_->running()) {
      throw std::runtime_error("tsunagud did not start (see its log in " + data().string() + ")");
    }
    // The port file is written whole (rename), so one read is enough.
    port_ = static_cast<std::uint16_t>(std::stoi(read_file(port_file)));
  }
  int stop() { return daemon_->terminate(); }

  std::uint16_t port() const { return port_; }
  std::string url() const { return "https://localhost:" + std::to_string(port_); }
  std::filesystem::path tls() const { return dir_ / "tls"; }
  std::filesystem::path ca() const { return tls() / "ca.crt"; }
  std::filesystem::path data() const { return dir_ / "data"; }
  std::filesystem::path spool(const std::string& system) const { return data() / "spool" / system; }
  const TempDir& dir() const { return dir_; }

 private:
  TempDir dir_;
  std::filesystem::path config_;
  std::unique_ptr<Daemon> daemon_;
  std::uint16_t port_ = 0;
};

}  // namespace tsunagu_test
