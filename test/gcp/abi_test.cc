// The GCE instance-information extension parser: round trips with the encoder, Go's
// encoding/asn1 shapes (PrintableString, securityProperties absent or partial), and negatives
// asserting the specific error (truncation, wrong tags, overlong and unsafe text, BER, trailing
// bytes, a repeated or missing extension).
#include "attestors/gcp/abi.h"

#include <string>

#include "absl/strings/match.h"
#include "attestors/core/x509.h"
#include "gtest/gtest.h"
#include "test/gcp/soft_ak.h"

namespace twi::gcp {
namespace {

std::string Msg(const absl::Status& s) { return std::string(s.message()); }

// Short-form TLV (contents < 128 bytes): enough to hand-build every shape below.
Bytes T(uint8_t tag, const Bytes& content) {
  Bytes out{tag, static_cast<uint8_t>(content.size())};
  out.insert(out.end(), content.begin(), content.end());
  return out;
}
Bytes S(uint8_t tag, const std::string& s) { return T(tag, ToBytes(s)); }
Bytes Cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}
constexpr uint8_t kSeq = 0x30, kInt = 0x02, kUtf8 = 0x0c, kPrintable = 0x13, kBool = 0x01;

// Go's asn1.Marshal of go-tpm-tools' gceInstanceInfo: UTF8Strings, int64s, [0] EXPLICIT
// securityProperties with [0] securityVersion and [1] isProduction.
Bytes GoShape(const Bytes& props_inner, uint8_t zone_tag = kUtf8) {
  Bytes fields = Cat({S(zone_tag, "us-west1-b"), T(kInt, {0x01, 0xe2, 0x40}),
                      S(kUtf8, "my-project"), T(kInt, {0x07}), S(kUtf8, "vm-1")});
  return T(kSeq, Cat({fields, T(0xa0, T(kSeq, props_inner))}));
}
Bytes Props(bool version, bool production) {
  Bytes p;
  if (version) p = Cat({p, T(0xa0, T(kInt, {0x02}))});
  if (production) p = Cat({p, T(0xa1, T(kBool, {0xff}))});
  return p;
}

absl::Status ParseErr(const Bytes& der) { return ParseInstanceInfo(der).status(); }

TEST(GcpInstanceInfo, RoundTripsTheEncoder) {
  InstanceInfo in = SimInstanceInfo();
  in.security_version = 7;
  auto der = EncodeInstanceInfo(in);
  ASSERT_TRUE(der.ok()) << der.status();
  auto out = ParseInstanceInfo(*der);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->zone, "us-central1-a");
  EXPECT_EQ(out->project_number, 123456789012u);
  EXPECT_EQ(out->project_id, "twi-sim-project");
  EXPECT_EQ(out->instance_id, 4242424242424242424u);
  EXPECT_EQ(out->instance_name, "twi-sim-vm");
  EXPECT_TRUE(out->has_security_properties);
  EXPECT_EQ(out->security_version, 7u);
  EXPECT_TRUE(out->is_production);
}

TEST(GcpInstanceInfo, ParsesGoShapes) {
  auto full = ParseInstanceInfo(GoShape(Props(true, true)));
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->zone, "us-west1-b");
  EXPECT_EQ(full->project_number, 123456u);
  EXPECT_EQ(full->instance_id, 7u);
  EXPECT_EQ(full->security_version, 2u);
  EXPECT_TRUE(full->is_production);
  // Defaults are omitted by DER: an empty securityProperties sequence is production = false.
  auto empty = ParseInstanceInfo(GoShape({}));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->has_security_properties);
  EXPECT_FALSE(empty->is_production);
  auto only_prod = ParseInstanceInfo(GoShape(Props(false, true)));
  ASSERT_TRUE(only_prod.ok()) << only_prod.status();
  EXPECT_TRUE(only_prod->is_production);
  // Go marshals a plain string field as PrintableString.
  EXPECT_TRUE(ParseInstanceInfo(GoShape(Props(false, true), kPrintable)).ok());
  // Without securityProperties at all (five fields).
  InstanceInfo no_props = SimInstanceInfo();
  no_props.has_security_properties = false;
  auto der = EncodeInstanceInfo(no_props);
  ASSERT_TRUE(der.ok());
  auto parsed = ParseInstanceInfo(*der);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_FALSE(parsed->has_security_properties);
  EXPECT_FALSE(parsed->is_production);
}

