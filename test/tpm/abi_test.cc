#include "attestors/tpm/abi.h"
#include "gtest/gtest.h"
namespace twi::tpm { namespace {
TEST(TpmAbi, Empty) { EXPECT_FALSE(ParseAttest({}).ok()); }
}}
