// Shared by the SEV-SNP tests: the vectors under test/testdata/sevsnp and a pinned clock.
#pragma once

#include <string>

#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "gtest/gtest.h"

namespace twi::sevsnp {

inline TimePoint At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

// A file under test/testdata/sevsnp/ (empty, with a test failure, when missing).
inline Bytes ReadFile(const std::string& rel) {
  auto b = ReadFileBytes(std::string(TWI_TESTDATA) + "/sevsnp/" + rel);
  EXPECT_TRUE(b.ok()) << b.status();
  return b.ok() ? *std::move(b) : Bytes();
}

}  // namespace twi::sevsnp
