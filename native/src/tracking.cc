#include "tipline/tracking.h"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>

#include "internal/gf32.h"
#include "tipline/random.h"

namespace tipline {
namespace {

constexpr int8_t kSeparator = -2;
constexpr int8_t kInvalid = -1;
constexpr size_t kPrefixSymbols = 2;  // "TL", read as T, 1

// Byte -> symbol value, kSeparator or kInvalid; folds case and I/L/O.
constexpr std::array<int8_t, 256> MakeDecodeTable() {
  std::array<int8_t, 256> table{};
  for (auto& entry : table) entry = kInvalid;
  for (size_t i = 0; i < kTrackingAlphabet.size(); ++i) {
    const char upper = kTrackingAlphabet[i];
    table[static_cast<uint8_t>(upper)] = static_cast<int8_t>(i);
    if (upper >= 'A' && upper <= 'Z') {
      table[static_cast<uint8_t>(upper - 'A' + 'a')] = static_cast<int8_t>(i);
    }
  }
  table['I'] = table['i'] = table['L'] = table['l'] = 1;
  table['O'] = table['o'] = 0;
  table[' '] = table['-'] = kSeparator;
  return table;
}
constexpr std::array<int8_t, 256> kDecode = MakeDecodeTable();
constexpr uint8_t kSymbolT = 26;
static_assert(kTrackingAlphabet[kSymbolT] == 'T');

// Weighted sum over the first `count` symbols; zero for a valid number.
uint8_t CheckSum(const uint8_t* symbols, size_t count) {
  uint8_t sum = 0;
  for (size_t i = 0; i < count; ++i) {
    sum ^= internal::Gf32MulAlphaPow(symbols[i], static_cast<int>(i));
  }
  return sum;
}

// The check symbol c for symbols[0, 15): alpha^15 * c == sum, so
// c = sum * alpha^(31 - 15).
uint8_t CheckSymbol(const uint8_t* symbols) {
  constexpr int kCheck = static_cast<int>(kTrackingSymbols) - 1;
  return internal::Gf32MulAlphaPow(CheckSum(symbols, kCheck),
                                   internal::kGf32Order - kCheck);
}

std::string Format(const uint8_t* symbols) {
  std::string out = "TL";
  out.reserve(3 + kTrackingSymbols + 3);
  for (size_t i = 0; i < kTrackingSymbols; ++i) {
    if (i % 4 == 0) out.push_back('-');
    out.push_back(kTrackingAlphabet[symbols[i]]);
  }
  return out;
}

enum class ParseError {
  kNone,
  kEmpty,
  kTooLong,
  kInvalidCharacter,
  kWrongLength,
  kCheckMismatch,
};

struct ParseOutcome {
  ParseError error = ParseError::kNone;
  size_t position = 0;   // 1-based character position (kInvalidCharacter)
  uint8_t byte = 0;      // the offending byte (kInvalidCharacter)
  size_t count = 0;      // symbols found, "TL" excluded (kWrongLength)
  std::array<uint8_t, kTrackingSymbols> symbols{};
};

// Allocation-free core shared by Parse and IsValid.
ParseOutcome Decode(std::string_view text) {
  ParseOutcome outcome;
  if (text.size() > kMaxTrackingInputLength) {
    outcome.error = ParseError::kTooLong;
    return outcome;
  }
  std::array<uint8_t, kMaxTrackingInputLength> found{};
  size_t count = 0;
  size_t position = 0;  // counts UTF-8 lead bytes, i.e. characters
  for (const char c : text) {
    const uint8_t byte = static_cast<uint8_t>(c);
    if ((byte & 0xC0) != 0x80) ++position;
    const int8_t value = kDecode[byte];
    if (value == kSeparator) continue;
    if (value == kInvalid) {
      outcome.error = ParseError::kInvalidCharacter;
      outcome.position = position == 0 ? 1 : position;
      outcome.byte = byte;
      return outcome;
    }
    found[count++] = static_cast<uint8_t>(value);  // count <= text.size() <= 64
  }
  if (count == 0) {
    outcome.error = ParseError::kEmpty;
    return outcome;
  }
  size_t start = 0;
  if (count == kTrackingSymbols + kPrefixSymbols && found[0] == kSymbolT &&
      found[1] == 1) {
    start = kPrefixSymbols;
  } else if (count != kTrackingSymbols) {
    const bool prefixed = count > kPrefixSymbols && found[0] == kSymbolT &&
                          found[1] == 1;
    outcome.error = ParseError::kWrongLength;
    outcome.count = prefixed ? count - kPrefixSymbols : count;
    return outcome;
  }
  for (size_t i = 0; i < kTrackingSymbols; ++i) {
    outcome.symbols[i] = found[start + i];
  }
  if (CheckSum(outcome.symbols.data(), kTrackingSymbols) != 0) {
    outcome.error = ParseError::kCheckMismatch;
  }
  return outcome;
}

std::string Describe(const ParseOutcome& outcome) {
  switch (outcome.error) {
    case ParseError::kNone:
      break;
    case ParseError::kEmpty:
      return "the tracking number is empty";
    case ParseError::kTooLong:
      return "the tracking number is too long (more than " +
             std::to_string(kMaxTrackingInputLength) + " characters)";
    case ParseError::kInvalidCharacter: {
      std::string message = "invalid character ";
      if (outcome.byte >= 0x21 && outcome.byte <= 0x7E) {
        message += '\'';
        message += static_cast<char>(outcome.byte);
        message += "' ";
      }
      return message + "at position " + std::to_string(outcome.position);
    }
    case ParseError::kWrongLength:
      return "a tracking number has 16 characters (not counting \"TL\", "
             "spaces and hyphens); got " +
             std::to_string(outcome.count);
    case ParseError::kCheckMismatch:
      return "the check character does not match; please re-type the number";
  }
  return "the tracking number is not valid";
}

}  // namespace

Result<std::string> NewTrackingNumber() {
  std::array<uint8_t, kTrackingSymbols - 1> random{};
  Status status = BufferedRandomBytes(random.data(), random.size());
  if (!status.ok()) return status;
  std::array<uint8_t, kTrackingSymbols> symbols{};
  for (size_t i = 0; i < random.size(); ++i) {
    symbols[i] = random[i] & 0x1F;  // 256 is a multiple of 32: no bias
  }
  symbols[kTrackingSymbols - 1] = CheckSymbol(symbols.data());
  std::string formatted = Format(symbols.data());
  OPENSSL_cleanse(random.data(), random.size());
  OPENSSL_cleanse(symbols.data(), symbols.size());
  return formatted;
}

Result<std::string> ParseTrackingNumber(std::string_view text) {
  const ParseOutcome outcome = Decode(text);
  if (outcome.error != ParseError::kNone) {
    return InvalidArgumentError(Describe(outcome));
  }
  return Format(outcome.symbols.data());
}

bool IsValidTrackingNumber(std::string_view text) noexcept {
  return Decode(text).error == ParseError::kNone;
}

}  // namespace tipline
