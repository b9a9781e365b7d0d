#include "attestors/collateral/pcs.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "attestors/collateral/file_store.h"
#include "attestors/collateral/pcs_response.h"
#include "attestors/core/echo.h"
#include "attestors/core/status.h"

namespace twi::collateral {
namespace {

// The path segment of PCS v4 ("tdx", "sgx"), also used to name items in errors and files.
const char* TeeName(DcapTee tee) { return tee == DcapTee::kTdx ? "tdx" : "sgx"; }

std::string Trimmed(std::string_view base_url) {
  while (!base_url.empty() && base_url.back() == '/') base_url.remove_suffix(1);
  return std::string(base_url);
}

std::string FmspcHex(ByteView fmspc) { return absl::AsciiStrToUpper(HexEncode(fmspc)); }

// Intel's error headers on 4xx/5xx ("Error-Code", "Error-Message"), bounded and escaped.
std::string ErrorDetail(const HttpResponse& r) {
  std::string code = r.Header("error-code"), message = r.Header("error-message");
  if (code.empty() && message.empty()) return "";
  return StrCat(" (", EchoText(code, 40), code.empty() || message.empty() ? "" : ": ",
                EchoText(message, 120), ")");
}

// The issuer-chain header of a response: TCB Info answers name it TCB-Info-Issuer-Chain in
// PCS v4 and SGX-TCB-Info-Issuer-Chain in v3 and some PCCS versions.
const char* ChainHeaderName(PcsClient::Kind kind) {
  return kind == PcsClient::Kind::kTcbInfo      ? "TCB-Info-Issuer-Chain"
         : kind == PcsClient::Kind::kQeIdentity ? "SGX-Enclave-Identity-Issuer-Chain"
                                                : "SGX-PCK-CRL-Issuer-Chain";
}

std::string ChainHeader(const HttpResponse& r, PcsClient::Kind kind) {
  std::string value = r.Header(ChainHeaderName(kind));
  if (value.empty() && kind == PcsClient::Kind::kTcbInfo) value = r.Header("SGX-TCB-Info-Issuer-Chain");
  return value;
}

absl::StatusOr<std::vector<Certificate>> Chain(const HttpResponse& r, PcsClient::Kind kind) {
  const char* name = ChainHeaderName(kind);
  std::string value = ChainHeader(r, kind);
  if (value.empty()) return absl::InvalidArgumentError(StrCat("no ", name, " header"));
  auto chain = ParseIssuerChainHeader(value);
  if (!chain.ok()) return Annotate(chain.status(), StrCat(name, " header"));
  return chain;
}

}  // namespace

std::string PcsTcbInfoUrl(std::string_view base_url, DcapTee tee, ByteView fmspc) {
  return StrCat(Trimmed(base_url), "/", TeeName(tee), "/certification/v4/tcb?fmspc=", FmspcHex(fmspc));
}

std::string PcsQeIdentityUrl(std::string_view base_url, DcapTee tee) {
  return StrCat(Trimmed(base_url), "/", TeeName(tee), "/certification/v4/qe/identity");
}

std::string PcsPckCrlUrl(std::string_view base_url, PckCa ca) {
  return StrCat(Trimmed(base_url), "/sgx/certification/v4/pckcrl?ca=", PckCaName(ca), "&encoding=der");
}

std::string PcsRootCaCrlUrl(std::string_view base_url) {
  std::string base = Trimmed(base_url);
  if (base == kIntelPcsBaseUrl) return kIntelRootCaCrlUrl;
  return StrCat(base, "/sgx/certification/v4/rootcacrl");
}

absl::StatusOr<std::unique_ptr<PcsClient>> PcsClient::Create(PcsOptions options, HttpGetter* http,
                                                             const Clock* clock, Sleeper* sleeper) {
  if (http == nullptr || clock == nullptr) {
    return absl::InvalidArgumentError("pcs client: an http getter and a clock are required");
  }
  options.base_url = Trimmed(options.base_url);
  if (options.base_url.rfind("https://", 0) != 0 && options.base_url.rfind("http://", 0) != 0) {
    return absl::InvalidArgumentError(
        StrCat("pcs client: base url \"", EchoText(options.base_url, 80), "\" is not http(s)"));
  }
  if (options.root_ca_crl_url.empty()) options.root_ca_crl_url = PcsRootCaCrlUrl(options.base_url);
  return std::unique_ptr<PcsClient>(new PcsClient(std::move(options), http, clock, sleeper));
}

PcsClient::PcsClient(PcsOptions options, HttpGetter* http, const Clock* clock, Sleeper* sleeper)
    : options_(std::move(options)),
      http_(http),
      clock_(clock),
      sleeper_(sleeper),
      cache_(std::max<size_t>(options_.max_memory_entries, 1)),
      bundles_(std::max<size_t>(options_.max_memory_entries, 1)) {
  if (sleeper_ == nullptr) {
    own_sleeper_ = std::make_unique<RealSleeper>();
    sleeper_ = own_sleeper_.get();
  }
}

size_t PcsClient::coalesced() const { return flights_.coalesced(); }

absl::StatusOr<std::shared_ptr<const DcapCollateral>> PcsClient::Get(DcapTee tee, ByteView fmspc,
                                                                     PckCa ca) {
  if (fmspc.size() != 6) {
    return absl::InvalidArgumentError(StrCat("fmspc: ", fmspc.size(), " bytes, want 6"));
  }
  const std::string fmspc_hex = FmspcHex(fmspc);
  const char* dir = TeeName(tee);  // file names: tdx-tcb-<FMSPC>, ...
  TWI_ASSIGN_OR_RETURN(auto tcb, Fetch({PcsTcbInfoUrl(options_.base_url, tee, fmspc),
                                        StrCat(dir, "-tcb-", fmspc_hex), Kind::kTcbInfo,
                                        StrCat(TeeName(tee), " tcb info for fmspc ", fmspc_hex), tee, fmspc}));
  TWI_ASSIGN_OR_RETURN(auto qe, Fetch({PcsQeIdentityUrl(options_.base_url, tee), StrCat(dir, "-qe-identity"),
                                       Kind::kQeIdentity, StrCat(TeeName(tee), " qe identity"), tee, fmspc}));
  TWI_ASSIGN_OR_RETURN(auto pck_crl, Fetch({PcsPckCrlUrl(options_.base_url, ca), StrCat("pckcrl-", PckCaName(ca)),
                                            Kind::kPckCrl, StrCat("pck crl (", PckCaName(ca), " ca)"), tee, fmspc}));
  TWI_ASSIGN_OR_RETURN(auto root_crl, Fetch({options_.root_ca_crl_url, "rootcacrl", Kind::kRootCaCrl,
                                             "root ca crl", tee, fmspc}));
  // The bundle assembled from these very items, when it was built before: a warm Get copies
  // and hashes nothing.
  const std::string key = StrCat(TeeName(tee), "/", fmspc_hex, "/", PckCaName(ca));
  const TimePoint now = clock_->Now();
  if (auto hit = bundles_.Lookup(key, now);
      hit && hit->items == std::array<const Item*, 4>{tcb.get(), qe.get(), pck_crl.get(), root_crl.get()}) {
    return hit->collateral;
  }
  auto c = std::make_shared<DcapCollateral>();
  c->pck_crl_issuer_chain = pck_crl->chain;
  c->root_ca_crl = root_crl->crl;
  c->pck_crl = pck_crl->crl;
  c->tcb_info_issuer_chain = tcb->chain;
  c->tcb_info = tcb->signed_body;
  c->tcb_info_signature = tcb->signature;
  c->qe_identity_issuer_chain = qe->chain;
  c->qe_identity = qe->signed_body;
  c->qe_identity_signature = qe->signature;
  SealDcapCollateral(*c);
  auto assembled = std::make_shared<Assembled>();
  assembled->items = {tcb.get(), qe.get(), pck_crl.get(), root_crl.get()};
  assembled->keep = {tcb, qe, pck_crl, root_crl};  // the pointers above stay unique
  assembled->collateral = std::move(c);
  assembled->valid_from = now;
  assembled->valid_until = std::min({tcb->valid_until, qe->valid_until, pck_crl->valid_until,
                                     root_crl->valid_until});
  if (assembled->valid_until > now) bundles_.Insert(key, assembled, now);
  return assembled->collateral;
}

absl::StatusOr<std::shared_ptr<const PcsClient::Item>> PcsClient::Fetch(const Request& req) {
  using Result = absl::StatusOr<std::shared_ptr<const Item>>;
  return flights_.Do(
      req.url,
      [&]() -> std::optional<Result> {
        if (auto hit = cache_.Lookup(req.url, clock_->Now())) return Result(std::move(hit));
        return std::nullopt;
      },
      [&] { return FetchUncached(req); });
}

absl::StatusOr<std::pair<std::shared_ptr<PcsClient::Item>, std::optional<TimePoint>>>
PcsClient::ParseItem(const HttpResponse& response, const Request& req) const {
  auto item = std::make_shared<Item>();
  std::optional<TimePoint> next_update;
  if (req.kind == Kind::kTcbInfo || req.kind == Kind::kQeIdentity) {
    bool tdx = req.tee == DcapTee::kTdx;
    auto doc = req.kind == Kind::kTcbInfo
                   ? ParseTcbInfoResponse(response.body, tdx ? "TDX" : "SGX", req.fmspc)
                   : ParseQeIdentityResponse(response.body, tdx ? "TD_QE" : "QE");
    if (!doc.ok()) return doc.status();
    item->signed_body = std::move(doc->body);
    item->signature = std::move(doc->signature);
    next_update = doc->next_update;
  } else {
    TWI_ASSIGN_OR_RETURN(Crl crl, ParseCrlBody(response.body));
    next_update = crl.next_update();
    item->crl = std::move(crl);
  }
  if (req.kind != Kind::kRootCaCrl) {
    TWI_ASSIGN_OR_RETURN(item->chain, Chain(response, req.kind));
  }
  return std::make_pair(std::move(item), next_update);
}

absl::StatusOr<std::shared_ptr<const PcsClient::Item>> PcsClient::FetchUncached(const Request& req) {
  const std::string disk_path =
      options_.cache_dir.empty() ? "" : StrCat(options_.cache_dir, "/", req.file);
  if (!disk_path.empty()) {
    // Cache file: the issuer-chain header value (URL-encoded, so one line), "\n", the body.
    // One that does not parse or is past its nextUpdate is simply fetched again.
    if (auto data = ReadWholeFile(disk_path); data.ok()) {
      std::string_view text = AsString(*data);
      size_t nl = text.find('\n');
      HttpResponse cached{200, std::string(text.substr(nl == text.npos ? text.size() : nl + 1)), {}};
      cached.headers[req.kind == Kind::kTcbInfo ? "tcb-info-issuer-chain"
                     : req.kind == Kind::kQeIdentity ? "sgx-enclave-identity-issuer-chain"
                                                      : "sgx-pck-crl-issuer-chain"] =
          std::string(text.substr(0, nl));
      TimePoint now = clock_->Now();
      if (auto parsed = ParseItem(cached, req);
          parsed.ok() && parsed->second.has_value() && *parsed->second >= now) {
        parsed->first->valid_from = now;
        parsed->first->valid_until = *parsed->second;
        cache_.Insert(req.url, parsed->first, now);
        return std::shared_ptr<const Item>(std::move(parsed->first));
      }
    }
  }

  const std::string& url = req.url;
  const std::string& what = req.what;
  auto response = GetWithBackoff(*http_, url, options_.backoff, *sleeper_, *clock_);
  if (!response.ok()) return Annotate(response.status(), what);
  if (response->status == 404) {
    return absl::NotFoundError(
        StrCat(what, ": GET ", url, ": http status 404", ErrorDetail(*response)));
  }
  if (response->status != 200) {
    return absl::UnavailableError(
        StrCat(what, ": GET ", url, ": http status ", response->status, ErrorDetail(*response)));
  }
  auto parsed = ParseItem(*response, req);
  if (!parsed.ok()) {
    return absl::UnavailableError(StrCat(what, ": GET ", url, ": unusable response: ",
                                         EchoText(ToStd(parsed.status().message()))));
  }
  auto [item, next_update] = *std::move(parsed);
  TimePoint now = clock_->Now();
  TWI_RETURN_IF_ERROR(CheckNotStale(StrCat(what, " from ", url), next_update, now));
  item->valid_from = now;
  if (next_update.has_value()) {  // a CRL without nextUpdate is used once, never cached
    item->valid_until = *next_update;
    cache_.Insert(url, item, now);
    if (!disk_path.empty()) {
      std::string chain = req.kind == Kind::kRootCaCrl ? "" : ChainHeader(*response, req.kind);
      // A cache that cannot be written costs a refetch later, never this answer.
      WriteFileAtomic(disk_path, AsBytes(StrCat(chain, "\n", response->body)), 0644).IgnoreError();
    }
  }
  return std::shared_ptr<const Item>(std::move(item));
}

}  // namespace twi::collateral
