// tsunagu-bench-gen: writes a realistic native input of any size, deterministically.
//
//   tsunagu-bench-gen <system> <records> <out-file> [--seed N] [--persons N]
//
// <system> is public_assistance, health_centre, child_guidance or education; the output has that
// system's native format (see bench/common/bench_data.hpp). The file is written under a dot-name
// and renamed when complete, so it can be generated straight into a spool directory.
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "bench_data.hpp"

namespace {

bool number(const char* text, std::uint64_t& out) {
  const char* end = text + std::strlen(text);
  const auto [ptr, ec] = std::from_chars(text, end, out);
  return ec == std::errc() && ptr == end;
}

int usage() {
  std::cerr << "usage: tsunagu-bench-gen <public_assistance|health_centre|child_guidance|education>"
               " <records> <out-file> [--seed N] [--persons N]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  using namespace tsunagu::bench;
  if (argc < 4) return usage();
  const std::string system = argv[1];
  GenOptions options;
  if (!number(argv[2], options.records)) return usage();
  const fs::path out_file = argv[3];
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    std::uint64_t* target = flag == "--seed" ? &options.seed : flag == "--persons" ? &options.persons : nullptr;
    if (target == nullptr || !number(argv[i + 1], *target)) return usage();
  }
  const fs::path tmp = out_file.parent_path() / ("." + out_file.filename().string() + ".tmp");
  try {
    if (out_file.has_parent_path()) fs::create_directories(out_file.parent_path());
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    std::vector<char> buffer(1 << 20);
    out.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (system == "public_assistance") {
      write_public_assistance(out, options);
    } else if (system == "health_centre") {
      write_health_centre(out, options);
    } else if (system == "child_guidance") {
      write_child_guidance(out, options);
    } else if (system == "education") {
      write_education(out, options);
    } else {
      return usage();
    }
    out.close();
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
    fs::rename(tmp, out_file);
  } catch (const std::exception& e) {
    std::cerr << "tsunagu-bench-gen: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
