#include "plugin/server/appraisers.h"

#include "attestors/appraisal/protocol.h"
#include "attestors/collateral/http.h"
#include "attestors/collateral/kds.h"
#include "attestors/core/echo.h"
#include "attestors/core/str.h"
#include "attestors/core/x509.h"
#include "attestors/sevsnp/node.h"
#include "attestors/core/file.h"
#include "attestors/core/status.h"
#include "absl/strings/match.h"
// Each kind's appraiser is compiled and linked only when TWI_KINDS has it (cmake/Kinds.cmake);
// MakeAppraisers registers those.
#if TWI_WITH_AZURE
#include "attestors/azure/node.h"
#include "attestors/azure/node_tdx.h"
#endif
#if TWI_WITH_TPM
#include "attestors/tpm/node.h"
#endif
#if TWI_WITH_GCP
#include "attestors/gcp/node.h"
#endif

namespace twi::server {
namespace {

// An appraiser that owns what its options point to: the HTTP getter and the collateral client
// (KDS for SEV-SNP, the DCAP source for TDX) live as long as the appraiser that uses them.
template <typename Inner, typename Source>
class OwningAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  // `attach(options, source)` stores the (non-owning) source pointer in the options.
  template <typename Options, typename Attach>
  OwningAppraiser(std::unique_ptr<collateral::CurlHttpGetter> http, std::unique_ptr<Source> source,
                  Options o, Attach attach)
      : http_(std::move(http)), source_(std::move(source)), inner_([&] {
          attach(o, source_.get());
          return std::move(o);
        }()) {}
  twi::v1::EvidenceKind kind() const override { return inner_.kind(); }
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& e, ByteView rd,
                                                     CheckList* checks) const override {
    return inner_.Appraise(e, rd, checks);
  }
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload, twi::v1::Challenge* challenge,
                                     CheckList* checks) const override {
    return inner_.Challenge(payload, challenge, checks);
  }
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& e, ByteView rd,
                                                             const std::any& state,
                                                             CheckList* checks) const override {
    return inner_.AppraiseResponse(e, rd, state, checks);
  }

 private:
  std::unique_ptr<collateral::CurlHttpGetter> http_;
  std::unique_ptr<Source> source_;
  Inner inner_;
};

}  // namespace

#if TWI_WITH_TDX
absl::StatusOr<tdx::TdxAppraiserOptions> TdxOptionsFromSettings(const config::TdxSettings& s,
                                                                bool allow_simulation) {
  tdx::TdxAppraiserOptions o;
  o.policy = s.policy;
  o.allow_simulation = allow_simulation;
  o.allow_missing_crls = s.allow_missing_crls;
  for (const std::string& f : s.extra_root_files) {
    auto pem = ReadFileToString(f);
    if (!pem.ok()) return absl::InvalidArgumentError(twi::StrCat("tdx.extra_roots: ", pem.status().message()));
    auto certs = ParseCertificates(AsBytes(*pem));
    if (!certs.ok()) {
      return absl::InvalidArgumentError(twi::StrCat("tdx.extra_roots: \"", f, "\": ", certs.status().message()));
    }
    for (const Certificate& c : *certs) {
      if (!c.IsSelfIssued()) {
        return absl::InvalidArgumentError(twi::StrCat(
            "tdx.extra_roots: \"", f, "\": certificate \"", EchoText(c.subject()),
            "\" is not self-issued; an extra root must be a root (the simulator's root.pem)"));
      }
      o.extra_roots.push_back(c);
    }
  }
  return o;
}

