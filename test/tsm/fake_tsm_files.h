// File helpers for fake configfs-tsm kernels (test/sevsnp/fake_tsm_kernel.h,
// test/tdx/fake_tdx_kernel.h): attributes are whole small files in an ordinary directory.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

namespace twi::tsm::testing {

inline std::string ReadAttr(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteAttr(const std::string& path, std::string_view data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// What rmdir does to an entry: its attribute files go away.
inline void ClearEntry(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) std::filesystem::remove(e.path(), ec);
}

// The kernel bumps `generation` on every write to the entry.
inline void BumpGeneration(const std::string& dir) {
  int g = 0;
  std::string text = ReadAttr(dir + "/generation");
  EXPECT_TRUE(absl::SimpleAtoi(text.substr(0, text.find('\n')), &g));
  WriteAttr(dir + "/generation", std::to_string(g + 1) + "\n");
}

}  // namespace twi::tsm::testing
