// Tracking numbers: what an anonymous reporter keeps to follow a report.
//
// Canonical form: "TL-XXXX-XXXX-XXXX-XXXX", 16 Crockford base32 symbols
// (0123456789ABCDEFGHJKMNPQRSTVWXYZ). Symbols 0..14 are 75 bits from the
// OpenSSL CSPRNG (never sequential, not guessable); symbol 15 is a check.
//
// Check symbol: with symbols v_i as elements of GF(2^5) (x^5 + x^2 + 1,
// alpha = x), it makes sum_{i=0..15} alpha^i * v_i == 0. A single substitution
// changes the sum by alpha^i * e != 0, and swapping adjacent a != b at i, i+1
// (the check included) changes it by (a - b) * alpha^i * (1 + alpha) != 0; a
// field has no zero divisors, so every such typo is detected.
#ifndef TIPLINE_TRACKING_H_
#define TIPLINE_TRACKING_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "tipline/status.h"

namespace tipline {

inline constexpr std::string_view kTrackingAlphabet =
    "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
inline constexpr size_t kTrackingSymbols = 16;
// Input longer than this is rejected before it is looked at.
inline constexpr size_t kMaxTrackingInputLength = 64;

// A fresh random tracking number in canonical form. Fails (kInternal) only if
// the CSPRNG does.
[[nodiscard]] Result<std::string> NewTrackingNumber();

// Reads a tracking number as a person may type it and returns the canonical
// form. Ignores case, spaces and hyphens; reads I and L as 1 and O as 0; the
// "TL" prefix is optional. Errors are kInvalidArgument with a message fit to
// show to the person who typed it (it never echoes non-printable input).
[[nodiscard]] Result<std::string> ParseTrackingNumber(std::string_view text);

// ParseTrackingNumber(text).ok(), without building a message.
[[nodiscard]] bool IsValidTrackingNumber(std::string_view text) noexcept;

}  // namespace tipline

#endif  // TIPLINE_TRACKING_H_
