// libFuzzer entry point of fuzz_health_centre; the work is in one_input_health_centre.hpp, shared
// with the replay test (regression_test.cpp).
#include <cstddef>
#include <cstdint>

#include "one_input_health_centre.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tsunagu::fuzz::abort_on_problem(tsunagu::fuzz::one_input_health_centre(data, size),
                                  "fuzz_health_centre");
  return 0;
}
