#include "tipline/audit_chain.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>  // EVP_MD for SHA-256 (not the AEAD: see aes_gcm.cc)

#include <algorithm>
#include <string>

#include "tipline/utf8.h"

namespace tipline {
namespace {

// Fetched once per process (fetching costs more than hashing an event).
const EVP_MD* Sha256Algorithm() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One EVP_MD_CTX reused for every hash of a verification.
class Sha256 {
 public:
  Sha256() : context_(EVP_MD_CTX_new()) {}
  ~Sha256() { EVP_MD_CTX_free(context_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  // SHA-256(first || second) to *out; zeroed on failure.
  [[nodiscard]] Status Hash(std::string_view first, std::string_view second,
                            AuditHash* out) {
    const EVP_MD* md = Sha256Algorithm();
    unsigned int written = 0;
    const bool ok =
        context_ != nullptr && md != nullptr &&
        EVP_DigestInit_ex2(context_, md, nullptr) > 0 &&
        EVP_DigestUpdate(context_, first.data(), first.size()) > 0 &&
        EVP_DigestUpdate(context_, second.data(), second.size()) > 0 &&
        EVP_DigestFinal_ex(context_, out->data(), &written) > 0 &&
        written == kAuditHashSize;
    if (!ok) {
      ERR_clear_error();
      OPENSSL_cleanse(out->data(), out->size());
      return InternalError("SHA-256 failed");
    }
    return Status::Ok();
  }

 private:
  EVP_MD_CTX* context_;
};

std::string_view View(const AuditHash& hash) {
  return std::string_view(reinterpret_cast<const char*>(hash.data()),
                          hash.size());
}

void AppendU32(uint32_t value, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

void AppendU64(uint64_t value, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xFF));
  }
}

void AppendString(std::string_view text, std::string* out) {
  AppendU32(static_cast<uint32_t>(text.size()), out);  // sizes checked first
  out->append(text.data(), text.size());
}

bool IsKindByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}

Status CheckReportId(int64_t report_id) {
  if (report_id < 1) {
    return InvalidArgumentError("audit report id must be at least 1");
  }
  return Status::Ok();
}

using Detail = std::pair<std::string, std::string>;

// Validates `event` and writes its encoding to *out (cleared first, so one
// buffer serves a whole chain). `sorted` is scratch space for the details.
Status EncodeInto(const AuditEvent& event, std::vector<const Detail*>* sorted,
                  std::string* out) {
  out->clear();
  Status status = CheckReportId(event.report_id);
  if (!status.ok()) return status;
  if (event.sequence < 1) {
    return InvalidArgumentError("audit event sequence must be at least 1");
  }
  if (event.kind.empty() || event.kind.size() > kMaxAuditKindSize ||
      !std::all_of(event.kind.begin(), event.kind.end(), IsKindByte)) {
    return InvalidArgumentError(
        "audit event kind must be 1 to 32 characters of a-z, 0-9, '_' and "
        "'.'");
  }
  if (event.actor.size() > kMaxAuditActorSize) {
    return InvalidArgumentError("audit event actor is longer than 256 bytes");
  }
  if (!IsValidUtf8(event.actor)) {
    return InvalidArgumentError("audit event actor is not valid UTF-8");
  }
  if (event.details.size() > kMaxAuditDetails) {
    return InvalidArgumentError("audit event has more than 256 details");
  }
  // Fixed part: version, 3 x 8-byte integers, 3 lengths/counts, kind, actor.
  size_t size = 1 + 3 * 8 + 3 * 4 + event.kind.size() + event.actor.size();
  for (const Detail& detail : event.details) {
    const std::string& key = detail.first;
    const std::string& value = detail.second;
    if (key.empty()) {
      return InvalidArgumentError("audit detail key is empty");
    }
    if (key.size() > kMaxAuditDetailKeySize) {
      return InvalidArgumentError("audit detail key is longer than 128 bytes");
    }
    if (value.size() > kMaxAuditDetailValueSize) {
      return InvalidArgumentError(
          "audit detail value is longer than 65536 bytes");
    }
    if (!IsValidUtf8(key) || !IsValidUtf8(value)) {
      return InvalidArgumentError("audit detail is not valid UTF-8");
    }
    size += 8 + key.size() + value.size();
  }
  if (size > kMaxAuditEventEncodingSize) {
    return InvalidArgumentError("audit event is larger than 1 MiB encoded");
  }

  sorted->clear();
  for (const Detail& detail : event.details) sorted->push_back(&detail);
  // std::string compares char as unsigned char: UTF-8 byte order.
  std::sort(sorted->begin(), sorted->end(),
            [](const Detail* a, const Detail* b) { return a->first < b->first; });
  for (size_t i = 1; i < sorted->size(); ++i) {
    if ((*sorted)[i - 1]->first == (*sorted)[i]->first) {
      return InvalidArgumentError("audit event has a duplicate detail key");
    }
  }

  out->reserve(size);
  out->push_back(static_cast<char>(kAuditEncodingVersion));
  AppendU64(static_cast<uint64_t>(event.report_id), out);
  AppendU64(static_cast<uint64_t>(event.sequence), out);
  AppendU64(static_cast<uint64_t>(event.timestamp_us), out);  // two's compl.
  AppendString(event.actor, out);
  AppendString(event.kind, out);
  AppendU32(static_cast<uint32_t>(sorted->size()), out);
  for (const Detail* detail : *sorted) {
    AppendString(detail->first, out);
    AppendString(detail->second, out);
  }
  return Status::Ok();
}

}  // namespace

