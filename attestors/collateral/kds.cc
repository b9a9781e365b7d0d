#include "attestors/collateral/kds.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "attestors/collateral/file_store.h"
#include "attestors/core/crypto.h"
#include "attestors/core/status.h"

namespace twi::collateral {
namespace {

const char* KindDir(AmdKeyKind kind) { return kind == AmdKeyKind::kVcek ? "vcek" : "vlek"; }

// The hwid as KDS spells it: 64 bytes on Milan/Genoa, the first 8 on Turin.
absl::StatusOr<Bytes> NormalizeHwid(AmdProduct product, ByteView hwid) {
  size_t want = product == AmdProduct::kTurin ? 8 : 64;
  bool ok = hwid.size() == want || (hwid.size() == 64 && IsAllZero(hwid.subspan(want)));
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hwid for ", AmdProductName(product), ": got ", hwid.size(), " bytes ", ShortHex(hwid),
        ", want ", want, want == 8 ? " (or 64 with the last 56 zero)" : ""));
  }
  Bytes out(hwid.begin(), hwid.begin() + want);
  if (IsAllZero(out)) {
    return absl::FailedPreconditionError(
        "hwid is all zero (CHIP_ID masked by the host): a vcek cannot be looked up");
  }
  return out;
}

absl::StatusOr<TimePoint> AsnTime(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return absl::InvalidArgumentError("unreadable crl time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

const char* AmdProductName(AmdProduct product) {
  switch (product) {
    case AmdProduct::kMilan: return "Milan";
    case AmdProduct::kGenoa: return "Genoa";
    case AmdProduct::kTurin: return "Turin";
  }
  return "unknown";
}

absl::StatusOr<std::string> KdsClient::VcekUrlPath(AmdProduct product, ByteView hwid,
                                                   const KdsTcb& tcb) {
  TWI_ASSIGN_OR_RETURN(Bytes id, NormalizeHwid(product, hwid));
  std::string path = absl::StrCat("/vcek/v1/", AmdProductName(product), "/", HexEncode(id), "?");
  if (product == AmdProduct::kTurin) absl::StrAppend(&path, "fmcSPL=", tcb.fmc, "&");
  absl::StrAppend(&path, "blSPL=", tcb.bl, "&teeSPL=", tcb.tee, "&snpSPL=", tcb.snp,
                  "&ucodeSPL=", tcb.ucode);
  return path;
}

absl::StatusOr<std::string> KdsClient::VcekFilePath(AmdProduct product, ByteView hwid,
                                                    const KdsTcb& tcb) {
  TWI_ASSIGN_OR_RETURN(Bytes id, NormalizeHwid(product, hwid));
  std::string name = product == AmdProduct::kTurin ? absl::StrCat("fmc", tcb.fmc, "-") : "";
  absl::StrAppend(&name, "bl", tcb.bl, "-tee", tcb.tee, "-snp", tcb.snp, "-ucode", tcb.ucode);
  return absl::StrCat("vcek/v1/", AmdProductName(product), "/", HexEncode(id), "/", name, ".der");
}

std::string KdsClient::CertChainPath(AmdProduct product, AmdKeyKind kind) {
  return absl::StrCat(KindDir(kind), "/v1/", AmdProductName(product), "/cert_chain");
}

std::string KdsClient::CrlPath(AmdProduct product, AmdKeyKind kind) {
  return absl::StrCat(KindDir(kind), "/v1/", AmdProductName(product), "/crl");
}

absl::StatusOr<std::unique_ptr<KdsClient>> KdsClient::Create(KdsOptions options,
                                                             HttpGetter* http,
                                                             const Clock* clock,
                                                             Sleeper* sleeper) {
  if (clock == nullptr) return absl::InvalidArgumentError("kds client: a clock is required");
  if (options.offline_dir.empty()) {
    if (http == nullptr) {
      return absl::InvalidArgumentError("kds client: an http getter is required unless offline");
    }
    if (options.base_url.empty()) return absl::InvalidArgumentError("kds client: empty base url");
    while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  }
  return std::unique_ptr<KdsClient>(new KdsClient(std::move(options), http, clock, sleeper));
}

KdsClient::KdsClient(KdsOptions options, HttpGetter* http, const Clock* clock, Sleeper* sleeper)
    : options_(std::move(options)), http_(http), clock_(clock), sleeper_(sleeper) {
  if (sleeper_ == nullptr) {
    own_sleeper_ = std::make_unique<RealSleeper>();
    sleeper_ = own_sleeper_.get();
  }
}

absl::StatusOr<Bytes> KdsClient::GetVcek(AmdProduct product, ByteView hwid, const KdsTcb& tcb) {
  TWI_ASSIGN_OR_RETURN(std::string url_path, VcekUrlPath(product, hwid, tcb));
  TWI_ASSIGN_OR_RETURN(std::string file, VcekFilePath(product, hwid, tcb));
  return Fetch(file, url_path, Kind::kCert, /*not_found_on_404=*/true);
}

absl::StatusOr<std::string> KdsClient::GetCertChain(AmdProduct product, AmdKeyKind kind) {
  std::string path = CertChainPath(product, kind);
  TWI_ASSIGN_OR_RETURN(Bytes pem, Fetch(path, "/" + path, Kind::kChain, false));
  return std::string(pem.begin(), pem.end());
}

absl::StatusOr<Bytes> KdsClient::GetCrl(AmdProduct product, AmdKeyKind kind) {
  std::string path = CrlPath(product, kind);
  return Fetch(path, "/" + path, Kind::kCrl, false);
}

absl::StatusOr<std::optional<TimePoint>> KdsClient::Check(ByteView data, Kind kind) const {
  const unsigned char* p = data.data();
  switch (kind) {
    case Kind::kCert: {
      X509Ptr x(d2i_X509(nullptr, &p, static_cast<long>(data.size())));
      if (!x || p != data.data() + data.size()) {
        return OpenSslError("not a DER certificate", absl::StatusCode::kInvalidArgument);
      }
      return std::optional<TimePoint>();
    }
    case Kind::kChain: {
      BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
      int n = 0;
      while (X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))) ++n;
      OpenSslErrors();  // the end of input leaves a "no start line" error queued
      if (n < 2) {
        return absl::InvalidArgumentError(
            absl::StrCat("not a PEM certificate chain: got ", n, " certificates, want 2"));
      }
      return std::optional<TimePoint>();
    }
    case Kind::kCrl: {
      X509CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size())));
      if (!crl || p != data.data() + data.size()) {
        return OpenSslError("not a DER crl", absl::StatusCode::kInvalidArgument);
      }
      const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl.get());
      if (next == nullptr) return std::optional<TimePoint>(clock_->Now());  // stale at once
      TWI_ASSIGN_OR_RETURN(TimePoint t, AsnTime(next));
      return std::optional<TimePoint>(t);
    }
  }
  return absl::InternalError("unknown collateral kind");
}

