// Personal-data signals in report text (for the data-leak category's score):
// e-mail addresses, phone numbers, Chinese resident ID numbers (validated by
// their ISO 7064 MOD 11-2 check character and birth date) and payment card
// numbers (validated by Luhn). Text is read after NFKC, so full-width digits
// and at signs count. These are signals, not a PII scanner: they err towards
// counting a number, since a false signal costs a few priority points.
#ifndef TIPLINE_PERSONAL_DATA_H_
#define TIPLINE_PERSONAL_DATA_H_

#include <cstddef>
#include <string_view>

#include "tipline/status.h"

namespace tipline {

struct PersonalDataCounts {
  size_t email = 0;
  size_t phone = 0;
  size_t resident_id = 0;  // Chinese resident identity card number
  size_t card = 0;         // payment card number
  size_t total() const noexcept { return email + phone + resident_id + card; }
};

// kInvalidArgument for ill-formed UTF-8.
[[nodiscard]] Result<PersonalDataCounts> FindPersonalData(std::string_view utf8);

// 17 digits then a check character (digit or X/x), ISO 7064 MOD 11-2, and a
// plausible birth date YYYYMMDD at positions 7..14.
[[nodiscard]] bool IsValidChineseResidentId(std::string_view id) noexcept;

// Digits only, 13..19 of them, with a valid Luhn check digit.
[[nodiscard]] bool IsValidCardNumber(std::string_view digits) noexcept;

}  // namespace tipline

#endif  // TIPLINE_PERSONAL_DATA_H_
