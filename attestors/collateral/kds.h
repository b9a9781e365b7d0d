// AMD Key Distribution Service client: VCEK certificates, the ASK/ASVK + ARK chains and the
// VCEK/VLEK CRLs (spec 1.9), with a memory cache, an optional disk cache and an offline mode.
//
// Cache policy: a VCEK is immutable for its (product, hwid, TCB) and the chains live for 25
// years, so both are kept until removed by hand; a CRL is kept only until its nextUpdate (then
// fetched again; a CRL without nextUpdate is never cached). What comes from KDS is checked to
// parse (DER certificate, PEM chain, DER CRL) before it is cached, so an HTML error page with
// status 200 is never stored.
//
// Disk layout (the cache directory and the offline directory share it, so a cache filled on a
// connected machine can be copied to an air-gapped one as its offline directory):
//
//   vcek/v1/<Product>/cert_chain                 PEM: ASK, then ARK
//   vlek/v1/<Product>/cert_chain                 PEM: ASVK, then ARK
//   vcek/v1/<Product>/crl                        DER CRL
//   vlek/v1/<Product>/crl                        DER CRL
//   vcek/v1/<Product>/<hwid hex>/<tcb>.der       DER VCEK
//
// <Product> is Milan, Genoa or Turin; <hwid hex> is 128 lowercase hex digits (16 on Turin);
// <tcb> is "bl<n>-tee<n>-snp<n>-ucode<n>", prefixed with "fmc<n>-" on Turin, decimal.
// Files are written atomically with mode 0644.
//
// What this does not do: verify signatures, chains, validity or revocation (verify.h does; a
// returned CRL may be expired in offline mode), or fetch VLEKs (AMD does not serve them; they
// come with the evidence).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "attestors/collateral/backoff.h"
#include "attestors/collateral/http.h"
#include "attestors/collateral/single_flight.h"
#include "attestors/core/bytes.h"
#include "attestors/core/clock.h"

namespace twi::collateral {

enum class AmdProduct { kMilan, kGenoa, kTurin };
// "Milan", "Genoa", "Turin": KDS's spelling.
const char* AmdProductName(AmdProduct product);

enum class AmdKeyKind { kVcek, kVlek };

// REPORTED_TCB by component; `fmc` is used on Turin only.
struct KdsTcb {
  uint8_t fmc = 0;
  uint8_t bl = 0;
  uint8_t tee = 0;
  uint8_t snp = 0;
  uint8_t ucode = 0;
};

struct KdsOptions {
  std::string base_url = "https://kdsintf.amd.com";
  std::string cache_dir;    // empty: memory cache only
  std::string offline_dir;  // non-empty: read only from here, never touch the network
  BackoffOptions backoff;
  // Most objects kept in memory. Evidence names chip IDs before any signature is checked, so
  // without a bound a stream of made-up IDs could grow the cache without end; beyond it,
  // expired entries go first, then the oldest.
  size_t max_memory_entries = 4096;
};

class KdsClient {
 public:
  // `http` may be null in offline mode only; `sleeper` null means real sleeping. None is
  // owned; each must outlive the client. Thread-safe.
  static absl::StatusOr<std::unique_ptr<KdsClient>> Create(KdsOptions options, HttpGetter* http,
                                                           const Clock* clock,
                                                           Sleeper* sleeper = nullptr);

  // The DER VCEK for a chip at a TCB. `hwid` is CHIP_ID: 64 bytes on Milan/Genoa; on Turin
  // 8 bytes, or 64 with the last 56 zero. FAILED_PRECONDITION for an all-zero (masked) id,
  // NOT_FOUND when KDS answers 404 or the offline file is missing, UNAVAILABLE for other
  // HTTP failures (URL and status in the message).
  absl::StatusOr<Bytes> GetVcek(AmdProduct product, ByteView hwid, const KdsTcb& tcb);
  // PEM: ASK (or ASVK), then ARK.
  absl::StatusOr<std::string> GetCertChain(AmdProduct product, AmdKeyKind kind);
  // DER CRL signed by the ARK.
  absl::StatusOr<Bytes> GetCrl(AmdProduct product, AmdKeyKind kind);

  // How many requests were answered by another caller's fetch of the same object (waiting
  // for it instead of asking KDS again); for tests and metrics.
  size_t coalesced() const;

  // URL paths (append to base_url) and cache-relative file names, exposed for tests and tools.
  static absl::StatusOr<std::string> VcekUrlPath(AmdProduct product, ByteView hwid,
                                                 const KdsTcb& tcb);
  static absl::StatusOr<std::string> VcekFilePath(AmdProduct product, ByteView hwid,
                                                  const KdsTcb& tcb);
  static std::string CertChainPath(AmdProduct product, AmdKeyKind kind);
  static std::string CrlPath(AmdProduct product, AmdKeyKind kind);

 private:
  struct Entry {
    Bytes data;
    std::optional<TimePoint> expires;  // nullopt: never
  };
  enum class Kind { kCert, kChain, kCrl };

  KdsClient(KdsOptions options, HttpGetter* http, const Clock* clock, Sleeper* sleeper);
  // Memory, then disk, then network; `file` is cache-relative, `url_path` KDS-relative.
  absl::StatusOr<Bytes> Fetch(const std::string& file, const std::string& url_path, Kind kind,
                              bool not_found_on_404);
  // Parses `data` as `kind`; the expiry for the cache, or an error when it does not parse.
  absl::StatusOr<std::optional<TimePoint>> Check(ByteView data, Kind kind) const;
  bool Fresh(const Entry& e) const;

  KdsOptions options_;
  HttpGetter* http_;
  const Clock* clock_;
  Sleeper* sleeper_;
  std::unique_ptr<Sleeper> own_sleeper_;

  absl::StatusOr<Bytes> FetchUncached(const std::string& file, const std::string& url_path,
                                      Kind kind, bool not_found_on_404);
  void Remember(const std::string& file, const Bytes& data, std::optional<TimePoint> expires);

  // No lock is held across a network request or a Retry-After wait: fetches of different
  // objects proceed side by side, so one slow or rate-limited object never stalls another.
  mutable std::mutex mu_;  // guards memory_, order_
  std::map<std::string, Entry> memory_;
  std::deque<std::string> order_;  // insertion order of memory_, for eviction
  // Identical concurrent requests wait for one fetch and share its result.
  SingleFlight<absl::StatusOr<Bytes>> flights_;
};

}  // namespace twi::collateral
