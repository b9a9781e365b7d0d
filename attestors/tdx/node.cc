#include "attestors/tdx/node.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "attestors/core/status.h"
#include "attestors/core/str.h"
#include "attestors/tdx/ccel.h"
#include "attestors/tdx/sim.h"

namespace twi::tdx {
namespace {

// The collateral to fetch for a quote, from its (not yet verified) PCK certificate: FMSPC and
// the issuing CA only choose the bundle; VerifyQuote then checks the bundle and the chain
// against the pinned root, so a forged choice fails verification, never skips a check.
struct CollateralKey {
  Bytes fmspc;
  collateral::PckCa ca = collateral::PckCa::kPlatform;
};

absl::StatusOr<CollateralKey> KeyOf(const Quote& quote) {
  TWI_ASSIGN_OR_RETURN(auto chain, ParsePemBundle(AsString(quote.qe.pck_chain)));
  TWI_ASSIGN_OR_RETURN(PckExtensions ext, ParsePckExtensions(chain.front()));
  CollateralKey k;
  k.fmspc = std::move(ext.fmspc);
  if (absl::StrContains(chain.front().issuer(), "PCK Processor CA")) k.ca = collateral::PckCa::kProcessor;
  return k;
}

// RTMR0-2 of the quote against the CCEL's replay; the first difference names its RTMR. The
// boot facts of a log that replayed (nullopt when none was sent): only then do they mean
// anything.
absl::StatusOr<std::optional<eventlog::BootFacts>> CheckCcel(const twi::v1::TdxEvidence& ev,
                                                             const TdReport& td, CheckList& checks) {
  if (ev.ccel_table().empty() && ev.ccel_data().empty()) {
    checks.Pass("ccel.replay", "no event log sent: no boot facts from it");
    return std::nullopt;
  }
  auto table = ParseCcelTable(AsBytes(ev.ccel_table()));
  if (!table.ok()) {
    return checks.Fail("ccel.table", std::string(table.status().message()),
                       absl::StatusCode::kInvalidArgument);
  }
  auto replay = ReplayCcel(AsBytes(ev.ccel_data()));
  if (!replay.ok()) {
    return checks.Fail("ccel.replay", std::string(replay.status().message()),
                       absl::StatusCode::kInvalidArgument);
  }
  for (size_t i = 0; i < 3; ++i) {
    if (!ConstantTimeEqual(replay->rtmr[i], td.rtmr[i])) {
      return checks.Fail(
          "ccel.replay",
          StrCat("RTMR", i, " replays to ", ShortHex(replay->rtmr[i]), " from the event log but the quote says ",
                 ShortHex(td.rtmr[i]), ": the log is not the one this TD measured"),
          absl::StatusCode::kInvalidArgument);
    }
  }
  checks.Pass("ccel.replay", StrCat("the event log (", replay->log.events.size(),
                                    " events) replays to the quote's RTMR0-2"));
  return std::move(replay->facts);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TdxDevice>> OpenLocalTdxDevice(const LocalTdxOptions& o) {
  if (o.simulate == "tdx") {
    SimOptions so;
    so.dir = o.sim_dir;
    so.mr_td = o.sim_mrtd;
    if (o.sim_debug) so.td_attributes |= kTdAttrDebug;
    TWI_ASSIGN_OR_RETURN(CcelFiles ccel, ReadCcel(o.ccel));
    if (ccel.present()) {
      auto replay = ReplayCcel(ccel.data);
      if (!replay.ok()) return Annotate(replay.status(), "simulated td: replaying the ccel");
      for (size_t i = 0; i < 3; ++i) {
        Mr m{};
        std::copy_n(replay->rtmr[i].begin(), std::min(m.size(), replay->rtmr[i].size()), m.begin());
        so.rtmr[i] = m;
      }
    }
    TWI_ASSIGN_OR_RETURN(std::unique_ptr<TdxSimulator> sim, TdxSimulator::Create(std::move(so)));
    if (!o.sim_dir.empty()) {
      // Fresh collateral (30 days) for a server's collateral_offline_path, replaced atomically.
      std::string tmp = StrCat(o.sim_dir, "/collateral.json.tmp-", getpid());
      FILE* f = std::fopen(tmp.c_str(), "wb");
      const std::string& json = sim->collateral_json();
      bool ok = f != nullptr && std::fwrite(json.data(), 1, json.size(), f) == json.size();
      if (f != nullptr) ok = std::fclose(f) == 0 && ok;
      if (!ok || std::rename(tmp.c_str(), StrCat(o.sim_dir, "/collateral.json").c_str()) != 0) {
        std::remove(tmp.c_str());
        return absl::InternalError(StrCat("writing ", o.sim_dir, "/collateral.json failed"));
      }
    }
    return std::unique_ptr<TdxDevice>(
        std::make_unique<SimulatedTdxDevice>(std::shared_ptr<const TdxSimulator>(std::move(sim))));
  }
  if (!o.simulate.empty()) return std::unique_ptr<TdxDevice>();
  tsm::ConfigfsTsmOptions c;
  c.root = o.configfs_path;
  auto dev = OpenTdxDevice(c);
  if (dev.ok()) return dev;
  if (absl::IsNotFound(dev.status())) return std::unique_ptr<TdxDevice>();
  return dev.status();
}

absl::StatusOr<std::vector<std::string>> LocalContextSelectors(TdxDevice& device) {
  ReportData rd{};
  TWI_ASSIGN_OR_RETURN(TdxDeviceQuote q, device.GetQuote(rd));
  auto parsed = ParseQuote(q.quote);
  if (!parsed.ok()) return Annotate(parsed.status(), "local TDX quote");
  if (!parsed->td) return absl::InternalError("local TDX quote: not a TD quote");
  const TdReport& td = *parsed->td;
  std::vector<std::string> out = {"tee:tdx", StrCat("tdx:mrtd:", HexEncode(td.mr_td))};
  for (size_t i = 0; i < 4; ++i) out.push_back(StrCat("tdx:rtmr", i, ":", HexEncode(td.rtmr[i])));
  out.push_back(StrCat("tdx:mrconfigid:", HexEncode(td.mr_config_id)));
  out.push_back(StrCat("tdx:debug:", td.debug() ? "true" : "false"));
  return out;
}

appraisal::Claims NormalizedClaims(const VerifiedQuote& v, bool simulated) {
  appraisal::Claims c;
  if (!v.quote.td) return c;
  const TdReport& td = *v.quote.td;
  c["tee"] = "tdx";
  c["debug"] = td.debug() ? "true" : "false";
  c["simulated"] = simulated ? "true" : "false";
  c["tdx_mrtd"] = HexEncode(td.mr_td);
  for (size_t i = 0; i < 4; ++i) c[StrCat("tdx_rtmr", i)] = HexEncode(td.rtmr[i]);
  c["tdx_mrconfigid"] = HexEncode(td.mr_config_id);
  c["tdx_mrowner"] = HexEncode(td.mr_owner);
  c["tdx_mrownerconfig"] = HexEncode(td.mr_owner_config);
  c["tdx_tee_tcb_svn"] = HexEncode(td.tee_tcb_svn);
  c["tdx_xfam"] = absl::StrFormat("%016x", td.xfam);
  c["tdx_td_attributes"] = absl::StrFormat("%016x", td.td_attributes);
  if (v.has_tcb) c["tdx_tcb_status"] = v.tcb.status;
  if (v.has_pck) c["tdx_fmspc"] = HexEncode(v.pck.fmspc);
  return c;
}

absl::StatusOr<twi::v1::Evidence> TdxCollector::Collect(ByteView report_data) {
  if (report_data.size() != 64) {
    return absl::InvalidArgumentError(StrCat("report data must be 64 bytes, got ", report_data.size()));
  }
  ReportData rd;
  std::copy(report_data.begin(), report_data.end(), rd.begin());
  // Read before the quote: a log that cannot be read fails the collection instead of sending a
  // quote whose RTMRs nobody can explain.
  TWI_ASSIGN_OR_RETURN(CcelFiles ccel, ReadCcel(ccel_));
  std::lock_guard<std::mutex> l(mu_);
  TWI_ASSIGN_OR_RETURN(TdxDeviceQuote q, device_->GetQuote(rd));
  twi::v1::Evidence e;
  e.set_kind(kind());
  auto* tdx = e.mutable_tdx();
  tdx->set_quote(std::string(AsString(q.quote)));
  tdx->set_ccel_table(std::string(AsString(ccel.table)));
  tdx->set_ccel_data(std::string(AsString(ccel.data)));
  tdx->set_simulated(q.provider == kSimulatedProvider);
  return e;
}

absl::StatusOr<std::shared_ptr<const collateral::DcapCollateral>> TdxAppraiser::FetchCollateral(
    const Quote& quote, CheckList* checks) const {
  auto key = KeyOf(quote);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        StrCat("the quote's PCK certificate: ", key.status().message()));
  }
  if (options_.collateral == nullptr) return absl::UnavailableError(options_.collateral_error);
  auto bundle = options_.collateral->Get(collateral::DcapTee::kTdx, key->fmspc, key->ca);
  if (!bundle.ok()) return absl::UnavailableError(bundle.status().message());
  checks->Pass("collateral.fetch", StrCat("collateral for fmspc ", HexEncode(key->fmspc), " (",
                                          collateral::PckCaName(key->ca), " ca)"));
  return bundle;
}

VerifyOptions TdxAppraiser::VerifyOptionsNow() const {
  VerifyOptions vo;
  vo.time = clock_->Now();
  vo.extra_trusted_roots = options_.extra_roots;
  // Simulated evidence too must chain to a configured root: one the evidence carries is never
  // trusted, since anyone can mint one.
  vo.allow_simulation_roots = options_.allow_simulation && !options_.extra_roots.empty();
  vo.allow_missing_crls = options_.allow_missing_crls;
  return vo;
}

void AddVerifiedQuote(const VerifiedQuote& v, bool simulated, appraisal::EvidenceResult* out) {
  const TdReport& td = *v.quote.td;
  for (std::string& s : Selectors(v)) out->selectors.push_back(std::move(s));
  // Which kind of root verified the quote: Intel's pinned root, or a configured extra root
  // (the simulator's, with insecure_simulation_roots).
  const char* root = v.builtin_root ? "intel" : "extra";
  out->selectors.push_back(StrCat("tdx:root:", root));
  if (simulated) out->selectors.push_back("tdx:simulated:true");
  out->fields["tdx.root"] = root;
  out->fields["tdx.mrtd"] = HexEncode(td.mr_td);
  out->fields["tdx.mrconfigid"] = HexEncode(td.mr_config_id);
  out->fields["tdx.fmspc"] = HexEncode(v.pck.fmspc);
  out->fields["tdx.tcb_status"] = v.tcb.status;
  for (auto& [k, val] : NormalizedClaims(v, simulated)) out->claims[k] = val;
}

TdxAppraiser::TdxAppraiser(TdxAppraiserOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : &system_clock_) {}

absl::StatusOr<appraisal::EvidenceResult> TdxAppraiser::Appraise(const twi::v1::Evidence& evidence,
                                                                 ByteView expected_report_data,
                                                                 CheckList* checks) const {
  if (!evidence.has_tdx()) {
    return checks->Fail("evidence.kind", "tdx evidence without a TDX body",
                        absl::StatusCode::kInvalidArgument);
  }
  const auto& ev = evidence.tdx();
  if (ev.simulated() && !options_.allow_simulation) {
    return checks->Fail("evidence.simulated",
                        "the quote comes from the software simulator, not Intel hardware; set "
                        "insecure_simulation_roots = true and pin the simulator's root.pem in "
                        "tdx.extra_roots to accept it (development only)");
  }
  auto parsed = ParseQuote(AsBytes(ev.quote()));
  if (!parsed.ok()) {
    return checks->Fail("quote.structure", std::string(parsed.status().message()),
                        absl::StatusCode::kInvalidArgument);
  }
  if (!parsed->is_tdx()) {
    return checks->Fail("quote.structure", "an SGX enclave quote; want a TD quote",
                        absl::StatusCode::kInvalidArgument);
  }
  auto bundle = FetchCollateral(*parsed, checks);
  if (!bundle.ok()) {
    return checks->Fail(absl::IsUnavailable(bundle.status()) ? "collateral.fetch" : "quote.pck",
                        std::string(bundle.status().message()), bundle.status().code());
  }
  const VerifyOptions vo = VerifyOptionsNow();
  VerifiedQuote v;
  absl::Status s = VerifyQuote(*parsed, **bundle, vo, *checks, &v, &cache_);
  if (!s.ok()) return s;
  const TdReport& td = *v.quote.td;
  if (!ConstantTimeEqual(ByteView(td.report_data.data(), td.report_data.size()), expected_report_data)) {
    return checks->Fail("quote.report_data",
                        StrCat("REPORTDATA ", ShortHex(ByteView(td.report_data.data(), 64)),
                               " is not bound to this attestation's nonce and instance key (want ",
                               ShortHex(expected_report_data), ")"),
                        absl::StatusCode::kInvalidArgument);
  }
  checks->Pass("quote.report_data", "bound to the nonce and the instance key");
  TWI_ASSIGN_OR_RETURN(std::optional<eventlog::BootFacts> facts, CheckCcel(ev, td, *checks));
  TWI_RETURN_IF_ERROR(tdx::Appraise(v, options_.policy, *checks));

  appraisal::EvidenceResult out;
  AddVerifiedQuote(v, ev.simulated(), &out);
  if (facts && facts->secure_boot) {
    const char* on = *facts->secure_boot ? "true" : "false";
    out.selectors.push_back(StrCat("tdx:secure-boot:", on));
    out.claims["tdx_secure_boot"] = on;
  }
  if (facts && !facts->boot_applications.empty()) {
    out.claims["tdx_boot_loader"] = HexEncode(facts->boot_applications.front());
  }
  return out;
}

}  // namespace twi::tdx