Result<AuditHash> AuditGenesis(int64_t report_id) {
  Status status = CheckReportId(report_id);
  if (!status.ok()) return status;
  std::string id;
  AppendU64(static_cast<uint64_t>(report_id), &id);
  AuditHash genesis{};
  Sha256 sha;
  status = sha.Hash(kAuditGenesisDomain, id, &genesis);
  if (!status.ok()) return status;
  return genesis;
}

Result<std::string> EncodeAuditEvent(const AuditEvent& event) {
  std::vector<const Detail*> sorted;
  std::string encoding;
  Status status = EncodeInto(event, &sorted, &encoding);
  if (!status.ok()) return status;
  return encoding;
}

Result<AuditHash> LinkHash(const AuditHash& prev, const AuditEvent& event) {
  std::vector<const Detail*> sorted;
  std::string encoding;
  Status status = EncodeInto(event, &sorted, &encoding);
  if (!status.ok()) return status;
  AuditHash link{};
  Sha256 sha;
  status = sha.Hash(View(prev), encoding, &link);
  if (!status.ok()) return status;
  return link;
}

Result<std::optional<size_t>> VerifyChain(
    int64_t report_id, const std::vector<AuditEvent>& events,
    const std::vector<AuditHash>& stored_hashes) {
  using Broken = std::optional<size_t>;
  if (events.size() != stored_hashes.size()) {
    return InvalidArgumentError(
        "audit chain has a different number of events and stored hashes");
  }
  Result<AuditHash> genesis = AuditGenesis(report_id);
  if (!genesis.ok()) return genesis.status();

  Sha256 sha;
  std::vector<const Detail*> sorted;
  std::string encoding;
  AuditHash link{};
  const AuditHash* prev = &genesis.value();
  for (size_t i = 0; i < events.size(); ++i) {
    const AuditEvent& event = events[i];
    if (event.report_id != report_id ||
        event.sequence < 1 || static_cast<uint64_t>(event.sequence) != i + 1) {
      return Broken(i);
    }
    if (!EncodeInto(event, &sorted, &encoding).ok()) return Broken(i);
    Status status = sha.Hash(View(*prev), encoding, &link);
    if (!status.ok()) return status;
    if (link != stored_hashes[i]) return Broken(i);
    prev = &stored_hashes[i];
  }
  return Broken();
}

}  // namespace tipline
