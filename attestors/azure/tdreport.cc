#include "attestors/azure/tdreport.h"

#include <algorithm>

#include "absl/status/status.h"
#include "attestors/core/crypto.h"
#include "attestors/core/str.h"

namespace twi::azure {
namespace {

// REPORTMACSTRUCT
constexpr size_t kCpuSvn = 16, kTcbInfoHash = 32, kTeeInfoHash = 80, kReportData = 128, kMac = 224;
// TEE_TCB_INFO (239 bytes) and TDINFO (512 bytes)
constexpr size_t kTcbInfo = 256, kTcbInfoSize = 239;
constexpr size_t kValid = 256, kTeeTcbSvn = 264, kMrSeam = 280, kMrSignerSeam = 328,
                 kSeamAttributes = 376, kTeeTcbSvn2 = 384;
constexpr size_t kTdInfo = 512, kTdInfoSize = 512;
constexpr size_t kTdAttributes = 512, kXfam = 520, kMrTd = 528, kMrConfigId = 576,
                 kMrOwner = 624, kMrOwnerConfig = 672, kRtmr = 720, kServTd = 912;

template <size_t N>
void Get(ByteView d, size_t at, std::array<uint8_t, N>& out) {
  std::copy_n(d.begin() + static_cast<std::ptrdiff_t>(at), N, out.begin());
}

template <size_t N>
void Put(Bytes& d, size_t at, const std::array<uint8_t, N>& v) {
  std::copy(v.begin(), v.end(), d.begin() + static_cast<std::ptrdiff_t>(at));
}

absl::Status Bad(std::string detail) {
  return absl::InvalidArgumentError(StrCat("tdreport: ", detail));
}

}  // namespace

absl::StatusOr<TdReportStruct> ParseTdReport(ByteView d) {
  if (d.size() != kTdReportStructSize) {
    return Bad(StrCat("size got ", d.size(), " bytes, want ", kTdReportStructSize));
  }
  TdReportStruct r;
  r.type = d[0];
  r.subtype = d[1];
  r.version = d[2];
  if (r.type != kTdReportTypeTdx) {
    return Bad(StrCat("report type got 0x", ShortHex(d.subspan(0, 1)), ", want 0x81 (tdx)"));
  }
  if (r.subtype != 0) return Bad(StrCat("report subtype got ", r.subtype, ", want 0"));
  if (r.version > 1) return Bad(StrCat("report version got ", r.version, ", want 0 or 1"));
  Get(d, kCpuSvn, r.cpu_svn);
  Get(d, kTcbInfoHash, r.tee_tcb_info_hash);
  Get(d, kTeeInfoHash, r.tee_info_hash);
  Get(d, kMac, r.mac);
  const Bytes tcb_hash = Sha384(d.subspan(kTcbInfo, kTcbInfoSize));
  if (!ConstantTimeEqual(tcb_hash, r.tee_tcb_info_hash)) {
    return Bad(StrCat("tee_tcb_info_hash got ", ShortHex(r.tee_tcb_info_hash),
                      ", want sha384(tee_tcb_info) ", ShortHex(tcb_hash)));
  }
  const Bytes info_hash = Sha384(d.subspan(kTdInfo, kTdInfoSize));
  if (!ConstantTimeEqual(info_hash, r.tee_info_hash)) {
    return Bad(StrCat("tee_info_hash got ", ShortHex(r.tee_info_hash), ", want sha384(tdinfo) ",
                      ShortHex(info_hash)));
  }
  tdx::TdReport& b = r.body;
  Get(d, kValid, r.tcb_info_valid);
  Get(d, kTeeTcbSvn, b.tee_tcb_svn);
  Get(d, kMrSeam, b.mr_seam);
  Get(d, kMrSignerSeam, b.mr_signer_seam);
  Get(d, kSeamAttributes, b.seam_attributes);
  Get(d, kTeeTcbSvn2, b.tee_tcb_svn2);
  b.td_attributes = LoadLe64(d.data() + kTdAttributes);
  b.xfam = LoadLe64(d.data() + kXfam);
  Get(d, kMrTd, b.mr_td);
  Get(d, kMrConfigId, b.mr_config_id);
  Get(d, kMrOwner, b.mr_owner);
  Get(d, kMrOwnerConfig, b.mr_owner_config);
  for (size_t i = 0; i < 4; ++i) Get(d, kRtmr + 48 * i, b.rtmr[i]);
  Get(d, kServTd, b.mr_service_td);
  Get(d, kReportData, b.report_data);
  b.tdx15 = r.version == 1;
  return r;
}

Bytes EncodeTdReport(const tdx::TdReport& b, const std::array<uint8_t, 16>& cpu_svn,
                     const std::array<uint8_t, 32>& mac) {
  Bytes d(kTdReportStructSize, 0);
  d[0] = kTdReportTypeTdx;
  d[2] = b.tdx15 ? 1 : 0;
  Put(d, kCpuSvn, cpu_svn);
  Put(d, kReportData, b.report_data);
  Put(d, kMac, mac);
  const std::array<uint8_t, 8> valid = {0xFF, 0x01, 0x03};  // the fields filled, as A8 has it
  Put(d, kValid, valid);
  Put(d, kTeeTcbSvn, b.tee_tcb_svn);
  Put(d, kMrSeam, b.mr_seam);
  Put(d, kMrSignerSeam, b.mr_signer_seam);
  Put(d, kSeamAttributes, b.seam_attributes);
  Put(d, kTeeTcbSvn2, b.tee_tcb_svn2);
  StoreLe64(&d[kTdAttributes], b.td_attributes);
  StoreLe64(&d[kXfam], b.xfam);
  Put(d, kMrTd, b.mr_td);
  Put(d, kMrConfigId, b.mr_config_id);
  Put(d, kMrOwner, b.mr_owner);
  Put(d, kMrOwnerConfig, b.mr_owner_config);
  for (size_t i = 0; i < 4; ++i) Put(d, kRtmr + 48 * i, b.rtmr[i]);
  Put(d, kServTd, b.mr_service_td);
  const Bytes tcb_hash = Sha384(ByteView(d).subspan(kTcbInfo, kTcbInfoSize));
  const Bytes info_hash = Sha384(ByteView(d).subspan(kTdInfo, kTdInfoSize));
  std::copy(tcb_hash.begin(), tcb_hash.end(), d.begin() + kTcbInfoHash);
  std::copy(info_hash.begin(), info_hash.end(), d.begin() + kTeeInfoHash);
  return d;
}

}  // namespace twi::azure
