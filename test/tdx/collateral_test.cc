// The nine-key collateral bundle and the TCB Info / QE Identity documents: real collateral
// parses, and each malformed field fails with its JSON path.
#include "attestors/collateral/dcap_bundle.h"
#include "attestors/collateral/dcap_json.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "test/tdx/testdata.h"

namespace twi::collateral {
namespace {

using ::testing::HasSubstr;
using twi::tdx::Msg;
using twi::tdx::ReadText;

nlohmann::json T1() { return nlohmann::json::parse(ReadText("phala-dcap-qvl/tdx_quote_collateral.json")); }

std::string BundleError(const nlohmann::json& j) {
  auto c = ParseDcapBundle(j.dump());
  return c.ok() ? "ok" : std::string(c.status().message());
}

TEST(tdx_dcap_bundle, ParsesTheNineKeys) {
  auto c = ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pck_crl_issuer_chain.size(), 2u);
  EXPECT_EQ(c->tcb_info_issuer_chain.size(), 2u);
  EXPECT_TRUE(c->root_ca_crl.has_value());
  EXPECT_TRUE(c->pck_crl.has_value());
  EXPECT_EQ(c->tcb_info_signature.size(), 64u);
  EXPECT_EQ(c->tcb_info.substr(0, 12), "{\"id\":\"TDX\",");
  EXPECT_EQ(c->digest.size(), 32u);
  auto again = ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"));
  EXPECT_EQ(again->digest, c->digest);
  auto sgx = ParseDcapBundle(ReadText("phala-dcap-qvl/sgx_quote_collateral.json"));
  EXPECT_NE(sgx->digest, c->digest);
}

TEST(tdx_dcap_bundle, Errors) {
  auto j = T1();
  j.erase("pck_crl");
  EXPECT_THAT(BundleError(j), HasSubstr("missing pck_crl"));
  j = T1();
  j["tcb_info_sig"] = "00";
  EXPECT_THAT(BundleError(j), HasSubstr("unknown key \"tcb_info_sig\""));
  j = T1();
  j["tcb_info_signature"] = "0011";
  EXPECT_THAT(BundleError(j), HasSubstr("tcb_info_signature: 2 bytes, want 64"));
  j = T1();
  j["root_ca_crl"] = "zz";
  EXPECT_THAT(BundleError(j), HasSubstr("root_ca_crl: not hex der or pem"));
  j = T1();
  j["pck_crl"] = "3003020100";
  EXPECT_THAT(BundleError(j), HasSubstr("pck_crl"));
  j = T1();
  j["qe_identity_issuer_chain"] = "not pem";
  EXPECT_THAT(BundleError(j), HasSubstr("qe_identity_issuer_chain"));
  j = T1();
  j["qe_identity"] = 5;
  EXPECT_THAT(BundleError(j), HasSubstr("qe_identity is not a string"));
  EXPECT_THAT(Msg(ParseDcapBundle("[1]").status()), HasSubstr("not a json object"));
  // Empty CRLs are "not supplied" (the verifier decides whether that is acceptable).
  j = T1();
  j["pck_crl"] = "";
  j["root_ca_crl"] = "";
  auto c = ParseDcapBundle(j.dump());
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->pck_crl.has_value());
}

TEST(tdx_dcap_json, TcbInfoV3Tdx) {
  auto c = ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"));
  auto t = ParseTcbInfo(c->tcb_info);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->id, "TDX");
  EXPECT_EQ(HexEncode(t->fmspc), "b0c06f000000");
  EXPECT_EQ(t->tcb_evaluation_data_number, 17u);
  ASSERT_TRUE(t->tdx_module.has_value());
  ASSERT_EQ(t->tdx_module_identities.size(), 2u);
  EXPECT_EQ(t->tdx_module_identities[1].id, "TDX_01");
  EXPECT_EQ(t->tdx_module_identities[1].levels[1].status, "OutOfDate");
  ASSERT_EQ(t->levels.size(), 2u);
  EXPECT_EQ(t->levels[0].pcesvn, 11);
  EXPECT_EQ(t->levels[0].sgx[7], 5);
  EXPECT_EQ(t->levels[0].tdx[2], 2);
  EXPECT_EQ(t->levels[1].advisory_ids.size(), 14u);
  EXPECT_EQ(FormatRfc3339(t->next_update), "2025-07-19T10:16:03Z");
}

