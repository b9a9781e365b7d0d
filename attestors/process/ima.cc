#include "attestors/process/ima.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "attestors/core/str.h"
#include "attestors/process/proc_io.h"

namespace twi::process {
namespace {

// Debian's abseil has its own string_view type; parse with it and convert at the API.
using Text = absl::string_view;

constexpr size_t kImaNameLenMax = 255;        // IMA_EVENT_NAME_LEN_MAX
constexpr size_t kMaxListRead = 512u << 20;   // refuse a single read above 512 MiB
constexpr size_t kMaxLineLength = 64u << 10;  // longer lines are malformed
constexpr uint32_t kMaxTemplateName = 1024;   // custom formats are "f1|f2|...": short
constexpr uint32_t kMaxBinaryTemplateData = 1u << 20;

enum class Field { kD, kN, kDng, kDngV2, kNng, kSig, kBuf, kDmodsig, kModsig };

bool FieldFromId(Text id, Field* f) {
  static constexpr std::pair<Text, Field> kFields[] = {
      {"d", Field::kD},           {"n", Field::kN},
      {"d-ng", Field::kDng},      {"d-ngv2", Field::kDngV2},
      {"n-ng", Field::kNng},      {"sig", Field::kSig},
      {"buf", Field::kBuf},       {"d-modsig", Field::kDmodsig},
      {"modsig", Field::kModsig},
  };
  for (const auto& [name, field] : kFields) {
    if (name == id) {
      *f = field;
      return true;
    }
  }
  return false;
}

// The field list of a template, by its name or, for custom templates, its format.
absl::StatusOr<std::vector<Field>> TemplateFields(Text name) {
  Text fmt;
  if (name == "ima")
    fmt = "d|n";
  else if (name == "ima-ng")
    fmt = "d-ng|n-ng";
  else if (name == "ima-sig")
    fmt = "d-ng|n-ng|sig";
  else if (name == "ima-ngv2")
    fmt = "d-ngv2|n-ng";
  else if (name == "ima-sigv2")
    fmt = "d-ngv2|n-ng|sig";
  else if (name == "ima-buf")
    fmt = "d-ng|n-ng|buf";
  else if (name == "ima-modsig")
    fmt = "d-ng|n-ng|sig|d-modsig|modsig";
  else if (absl::StrContains(name, '|'))
    fmt = name;
  else
    return absl::InvalidArgumentError(twi::StrCat("unsupported template \"", name, "\""));
  std::vector<Field> fields;
  for (Text id : absl::StrSplit(fmt, '|')) {
    Field f;
    if (!FieldFromId(id, &f)) {
      return absl::InvalidArgumentError(
          twi::StrCat("unsupported field \"", id, "\" in template \"", name, "\""));
    }
    fields.push_back(f);
  }
  return fields;
}

bool IsStringField(Field f) { return f == Field::kN || f == Field::kNng; }
bool IsOptionalField(Field f) {
  return f == Field::kSig || f == Field::kBuf || f == Field::kModsig || f == Field::kDmodsig;
}

absl::StatusOr<Bytes> Hex(Text hex, Text what) {
  auto b = HexDecode(ToStd(hex));
  if (!b.ok()) return absl::InvalidArgumentError(twi::StrCat(what, " is not hex"));
  return *std::move(b);
}

void AppendLe32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

const EVP_MD* TemplateHashMd(size_t len) {
  switch (len) {
    case 20:
      return EVP_sha1();
    case 32:
      return EVP_sha256();
    case 48:
      return EVP_sha384();
    case 64:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

// One decoded field: the bytes the kernel hashed, plus what we need from it.
struct FieldValue {
  Bytes data;
  std::string algo;  // digest fields
  std::string type;  // d-ngv2: "ima" or "verity"
  Bytes digest;      // digest fields
  std::string text;  // string fields
};

absl::StatusOr<FieldValue> DecodeField(Field f, Text tok, bool ima_template) {
  FieldValue v;
  switch (f) {
    case Field::kD: {
      auto d = Hex(tok, "d");
      if (!d.ok()) return d.status();
      if (d->size() != 20 && d->size() != 16) {
        return absl::InvalidArgumentError(twi::StrCat("d has ", d->size(), " bytes, want 20"));
      }
      v.algo = d->size() == 20 ? "sha1" : "md5";
      v.digest = *d;
      v.data = *d;
      return v;
    }
    case Field::kDng:
    case Field::kDmodsig:
    case Field::kDngV2: {
      if (tok.empty()) {
        if (f == Field::kDmodsig) return v;  // no appended signature: empty field
        return absl::InvalidArgumentError("digest field is empty");
      }
      std::vector<Text> parts = absl::StrSplit(tok, ':');
      size_t want = f == Field::kDngV2 ? 3 : 2;
      if (parts.size() != want) {
        return absl::InvalidArgumentError(twi::StrCat("digest field \"", tok.substr(0, 40),
                                                      "\" is not ", want == 3 ? "type:" : "",
                                                      "algo:hex"));
      }
      if (f == Field::kDngV2) v.type = std::string(parts[0]);
      v.algo = std::string(parts[want - 2]);
      if (v.algo.empty() || (f == Field::kDngV2 && v.type.empty())) {
        return absl::InvalidArgumentError("digest field has an empty algorithm or type");
      }
      auto d = Hex(parts[want - 1], "digest");
      if (!d.ok()) return d.status();
      v.digest = *d;
      std::string prefix =
          f == Field::kDngV2 ? twi::StrCat(v.type, ":", v.algo, ":") : twi::StrCat(v.algo, ":");
      v.data.assign(prefix.begin(), prefix.end());
      v.data.push_back(0);
      v.data.insert(v.data.end(), d->begin(), d->end());
      return v;
    }
    case Field::kN:
    case Field::kNng: {
      if (ima_template && tok.size() > kImaNameLenMax) {
        return absl::InvalidArgumentError("name is longer than 255 bytes");
      }
      v.text = std::string(tok);
      v.data.assign(tok.begin(), tok.end());
      v.data.push_back(0);
      if (ima_template) v.data.resize(kImaNameLenMax + 1, 0);  // hashed padded to 256
      return v;
    }
    case Field::kSig:
    case Field::kBuf:
    case Field::kModsig: {
      auto d = Hex(tok, "signature/buffer field");
      if (!d.ok()) return d.status();
      v.data = *d;
      return v;
    }
  }
  return absl::InternalError("unreachable");
}

// The same fields as the kernel stores them (binary_runtime_measurements). `data` is the
// field's bytes without its length prefix; for the 'ima' template's n field, the name
// without its terminating NUL (IMA_SHOW_BINARY_OLD_STRING_FMT).
absl::StatusOr<FieldValue> DecodeBinaryField(Field f, ByteView data, bool ima_template) {
  FieldValue v;
  switch (f) {
    case Field::kD:
      return DecodeField(f, ToAbsl(HexEncode(data)), ima_template);
    case Field::kDng:
    case Field::kDmodsig:
    case Field::kDngV2: {
      if (data.empty()) {
        if (f == Field::kDmodsig) return v;
        return absl::InvalidArgumentError("digest field is empty");
      }
      // "<algo>:\0<digest>" or "<type>:<algo>:\0<digest>".
      size_t nul = 0;
      while (nul < data.size() && data[nul] != 0) ++nul;
      if (nul == data.size()) return absl::InvalidArgumentError("digest field has no NUL");
      std::string prefix(reinterpret_cast<const char*>(data.data()), nul);
      if (prefix.empty() || prefix.back() != ':') {
        return absl::InvalidArgumentError("digest field prefix does not end in ':'");
      }
      // Back to the ascii form so one decoder checks both (algo, hex, sizes).
      std::string text = prefix + HexEncode(data.subspan(nul + 1));
      return DecodeField(f, ToAbsl(text), ima_template);
    }
    case Field::kN:
    case Field::kNng: {
      std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
      if (f == Field::kNng) {
        if (text.empty() || text.back() != '\0') {
          return absl::InvalidArgumentError("name field is not NUL-terminated");
        }
        text.remove_suffix(1);
      }
      if (text.find('\0') != std::string_view::npos) {
        return absl::InvalidArgumentError("name field has an embedded NUL");
      }
      return DecodeField(f, ToAbsl(text), ima_template);
    }
    case Field::kSig:
    case Field::kBuf:
    case Field::kModsig:
      v.data.assign(data.begin(), data.end());
      return v;
  }
  return absl::InternalError("unreachable");
}

// Template data, digest and name from decoded fields, then the template hash check: the
// part both list formats share.
absl::StatusOr<ImaEntry> FinishEntry(ImaEntry e, const Bytes& template_hash,
                                     const std::vector<Field>& fields,
                                     const std::vector<FieldValue>& values) {
  const EVP_MD* md = TemplateHashMd(template_hash.size());
  if (md == nullptr) {
    return absl::InvalidArgumentError(
        twi::StrCat("template hash has ", template_hash.size(), " bytes"));
  }
  const bool ima_template = e.template_name == "ima";
  Bytes tdata;
  bool have_digest = false;
  std::string digest_type;
  for (size_t i = 0; i < fields.size(); ++i) {
    const FieldValue& v = values[i];
    if (!ima_template) AppendLe32(tdata, static_cast<uint32_t>(v.data.size()));
    tdata.insert(tdata.end(), v.data.begin(), v.data.end());
    Field f = fields[i];
    if (!have_digest && (f == Field::kD || f == Field::kDng || f == Field::kDngV2)) {
      e.digest_algo = v.algo;
      e.digest = v.digest;
      digest_type = v.type;
      have_digest = true;
    }
    if (IsStringField(f) && e.name.empty()) e.name = v.text;
  }
  if (!have_digest) {
    return absl::InvalidArgumentError(
        twi::StrCat("template ", e.template_name, " has no file digest field"));
  }
  if (IsAllZero(template_hash)) {
    // A violation (file opened for write while measured, or the reverse): the kernel
    // leaves both the template hash and the digest zero.
    if (!IsAllZero(e.digest)) {
      return absl::InvalidArgumentError("zero template hash on an entry with a digest");
    }
    e.violation = true;
    e.digest.clear();
    return e;
  }
  uint8_t got[EVP_MAX_MD_SIZE];
  unsigned int got_len = 0;
  if (EVP_Digest(tdata.data(), tdata.size(), got, &got_len, md, nullptr) != 1 ||
      got_len != template_hash.size() || !std::equal(got, got + got_len, template_hash.begin())) {
    return absl::InvalidArgumentError(twi::StrCat("template hash ", ShortHex(template_hash),
                                                  " does not match the entry (",
                                                  ShortHex(ByteView(got, got_len)), ")"));
  }
  // Not a file content digest: a measured buffer, or an fs-verity root hash.
  bool is_buf = std::find(fields.begin(), fields.end(), Field::kBuf) != fields.end();
  if (is_buf || (!digest_type.empty() && digest_type != "ima")) e.digest.clear();
  return e;
}

uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace

absl::StatusOr<ImaEntry> ParseImaLine(std::string_view line) {
  if (line.size() > kMaxLineLength) return absl::InvalidArgumentError("line is too long");
  // The kernel prints the PCR with "%2d", so PCRs below 10 start with a space.
  Text rest = absl::StripLeadingAsciiWhitespace(ToAbsl(line));
  std::vector<Text> head = absl::StrSplit(rest, absl::MaxSplits(' ', 3));
  if (head.size() < 4) {
    return absl::InvalidArgumentError(
        twi::StrCat("line has ", head.size(), " fields, want at least 4"));
  }
  ImaEntry e;
  if (!absl::SimpleAtoi(head[0], &e.pcr) || e.pcr < 0 || e.pcr > 63) {
    return absl::InvalidArgumentError(twi::StrCat("bad pcr \"", head[0].substr(0, 8), "\""));
  }
  auto template_hash = Hex(head[1], "template hash");
  if (!template_hash.ok()) return template_hash.status();
  // Checked before the fields so the error names the first thing wrong.
  if (TemplateHashMd(template_hash->size()) == nullptr) {
    return absl::InvalidArgumentError(
        twi::StrCat("template hash has ", template_hash->size(), " bytes"));
  }
  e.template_name = std::string(head[2]);
  auto fields = TemplateFields(head[2]);
  if (!fields.ok()) return fields.status();
  const bool ima_template = e.template_name == "ima";

  // Field tokens. Kernels before 5.x printed spaces inside names unchanged; later ones
  // replace them with '_'. Tolerate the former by giving the extra tokens to the (single)
  // string field; the template hash then decides whether that reading was right.
  std::vector<Text> toks = absl::StrSplit(head[3], ' ');
  const size_t nf = fields->size();
  // An empty trailing field (no signature) is printed as a lone trailing space, which
  // copies of the list often lose; missing optional fields count as empty.
  while (toks.size() < nf && IsOptionalField((*fields)[toks.size()])) toks.push_back(Text());
  if (toks.size() < nf) {
    return absl::InvalidArgumentError(twi::StrCat("template ", e.template_name, " wants ", nf,
                                                  " fields, line has ", toks.size()));
  }
  if (toks.size() > nf) {
    auto s = std::find_if(fields->begin(), fields->end(), IsStringField);
    if (s == fields->end() || std::count_if(fields->begin(), fields->end(), IsStringField) != 1) {
      return absl::InvalidArgumentError(twi::StrCat("template ", e.template_name, " wants ", nf,
                                                    " fields, line has ", toks.size()));
    }
    size_t si = static_cast<size_t>(s - fields->begin());
    size_t extra = toks.size() - nf;
    Text first = toks[si];
    Text last = toks[si + extra];
    Text joined(first.data(), static_cast<size_t>(last.data() + last.size() - first.data()));
    toks.erase(toks.begin() + static_cast<std::ptrdiff_t>(si) + 1,
               toks.begin() + static_cast<std::ptrdiff_t>(si + extra) + 1);
    toks[si] = joined;
  }

  std::vector<FieldValue> values;
  for (size_t i = 0; i < nf; ++i) {
    auto v = DecodeField((*fields)[i], toks[i], ima_template);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  return FinishEntry(std::move(e), *template_hash, *fields, values);
}

absl::StatusOr<std::optional<ImaEntry>> ParseImaBinaryEntry(ByteView in, size_t digest_len,
                                                           size_t* consumed) {
  *consumed = 0;
  size_t off = 0;
  // Returns false when fewer than n bytes remain (wait for more).
  auto take = [&](size_t n, ByteView* out) {
    if (in.size() - off < n) return false;
    *out = in.subspan(off, n);
    off += n;
    return true;
  };
  ByteView b;
  if (!take(4, &b)) return std::nullopt;
  ImaEntry e;
  uint32_t pcr = Le32(b.data());
  if (pcr > 63) return absl::InvalidArgumentError(twi::StrCat("bad pcr ", pcr));
  e.pcr = static_cast<int>(pcr);
  ByteView th;
  if (!take(digest_len, &th)) return std::nullopt;
  if (!take(4, &b)) return std::nullopt;
  uint32_t name_len = Le32(b.data());
  if (name_len == 0 || name_len > kMaxTemplateName) {
    return absl::InvalidArgumentError(twi::StrCat("template name length ", name_len));
  }
  if (!take(name_len, &b)) return std::nullopt;
  e.template_name.assign(reinterpret_cast<const char*>(b.data()), b.size());
  auto fields = TemplateFields(ToAbsl(e.template_name));
  if (!fields.ok()) return fields.status();
  const bool ima_template = e.template_name == "ima";
  std::vector<FieldValue> values;
  if (ima_template) {
    // d without a length, then n as "<len><name>" without NUL.
    ByteView d, len, name;
    if (!take(20, &d) || !take(4, &len)) return std::nullopt;
    uint32_t n = Le32(len.data());
    if (n > kImaNameLenMax) return absl::InvalidArgumentError("name is longer than 255 bytes");
    if (!take(n, &name)) return std::nullopt;
    for (auto [f, data] : {std::pair{Field::kD, d}, std::pair{Field::kN, name}}) {
      auto v = DecodeBinaryField(f, data, true);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
    }
  } else {
    if (!take(4, &b)) return std::nullopt;
    uint32_t data_len = Le32(b.data());
    if (data_len > kMaxBinaryTemplateData) {
      return absl::InvalidArgumentError(twi::StrCat("template data length ", data_len));
    }
    ByteView data;
    if (!take(data_len, &data)) return std::nullopt;
    size_t at = 0;
    for (Field f : *fields) {
      if (data.size() - at < 4) return absl::InvalidArgumentError("template data is truncated");
      uint32_t n = Le32(data.data() + at);
      at += 4;
      if (data.size() - at < n) return absl::InvalidArgumentError("template field is truncated");
      auto v = DecodeBinaryField(f, data.subspan(at, n), false);
      if (!v.ok()) return v.status();
      values.push_back(*std::move(v));
      at += n;
    }
    if (at != data.size()) {
      return absl::InvalidArgumentError(
          twi::StrCat("template data has ", data.size() - at, " bytes after its fields"));
    }
  }
  auto entry = FinishEntry(std::move(e), Bytes(th.begin(), th.end()), *fields, values);
  if (!entry.ok()) return entry.status();
  *consumed = off;
  return std::optional<ImaEntry>(*std::move(entry));
}

void ImaIndex::AddPcr(std::vector<int>& v, int pcr) {
  auto it = std::lower_bound(v.begin(), v.end(), pcr);
  if (it == v.end() || *it != pcr) v.insert(it, pcr);
}

size_t ImaIndex::Add(std::string_view text) {
  size_t consumed = 0;
  while (consumed < text.size()) {
    size_t nl = text.find('\n', consumed);
    if (nl == Text::npos) break;  // partial line: wait for the rest
    std::string_view line = text.substr(consumed, nl - consumed);
    consumed = nl + 1;
    ++lines_;
    if (tainted_) continue;
    auto e = ParseImaLine(line);
    if (!e.ok()) {
      Taint(twi::StrCat("line ", lines_, ": ", e.status().message()));
      continue;
    }
    Index(*e);
  }
  return consumed;
}

void ImaIndex::Taint(std::string reason) {
  tainted_ = true;
  taint_reason_ = std::move(reason);
}

void ImaIndex::Index(const ImaEntry& e) {
  if (e.violation || e.digest.empty()) return;
  std::string key = e.digest_algo + ":";
  key.append(e.digest.begin(), e.digest.end());
  AddPcr(by_digest_[key], e.pcr);
  AddPcr(by_name_[e.name], e.pcr);
  if (e.digest_algo == "sha1") has_sha1_ = true;
  ++indexed_;
}

size_t ImaIndex::AddBinary(ByteView data, size_t digest_len) {
  size_t consumed = 0;
  while (consumed < data.size() && !tainted_) {
    size_t n = 0;
    auto e = ParseImaBinaryEntry(data.subspan(consumed), digest_len, &n);
    if (!e.ok()) {
      // Lengths can no longer be trusted, so nothing after this entry can be framed.
      Taint(twi::StrCat("entry ", lines_ + 1, ": ", e.status().message()));
      return data.size();
    }
    if (!e->has_value()) break;  // partial entry: wait for the rest
    consumed += n;
    ++lines_;
    Index(**e);
  }
  return tainted_ ? data.size() : consumed;
}

const std::vector<int>* ImaIndex::FindDigest(std::string_view algo, ByteView digest) const {
  std::string key(algo);
  key += ':';
  key.append(reinterpret_cast<const char*>(digest.data()), digest.size());
  auto it = by_digest_.find(key);
  return it == by_digest_.end() ? nullptr : &it->second;
}

const std::vector<int>* ImaIndex::FindName(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &it->second;
}

ImaLog::ImaLog(std::string path) : path_(std::move(path)) {}

absl::StatusOr<std::unique_ptr<ImaLog>> ImaLog::Open(std::string path) {
  std::unique_ptr<ImaLog> log(new ImaLog(std::move(path)));
  size_t slash = log->path_.rfind('/');
  std::string base = slash == std::string::npos ? log->path_ : log->path_.substr(slash + 1);
  if (absl::StartsWith(base, "binary_runtime_measurements")) {
    // binary_runtime_measurements carries SHA-1 template digests; the per-bank files
    // (binary_runtime_measurements_sha256, ...) the bank's.
    log->binary_digest_len_ = 20;
    if (absl::EndsWith(base, "_sha256")) log->binary_digest_len_ = 32;
    if (absl::EndsWith(base, "_sha384")) log->binary_digest_len_ = 48;
    if (absl::EndsWith(base, "_sha512")) log->binary_digest_len_ = 64;
  }
  std::string dir = slash == std::string::npos ? "." : log->path_.substr(0, slash);
  std::string count = dir + "/runtime_measurements_count";
  if (::access(count.c_str(), R_OK) == 0) log->count_path_ = std::move(count);
  std::lock_guard<std::mutex> lock(log->mu_);
  absl::Status s = log->RefreshLocked();
  if (!s.ok()) return s;
  return log;
}

absl::Status ImaLog::RefreshLocked() {
  if (!count_path_.empty() && index_.lines() > 0) {
    // runtime_measurements_count is tiny and cheap, unlike re-rendering the list.
    auto text = ReadFileAt(AT_FDCWD, count_path_.c_str(), count_path_, 64, nullptr, true);
    uint64_t n = 0;
    if (text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &n) &&
        n == index_.lines()) {
      return absl::OkStatus();
    }
  }
  auto fd = OpenPath(path_);
  if (!fd.ok()) return fd.status();
  struct stat st;
  if (::fstat(fd->get(), &st) != 0) return ErrnoStatus(errno, twi::StrCat("cannot stat ", path_));
  if (S_ISREG(st.st_mode)) {
    // A regular file (a fixture or a copy): the size tells whether anything was appended.
    bool replaced = (st.st_dev != dev_ || st.st_ino != ino_) && offset_ > 0;
    if (replaced || static_cast<uint64_t>(st.st_size) < offset_) {
      index_ = ImaIndex();
      offset_ = 0;
    }
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    if (static_cast<uint64_t>(st.st_size) == offset_) return absl::OkStatus();
  }
  std::string skip;
  if (offset_ > 0 && ::lseek(fd->get(), static_cast<off_t>(offset_), SEEK_SET) < 0) {
    // Not seekable: read from the start and drop what was already indexed.
    skip.resize(offset_);
  }
  auto data = ReadAllFd(fd->get(), path_, kMaxListRead);
  if (!data.ok()) return data.status();
  ++stats_.refreshes;
  stats_.bytes_read += data->size();
  std::string_view fresh(*data);
  if (!skip.empty()) {
    if (fresh.size() < skip.size()) {
      index_ = ImaIndex();  // shorter than before: not the list we indexed
      offset_ = 0;
    } else {
      fresh.remove_prefix(skip.size());
    }
  }
  offset_ += binary_digest_len_ ? index_.AddBinary(AsBytes(fresh), binary_digest_len_)
                                : index_.Add(fresh);
  return absl::OkStatus();
}

bool ImaLog::FindLocked(const ImaQuery& q, bool match_path, ImaResult* out) const {
  const std::vector<int>* hits[2] = {
      q.sha256.empty() ? nullptr : index_.FindDigest("sha256", q.sha256),
      q.sha1.empty() ? nullptr : index_.FindDigest("sha1", q.sha1)};
  bool found = false;
  for (const std::vector<int>* h : hits) {
    if (!h) continue;
    found = true;
    for (int pcr : *h) ImaIndex::AddPcr(out->pcrs, pcr);
  }
  if (!found && match_path && q.sha256.empty() && q.sha1.empty() && !q.path.empty()) {
    if (const std::vector<int>* h = index_.FindName(q.path)) {
      found = true;
      out->by_path = true;
      for (int pcr : *h) ImaIndex::AddPcr(out->pcrs, pcr);
    }
  }
  out->measured = found;
  return found;
}

absl::StatusOr<ImaResult> ImaLog::Lookup(const ImaQuery& q, bool match_path) {
  std::lock_guard<std::mutex> lock(mu_);
  ImaResult r;
  if (FindLocked(q, match_path, &r)) return r;
  absl::Status s = RefreshLocked();
  if (!s.ok()) return s;
  r = ImaResult();
  FindLocked(q, match_path, &r);
  if (!r.measured && index_.tainted()) {
    r.note = twi::StrCat("ima list ", path_, " is trusted only up to ", index_.taint_reason());
  }
  return r;
}

bool ImaLog::has_sha1_digests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return index_.has_sha1_digests();
}

ImaLogStats ImaLog::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ImaLogStats s = stats_;
  s.lines = index_.lines();
  s.indexed = index_.indexed();
  s.tainted = index_.tainted();
  return s;
}

}  // namespace twi::process
