#include "tipline/personal_data.h"

#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

#include <string>

#include "tipline/normalize.h"

namespace tipline {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsLocalChar(char c) {
  return IsDigit(c) || IsAlpha(c) || c == '.' || c == '_' || c == '%' ||
         c == '+' || c == '-';
}
bool IsDomainChar(char c) { return IsDigit(c) || IsAlpha(c) || c == '-' || c == '.'; }

// user@example.org: a non-empty local part, and a domain of at least two
// labels whose last is 2+ letters. Returns the end of the address or npos.
size_t MatchEmailAt(std::string_view text, size_t at) {
  size_t begin = at;
  while (begin > 0 && IsLocalChar(text[begin - 1])) --begin;
  if (begin == at) return std::string_view::npos;
  size_t end = at + 1;
  while (end < text.size() && IsDomainChar(text[end])) ++end;
  while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
  const std::string_view domain = text.substr(at + 1, end - at - 1);
  const size_t dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::string_view::npos;
  const std::string_view tld = domain.substr(dot + 1);
  if (tld.size() < 2) return std::string_view::npos;
  for (const char c : tld) {
    if (!IsAlpha(c)) return std::string_view::npos;
  }
  return end;
}

void ClassifyNumber(const std::string& digits, PersonalDataCounts* counts) {
  const size_t n = digits.size();
  if (n == 18 && IsValidChineseResidentId(digits)) {
    ++counts->resident_id;
  } else if (n >= 13 && n <= 19 && digits.back() != 'X' &&
             IsValidCardNumber(digits)) {
    ++counts->card;
  } else if (n >= 7 && n <= 15 && digits.back() != 'X') {
    ++counts->phone;  // E.164 numbers have at most 15 digits
  }
}

}  // namespace

bool IsValidChineseResidentId(std::string_view id) noexcept {
  if (id.size() != 18) return false;
  int sum = 0;
  int weight = 1;  // 2^(17 - i) mod 11, computed from the right
  for (size_t k = 0; k < 17; ++k) {
    const size_t i = 16 - k;
    if (!IsDigit(id[i])) return false;
    weight = (weight * 2) % 11;
    sum += (id[i] - '0') * weight;
  }
  const int check = (12 - sum % 11) % 11;  // 10 is written X
  const char last = id[17];
  const bool check_ok = check == 10 ? (last == 'X' || last == 'x')
                                    : last == static_cast<char>('0' + check);
  if (!check_ok) return false;
  const auto number = [&](size_t pos, size_t len) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (id[i] - '0');
    return v;
  };
  const int year = number(6, 4), month = number(10, 2), day = number(12, 2);
  return year >= 1900 && year <= 2100 && month >= 1 && month <= 12 &&
         day >= 1 && day <= 31;
}

bool IsValidCardNumber(std::string_view digits) noexcept {
  if (digits.size() < 13 || digits.size() > 19) return false;
  int sum = 0;
  bool double_it = false;
  for (size_t k = digits.size(); k-- > 0;) {
    if (!IsDigit(digits[k])) return false;
    int d = digits[k] - '0';
    if (double_it) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double_it = !double_it;
  }
  return sum % 10 == 0;
}

Result<PersonalDataCounts> FindPersonalData(std::string_view utf8) {
  if (!IsValidUtf8(utf8)) return InvalidArgumentError("text is not valid UTF-8");
  if (utf8.size() > (size_t{1} << 30)) {
    return InvalidArgumentError("text is too long to scan");
  }
  // NFKC folds full-width digits, @ and separators to ASCII.
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(error);
  if (U_FAILURE(error)) return InternalError("ICU NFKC unavailable");
  std::string text;
  text.reserve(utf8.size());
  icu::StringByteSink<std::string> sink(&text);
  nfkc->normalizeUTF8(
      0, icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())), sink,
      nullptr, error);
  if (U_FAILURE(error)) return InternalError("ICU normalisation failed");

  PersonalDataCounts counts;
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    const char c = text[i];
    if (c == '@') {
      const size_t end = MatchEmailAt(text, i);
      if (end != std::string_view::npos) {
        ++counts.email;
        i = end;
        continue;
      }
      ++i;
      continue;
    }
    const bool starts_number =
        (IsDigit(c) || ((c == '+' || c == '(') && i + 1 < n && IsDigit(text[i + 1]))) &&
        (i == 0 || !(IsAlpha(text[i - 1]) || IsDigit(text[i - 1]) ||
                     text[i - 1] == '.' || text[i - 1] == '_'));
    if (!starts_number) {
      ++i;
      continue;
    }
    // A number as people write it: digits with single spaces, hyphens, dots
    // or parentheses between groups; an ID may end in X.
    std::string digits;
    size_t j = i;
    if (text[j] == '+' || text[j] == '(') ++j;
    while (j < n) {
      if (IsDigit(text[j])) {
        digits.push_back(text[j]);
        ++j;
      } else if ((text[j] == ' ' || text[j] == '-' || text[j] == '.' ||
                  text[j] == '(' || text[j] == ')') &&
                 j + 1 < n && (IsDigit(text[j + 1]) || text[j + 1] == '(') &&
                 digits.size() < 20) {
        ++j;
      } else {
        break;
      }
    }
    if (j < n && (text[j] == 'X' || text[j] == 'x') && digits.size() == 17) {
      digits.push_back('X');
      ++j;
    }
    // Part of a longer token (an e-mail local part, a word): not a number.
    const bool glued = j < n && (IsAlpha(text[j]) || text[j] == '@' || text[j] == '_');
    if (!glued) ClassifyNumber(digits, &counts);
    i = j;
    while (i < n && (IsAlpha(text[i]) || IsDigit(text[i]) || text[i] == '_')) ++i;
  }
  return counts;
}

}  // namespace tipline