TEST(tdx_dcap_json, SgxTcbInfoAndQeIdentity) {
  auto c = ParseDcapBundle(ReadText("phala-dcap-qvl/sgx_quote_collateral.json"));
  auto t = ParseTcbInfo(c->tcb_info);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->id, "SGX");
  EXPECT_FALSE(t->levels[0].has_tdx);
  auto q = ParseEnclaveIdentity(c->qe_identity);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->id, "QE");
  EXPECT_EQ(q->isvprodid, 1);
  auto td = ParseEnclaveIdentity(ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"))->qe_identity);
  ASSERT_TRUE(td.ok());
  EXPECT_EQ(td->id, "TD_QE");
  EXPECT_EQ(HexEncode(td->mrsigner), "dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5");
  EXPECT_EQ(td->miscselect_mask, 0xFFFFFFFFu);
  EXPECT_EQ(HexEncode(td->attributes_mask), "fbffffffffffffff0000000000000000");
}

std::string TcbError(nlohmann::json j) {
  auto t = ParseTcbInfo(j.dump());
  return t.ok() ? "ok" : std::string(t.status().message());
}

TEST(tdx_dcap_json, TcbInfoErrorsNameThePath) {
  auto base = nlohmann::json::parse(ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"))->tcb_info);
  auto j = base;
  j["version"] = 2;
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.version: 2, want 3"));
  j = base;
  j["id"] = "XYZ";
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.id"));
  j = base;
  j["tcbLevels"][1]["tcbStatus"] = "Fine";
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.tcbLevels[1].tcbStatus: unknown \"Fine\""));
  j = base;
  j["tcbLevels"][0]["tcb"]["sgxtcbcomponents"].erase(0);
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.tcbLevels[0].tcb.sgxtcbcomponents: 15 components"));
  j = base;
  j["tcbLevels"][0]["tcb"]["tdxtcbcomponents"][3]["svn"] = 256;
  EXPECT_THAT(TcbError(j), HasSubstr("tdxtcbcomponents[3].svn: 256 outside 0..255"));
  j = base;
  j["fmspc"] = "B0C06F";
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.fmspc: 3 bytes, want 6"));
  j = base;
  j["nextUpdate"] = "soon";
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.nextUpdate"));
  j = base;
  j.erase("tdxModule");
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.tdxModule: missing"));
  j = base;
  j["tdxModuleIdentities"][0]["tcbLevels"][0]["tcb"] = 3;
  EXPECT_THAT(TcbError(j), HasSubstr("tcbInfo.tdxModuleIdentities[0].tcbLevels[0].tcb: not an object"));
  j = base;
  j["tcbLevels"] = nlohmann::json::array();
  EXPECT_THAT(TcbError(j), HasSubstr("tcbLevels: empty"));
  EXPECT_THAT(Msg(ParseTcbInfo("{").status()), HasSubstr("not valid json"));
}

TEST(tdx_dcap_json, EnclaveIdentityErrors) {
  auto base = nlohmann::json::parse(ParseDcapBundle(ReadText("phala-dcap-qvl/tdx_quote_collateral.json"))->qe_identity);
  auto j = base;
  j["miscselect"] = "000000";
  EXPECT_THAT(Msg(ParseEnclaveIdentity(j.dump()).status()), HasSubstr("enclaveIdentity.miscselect: 3 bytes, want 4"));
  j = base;
  j["isvprodid"] = "2";
  EXPECT_THAT(Msg(ParseEnclaveIdentity(j.dump()).status()), HasSubstr("enclaveIdentity.isvprodid: not an integer"));
  j = base;
  j["tcbLevels"][0]["tcbStatus"] = "Unknown";
  EXPECT_THAT(Msg(ParseEnclaveIdentity(j.dump()).status()), HasSubstr("unknown \"Unknown\""));
}

TEST(tdx_dcap_json, ExtractSignedJsonKeepsTheExactBytes) {
  std::string response = ReadText("go-tdx-guest/sample_tcbInfo_response");
  auto s = ExtractSignedJson(response, "tcbInfo");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->body.front(), '{');
  EXPECT_EQ(s->body.back(), '}');
  EXPECT_NE(response.find(s->body), std::string::npos);
  EXPECT_EQ(s->signature.size(), 128u);
  // Whitespace and member order are preserved as served.
  std::string spaced = "{ \"signature\" : \"ab\" ,\n \"tcbInfo\" : {\"a\": [1, {\"b\":\"}\"}] } }";
  auto t = ExtractSignedJson(spaced, "tcbInfo");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->body, "{\"a\": [1, {\"b\":\"}\"}] }");
  EXPECT_THAT(Msg(ExtractSignedJson(spaced, "enclaveIdentity").status()), HasSubstr("missing"));
  EXPECT_THAT(Msg(ExtractSignedJson("{\"tcbInfo\":{}}", "tcbInfo").status()), HasSubstr("signature: missing"));
  EXPECT_THAT(Msg(ExtractSignedJson("{\"signature\":\"\",\"tcbInfo\":[1]}", "tcbInfo").status()),
              HasSubstr("not an object"));
}

}  // namespace
}  // namespace twi::collateral
