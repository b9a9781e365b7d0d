// The tpm2-tss shim of TWI_STATIC_DEPS builds (attestors/tpm/tss2_lazy.cc): a library that
// cannot be loaded turns into a clear error naming it, and the libraries that can be loaded
// are used through it (the swtpm tests run every other entry point through it too).
// Each test is its own process under ctest (gtest_discover_tests), so each can pick which
// library is missing before anything loads it.
#include "attestors/tpm/tss2_lazy.h"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include "attestors/tpm/abi.h"
#include "attestors/tpm/esys.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace twi::tpm {
namespace {

using ::testing::HasSubstr;

TEST(Tss2Lazy, MissingTctiLoaderIsAClearUnavailableError) {
  ASSERT_TRUE(ReplaceTss2LibraryForTest("libtss2-tctildr.so.0", "libtss2-tctildr-missing.so.0"));
  absl::StatusOr<std::unique_ptr<EsysConnection>> conn = EsysConnection::Open("device:/dev/null");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(),
              HasSubstr("opening the tcti: cannot load libtss2-tctildr-missing.so.0: "));
  EXPECT_THAT(conn.status().message(), HasSubstr("cannot open shared object file"));  // dlerror
  // Loaded (or failed) once: too late to replace.
  EXPECT_FALSE(ReplaceTss2LibraryForTest("libtss2-tctildr.so.0", "libtss2-tctildr.so.0"));
}

TEST(Tss2Lazy, MissingMuLibraryFailsParsingWithTheReason) {
  ASSERT_TRUE(ReplaceTss2LibraryForTest("libtss2-mu.so.0", "libtss2-mu-missing.so.0"));
  absl::StatusOr<Attest> attest = ParseAttest(Bytes{0xff, 0x54, 0x43, 0x47});
  ASSERT_FALSE(attest.ok());
  EXPECT_THAT(attest.status().message(), HasSubstr("cannot load libtss2-mu-missing.so.0: "));
}

TEST(Tss2Lazy, LoadedLibrariesForwardTheRealCalls) {
  // libtss2-rc's own text for a TPM code, and MU's own code for a short buffer (abi.cc says
  // "truncated" for TSS2_MU_RC_INSUFFICIENT_BUFFER).
  EXPECT_THAT(Tss2_RC_Decode(TPM2_RC_HANDLE | TPM2_RC_1), HasSubstr("tpm:"));
  absl::StatusOr<Attest> attest = ParseAttest(Bytes{0xff, 0x54, 0x43, 0x47});
  ASSERT_FALSE(attest.ok());
  EXPECT_EQ(attest.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(attest.status().message(), "tpms_attest: truncated");
}

TEST(Tss2Lazy, OnlyItsOwnLibrariesCanBeReplaced) {
  EXPECT_FALSE(ReplaceTss2LibraryForTest("libcurl.so.4", "libcurl-missing.so.4"));
}

}  // namespace
}  // namespace twi::tpm
