// Replays every seed (corpus/<target>/) and every input that once broke a fuzz target
// (regressions/<target>/) through the very function the target runs (one_input_<target>.hpp), in
// the ordinary test build: a fixed crash stays fixed without a fuzzing run. Under
// TSUNAGU_SANITIZE=1 the replay runs with ASan and UBSan as the fuzzers do.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "one_input_cp932_csv.hpp"
#include "one_input_mapping.hpp"
#if defined(TSUNAGU_FUZZ_HAVE_PUBLIC_ASSISTANCE)
#include "one_input_public_assistance.hpp"
#endif
#if defined(TSUNAGU_FUZZ_HAVE_EDUCATION)
#include "one_input_education.hpp"
#endif
#if defined(TSUNAGU_FUZZ_HAVE_HEALTH_CENTRE)
#include "one_input_health_centre.hpp"
#endif
#if defined(TSUNAGU_FUZZ_HAVE_CHILD_GUIDANCE)
#include "one_input_child_guidance.hpp"
#endif

namespace {

namespace fs = std::filesystem;
using OneInput = std::string (*)(const std::uint8_t*, std::size_t);

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The files of corpus/<target>/ or regressions/<target>/, in name order; none if it is absent.
std::set<fs::path> inputs(const std::string& kind, const std::string& target) {
  std::set<fs::path> files;
  const fs::path dir = fs::path(TSUNAGU_FUZZ_DIR) / kind / target;
  if (!fs::is_directory(dir)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.insert(entry.path());
  }
  return files;
}

void replay(const std::string& target, OneInput one_input) {
  const std::set<fs::path> corpus = inputs("corpus", target);
  EXPECT_FALSE(corpus.empty()) << "no seed in tests/fuzz/corpus/" << target;
  std::set<fs::path> all = corpus;
  all.merge(inputs("regressions", target));
  for (const fs::path& file : all) {
    const std::string bytes = file_bytes(file);
    const std::string problem =
        one_input(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    EXPECT_EQ(problem, "") << file.string();
  }
}

TEST(FuzzReplay, Cp932Csv) {
  replay("cp932_csv", tsunagu::fuzz::one_input_cp932_csv);
}

TEST(FuzzReplay, Mapping) {
  replay("mapping", tsunagu::fuzz::one_input_mapping);
}

#if defined(TSUNAGU_FUZZ_HAVE_PUBLIC_ASSISTANCE)
TEST(FuzzReplay, PublicAssistance) {
  replay("public_assistance", tsunagu::fuzz::one_input_public_assistance);
}
#endif

#if defined(TSUNAGU_FUZZ_HAVE_EDUCATION)
TEST(FuzzReplay, Education) {
  replay("education", tsunagu::fuzz::one_input_education);
}
#endif

#if defined(TSUNAGU_FUZZ_HAVE_HEALTH_CENTRE)
TEST(FuzzReplay, HealthCentre) {
  replay("health_centre", tsunagu::fuzz::one_input_health_centre);
}
#endif

#if defined(TSUNAGU_FUZZ_HAVE_CHILD_GUIDANCE)
TEST(FuzzReplay, ChildGuidance) {
  replay("child_guidance", tsunagu::fuzz::one_input_child_guidance);
}
#endif

}  // namespace
