// Receipts: the secret an anonymous reporter keeps to come back to a report
// (the tracking number says which report; the receipt proves it is theirs).
//
// A receipt is 16 decimal digits from the CSPRNG, uniform over 10^16 values
// (53.15 bits; rejection sampling, no modulo bias), shown as
// "1234-5678-9012-3456". People may type it with or without spaces and
// hyphens.
//
// Only an scrypt hash is stored, in this encoding (version 1, 52 bytes):
//
//   0     1   version 0x01
//   1     1   log2(N)
//   2     1   r
//   3     1   p
//   4     16  salt, fresh from the CSPRNG per receipt
//   20    32  scrypt(password = the 16 digits, salt, N, r, p), 32 bytes
//
// Verification recomputes scrypt with the stored parameters, so the default
// can be raised later without invalidating old hashes. Stored parameters are
// bounded (DecodeReceiptHash) so a forged record cannot make a verification
// allocate gigabytes.
#ifndef TIPLINE_RECEIPT_H_
#define TIPLINE_RECEIPT_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tipline/status.h"

namespace tipline {

inline constexpr size_t kReceiptDigits = 16;
// Typed input longer than this is refused before it is read.
inline constexpr size_t kMaxReceiptInputSize = 64;
inline constexpr uint8_t kReceiptHashVersion = 0x01;
inline constexpr size_t kReceiptSaltSize = 16;
inline constexpr size_t kReceiptScryptOutputSize = 32;
inline constexpr size_t kReceiptHashSize =
    4 + kReceiptSaltSize + kReceiptScryptOutputSize;  // 52

struct ScryptParams {
  uint8_t log2_n;
  uint8_t r;
  uint8_t p;
};

// N = 2^14, r = 8, p = 1: 16 MiB and about 40 ms per hash or verification
// on the 2-core development machine (2^15 took ~100 ms; figures from
// tests/bench/crypto_bench.py). The cost is per verification attempt, so it
// also slows guessing; 53 bits of receipt do the rest.
inline constexpr ScryptParams kReceiptScryptParams{14, 8, 1};

// Accepted by DecodeReceiptHash and HashReceipt: 2^10 <= N <= 2^20,
// 1 <= r <= 16, 1 <= p <= 4, and 128 * r * N <= 256 MiB.
[[nodiscard]] Status CheckScryptParams(ScryptParams params);

struct ReceiptHash {
  ScryptParams params;
  std::array<uint8_t, kReceiptSaltSize> salt;
  std::array<uint8_t, kReceiptScryptOutputSize> hash;
};

// A fresh receipt, "dddd-dddd-dddd-dddd".
[[nodiscard]] Result<std::string> NewReceipt();

// The 16 digits of a typed receipt, separators (spaces, hyphens) removed.
// kInvalidArgument for anything else (the message never echoes the input).
[[nodiscard]] Result<std::string> NormalizeReceipt(std::string_view typed);

// The stored encoding for a receipt (typed form accepted), with a new salt.
// Slow by design (scrypt): call without holding locks others need.
[[nodiscard]] Result<std::string> HashReceipt(
    std::string_view receipt, ScryptParams params = kReceiptScryptParams);

// Whether `receipt` matches `stored` (constant-time comparison). A malformed
// receipt is simply false; a malformed `stored` is kInvalidArgument.
[[nodiscard]] Result<bool> VerifyReceipt(std::string_view receipt,
                                         std::string_view stored);

// Parses and bounds-checks the stored encoding (kInvalidArgument).
[[nodiscard]] Result<ReceiptHash> DecodeReceiptHash(std::string_view stored);
std::string EncodeReceiptHash(const ReceiptHash& hash);

}  // namespace tipline

#endif  // TIPLINE_RECEIPT_H_
