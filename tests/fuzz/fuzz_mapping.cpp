// libFuzzer entry point of fuzz_mapping; the work is in one_input_mapping.hpp, shared with the
// replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_mapping.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_mapping(data, size), "fuzz_mapping");
  return 0;
}
