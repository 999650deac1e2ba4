// libFuzzer entry point of fuzz_cp932_csv; the work is in one_input_cp932_csv.hpp, shared with the
// replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_cp932_csv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_cp932_csv(data, size), "fuzz_cp932_csv");
  return 0;
}
