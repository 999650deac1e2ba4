// Shared by the mapping tests: paths into the source tree and scratch mapping files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include <mapping/mapping.hpp>

namespace tsunagu::mapping::test_support {

// Functions rather than globals: a path's constructor may throw, which a static cannot report.
inline std::filesystem::path source_dir() {
  return TSUNAGU_SOURCE_DIR;
}
inline std::filesystem::path xsd_path() {
  return source_dir() / "mappings" / "mapping.xsd";
}
inline std::filesystem::path test_data_dir() {
  return source_dir() / "tests" / "unit" / "mapping" / "data";
}

// A scratch directory per test (ctest runs tests as parallel processes), removed afterwards.
class ScratchMappings : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("tsunagu-mapping-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
            std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  std::filesystem::path write(const std::string& name, const std::string& content) {
    std::filesystem::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  }

  // Loads `content` as a mapping; returns MappingError::what(), or "" when it loads.
  std::string load_error(const std::string& content, const std::string& name = "test.xml") {
    try {
      Mapping::load_file(write(name, content), xsd_path());
      return "";
    } catch (const MappingError& e) {
      return e.what();
    }
  }

  std::filesystem::path dir_;
};

}  // namespace tsunagu::mapping::test_support
