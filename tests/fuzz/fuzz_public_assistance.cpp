// libFuzzer entry point of fuzz_public_assistance; the work is in one_input_public_assistance.hpp,
// shared with the replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_public_assistance.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_public_assistance(data, size),
                                  "fuzz_public_assistance");
  return 0;
}
