// The audit hash chain of a report: every moderation event (state change,
// assignment, message to the reporter, identity reveal, export, appeal) is a
// link whose hash covers the previous link's hash and the event, so editing,
// dropping, inserting or reordering a stored event is found by VerifyChain.
//
// The chain is unkeyed: it proves that the stored events are the ones that
// were hashed, not who hashed them, and it cannot see events cut off the end.
// Keep the head hash (and the event count) somewhere else as an anchor, e.g.
// in an export or a signed log, and compare against it.
//
// ---------------------------------------------------------------------------
// Encoding, version 1 (kAuditEncodingVersion). Integers are big-endian; a
// "str" is u32 BE byte length || the UTF-8 bytes (no terminator):
//
//   u8   0x01                 version
//   u64  report_id            >= 1
//   u64  sequence             >= 1; the n-th event of a report has n
//   i64  timestamp_us         microseconds since 1970-01-01 UTC, two's
//                             complement (not checked for order: clocks step)
//   str  actor                who acted; "" for the reporter/system
//   str  kind                 1-32 bytes of [a-z0-9_.], e.g. "state",
//                             "assign", "message", "reveal", "export",
//                             "appeal"
//   u32  detail count         0-256
//   detail count times, keys ascending by their UTF-8 bytes (unsigned
//   bytewise, i.e. code point order; keys are unique):
//     str  key                1-128 bytes
//     str  value              0-65536 bytes
//
// Every str must be valid UTF-8 (no surrogates, no overlongs), the actor at
// most 256 bytes, and the whole encoding at most 1 MiB. Details are sorted by
// the encoder, so their order in an AuditEvent does not matter.
//
// Hashes (SHA-256, 32 bytes):
//
//   genesis(report_id) = SHA-256("tipline audit v1" || u64 BE report_id)
//                        (the 16 ASCII bytes, then 8 bytes)
//   link_1             = SHA-256(genesis(report_id) || encoding(event 1))
//   link_n             = SHA-256(link_{n-1} || encoding(event n))
//
// The genesis depends on the report, not 32 zero bytes, so a chain moved to
// another report fails at its first link even if the events' own report ids
// were rewritten to match. Genesis inputs (24 bytes) and link inputs (at least
// 32 + 38 bytes) have different lengths, so one can never pass for the other.
// A Python re-implementation is in tests/binding/test_audit_chain.py.
// ---------------------------------------------------------------------------
#ifndef TIPLINE_AUDIT_CHAIN_H_
#define TIPLINE_AUDIT_CHAIN_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tipline/status.h"

namespace tipline {

inline constexpr uint8_t kAuditEncodingVersion = 0x01;
inline constexpr size_t kAuditHashSize = 32;
inline constexpr std::string_view kAuditGenesisDomain = "tipline audit v1";

inline constexpr size_t kMaxAuditActorSize = 256;
inline constexpr size_t kMaxAuditKindSize = 32;
inline constexpr size_t kMaxAuditDetails = 256;
inline constexpr size_t kMaxAuditDetailKeySize = 128;
inline constexpr size_t kMaxAuditDetailValueSize = 64 * 1024;
inline constexpr size_t kMaxAuditEventEncodingSize = 1024 * 1024;

using AuditHash = std::array<uint8_t, kAuditHashSize>;

struct AuditEvent {
  int64_t report_id = 0;
  int64_t sequence = 0;
  int64_t timestamp_us = 0;
  std::string actor;
  std::string kind;
  // (key, value) pairs in any order; keys must be unique.
  std::vector<std::pair<std::string, std::string>> details;
};

// The first link's previous hash for this report. kInvalidArgument if
// report_id < 1; kInternal if SHA-256 fails.
[[nodiscard]] Result<AuditHash> AuditGenesis(int64_t report_id);

// The version-1 encoding of `event` (see above). kInvalidArgument, with a
// message that never quotes the event's text, for an id or sequence below 1,
// a bad kind, invalid UTF-8, a duplicate or empty key, or any size limit.
[[nodiscard]] Result<std::string> EncodeAuditEvent(const AuditEvent& event);

// SHA-256(prev || EncodeAuditEvent(event)): the hash to store with `event`.
// Errors as EncodeAuditEvent; kInternal if SHA-256 fails.
[[nodiscard]] Result<AuditHash> LinkHash(const AuditHash& prev,
                                         const AuditEvent& event);

// Checks the stored chain of report `report_id`: events[i] with
// stored_hashes[i], oldest first. Returns the index of the first broken link,
// or nullopt if every link holds (an empty chain does). Link i is broken when
// events[i] names another report, its sequence is not i + 1 (a gap, a
// duplicate or a reordering), it could not be encoded (so LinkHash never
// produced it), or its stored hash is not LinkHash(stored_hashes[i - 1], or
// the genesis for i = 0, events[i]).
//
// kInvalidArgument if report_id < 1 or the two vectors differ in length;
// kInternal if SHA-256 fails.
[[nodiscard]] Result<std::optional<size_t>> VerifyChain(
    int64_t report_id, const std::vector<AuditEvent>& events,
    const std::vector<AuditHash>& stored_hashes);

}  // namespace tipline

#endif  // TIPLINE_AUDIT_CHAIN_H_
