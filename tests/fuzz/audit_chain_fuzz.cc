// Fuzzes the audit chain: arbitrary bytes become a report id and a list of
// events (any bytes as text, any sizes, sequences and report ids), which are
// encoded, linked and verified. Nothing may crash; errors are
// kInvalidArgument; a chain linked with LinkHash verifies up to its first
// event that LinkHash refused or that is out of place, and a flipped stored
// hash is named.
//
// Input: u8 flags, i64 BE report id, then events until the bytes run out:
//   i8 sequence offset (added to index + 1), u8 report id offset,
//   i64 BE timestamp, u8 n + n bytes actor, u8 n + n bytes kind,
//   u8 detail count (mod 8), each: u8 n + key, u16 BE n + value,
//   and with flags bit 0 set, 32 bytes of stored hash.
// flags bit 0: take stored hashes from the input instead of linking them;
// flags >> 1: index of a stored hash to flip a bit of after linking.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tipline/audit_chain.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "audit_chain_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool Byte(uint8_t* out) {
    if (position_ >= size_) return false;
    *out = data_[position_++];
    return true;
  }
  bool Uint(size_t bytes, uint64_t* out) {
    if (size_ - position_ < bytes) return false;
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) value = value << 8 | data_[position_++];
    *out = value;
    return true;
  }
  bool Bytes(size_t count, std::string* out) {
    if (size_ - position_ < count) return false;
    out->assign(reinterpret_cast<const char*>(data_ + position_), count);
    position_ += count;
    return true;
  }
  bool Text(size_t length_bytes, std::string* out) {
    uint64_t length = 0;
    return Uint(length_bytes, &length) && Bytes(static_cast<size_t>(length), out);
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

bool ReadEvent(Reader* in, int64_t report_id, size_t index, bool raw_hashes,
               tipline::AuditEvent* event, tipline::AuditHash* hash) {
  uint8_t sequence_offset = 0, report_offset = 0, details = 0;
  uint64_t timestamp = 0;
  if (!in->Byte(&sequence_offset) || !in->Byte(&report_offset) ||
      !in->Uint(8, &timestamp) || !in->Text(1, &event->actor) ||
      !in->Text(1, &event->kind) || !in->Byte(&details)) {
    return false;
  }
  event->sequence = static_cast<int64_t>(index + 1) +
                    static_cast<int8_t>(sequence_offset);
  // Unsigned arithmetic: wraps instead of overflowing.
  event->report_id = static_cast<int64_t>(static_cast<uint64_t>(report_id) +
                                          report_offset);
  event->timestamp_us = static_cast<int64_t>(timestamp);
  event->details.resize(details % 8);
  for (auto& [key, value] : event->details) {
    if (!in->Text(1, &key) || !in->Text(2, &value)) return false;
  }
  if (raw_hashes) {
    std::string bytes;
    if (!in->Bytes(hash->size(), &bytes)) return false;
    std::copy(bytes.begin(), bytes.end(), hash->begin());
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  uint8_t flags = 0;
  uint64_t raw_report_id = 0;
  if (!in.Byte(&flags) || !in.Uint(8, &raw_report_id)) return 0;
  const bool raw_hashes = (flags & 1) != 0;
  const int64_t report_id = static_cast<int64_t>(raw_report_id);

  std::vector<tipline::AuditEvent> events;
  std::vector<tipline::AuditHash> hashes;
  for (size_t i = 0; i < 64; ++i) {
    tipline::AuditEvent event;
    tipline::AuditHash hash{};
    if (!ReadEvent(&in, report_id, i, raw_hashes, &event, &hash)) break;
    events.push_back(std::move(event));
    hashes.push_back(hash);
  }

  const tipline::Result<tipline::AuditHash> genesis =
      tipline::AuditGenesis(report_id);
  Require(genesis.ok() == (report_id >= 1), "genesis iff report id >= 1");

  // Link as the writer would; the first event out of place or refused by
  // LinkHash is where verification must stop.
  std::optional<size_t> expected;
  if (genesis.ok()) {
    tipline::AuditHash prev = genesis.value();
    for (size_t i = 0; i < events.size(); ++i) {
      const tipline::AuditEvent& event = events[i];
      const tipline::Result<std::string> encoding =
          tipline::EncodeAuditEvent(event);
      const tipline::Result<tipline::AuditHash> link =
          tipline::LinkHash(prev, event);
      Require(encoding.ok() == link.ok(), "Encode and LinkHash agree");
      if (!link.ok()) {
        Require(link.status().code() == tipline::StatusCode::kInvalidArgument,
                "errors are kInvalidArgument");
      } else {
        Require(encoding.value().size() <=
                    tipline::kMaxAuditEventEncodingSize,
                "encoding within its limit");
        tipline::AuditEvent reversed = event;
        std::reverse(reversed.details.begin(), reversed.details.end());
        const tipline::Result<std::string> again =
            tipline::EncodeAuditEvent(reversed);
        Require(again.ok() && again.value() == encoding.value(),
                "detail order does not matter");
      }
      const bool in_place = event.report_id == report_id &&
                            event.sequence == static_cast<int64_t>(i + 1);
      if (!expected && (!link.ok() || !in_place)) expected = i;
      if (!raw_hashes && link.ok()) hashes[i] = link.value();
      prev = hashes[i];
    }
  }

  const tipline::Result<std::optional<size_t>> verdict =
      tipline::VerifyChain(report_id, events, hashes);
  if (!genesis.ok()) {
    Require(!verdict.ok() && verdict.status().code() ==
                                 tipline::StatusCode::kInvalidArgument,
            "bad report id is kInvalidArgument");
    return 0;
  }
  Require(verdict.ok(), "verification of a well-formed call succeeds");
  if (verdict.value()) {
    Require(*verdict.value() < events.size(), "broken index in range");
  }
  if (raw_hashes) return 0;
  Require(verdict.value() == expected, "linked chain verifies up to its flaw");

  const size_t flip = flags >> 1;
  if (flip < hashes.size()) {
    hashes[flip][flip % tipline::kAuditHashSize] ^= 0x01;
    const tipline::Result<std::optional<size_t>> flipped =
        tipline::VerifyChain(report_id, events, hashes);
    const size_t first = expected ? std::min(*expected, flip) : flip;
    Require(flipped.ok() && flipped.value() == std::optional<size_t>(first),
            "a flipped stored hash is named");
  }
  return 0;
}
