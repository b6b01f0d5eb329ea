// Arithmetic in GF(2^5) = GF(2)[x] / (x^5 + x^2 + 1), for the tracking-number
// check symbol. Elements are the 5-bit values 0..31; addition is XOR.
#ifndef TIPLINE_INTERNAL_GF32_H_
#define TIPLINE_INTERNAL_GF32_H_

#include <cstdint>

namespace tipline::internal {

inline constexpr uint8_t kGf32Modulus = 0x25;  // x^5 + x^2 + 1 (primitive)
inline constexpr int kGf32Order = 31;          // alpha^31 == 1

// v * alpha (alpha = x).
constexpr uint8_t Gf32MulAlpha(uint8_t v) {
  const uint8_t shifted = static_cast<uint8_t>(v << 1);
  return (shifted & 0x20) ? static_cast<uint8_t>(shifted ^ kGf32Modulus)
                          : shifted;
}

// v * alpha^power, power >= 0.
constexpr uint8_t Gf32MulAlphaPow(uint8_t v, int power) {
  for (int i = 0; i < power % kGf32Order; ++i) v = Gf32MulAlpha(v);
  return v;
}

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_GF32_H_