bool KdsClient::Fresh(const Entry& e) const {
  return !e.expires.has_value() || clock_->Now() < *e.expires;
}

absl::StatusOr<Bytes> KdsClient::Fetch(const std::string& file, const std::string& url_path,
                                       Kind kind, bool not_found_on_404) {
  if (!options_.offline_dir.empty()) {
    // Offline: the file as the operator placed it, checked to parse but not for expiry (the
    // verifier reports an expired CRL with its dates, which is more useful than "missing").
    std::string path = absl::StrCat(options_.offline_dir, "/", file);
    absl::StatusOr<Bytes> data = ReadWholeFile(path);
    if (absl::IsNotFound(data.status())) {
      return absl::NotFoundError(absl::StrCat("offline kds: ", path, " does not exist"));
    }
    if (!data.ok()) return data.status();
    absl::StatusOr<std::optional<TimePoint>> ok = Check(*data, kind);
    if (!ok.ok()) return Annotate(ok.status(), absl::StrCat("offline kds: ", path));
    return data;
  }

  return flights_.Do(
      file,
      [&]() -> std::optional<absl::StatusOr<Bytes>> {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = memory_.find(file);
        if (it != memory_.end() && Fresh(it->second)) return absl::StatusOr<Bytes>(it->second.data);
        return std::nullopt;
      },
      [&] { return FetchUncached(file, url_path, kind, not_found_on_404); });
}

size_t KdsClient::coalesced() const { return flights_.coalesced(); }

void KdsClient::Remember(const std::string& file, const Bytes& data,
                         std::optional<TimePoint> expires) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!memory_.contains(file)) {
    if (memory_.size() >= std::max<size_t>(options_.max_memory_entries, 1)) {
      std::erase_if(memory_, [&](const auto& kv) { return !Fresh(kv.second); });
      std::erase_if(order_, [&](const std::string& f) { return !memory_.contains(f); });
    }
    while (memory_.size() >= std::max<size_t>(options_.max_memory_entries, 1) && !order_.empty()) {
      memory_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(file);
  }
  memory_[file] = Entry{data, expires};
}

absl::StatusOr<Bytes> KdsClient::FetchUncached(const std::string& file,
                                               const std::string& url_path, Kind kind,
                                               bool not_found_on_404) {
  std::string disk_path =
      options_.cache_dir.empty() ? "" : absl::StrCat(options_.cache_dir, "/", file);
  if (!disk_path.empty()) {
    absl::StatusOr<Bytes> data = ReadWholeFile(disk_path);
    if (data.ok()) {
      absl::StatusOr<std::optional<TimePoint>> expires = Check(*data, kind);
      // A corrupt or expired cache file is simply fetched again and overwritten.
      if (expires.ok() && Fresh(Entry{{}, *expires})) {
        Remember(file, *data, *expires);
        return data;
      }
    }
  }

  std::string url = options_.base_url + url_path;
  TWI_ASSIGN_OR_RETURN(HttpResponse response,
                       GetWithBackoff(*http_, url, options_.backoff, *sleeper_, *clock_));
  if (response.status == 404 && not_found_on_404) {
    return absl::NotFoundError(absl::StrCat("GET ", url, ": http status 404 (kds has no such vcek)"));
  }
  if (response.status == 429) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": http status 429 (rate limited; gave up after retrying)"));
  }
  if (response.status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", url, ": http status ", response.status));
  }
  Bytes body(response.body.begin(), response.body.end());
  absl::StatusOr<std::optional<TimePoint>> expires = Check(body, kind);
  if (!expires.ok()) {
    return absl::UnavailableError(
        absl::StrCat("GET ", url, ": unusable response: ", expires.status().message()));
  }
  if (Fresh(Entry{{}, *expires})) {
    Remember(file, body, *expires);
    // A cache that cannot be written costs a refetch later, never this answer.
    if (!disk_path.empty()) WriteFileAtomic(disk_path, body, 0644).IgnoreError();
  }
  return body;
}

}  // namespace twi::collateral
