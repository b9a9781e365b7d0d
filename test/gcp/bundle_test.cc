// examples/gcp/vtpm-ca-bundle.pem: the public Google Cloud vTPM CAs, by fingerprint (the
// provenance note beside it lists the same), and each intermediate verifying under its root.
#include <string>

#include "attestors/core/clock.h"
#include "attestors/core/file.h"
#include "attestors/gcp/verify.h"
#include "gtest/gtest.h"

namespace twi::gcp {
namespace {

TEST(GcpBundle, HoldsGooglesVtpmCasByFingerprint) {
  auto pem = ReadFileToString(std::string(TWI_SOURCE_DIR) + "/examples/gcp/vtpm-ca-bundle.pem");
  ASSERT_TRUE(pem.ok()) << pem.status();
  auto certs = ParsePemBundle(*pem);
  ASSERT_TRUE(certs.ok()) << certs.status();
  const std::vector<std::string> want = {
      "594759594b9b61524f6c8ef668f7177f7b9066bc0674f2f49fe9e052be78beb2",  // EK/AK CA Root
      "c84de8116dfaf5a908f21e810487791f5437e206d00ad8025050cca6bd2ff627",  // EK/AK CA Intermediate
      "9bd5285f8fb18502a7947e621ffd470266f49fcd3b73e19a190f690ad32a7caf",  // tpm_ek_v1 root
      "5d8dbcf8c8053dd8ffad711b6219355032b7122c34cac0f90ccb49def69ec504",  // intermediate 2
      "7132b6ea71101f6c51bb58f98c3798c19b65be510eca0344318900510b593178",  // intermediate 3
  };
  ASSERT_EQ(certs->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ((*certs)[i].fingerprint_hex(), want[i]) << i;
  CaSet set = CaSet::FromCertificates(*certs);
  ASSERT_EQ(set.roots.size(), 2u);
  ASSERT_EQ(set.intermediates.size(), 3u);
  // Every intermediate verifies under a root of the bundle, valid today and in 2117.
  auto now = std::chrono::system_clock::now();
  auto at_2117 = ParseRfc3339("2117-01-01T00:00:00Z");
  ASSERT_TRUE(at_2117.ok());
  for (const Certificate& ca : set.intermediates) {
    bool chained = false;
    for (const Certificate& root : set.roots) {
      if (!ca.IssuedBy(root)) continue;
      EXPECT_TRUE(VerifyChain(ca, {}, root, now).ok()) << ca.label();
      chained = VerifyChain(ca, {}, root, *at_2117).ok() || chained;
    }
    EXPECT_TRUE(chained) << ca.label();
  }
}

}  // namespace
}  // namespace twi::gcp
