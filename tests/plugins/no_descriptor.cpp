// A shared library that is not a Tsunagu plugin.
extern "C" __attribute__((visibility("default"))) int tsunagu_test_something() { return 42; }
