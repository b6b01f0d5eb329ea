// HMAC-SHA256 and HKDF-SHA256 (RFC 5869) over OpenSSL's EVP_MAC / EVP_KDF,
// for key derivation from the master key and for the blind index.
#ifndef TIPLINE_INTERNAL_HMAC_HKDF_H_
#define TIPLINE_INTERNAL_HMAC_HKDF_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "tipline/secret.h"
#include "tipline/status.h"

namespace tipline::internal {

inline constexpr size_t kSha256Size = 32;
inline constexpr size_t kHkdfSha256MaxOutputSize = 255 * kSha256Size;

// HMAC-SHA256(key, concatenation of message_parts) to out[0, 32). On failure
// out is zeroed.
[[nodiscard]] Status HmacSha256(
    std::string_view key, std::initializer_list<std::string_view> message_parts,
    uint8_t* out);

// HKDF-SHA256 extract-and-expand to out[0, out_size). An empty salt means
// HashLen zero bytes (RFC 5869). out_size above kHkdfSha256MaxOutputSize (or
// 0) is kInvalidArgument. On failure out is zeroed.
[[nodiscard]] Status HkdfSha256(std::string_view input_key_material,
                                std::string_view salt, std::string_view info,
                                uint8_t* out, size_t out_size);

// HKDF-SHA256 of a secret with an empty salt, as a new 32-byte secret: how
// every Tipline subkey is derived from the master key.
[[nodiscard]] Result<SecretBytes> DeriveSubkey(const SecretBytes& master_key,
                                               std::string_view info);

// CRYPTO_memcmp-based; unequal sizes compare unequal (sizes are not secret).
bool ConstantTimeEquals(std::string_view a, std::string_view b) noexcept;

}  // namespace tipline::internal

#endif  // TIPLINE_INTERNAL_HMAC_HKDF_H_
