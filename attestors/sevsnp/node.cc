#include "attestors/sevsnp/node.h"

#include <algorithm>
#include <cstring>

#include "attestors/core/status.h"
#include "attestors/core/str.h"

namespace twi::sevsnp {
namespace {

// After a failed CRL fetch, do not try the network again for this long: an unreachable KDS
// must not add a timeout to every attestation.
constexpr auto kCrlRetryDelay = std::chrono::minutes(5);

collateral::AmdProduct ToKdsProduct(Product p) {
  switch (p) {
    case Product::kGenoa: return collateral::AmdProduct::kGenoa;
    case Product::kTurin: return collateral::AmdProduct::kTurin;
    default: return collateral::AmdProduct::kMilan;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<SnpDevice>> OpenLocalDevice(const LocalDeviceOptions& o) {
  if (o.simulate == "sev-snp") {
    SimHierarchyOptions ho;
    ho.rsa_bits = o.sim_rsa_bits;
    ho.dir = o.sim_dir;
    TWI_ASSIGN_OR_RETURN(auto hierarchy, SimHierarchy::Create(ho));
    SimOptions so;
    so.hierarchy = std::move(hierarchy);
    so.fast_for_tests = false;
    so.measurement = o.sim_measurement;
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<SnpSimulator> sim, SnpSimulator::Create(std::move(so)));
    return std::unique_ptr<SnpDevice>(
        std::make_unique<SimulatedSnpDevice>(std::shared_ptr<const SnpSimulator>(std::move(sim))));
  }
  SnpDeviceOptions d;
  d.configfs.root = o.configfs_path;
  d.sev_guest.path = o.device_path;
  auto dev = OpenSnpDevice(d);
  if (dev.ok()) return dev;
  if (absl::IsNotFound(dev.status())) return std::unique_ptr<SnpDevice>();
  return dev.status();
}

absl::StatusOr<std::vector<std::string>> LocalContextSelectors(SnpDevice& device) {
  ReportData rd{};
  TWI_ASSIGN_OR_RETURN(SnpDeviceReport r, device.GetReport(rd, 0));
  auto parsed = ParseReport(r.report);
  if (!parsed.ok()) return Annotate(parsed.status(), "local SEV-SNP report");
  const AttestationReport& a = *parsed;
  return std::vector<std::string>{
      "tee:sev-snp",
      twi::StrCat("sev-snp:measurement:", HexEncode(ByteView(a.measurement.data(), a.measurement.size()))),
      twi::StrCat("sev-snp:host-data:", HexEncode(ByteView(a.host_data.data(), a.host_data.size()))),
      twi::StrCat("sev-snp:policy-debug:", a.policy.debug ? "true" : "false"),
      twi::StrCat("sev-snp:vmpl:", a.vmpl)};
}

appraisal::Claims NormalizedClaims(const AttestationReport& r, bool simulated) {
  auto hex = [](const auto& a) { return HexEncode(ByteView(a.data(), a.size())); };
  appraisal::Claims c = {
      {"tee", "sev-snp"},
      {"debug", r.policy.debug ? "true" : "false"},
      {"simulated", simulated ? "true" : "false"},
      {"sev_snp_measurement", hex(r.measurement)},
      {"sev_snp_host_data", hex(r.host_data)},
      {"sev_snp_report_id", hex(r.report_id)},
      {"sev_snp_vmpl", twi::StrCat(r.vmpl)},
      {"sev_snp_guest_svn", twi::StrCat(r.guest_svn)},
      {"sev_snp_signing_key", std::string(SigningKeyName(r.signer_info.signing_key))},
  };
  if (r.product != Product::kUnknown) c["platform"] = std::string(ProductName(r.product));
  if (r.reported_tcb.decoded) {
    c["sev_snp_tcb_bootloader"] = twi::StrCat(r.reported_tcb.bootloader);
    c["sev_snp_tcb_tee"] = twi::StrCat(r.reported_tcb.tee);
    c["sev_snp_tcb_snp"] = twi::StrCat(r.reported_tcb.snp);
    c["sev_snp_tcb_microcode"] = twi::StrCat(r.reported_tcb.microcode);
    if (r.reported_tcb.has_fmc) c["sev_snp_tcb_fmc"] = twi::StrCat(r.reported_tcb.fmc);
  }
  // Absent rather than all-zero: a policy listing a value must not match a missing ID block.
  auto set_if = [&](const char* name, ByteView v) {
    if (!IsAllZero(v)) c[name] = HexEncode(v);
  };
  set_if("sev_snp_id_key_digest", ByteView(r.id_key_digest.data(), r.id_key_digest.size()));
  set_if("sev_snp_author_key_digest", ByteView(r.author_key_digest.data(), r.author_key_digest.size()));
  set_if("sev_snp_family_id", ByteView(r.family_id.data(), r.family_id.size()));
  set_if("sev_snp_image_id", ByteView(r.image_id.data(), r.image_id.size()));
  set_if("sev_snp_chip_id", ByteView(r.chip_id.data(), r.chip_id.size()));
  return c;
}

absl::StatusOr<twi::v1::Evidence> SnpCollector::Collect(ByteView report_data) {
  if (report_data.size() != 64) {
    return absl::InvalidArgumentError(twi::StrCat("report data must be 64 bytes, got ", report_data.size()));
  }
  ReportData rd;
  std::copy(report_data.begin(), report_data.end(), rd.begin());
  std::lock_guard<std::mutex> l(mu_);
  TWI_ASSIGN_OR_RETURN(SnpDeviceReport r, device_->GetReport(rd, vmpl_));
  twi::v1::Evidence e;
  e.set_kind(kind());
  auto* snp = e.mutable_sev_snp();
  snp->set_report(std::string(AsString(r.report)));
  snp->set_cert_table(std::string(AsString(r.cert_table)));
  snp->set_simulated(r.provider == kSimulatedProvider);
  return e;
}

SnpAppraiser::SnpAppraiser(SnpAppraiserOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : &system_clock_) {}

std::optional<Crl> SnpAppraiser::FetchCrl(Product product, SigningKey key, std::string* why) const {
  if (options_.kds == nullptr) {
    *why = "no collateral source configured";
    return std::nullopt;
  }
  const auto cache_key = std::make_pair(product, key);
  {
    std::lock_guard<std::mutex> l(crl_mu_);
    auto it = crls_.find(cache_key);
    if (it != crls_.end()) {
      if (it->second.next_update() && clock_->Now() < *it->second.next_update()) return it->second;
      crls_.erase(it);
    }
    auto retry = crl_retry_after_.find(cache_key);
    if (retry != crl_retry_after_.end() && std::chrono::steady_clock::now() < retry->second) {
      *why = twi::StrCat("the last fetch of the ", ProductName(product), " ",
                         SigningKeyName(key), " crl failed; retrying later");
      return std::nullopt;
    }
  }
  auto der = options_.kds->GetCrl(ToKdsProduct(product),
                                  key == SigningKey::kVlek ? collateral::AmdKeyKind::kVlek
                                                           : collateral::AmdKeyKind::kVcek);
  if (der.ok()) {
    auto crl = Crl::Parse(*der);
    if (crl.ok()) {
      std::lock_guard<std::mutex> l(crl_mu_);
      crls_.insert_or_assign(cache_key, *crl);
      crl_retry_after_.erase(cache_key);
      return *std::move(crl);
    }
    *why = std::string(crl.status().message());
  } else {
    *why = std::string(der.status().message());
  }
  std::lock_guard<std::mutex> l(crl_mu_);
  crl_retry_after_[cache_key] = std::chrono::steady_clock::now() + kCrlRetryDelay;
  return std::nullopt;
}

absl::StatusOr<Certificate> SnpAppraiser::FetchVcek(const AttestationReport& report,
                                                    CheckList* checks) const {
  Product product = report.product != Product::kUnknown ? report.product : options_.product;
  if (product == Product::kUnknown) {
    return checks->Fail("collateral.vcek",
                        "the report does not name its product (version 2) and no VCEK came "
                        "with it; set sev_snp.product to fetch the VCEK",
                        absl::StatusCode::kInvalidArgument);
  }
  TcbVersion tcb = DecodeTcb(report.reported_tcb.raw, product);
  collateral::KdsTcb kt{tcb.fmc, tcb.bootloader, tcb.tee, tcb.snp, tcb.microcode};
  ByteView hwid(report.chip_id.data(), product == Product::kTurin ? 8 : 64);
  auto der = options_.kds->GetVcek(ToKdsProduct(product), hwid, kt);
  if (!der.ok()) {
    return checks->Fail("collateral.vcek", std::string(der.status().message()), der.status().code());
  }
  auto cert = Certificate::FromDer(*der);
  if (!cert.ok()) {
    return checks->Fail("collateral.vcek", std::string(cert.status().message()),
                        absl::StatusCode::kUnavailable);
  }
  checks->Pass("collateral.vcek", "VCEK fetched from AMD KDS (or its cache)");
  return cert;
}

namespace {

// True when a VCEK's TCB extensions do not match the report's REPORTED_TCB: the host's
// certificate table still holds the VCEK of an older TCB (e.g. after a firmware update).
bool StaleVcek(const Certificate& vcek, const AttestationReport& report, Product product) {
  if (product == Product::kUnknown) return false;
  auto ext = ParseAmdExtensions(vcek);
  if (!ext.ok()) return false;  // the verifier reports that with its own check
  TcbVersion t = DecodeTcb(report.reported_tcb.raw, product);
  return ext->bl_spl != t.bootloader || ext->tee_spl != t.tee || ext->snp_spl != t.snp ||
         ext->ucode_spl != t.microcode || (t.has_fmc && ext->fmc_spl != t.fmc);
}

}  // namespace

VerifyOptions SnpAppraiser::VerifyOptionsFor(bool simulated) const {
  VerifyOptions vo;
  vo.time = clock_->Now();
  vo.product = options_.product;
  vo.extra_trusted_roots = options_.extra_roots;
  // Simulated evidence too must chain to a configured root (the simulator's ark.pem): a root
  // the evidence carries is never trusted, since anyone can mint one.
  vo.allow_simulation_roots = !options_.extra_roots.empty();
  if (options_.crl != CrlMode::kOff && !simulated) {
    // The verifier asks for the CRL once the chain is verified, for that chain's root product
    // and intermediate kind: nothing from the report picks it.
    vo.crl_source = [this](Product root_product, bool asvk, std::string* why) {
      return FetchCrl(root_product, asvk ? SigningKey::kVlek : SigningKey::kVcek, why);
    };
    vo.crl_policy = options_.crl == CrlMode::kRequire ? CrlPolicy::kRequire : CrlPolicy::kAllowMissing;
  }
  return vo;
}

absl::StatusOr<VerifiedReport> SnpAppraiser::Verify(ByteView report_bytes, ByteView cert_table,
                                                    const std::optional<Certificate>& given,
                                                    std::span<const Certificate> extra_certs,
                                                    bool simulated, CheckList* checks) const {
  if (simulated && !options_.allow_simulation) {
    return checks->Fail("evidence.simulated",
                        "the report comes from the software simulator, not AMD hardware; set "
                        "insecure_simulation_roots = true and pin the simulator's ark.pem in "
                        "sev_snp.extra_roots to accept it (development only)");
  }
  ParseOptions po;
  po.product = options_.product;
  auto parsed = ParseReport(report_bytes, po);
  if (!parsed.ok()) {
    return checks->Fail("report.structure", std::string(parsed.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  AttestationReport report = *std::move(parsed);
  auto entries = ParseCertTable(cert_table);
  if (!entries.ok()) {
    return checks->Fail("evidence.cert_table", std::string(entries.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  std::vector<Certificate> chain(extra_certs.begin(), extra_certs.end());
  std::optional<Certificate> endorsement = given;
  const SigningKey key = report.signer_info.signing_key;
  const bool from_table = !given.has_value();
  for (const auto& e : *entries) {
    // Only the entries this report can use are parsed: a host may add vendor blobs under
    // GUIDs of its own (GHCB spec: unknown entries are ignored).
    const bool endorsement_entry = (key == SigningKey::kVcek && e.guid == kGuidVcek) ||
                                   (key == SigningKey::kVlek && e.guid == kGuidVlek);
    if (!endorsement_entry && e.guid != kGuidAsk && e.guid != kGuidArk) continue;
    auto cert = Certificate::Parse(e.data);
    if (!cert.ok()) {
      return checks->Fail("evidence.cert_table",
                          twi::StrCat("certificate ", GuidString(e.guid), " does not parse: ",
                                      cert.status().message()),
                          absl::StatusCode::kInvalidArgument);
    }
    if (endorsement_entry) {
      if (!endorsement) endorsement = *cert;
    } else {
      chain.push_back(*std::move(cert));
    }
  }
  const bool can_fetch = key == SigningKey::kVcek && options_.kds != nullptr && !simulated;
  if (endorsement && from_table && can_fetch) {
    Product product = report.product != Product::kUnknown ? report.product : options_.product;
    if (StaleVcek(*endorsement, report, product)) {
      checks->Pass("evidence.vcek",
                   "the certificate table's VCEK is for another TCB than REPORTED_TCB; "
                   "fetching the current one");
      endorsement.reset();
    }
  }
  if (!endorsement && can_fetch) {
    TWI_ASSIGN_OR_RETURN(Certificate vcek, FetchVcek(report, checks));
    endorsement = std::move(vcek);
  }
  if (!endorsement) {
    return checks->Fail(
        "evidence.endorsement",
        key == SigningKey::kVlek
            ? "the report is VLEK-signed but carries no VLEK (AMD KDS does not serve VLEKs)"
            : twi::StrCat("the report is ", SigningKeyName(key),
                          "-signed and no VCEK came with it (no certificate table entry",
                          options_.kds ? "" : ", and no collateral source is configured", ")"),
        absl::StatusCode::kInvalidArgument);
  }

  VerifyOptions vo = VerifyOptionsFor(simulated);
  return VerifyReport(report, *endorsement, chain, vo, *checks, &cache_);
}

absl::StatusOr<appraisal::EvidenceResult> SnpAppraiser::Appraise(const twi::v1::Evidence& evidence,
                                                                 ByteView expected_report_data,
                                                                 CheckList* checks) const {
  if (!evidence.has_sev_snp()) {
    return checks->Fail("evidence.kind", "sev-snp evidence without an SEV-SNP body",
                        absl::StatusCode::kInvalidArgument);
  }
  const auto& snp = evidence.sev_snp();
  TWI_ASSIGN_OR_RETURN(VerifiedReport v, Verify(AsBytes(snp.report()), AsBytes(snp.cert_table()),
                                                std::nullopt, {}, snp.simulated(), checks));
  const AttestationReport& r = v.report;
  if (!ConstantTimeEqual(ByteView(r.report_data.data(), r.report_data.size()), expected_report_data)) {
    return checks->Fail("report.report_data",
                        twi::StrCat("REPORT_DATA ", ShortHex(ByteView(r.report_data.data(), 64)),
                                    " is not bound to this attestation's nonce and instance key "
                                    "(want ", ShortHex(expected_report_data), ")"),
                        absl::StatusCode::kInvalidArgument);
  }
  checks->Pass("report.report_data", "bound to the nonce and the instance key");
  TWI_RETURN_IF_ERROR(sevsnp::Appraise(r, options_.policy, *checks));
  appraisal::EvidenceResult out;
  out.selectors = Selectors(r);
  // Which kind of root verified the evidence: AMD's pinned ARKs, or a configured extra root
  // (the simulator's, with insecure_simulation_roots).
  const char* root = v.builtin_root ? "amd" : "extra";
  out.selectors.push_back(twi::StrCat("sev-snp:root:", root));
  out.fields["sev_snp.root"] = twi::StrCat(root, " ", v.root_label, " sha256:", v.root_fingerprint.substr(0, 16));
  if (snp.simulated()) out.selectors.push_back("sev-snp:simulated:true");
  auto claims = Claims(r);
  for (const char* k : {"chip_id", "measurement", "host_data", "report_id"}) {
    out.fields[twi::StrCat("sev_snp.", k)] = claims[k];
  }
  if (IsAllZero(ByteView(r.chip_id.data(), r.chip_id.size()))) out.fields["sev_snp.chip_id"] = "";
  out.claims = NormalizedClaims(r, snp.simulated());
  return out;
}

}  // namespace twi::sevsnp
