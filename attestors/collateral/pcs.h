// Online DCAP collateral: Intel PCS v4 or any PCCS (same API paths), assembled into the
// nine-item DcapCollateral the verifier takes (dcap_source.h is the interface).
//
// Per quote four items are needed, each fetched and cached on its own, keyed by its URL:
//   TCB Info       <base>/{tdx|sgx}/certification/v4/tcb?fmspc=<FMSPC>   one per TEE and FMSPC
//   QE Identity    <base>/{tdx|sgx}/certification/v4/qe/identity         one per TEE
//   PCK CRL        <base>/sgx/certification/v4/pckcrl?ca=<ca>&encoding=der one per PCK CA
//   Root CA CRL    Intel PCS: https://certificates.trustedservices.intel.com/IntelSGXRootCA.der
//                  a PCCS:    <base>/sgx/certification/v4/rootcacrl
// so items shared by many FMSPCs (QE Identity, CRLs) are fetched once for all of them.
//
// Cache policy: an item is kept until its own nextUpdate (JSON nextUpdate, CRL nextUpdate; a
// CRL without one is not cached). An item already past its nextUpdate when served is refused
// as stale, naming it, and not cached. Failures are never cached and there is no shared
// backoff: a failing FMSPC (404, garbage, a stuck request) costs only the quotes naming it.
// Identical concurrent fetches are coalesced into one request; no lock is held across a
// request, so a slow item never stalls a different one.
//
// Errors name the item ("tdx tcb info for fmspc 50806F000000"), the URL and the HTTP status;
// NOT_FOUND for a 404 (PCS has no collateral for that FMSPC), UNAVAILABLE for other HTTP and
// transport failures and unusable bodies, FAILED_PRECONDITION for stale items. Text echoed
// from responses (PCS's Error-Message header) is bounded and escaped.
//
// What this does not do: verify anything (tdx/verify.h does, against the pinned root), or fetch
// PCK certificates (quotes carry them: certification data type 5).
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <utility>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/collateral/backoff.h"
#include "attestors/collateral/dcap_source.h"
#include "attestors/collateral/http.h"
#include "attestors/collateral/single_flight.h"
#include "attestors/core/expiring_cache.h"

namespace twi::collateral {

inline constexpr char kIntelPcsBaseUrl[] = "https://api.trustedservices.intel.com";
inline constexpr char kIntelRootCaCrlUrl[] =
    "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

struct PcsOptions {
  std::string base_url = kIntelPcsBaseUrl;  // a trailing slash is tolerated
  // "" = Intel's distribution point when base_url is Intel PCS, else the PCCS's rootcacrl.
  std::string root_ca_crl_url;
  BackoffOptions backoff;
  // "" = memory only. Else each item is also kept in a file here (written atomically, 0644)
  // until its nextUpdate, so a restarted server does not ask PCS again:
  //   {tdx,sgx}-tcb-<FMSPC>  {tdx,sgx}-qe-identity  pckcrl-{platform,processor}  rootcacrl
  // each holding the issuer-chain header value (URL-encoded), a newline, and the body.
  std::string cache_dir;
  // Most items kept in memory; FMSPCs come from unverified PCK certificates, so the cache
  // must not grow with made-up ones. Beyond it, expired items go first, then any.
  size_t max_memory_entries = 1024;
};

// Request URLs, exposed for tests and tools. `fmspc` is 6 bytes, written as 12 uppercase hex.
std::string PcsTcbInfoUrl(std::string_view base_url, DcapTee tee, ByteView fmspc);
std::string PcsQeIdentityUrl(std::string_view base_url, DcapTee tee);
std::string PcsPckCrlUrl(std::string_view base_url, PckCa ca);
std::string PcsRootCaCrlUrl(std::string_view base_url);

class PcsClient final : public DcapCollateralSource {
 public:
  // `http` and `clock` are required; `sleeper` null means real sleeping. None is owned.
  static absl::StatusOr<std::unique_ptr<PcsClient>> Create(PcsOptions options, HttpGetter* http,
                                                           const Clock* clock,
                                                           Sleeper* sleeper = nullptr);

  absl::StatusOr<std::shared_ptr<const DcapCollateral>> Get(DcapTee tee, ByteView fmspc,
                                                            PckCa ca) override;

  // How many item requests waited for another caller's identical fetch; for tests and metrics.
  size_t coalesced() const;

  // One fetched, parsed item (public for the implementation's helpers).
  struct Item {
    std::string signed_body;  // TCB Info / QE Identity
    Bytes signature;
    std::optional<Crl> crl;  // CRLs
    std::vector<Certificate> chain;
    TimePoint valid_from{};  // ExpiringCache window: fetched .. nextUpdate
    TimePoint valid_until{};
  };
  enum class Kind { kTcbInfo, kQeIdentity, kPckCrl, kRootCaCrl };

 private:
  PcsClient(PcsOptions options, HttpGetter* http, const Clock* clock, Sleeper* sleeper);
  struct Request {
    std::string url;
    std::string file;  // in cache_dir
    Kind kind;
    std::string what;  // names the item in errors
    DcapTee tee;
    ByteView fmspc;
  };
  // Memory, else (one coalesced) disk cache or request.
  absl::StatusOr<std::shared_ptr<const Item>> Fetch(const Request& req);
  absl::StatusOr<std::shared_ptr<const Item>> FetchUncached(const Request& req);
  // The item a 200 response holds, and its nextUpdate.
  absl::StatusOr<std::pair<std::shared_ptr<Item>, std::optional<TimePoint>>> ParseItem(
      const HttpResponse& response, const Request& req) const;

  PcsOptions options_;
  HttpGetter* http_;
  const Clock* clock_;
  Sleeper* sleeper_;
  std::unique_ptr<Sleeper> own_sleeper_;
  ExpiringCache<Item> cache_;
  // Bundles by TEE, FMSPC and CA, valid while the items they were built from are the cached ones.
  struct Assembled {
    std::array<const Item*, 4> items{};
    std::array<std::shared_ptr<const Item>, 4> keep;
    std::shared_ptr<const DcapCollateral> collateral;
    TimePoint valid_from{}, valid_until{};
  };
  ExpiringCache<Assembled> bundles_;
  SingleFlight<absl::StatusOr<std::shared_ptr<const Item>>> flights_;
};

}  // namespace twi::collateral
