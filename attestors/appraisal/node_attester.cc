#include "attestors/core/str.h"
#include "attestors/appraisal/node_attester.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "attestors/appraisal/protocol.h"
#include "attestors/core/status.h"

namespace twi::appraisal {
namespace {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::FailedPreconditionError(
      twi::StrCat(what, " \"", path, "\": ", std::strerror(errno)));
}

absl::Status WriteFileAtomic(const std::string& path, ByteView data) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("state_dir is not writable: cannot create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Errno("cannot write", tmp);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Errno("cannot write", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return Errno("cannot rename into", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EvpPkeyPtr> LoadOrCreateInstanceKey(const std::string& state_dir) {
  if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("cannot create state_dir", state_dir);
  }
  struct stat st;
  if (::stat(state_dir.c_str(), &st) != 0) return Errno("cannot stat state_dir", state_dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        twi::StrCat("state_dir \"", state_dir, "\" is not a directory"));
  }
  if (::access(state_dir.c_str(), W_OK | X_OK) != 0) {
    return Errno("state_dir is not writable:", state_dir);
  }
  std::string path = state_dir + "/instance_key.der";
  std::ifstream in(path, std::ios::binary);
  if (in) {
    Bytes der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto key = PrivateKeyFromDer(der);
    if (!key.ok()) {
      return absl::FailedPreconditionError(twi::StrCat(
          "instance key \"", path, "\" is corrupt (", key.status().message(),
          "); remove it to generate a new key (the agent's ID will change)"));
    }
    return key;
  }
  TWI_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateP256Key());
  TWI_ASSIGN_OR_RETURN(Bytes der, PrivateKeyToDer(key.get()));
  TWI_RETURN_IF_ERROR(WriteFileAtomic(path, der));
  return key;
}

NodeAttester::NodeAttester(EvpPkeyPtr instance_key,
                           std::vector<std::unique_ptr<EvidenceCollector>> collectors,
                           std::shared_ptr<const keybinding::PendingKeyService> svid_keys)
    : key_(std::move(instance_key)),
      collectors_(std::move(collectors)),
      svid_keys_(std::move(svid_keys)) {
  auto spki = PublicKeyToSpki(key_.get());
  if (spki.ok()) spki_ = *std::move(spki);
}

absl::StatusOr<Bytes> NodeAttester::Payload() const {
  if (spki_.empty()) return absl::InternalError("instance key has no public key encoding");
  twi::v1::Payload p;
  p.set_version(kProtocolVersion);
  p.set_instance_key_spki(std::string(AsString(spki_)));
  if (svid_keys_) {
    // Before the collectors: kinds with a challenge step keep the payload's keys.
    auto pending = svid_keys_->GetPendingKey();
    if (!pending.ok()) {
      return Annotate(pending.status(), "key binding: cannot read the pending SVID key");
    }
    p.mutable_svid_key()->set_spki(std::string(AsString(pending->spki)));
    p.mutable_svid_key()->set_generation(pending->generation);
  }
  for (const auto& c : collectors_) {
    p.add_evidence_kinds(c->kind());
    TWI_RETURN_IF_ERROR(c->AddToPayload(&p));
  }
  return ToBytes(p.SerializeAsString());
}

absl::StatusOr<Bytes> NodeAttester::Respond(ByteView challenge, ByteView payload) const {
  twi::v1::Challenge c;
  if (challenge.empty() || !c.ParseFromArray(challenge.data(), static_cast<int>(challenge.size()))) {
    return absl::InvalidArgumentError(twi::StrCat("server challenge is not a twi/v1 Challenge (",
                                                   challenge.size(), " bytes)"));
  }
  if (c.version() != kProtocolVersion) {
    return absl::InvalidArgumentError(twi::StrCat("unsupported challenge version ", c.version(),
                                                   " (this agent speaks ", kProtocolVersion, ")"));
  }
  if (c.nonce().size() != kNonceSize) {
    return absl::InvalidArgumentError(
        twi::StrCat("challenge nonce must be ", kNonceSize, " bytes, got ", c.nonce().size()));
  }
  twi::v1::ChallengeResponse r;
  r.set_version(kProtocolVersion);
  r.set_nonce(c.nonce());
  TWI_ASSIGN_OR_RETURN(Bytes sig, SignSha256(key_.get(), Transcript(AsBytes(c.nonce()), payload)));
  r.set_signature(std::string(AsString(sig)));
  // The payload is our own: its keys decide what the evidence binds.
  twi::v1::Payload p;
  if (!p.ParseFromArray(payload.data(), static_cast<int>(payload.size())) ||
      !std::ranges::equal(AsBytes(p.instance_key_spki()), spki_)) {
    return absl::InvalidArgumentError("payload is not the one this agent built");
  }
  if (p.has_svid_key()) {
    if (!svid_keys_) {
      return absl::FailedPreconditionError("payload binds an svid key but no KeyManager is configured");
    }
    auto pop = svid_keys_->SignBindingTranscript(AsBytes(c.nonce()), Sha256(payload),
                                                 p.svid_key().generation());
    if (!pop.ok()) {
      return Annotate(pop.status(), "key binding: the KeyManager refused the proof of possession");
    }
    r.set_svid_key_signature(std::string(AsString(*pop)));
  }
  Bytes report_data = ReportData(AsBytes(c.nonce()), p);
  for (int k : c.evidence_kinds()) {
    auto kind = static_cast<twi::v1::EvidenceKind>(k);
    EvidenceCollector* collector = nullptr;
    for (const auto& col : collectors_) {
      if (col->kind() == kind) collector = col.get();
    }
    if (collector == nullptr) {
      return absl::FailedPreconditionError(
          twi::StrCat("server asked for ", KindName(kind), " evidence, which this agent cannot produce"));
    }
    auto ev = collector->Answer(report_data, c);
    if (!ev.ok()) return Annotate(ev.status(), twi::StrCat("collecting ", KindName(kind), " evidence"));
    *r.add_evidence() = *std::move(ev);
  }
  return ToBytes(r.SerializeAsString());
}

}  // namespace twi::appraisal