namespace {

// What a TDX appraiser needs besides its options: the collateral source (null when none could
// be made from defaults only), owned by whoever owns the appraiser.
struct TdxParts {
  std::unique_ptr<collateral::DcapCollateralSource> source;
  tdx::TdxAppraiserOptions options;
};

absl::StatusOr<TdxParts> MakeTdxParts(const config::TdxSettings& s, bool allow_simulation) {
  auto o = TdxOptionsFromSettings(s, allow_simulation);
  if (!o.ok()) return o.status();
  // No getter passed in: an online source makes its own from the TLS options (a PCCS's
  // self-signed certificate), which a getter made here could not honour.
  static const SystemClock kClock;
  auto source = collateral::MakeDcapCollateralSource(s.collateral, nullptr, &kClock);
  TdxParts p;
  if (source.ok()) {
    p.source = *std::move(source);
  } else if (s.collateral_configured) {
    return absl::InvalidArgumentError(twi::StrCat("tdx collateral: ", source.status().message()));
  } else {
    // Defaults only (no tdx block): SEV-SNP deployments must not fail to start over TDX
    // collateral; TDX attestations then fail UNAVAILABLE with the reason.
    o->collateral_error = twi::StrCat("no tdx collateral source: ", source.status().message(),
                                      "; set tdx.collateral_base_url or tdx.collateral_offline_path");
  }
  p.options = *std::move(o);
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeTdxAppraiser(
    const config::TdxSettings& s, bool allow_simulation) {
  auto p = MakeTdxParts(s, allow_simulation);
  if (!p.ok()) return p.status();
  return std::make_unique<OwningAppraiser<tdx::TdxAppraiser, collateral::DcapCollateralSource>>(
      nullptr, std::move(p->source), std::move(p->options),
      [](tdx::TdxAppraiserOptions& opts, collateral::DcapCollateralSource* src) {
        if (src != nullptr) opts.collateral = src;
      });
}
#endif  // TWI_WITH_TDX

#if TWI_WITH_AZURE
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeAzureTdxAppraiser(
    const config::AzureServerSettings& a, const config::TdxSettings& tdx, bool allow_simulation) {
  auto p = MakeTdxParts(tdx, allow_simulation);
  if (!p.ok()) return p.status();
  azure::AzureTdxAppraiserOptions o;
  o.tdx = std::move(p->options);
  o.vtpm.pcr_policy = a.policy;
  o.vtpm.selector_pcrs = a.selector_pcrs;
  return std::make_unique<OwningAppraiser<azure::AzureTdxAppraiser, collateral::DcapCollateralSource>>(
      nullptr, std::move(p->source), std::move(o),
      [](azure::AzureTdxAppraiserOptions& opts, collateral::DcapCollateralSource* src) {
        if (src != nullptr) opts.tdx.collateral = src;
      });
}
#endif  // TWI_WITH_AZURE

absl::StatusOr<sevsnp::SnpAppraiserOptions> SnpOptionsFromSettings(const config::SnpSettings& s,
                                                                   bool allow_simulation) {
  sevsnp::SnpAppraiserOptions o;
  o.policy = s.policy;
  o.product = s.product;
  o.allow_simulation = allow_simulation;
  o.crl = s.crl == "off" ? sevsnp::CrlMode::kOff
          : s.crl == "require" ? sevsnp::CrlMode::kRequire : sevsnp::CrlMode::kIfAvailable;
  for (const auto& root : s.extra_root_files) {
    const std::string& f = root.path;
    auto pem = ReadFileToString(f);
    if (!pem.ok()) return absl::InvalidArgumentError(twi::StrCat("sev_snp.extra_roots: ", pem.status().message()));
    auto certs = ParseCertificates(AsBytes(*pem));
    if (!certs.ok()) {
      return absl::InvalidArgumentError(twi::StrCat("sev_snp.extra_roots: \"", f, "\": ", certs.status().message()));
    }
    for (const Certificate& c : *certs) {
      // Scoped: each extra root is trusted only for the product its ARK names and the key
      // type its entry names.
      std::string cn = c.subject_cn();
      if (!c.IsSelfIssued() || cn.rfind("ARK-", 0) != 0 ||
          sevsnp::ProductFromName(cn.substr(4)) == sevsnp::Product::kUnknown) {
        return absl::InvalidArgumentError(twi::StrCat(
            "sev_snp.extra_roots: \"", f, "\": certificate \"", EchoText(c.subject()),
            "\" is not a self-issued ARK naming its product (CN ARK-Milan, ARK-Genoa or "
            "ARK-Turin); an extra root is trusted only for the product it names"));
      }
      o.extra_roots.push_back({c, root.key});
    }
  }
  return o;
}

absl::StatusOr<std::unique_ptr<collateral::KdsClient>> MakeKdsClient(const config::SnpSettings& s,
                                                                     collateral::HttpGetter* http) {
  collateral::KdsOptions ko;
  ko.base_url = s.kds_base_url;
  ko.cache_dir = s.kds_cache_dir;
  ko.offline_dir = s.kds_offline_dir;
  static const SystemClock kClock;
  return collateral::KdsClient::Create(ko, http, &kClock);
}

namespace {

// What a SEV-SNP appraiser needs besides its options: the HTTP getter and KDS client (when the
// settings name a source), owned by whoever owns the appraiser.
struct SnpParts {
  std::unique_ptr<collateral::CurlHttpGetter> http;
  std::unique_ptr<collateral::KdsClient> kds;
  sevsnp::SnpAppraiserOptions options;
};

absl::StatusOr<SnpParts> MakeSnpParts(const config::SnpSettings& s, bool allow_simulation) {
  auto o = SnpOptionsFromSettings(s, allow_simulation);
  if (!o.ok()) return o.status();
  SnpParts p;
  p.options = *std::move(o);
  if (!s.kds_offline_dir.empty() || !s.kds_base_url.empty()) {
    if (s.kds_offline_dir.empty()) p.http = std::make_unique<collateral::CurlHttpGetter>(collateral::CurlOptions{});
    auto client = MakeKdsClient(s, p.http.get());
    if (!client.ok()) return client.status();
    p.kds = *std::move(client);
  }
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeSnpAppraiser(
    const config::SnpSettings& s, bool allow_simulation) {
  auto p = MakeSnpParts(s, allow_simulation);
  if (!p.ok()) return p.status();
  return std::make_unique<OwningAppraiser<sevsnp::SnpAppraiser, collateral::KdsClient>>(
      std::move(p->http), std::move(p->kds), std::move(p->options),
      [](sevsnp::SnpAppraiserOptions& opts, collateral::KdsClient* kds) { opts.kds = kds; });
}

absl::StatusOr<std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>>> MakeAppraisers(
    const config::ServerConfig& cfg) {
  // The registration seam: only the kinds in TWI_KINDS (config::kBuiltKinds) are registered;
  // evidence of the others finds no appraiser and is refused with KindsNotBuilt's reason.
  std::vector<std::unique_ptr<appraisal::EvidenceAppraiser>> out;
  auto snp = MakeSnpAppraiser(cfg.sev_snp, cfg.insecure_simulation_roots);
  if (!snp.ok()) return snp.status();
  out.push_back(*std::move(snp));
  [[maybe_unused]] const appraisal::EvidenceAppraiser* snp_appraiser = out.back().get();
  [[maybe_unused]] const appraisal::EvidenceAppraiser* tdx_appraiser = nullptr;
  if constexpr (config::kBuiltKinds.tdx) {
    auto tdx = MakeTdxAppraiser(cfg.tdx, cfg.insecure_simulation_roots);
    if (!tdx.ok()) return tdx.status();
    out.push_back(*std::move(tdx));
    tdx_appraiser = out.back().get();
  }
  if constexpr (config::kBuiltKinds.tpm) {
    if (cfg.tpm.enabled) {
      auto tpm = MakeTpmAppraiser(cfg.tpm);
      if (!tpm.ok()) return tpm.status();
      out.push_back(*std::move(tpm));
    }
  }
  if constexpr (config::kBuiltKinds.azure) {
    if (cfg.azure.enabled && cfg.azure.accept_sev_snp) {
      auto azure = MakeAzureSnpAppraiser(cfg.azure, cfg.sev_snp, cfg.insecure_simulation_roots);
      if (!azure.ok()) return azure.status();
      out.push_back(*std::move(azure));
    }
    if (cfg.azure.enabled && cfg.azure.accept_tdx) {
      auto azure = MakeAzureTdxAppraiser(cfg.azure, cfg.tdx, cfg.insecure_simulation_roots);
      if (!azure.ok()) return azure.status();
      out.push_back(*std::move(azure));
    }
  }
  if constexpr (config::kBuiltKinds.gcp) {
    if (cfg.gcp.enabled) {
      // The SEV-SNP and TDX appraisers above verify GCP's hardware evidence too; `out` owns
      // them for as long as the GCP appraiser lives.
      auto gcp = MakeGcpAppraiser(cfg.gcp, cfg.insecure_simulation_roots, snp_appraiser, tdx_appraiser);
      if (!gcp.ok()) return gcp.status();
      out.push_back(*std::move(gcp));
    }
  }
  return out;
}

std::map<twi::v1::EvidenceKind, std::string> KindsNotBuilt(const config::BuiltKinds& built) {
  std::map<twi::v1::EvidenceKind, std::string> out;
  for (int k = twi::v1::EvidenceKind_MIN; k <= twi::v1::EvidenceKind_MAX; ++k) {
    if (!twi::v1::EvidenceKind_IsValid(k) || k == twi::v1::EVIDENCE_KIND_UNSPECIFIED) continue;
    const auto kind = static_cast<twi::v1::EvidenceKind>(k);
    const std::string name = appraisal::KindName(kind);
    if (!built.Has(name)) out[kind] = config::NotBuilt(twi::StrCat(name, " evidence"), name, built);
  }
  return out;
}

#if TWI_WITH_AZURE
namespace {

// The Azure SEV-SNP appraiser with the SEV-SNP appraiser (sev_snp settings: roots, policy,
// KDS) it verifies the HCL's report with, and that one's collateral client, owned together.
class OwningAzureSnpAppraiser final : public appraisal::EvidenceAppraiser {
 public:
  OwningAzureSnpAppraiser(SnpParts parts, azure::AzureAppraiserOptions o)
      : http_(std::move(parts.http)), kds_(std::move(parts.kds)), snp_([&] {
          parts.options.kds = kds_.get();
          return std::move(parts.options);
        }()),
        inner_(&snp_, std::move(o)) {}
  twi::v1::EvidenceKind kind() const override { return inner_.kind(); }
  absl::StatusOr<appraisal::EvidenceResult> Appraise(const twi::v1::Evidence& e, ByteView rd,
                                                     CheckList* checks) const override {
    return inner_.Appraise(e, rd, checks);
  }
  absl::StatusOr<std::any> Challenge(const twi::v1::Payload& payload, twi::v1::Challenge* challenge,
                                     CheckList* checks) const override {
    return inner_.Challenge(payload, challenge, checks);
  }
  absl::StatusOr<appraisal::EvidenceResult> AppraiseResponse(const twi::v1::Evidence& e, ByteView rd,
                                                             const std::any& state,
                                                             CheckList* checks) const override {
    return inner_.AppraiseResponse(e, rd, state, checks);
  }

 private:
  std::unique_ptr<collateral::CurlHttpGetter> http_;
  std::unique_ptr<collateral::KdsClient> kds_;
  sevsnp::SnpAppraiser snp_;
  azure::AzureSnpAppraiser inner_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeAzureSnpAppraiser(
    const config::AzureServerSettings& a, const config::SnpSettings& snp, bool allow_simulation) {
  auto parts = MakeSnpParts(snp, allow_simulation);
  if (!parts.ok()) return parts.status();
  azure::AzureAppraiserOptions o;
  o.pcr_policy = a.policy;
  o.selector_pcrs = a.selector_pcrs;
  return std::make_unique<OwningAzureSnpAppraiser>(*std::move(parts), std::move(o));
}
#endif  // TWI_WITH_AZURE

#if TWI_WITH_TPM
namespace {

// Certificates of the PEM files under `key`: self-issued ones are roots, the rest a pool of
// intermediates.
absl::Status ReadCaFiles(std::string_view key, const std::vector<std::string>& files,
                         std::vector<Certificate>* roots, std::vector<Certificate>* intermediates) {
  for (const std::string& f : files) {
    auto pem = ReadFileToString(f);
    if (!pem.ok()) return absl::InvalidArgumentError(twi::StrCat(key, ": ", pem.status().message()));
    auto certs = ParseCertificates(AsBytes(*pem));
    if (!certs.ok()) {
      return absl::InvalidArgumentError(twi::StrCat(key, ": \"", f, "\": ", certs.status().message()));
    }
    for (Certificate& c : *certs) (c.IsSelfIssued() ? roots : intermediates)->push_back(std::move(c));
  }
  if (!files.empty() && roots->empty()) {
    return absl::InvalidArgumentError(twi::StrCat(
        key, ": no self-issued root certificate in the files; intermediates alone anchor nothing"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeTpmAppraiser(
    const config::TpmServerSettings& s) {
  tpm::TpmAppraiserOptions o;
  TWI_RETURN_IF_ERROR(ReadCaFiles("tpm.ek_ca_files", s.ek_ca_files, &o.anchors.ek_roots,
                                  &o.anchors.ek_intermediates));
  TWI_RETURN_IF_ERROR(ReadCaFiles("tpm.ak_ca_files", s.ak_ca_files, &o.anchors.ak_roots,
                                  &o.anchors.ak_intermediates));
  o.anchors.ek_spki_sha256 = s.ek_hashes;
  o.policy = s.policy;
  o.selector_pcrs = s.selector_pcrs;
  return std::make_unique<tpm::TpmAppraiser>(std::move(o));
}
#endif  // TWI_WITH_TPM

#if TWI_WITH_GCP
absl::StatusOr<std::unique_ptr<appraisal::EvidenceAppraiser>> MakeGcpAppraiser(
    const config::GcpServerSettings& s, bool allow_simulation,
    const appraisal::EvidenceAppraiser* sev_snp, const appraisal::EvidenceAppraiser* tdx) {
  gcp::GcpAppraiserOptions o;
  TWI_RETURN_IF_ERROR(ReadCaFiles("gcp.ca_bundle", s.ca_bundle, &o.cas.roots, &o.cas.intermediates));
  if (!allow_simulation) {
    // The simulator's CA (gcp/sim.h names every certificate of it so) vouches for nothing.
    for (const auto* set : {&o.cas.roots, &o.cas.intermediates}) {
      for (const Certificate& c : *set) {
        if (absl::StrContains(c.subject(), ToAbsl(gcp::kSimulatedCaOrganization))) {
          return absl::InvalidArgumentError(twi::StrCat(
              "gcp.ca_bundle: \"", EchoText(c.subject()), "\" is the simulated GCE vTPM CA; "
              "it is accepted only with insecure_simulation_roots = true (development only)"));
        }
      }
    }
  }
  auto tee = gcp::ParseHardware(s.require_tee);
  if (!tee.ok()) return absl::InvalidArgumentError(twi::StrCat("gcp.require_tee: ", tee.status().message()));
  o.require_tee = *tee;
  o.sev_snp = sev_snp;
  o.tdx = tdx;
  o.allow_simulation = allow_simulation;
  o.allow_non_production = s.allow_non_production;
  o.allowed_project_ids = s.allowed_project_ids;
  o.policy = s.policy;
  o.selector_pcrs = s.selector_pcrs;
  return std::make_unique<gcp::GcpAppraiser>(std::move(o));
}
#endif  // TWI_WITH_GCP

}  // namespace twi::server
