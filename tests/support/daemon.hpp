// Runs the real tsunagud (the built binary, with the built plugins) for integration tests.
#pragma once

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>

#include "support/temp_dir.hpp"

namespace tsunagu_test {

inline const std::filesystem::path kBinDir = std::filesystem::path(TSUNAGU_BINARY_DIR) / "bin";
inline const std::filesystem::path kPluginDir = std::filesystem::path(TSUNAGU_BINARY_DIR) / "plugins";
inline const std::filesystem::path kSourceDir = TSUNAGU_SOURCE_DIR;

// A config for one instance: the real mappings, the built plugins, small batches so that a test
// can interrupt a file part-way. `extra_elements` go at the end (e.g. <http>).
inline std::filesystem::path write_test_config(const TempDir& dir, int batch_size = 50,
                                               const std::string& extra_systems = "",
                                               const std::string& extra_elements = "") {
  return dir.write("tsunagu.xml", R"(<tsunagu>
  <instance><name>integration-test</name></instance>
  <data-dir>data</data-dir>
  <plugins><directory>)" + kPluginDir.string() + R"(</directory></plugins>
  <mappings><directory>)" + (kSourceDir / "mappings").string() + R"(</directory></mappings>
  <spool><poll-interval-ms>50</poll-interval-ms><batch-size>)" + std::to_string(batch_size) +
                                       R"(</batch-size></spool>
  <systems>
    <public_assistance><adapter>public_assistance</adapter><mapping>public_assistance.xml</mapping></public_assistance>
    )" + extra_systems + R"(
  </systems>
  <logging><level>warning</level></logging>
  )" + extra_elements + R"(
</tsunagu>)");
}

// A <routing> element naming the shipped config/ files (policies, roster, holidays, routes), with
// the scheduler off: the test moves the clock or runs the timers itself.
inline std::string shipped_routing_config() {
  const std::filesystem::path shipped = kSourceDir / "config";
  return "<routing><policies>" + (shipped / "policies.xml").string() + "</policies><roster>" +
         (shipped / "roster.xml").string() + "</roster><holidays>" +
         (shipped / "holidays.xml").string() + "</holidays><routes>" +
         (shipped / "routes.xml").string() +
         "</routes><tick-interval-ms>0</tick-interval-ms></routing>";
}

// Polls `done` every 20 ms until it returns true or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

class Daemon {
 public:
  Daemon(const std::filesystem::path& config, const std::filesystem::path& data_dir)
      : config_(config), data_dir_(data_dir) {}
  ~Daemon() {
    if (running()) kill9();
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void start() {
    std::vector<std::string> args{"--config", config_.string(), "--data-dir", data_dir_.string()};
    handle_ = std::make_unique<Poco::ProcessHandle>(
        Poco::Process::launch((kBinDir / "tsunagud").string(), args));
  }
  bool running() const { return handle_ && Poco::Process::isRunning(*handle_); }
  // Waits until this daemon has written its pid file (DATA/run/tsunagud.pid): past start-up, its
  // signal handling in place.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::minutes(5)) const {
    const std::string pid = std::to_string(handle_->id());
    const auto file = data_dir_ / "run" / "tsunagud.pid";
    return wait_until(
        [&] {
          std::ifstream in(file);
          std::string text;
          in >> text;
          return text == pid || !running();
        },
        timeout);
  }
  void kill9() {
    ::kill(handle_->id(), SIGKILL);
    handle_->wait();
    handle_.reset();
  }
  // SIGTERM, then the exit code. Waits for start-up first: a SIGTERM that arrives before main()
  // has blocked the signals (slow under sanitizers) takes the default action, which would test
  // nothing but the race.
  int terminate() {
    wait_ready();
    ::kill(handle_->id(), SIGTERM);
    const int code = handle_->wait();
    handle_.reset();
    return code;
  }
  int wait() {
    const int code = handle_->wait();
    handle_.reset();
    return code;
  }

 private:
  std::filesystem::path config_;
  std::filesystem::path data_dir_;
  std::unique_ptr<Poco::ProcessHandle> handle_;
};

// Drops a file into a spool the way a sender should: written under a dot-name, then renamed.
inline void drop_into_spool(const std::filesystem::path& spool, const std::string& name,
                            const std::string& bytes) {
  std::filesystem::create_directories(spool);
  const auto tmp = spool / ("." + name + ".part");
  std::ofstream(tmp, std::ios::binary) << bytes;
  std::filesystem::rename(tmp, spool / name);
}

// Runs the CLI; returns its exit code and captures standard output.
inline int run_cli(const std::vector<std::string>& args, std::string& out) {
  Poco::Pipe pipe;
  auto handle = Poco::Process::launch((kBinDir / "tsunagu").string(), args, nullptr, &pipe, &pipe);
  Poco::PipeInputStream in(pipe);
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return handle.wait();
}

}  // namespace tsunagu_test

namespace tsunagu_test {

// Like write_test_config(), but the instance reads its mappings from a copy in DIR/mappings that
// the test may edit — to "fix a mapping" and retry quarantined records.
inline std::filesystem::path write_test_config_with_editable_mappings(
    const TempDir& dir, int batch_size = 50, const std::string& extra_systems = "") {
  const auto mappings = dir.path() / "mappings";
  std::filesystem::create_directories(mappings);
  for (const auto& entry : std::filesystem::directory_iterator(kSourceDir / "mappings")) {
    const auto ext = entry.path().extension();
    if (ext == ".xml" || ext == ".xsd") {
      std::filesystem::copy_file(entry.path(), mappings / entry.path().filename(),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  }
  std::string text = read_file(write_test_config(dir, batch_size, extra_systems));
  const std::string source = (kSourceDir / "mappings").string();
  text.replace(text.find(source), source.size(), mappings.string());
  return dir.write("tsunagu.xml", text);
}

}  // namespace tsunagu_test
