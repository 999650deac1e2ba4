#include "bench_util.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace tsunagu::bench {

void result(const std::string& id, const std::string& key, double value) {
  char buf[64];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);  // counts as counts, not 1e+06
  } else {
    std::snprintf(buf, sizeof buf, "%.6g", value);
  }
  result_text(id, key, buf);
}

void result_text(const std::string& id, const std::string& key, const std::string& value) {
  std::cout << "RESULT " << id << " " << key << " " << value << std::endl;
}

pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& out_file,
            const std::filesystem::path& err_file) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!out_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  if (!err_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

ChildUsage wait_child(pid_t pid, std::chrono::steady_clock::time_point started) {
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error(std::string("wait4: ") + std::strerror(errno));
  }
  ChildUsage u;
  u.wall_s = seconds_since(started);
  u.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  u.user_s = static_cast<double>(usage.ru_utime.tv_sec) + usage.ru_utime.tv_usec / 1e6;
  u.sys_s = static_cast<double>(usage.ru_stime.tv_sec) + usage.ru_stime.tv_usec / 1e6;
  u.max_rss_kb = usage.ru_maxrss;
  return u;
}

ChildUsage run_child(const std::vector<std::string>& argv, const std::filesystem::path& out_file,
                     const std::filesystem::path& err_file) {
  // The peak RSS comes from /usr/bin/time (as `time -v` reports it) when it is there: Linux
  // charges a child started by posix_spawn (vfork + exec) with its parent's high-water mark, so
  // wait4's ru_maxrss of a small program started by a large one is the large one's.
  const std::filesystem::path time_bin = "/usr/bin/time";
  std::vector<std::string> command = argv;
  std::filesystem::path rss_file;
  if (std::filesystem::exists(time_bin)) {
    rss_file = std::filesystem::temp_directory_path() /
               ("tsunagu-bench-rss-" + std::to_string(::getpid()) + ".txt");
    command.insert(command.begin(), {time_bin.string(), "-f", "%M", "-o", rss_file.string()});
  }
  const auto started = std::chrono::steady_clock::now();
  ChildUsage usage = wait_child(spawn(command, out_file, err_file), started);
  if (!rss_file.empty()) {
    std::ifstream in(rss_file);
    std::string line, last;
    while (std::getline(in, line)) {
      if (!line.empty()) last = line;  // "Command exited with non-zero status N" may come first
    }
    try {
      usage.max_rss_kb = std::stol(last);
    } catch (const std::exception&) {
    }
    std::filesystem::remove(rss_file);
  }
  return usage;
}

double self_cpu_s() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string proc_stat_fields(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const std::size_t close = text.rfind(')');  // the name, in parentheses, may hold anything
  if (close == std::string::npos || close + 2 > text.size()) return "";
  return text.substr(close + 2);
}

double process_cpu_s(pid_t pid) {
  const std::string text = proc_stat_fields(pid);
  if (text.empty()) return 0;
  std::istringstream fields(text);
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stod(field);
    if (i == 15) {
      stime = std::stod(field);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long self_max_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::filesystem::path& file, const std::string& content) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + file.string());
}

std::vector<Figure> read_results(const std::filesystem::path& file) {
  std::vector<Figure> out;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("RESULT ", 0) != 0) continue;
    std::istringstream fields(line.substr(7));
    Figure f;
    fields >> f.id >> f.key;
    std::getline(fields, f.value);
    if (!f.value.empty() && f.value.front() == ' ') f.value.erase(0, 1);
    out.push_back(f);
  }
  return out;
}

}  // namespace tsunagu::bench
