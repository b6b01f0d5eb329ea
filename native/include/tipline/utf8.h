// UTF-8 well-formedness, shared by the crypto side (audit events) and the
// text side (normalisation): it lives in the base library so that neither
// depends on the other.
#ifndef TIPLINE_UTF8_H_
#define TIPLINE_UTF8_H_

#include <string_view>

namespace tipline {

// Whether `utf8` is well-formed UTF-8 (no surrogates, no overlongs).
[[nodiscard]] bool IsValidUtf8(std::string_view utf8) noexcept;

}  // namespace tipline

#endif  // TIPLINE_UTF8_H_