TEST(GcpInstanceInfo, EveryTruncationIsRefused) {
  Bytes der = *EncodeInstanceInfo(SimInstanceInfo());
  for (size_t n = 0; n < der.size(); ++n) {
    absl::Status s = ParseErr(Bytes(der.begin(), der.begin() + n));
    EXPECT_TRUE(absl::StartsWith(Msg(s), "instance_info.structure: not a der sequence")) << n << s;
  }
}

TEST(GcpInstanceInfo, TrailingBytesAndOversizeAreRefused) {
  Bytes der = *EncodeInstanceInfo(SimInstanceInfo());
  der.push_back(0);
  EXPECT_EQ(Msg(ParseErr(der)), "instance_info.structure: 1 bytes after the sequence");
  Bytes big(kMaxInstanceInfoSize + 1, 0x30);
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(big)), "instance_info.structure: 2049 bytes, want at most"));
}

TEST(GcpInstanceInfo, WrongTagsNameTheField) {
  Bytes zone_int = T(kSeq, Cat({T(kInt, {1}), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(zone_int)), "instance_info.zone: got asn.1 type 2")) << ParseErr(zone_int);
  Bytes number_str = T(kSeq, Cat({S(kUtf8, "z"), S(kUtf8, "1"), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(number_str)), "instance_info.project_number: got asn.1 type 12"));
  Bytes id_bool = T(kSeq, Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kBool, {0xff}), S(kUtf8, "n")}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(id_bool)), "instance_info.instance_id: got asn.1 type 1"));
  // securityProperties under [1] instead of [0].
  Bytes base = Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")});
  Bytes wrong_outer = T(kSeq, Cat({base, T(0xa1, T(kSeq, Props(false, true)))}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(wrong_outer)),
                               "instance_info.security_properties: got tag class 128 number 1"))
      << ParseErr(wrong_outer);
  // securityProperties as a bare SEQUENCE (implicit) instead of [0] EXPLICIT.
  Bytes bare = T(kSeq, Cat({base, T(kSeq, Props(false, true))}));
  EXPECT_EQ(Msg(ParseErr(bare)), "instance_info.security_properties: want [0] explicit tag");
  // Inner fields out of order, repeated, or of the wrong type.
  Bytes swapped = T(kSeq, Cat({base, T(0xa0, T(kSeq, Cat({T(0xa1, T(kBool, {0xff})),
                                                          T(0xa0, T(kInt, {2}))})))}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(swapped)),
                               "instance_info.security_properties: element 1 has tag [0]"));
  Bytes prod_int = T(kSeq, Cat({base, T(0xa0, T(kSeq, T(0xa1, T(kInt, {1}))))}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(prod_int)), "instance_info.is_production: got asn.1 type 2"));
  Bytes version_str = T(kSeq, Cat({base, T(0xa0, T(kSeq, T(0xa0, S(kUtf8, "2"))))}));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(version_str)), "instance_info.security_version: got asn.1 type 12"));
  // Too few or too many fields.
  Bytes four = T(kSeq, Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1})}));
  EXPECT_EQ(Msg(ParseErr(four)), "instance_info.structure: got 4 fields, want 5 or 6");
  Bytes seven = T(kSeq, Cat({base, T(0xa0, T(kSeq, {})), T(kInt, {1})}));
  EXPECT_EQ(Msg(ParseErr(seven)), "instance_info.structure: got 7 fields, want 5 or 6");
}

TEST(GcpInstanceInfo, IntegersMustBeNonNegativeInt64) {
  Bytes negative = T(kSeq, Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {0xff}), S(kUtf8, "n")}));
  EXPECT_EQ(Msg(ParseErr(negative)), "instance_info.instance_id: got -1, want >= 0");
  Bytes huge = T(kSeq, Cat({S(kUtf8, "z"), T(kInt, {1, 0, 0, 0, 0, 0, 0, 0, 0}), S(kUtf8, "p"),
                            T(kInt, {1}), S(kUtf8, "n")}));
  EXPECT_EQ(Msg(ParseErr(huge)), "instance_info.project_number: integer too large");
}

