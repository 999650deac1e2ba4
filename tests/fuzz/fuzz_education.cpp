// libFuzzer entry point of fuzz_education; the work is in one_input_education.hpp, shared with the
// replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_education.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_education(data, size), "fuzz_education");
  return 0;
}
