#include "runtime/daemon_files.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

namespace tsunagu::runtime {
namespace fs = std::filesystem;
namespace {

void write_atomically(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  const fs::path tmp = file.parent_path() / ("." + file.filename().string() + ".tmp");
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error(tmp.string() + ": cannot write");
  }
  fs::rename(tmp, file);
}

std::optional<pid_t> read_pid(const fs::path& file) {
  std::ifstream in(file);
  long long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

}  // namespace

fs::path pid_file(const config::HubConfig& config) {
  return config.data_dir / "run" / "tsunagud.pid";
}

fs::path reload_result_file(const config::HubConfig& config) {
  return config.data_dir / "run" / "reload.result";
}

void write_pid_file(const config::HubConfig& config) {
  write_atomically(pid_file(config), std::to_string(::getpid()) + "\n");
}

void remove_pid_file(const config::HubConfig& config) {
  const auto pid = read_pid(pid_file(config));
  if (pid && *pid == ::getpid()) {
    std::error_code ignored;
    fs::remove(pid_file(config), ignored);
  }
}

std::optional<pid_t> running_daemon(const config::HubConfig& config) {
  const auto pid = read_pid(pid_file(config));
  if (!pid) return std::nullopt;
  // EPERM: alive, but another user's (tsunagud runs as `tsunagu`, the CLI perhaps as root).
  if (::kill(*pid, 0) != 0 && errno != EPERM) return std::nullopt;
  // The pid may have been reused since a daemon died without removing its file.
  std::ifstream comm("/proc/" + std::to_string(*pid) + "/comm");
  std::string name;
  if (comm && std::getline(comm, name) && name != "tsunagud") return std::nullopt;
  return pid;
}

void write_reload_result(const config::HubConfig& config, const ReloadResult& result) {
  std::string text =
      std::to_string(result.number) + (result.reloaded ? " reloaded\n" : " refused\n");
  for (const auto& p : result.problems) text += p + "\n";
  write_atomically(reload_result_file(config), text);
}

std::optional<ReloadResult> read_reload_result(const config::HubConfig& config) {
  std::ifstream in(reload_result_file(config));
  ReloadResult result;
  std::string word;
  if (!(in >> result.number >> word)) return std::nullopt;
  result.reloaded = word == "reloaded";
  std::string line;
  std::getline(in, line);  // the rest of the first line
  while (std::getline(in, line)) {
    if (!line.empty()) result.problems.push_back(line);
  }
  return result;
}

}  // namespace tsunagu::runtime