TEST(GcpInstanceInfo, TextFieldsAreBoundedAndSafe) {
  auto with = [](const std::string& zone, const std::string& project, const std::string& name) {
    return T(kSeq, Cat({S(kUtf8, zone), T(kInt, {1}), S(kUtf8, project), T(kInt, {1}), S(kUtf8, name)}));
  };
  EXPECT_TRUE(ParseInstanceInfo(with("europe-west4-a", "example.com:proj", "vm_1.x")).ok());
  EXPECT_EQ(Msg(ParseErr(with("", "p", "n"))), "instance_info.zone: empty");
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(with("us\ncentral", "p", "n"))),
                               "instance_info.zone: got \"us\\x0acentral\", want only"))
      << ParseErr(with("us\ncentral", "p", "n"));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(with("z", "a/b", "n"))), "instance_info.project_id: got \"a/b\""));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(with("z", "p", "my vm"))), "instance_info.instance_name: got"));
  EXPECT_TRUE(absl::StartsWith(Msg(ParseErr(with("z", "p", "caf\xc3\xa9"))), "instance_info.instance_name: got"));
  // 254 bytes needs a long-form length: built by hand.
  std::string long_name(254, 'a');
  Bytes name = {kUtf8, 0x81, 254};
  name.insert(name.end(), long_name.begin(), long_name.end());
  Bytes fields = Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1}), name});
  Bytes der = {kSeq, 0x82, static_cast<uint8_t>(fields.size() >> 8), static_cast<uint8_t>(fields.size())};
  der.insert(der.end(), fields.begin(), fields.end());
  EXPECT_EQ(Msg(ParseErr(der)), "instance_info.instance_name: 254 bytes, want at most 253");
  EXPECT_TRUE(IsValidTextField(std::string(253, 'a')));
  EXPECT_FALSE(IsValidTextField(std::string(1, '\0')));
}

TEST(GcpInstanceInfo, BerIsRefused) {
  // Non-minimal length (0x81 0x05 for a 5-byte string).
  Bytes fields = Cat({Bytes{kUtf8, 0x81, 1, 'z'}, T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")});
  EXPECT_EQ(Msg(ParseErr(T(kSeq, fields))), "instance_info.structure: not distinguished encoding (der)");
  // Indefinite-length outer sequence.
  Bytes base = Cat({S(kUtf8, "z"), T(kInt, {1}), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")});
  Bytes indefinite = Cat({Bytes{kSeq, 0x80}, base, Bytes{0, 0}});
  EXPECT_FALSE(ParseInstanceInfo(indefinite).ok());
  // BOOLEAN TRUE must be 0xff in DER.
  Bytes bool01 = T(kSeq, Cat({base, T(0xa0, T(kSeq, T(0xa1, T(kBool, {0x01}))))}));
  EXPECT_EQ(Msg(ParseErr(bool01)), "instance_info.is_production: not distinguished encoding (der)");
  // A non-minimal length in an explicit tag's header ([0] with 0x81 0x03).
  Bytes props = T(kSeq, T(0xa1, T(kBool, {0xff})));
  Bytes long_tag = Cat({Bytes{0xa0, 0x81, static_cast<uint8_t>(props.size())}, props});
  Bytes explicit_ber = T(kSeq, Cat({base, long_tag}));
  EXPECT_EQ(Msg(ParseErr(explicit_ber)), "instance_info.security_properties: not distinguished encoding (der)");
  // Non-minimal integer (leading zero).
  Bytes int00 = T(kSeq, Cat({S(kUtf8, "z"), T(kInt, {0, 1}), S(kUtf8, "p"), T(kInt, {1}), S(kUtf8, "n")}));
  EXPECT_FALSE(ParseInstanceInfo(int00).ok());
}

TEST(GcpInstanceInfo, ExtensionPresentExactlyOnce) {
  auto ca = testing::Ca();
  auto ak = testing::SoftAk::Create();
  auto once = Certificate::Parse(*ca->IssueAkCert(ak.spki));
  ASSERT_TRUE(once.ok());
  auto info = InstanceInfoFromCertificate(*once);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->project_id, "twi-sim-project");
  SimAkCertOptions twice;
  twice.duplicate_instance_info = true;
  auto dup = Certificate::Parse(*ca->IssueAkCert(ak.spki, twice));
  ASSERT_TRUE(dup.ok()) << dup.status();
  EXPECT_EQ(Msg(InstanceInfoFromCertificate(*dup).status()),
            "instance_info.structure: extension 1.3.6.1.4.1.11129.2.1.21 appears twice");
  SimAkCertOptions none;
  none.include_instance_info = false;
  auto missing = Certificate::Parse(*ca->IssueAkCert(ak.spki, none));
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(absl::IsNotFound(InstanceInfoFromCertificate(*missing).status()));
}

}  // namespace
}  // namespace twi::gcp
