// The IMA measurement list: parsing, an index of measured file digests, and an
// incrementally refreshed, thread-safe view of the kernel's list. The binary list
// (/sys/kernel/security/ima/binary_runtime_measurements, the default) is read by default:
// its entries are length-prefixed, so a file name containing '\n' cannot disturb the
// framing of later entries (issue 15, item 5). The ascii list is still understood (when the
// configured path is not named binary_runtime_measurements*), with the weakness below.
//
// Line format (security/integrity/ima/ima_fs.c): "<pcr> <template hash> <template name>
// <field> <field> ...", fields per template:
//   ima         d|n                 d = 20-byte SHA-1 hex, n = name (hash pads it to 256 bytes)
//   ima-ng      d-ng|n-ng           d-ng = "<algo>:<hex>"
//   ima-sig     d-ng|n-ng|sig       sig = hex, empty when the file has no signature
//   ima-ngv2    d-ngv2|n-ng         d-ngv2 = "<ima|verity>:<algo>:<hex>"
//   ima-sigv2   d-ngv2|n-ng|sig
//   ima-buf     d-ng|n-ng|buf       a measured buffer (kexec cmdline, keys): not a file
//   ima-modsig  d-ng|n-ng|sig|d-modsig|modsig
// and custom templates, shown by their "f1|f2|..." format, built from those fields.
//
// Why every line's template hash is recomputed: the kernel prints names unescaped, so a file
// whose name contains '\n' followed by a forged line would otherwise inject an entry with
// any digest. The forged text cannot make the real line around it verify, so the first line
// that fails (or cannot be parsed, or uses an unsupported template) "taints" the index:
// entries from that line on are counted but never used to claim a measurement. Entries
// before it stay valid. Any unprivileged user can cause that by running a file whose name
// holds a newline, turning ima:measured false for everything measured afterwards until
// reboot: hence the binary list by default. There, a malformed entry also taints the rest
// (its lengths cannot frame the next), but names cannot forge one. Violation entries
// (all-zero template hash and digest) are skipped.
//
// What this does NOT do: it does not replay the list against a PCR or RTMR (a remote
// verifier does that with a quote), and it does not judge signatures in ima-sig.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "attestors/core/bytes.h"

namespace twi::process {

struct ImaEntry {
  int pcr = 0;
  std::string template_name;
  std::string digest_algo;  // "sha1" for the 'ima' template's d field, else from d-ng(v2)
  Bytes digest;             // file content digest; empty when the entry measures no file
                            // content (ima-buf, verity digests, violations)
  std::string name;         // event name, for files the path as the kernel saw it
  bool violation = false;
};

// Parses one line (without its '\n') and verifies its template hash.
absl::StatusOr<ImaEntry> ParseImaLine(std::string_view line);

// Parses one entry of the binary list at the start of `in` and verifies its template hash
// (`digest_len`: 20 for binary_runtime_measurements, the bank's size for the _sha256 etc.
// files). nullopt when `in` ends inside the entry; else *consumed is its length.
absl::StatusOr<std::optional<ImaEntry>> ParseImaBinaryEntry(ByteView in, size_t digest_len,
                                                           size_t* consumed);

// An index over complete lines of the list. Not thread-safe; ImaLog guards it.
class ImaIndex {
 public:
  // Consumes the complete ('\n'-terminated) lines of `text` and returns the number of bytes
  // consumed; a trailing partial line is left for the caller to offer again once complete.
  size_t Add(std::string_view text);
  // The same for the binary list: consumes complete entries, returns the bytes consumed.
  // A malformed entry taints the rest (its lengths cannot be trusted to find the next).
  size_t AddBinary(ByteView data, size_t digest_len);

  // PCRs of trusted entries with this file digest, or nullptr.
  const std::vector<int>* FindDigest(std::string_view algo, ByteView digest) const;
  // PCRs of trusted entries with this event name, or nullptr.
  const std::vector<int>* FindName(std::string_view name) const;

  uint64_t lines() const { return lines_; }
  uint64_t indexed() const { return indexed_; }
  bool has_sha1_digests() const { return has_sha1_; }
  bool tainted() const { return tainted_; }
  // "line 12: template hash does not match ..." once tainted.
  const std::string& taint_reason() const { return taint_reason_; }

  // Inserts `pcr` into the sorted, distinct `v`.
  static void AddPcr(std::vector<int>& v, int pcr);

 private:
  void Taint(std::string reason);
  void Index(const ImaEntry& e);

  std::unordered_map<std::string, std::vector<int>> by_digest_;  // "<algo>:" + raw digest
  std::unordered_map<std::string, std::vector<int>> by_name_;
  uint64_t lines_ = 0;
  uint64_t indexed_ = 0;
  bool has_sha1_ = false;
  bool tainted_ = false;
  std::string taint_reason_;
};

struct ImaQuery {
  Bytes sha256;  // the executable's digests, empty when unknown
  Bytes sha1;
  std::string path;  // consulted only when both digests are empty and path matching is on
};

struct ImaResult {
  bool measured = false;
  std::vector<int> pcrs;  // ascending, distinct
  bool by_path = false;   // matched on the name only
  std::string note;       // why a "false" may be incomplete (tainted list), else ""
};

struct ImaLogStats {
  uint64_t refreshes = 0;   // times the list file was opened and read
  uint64_t bytes_read = 0;  // total bytes read from the list file
  uint64_t lines = 0;
  uint64_t indexed = 0;
  bool tainted = false;
};

// The kernel's list, read once and then only when it grew. Lookups first consult what was
// already read: the list is append-only, so a hit stays a hit and no I/O is needed. Only a
// miss re-reads, and then only the new bytes (the list is re-read from the start when the
// file shrank or was replaced, which only happens with test fixtures). When the kernel's
// runtime_measurements_count sits next to the list, an unchanged count skips the read.
class ImaLog {
 public:
  // Reads the list once; errors name the path (NOT_FOUND when it does not exist).
  static absl::StatusOr<std::unique_ptr<ImaLog>> Open(std::string path);

  absl::StatusOr<ImaResult> Lookup(const ImaQuery& q, bool match_path);
  bool has_sha1_digests() const;
  ImaLogStats stats() const;
  const std::string& path() const { return path_; }

 private:
  explicit ImaLog(std::string path);
  absl::Status RefreshLocked();
  bool FindLocked(const ImaQuery& q, bool match_path, ImaResult* out) const;

  const std::string path_;
  std::string count_path_;  // "" when the kernel's count file is not beside the list
  size_t binary_digest_len_ = 0;  // 0 = ascii list, else template digest size
  mutable std::mutex mu_;
  ImaIndex index_;
  uint64_t offset_ = 0;  // bytes of complete lines consumed
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  ImaLogStats stats_;
};

}  // namespace twi::process
