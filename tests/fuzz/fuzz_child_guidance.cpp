// libFuzzer entry point of fuzz_child_guidance; the work is in one_input_child_guidance.hpp, shared
// with the replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_child_guidance.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_child_guidance(data, size),
                                  "fuzz_child_guidance");
  return 0;
}
