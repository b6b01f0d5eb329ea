#include "tipline/tracking.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "tipline/random.h"
#include "tipline/status.h"

namespace tipline {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// Independent GF(2^5) multiply (carry-less product reduced by x^5 + x^2 + 1),
// so the test does not trust the implementation's own arithmetic.
uint8_t GfMultiply(uint8_t a, uint8_t b) {
  unsigned product = 0;
  for (int bit = 0; bit < 5; ++bit) {
    if (b & (1u << bit)) product ^= static_cast<unsigned>(a) << bit;
  }
  for (int bit = 8; bit >= 5; --bit) {
    if (product & (1u << bit)) product ^= 0x25u << (bit - 5);
  }
  return static_cast<uint8_t>(product);
}

// The 16 symbols of a canonical number ("TL-XXXX-..."), as a plain string.
std::string Body(const std::string& canonical) {
  std::string body;
  for (size_t i = 3; i < canonical.size(); ++i) {
    if (canonical[i] != '-') body.push_back(canonical[i]);
  }
  return body;
}

std::string NewNumber() {
  Result<std::string> number = NewTrackingNumber();
  EXPECT_TRUE(number.ok()) << number.status().ToString();
  return std::move(number).value();
}

std::string ParseError(std::string_view text) {
  const Result<std::string> parsed = ParseTrackingNumber(text);
  EXPECT_FALSE(parsed.ok()) << "accepted: " << text;
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(IsValidTrackingNumber(text));
  return parsed.status().message();
}

constexpr char kCheckMismatch[] =
    "the check character does not match; please re-type the number";

TEST(TrackingNumberTest, NewNumberHasCanonicalFormat) {
  for (int i = 0; i < 1000; ++i) {
    const std::string number = NewNumber();
    ASSERT_EQ(number.size(), 22u);
    EXPECT_EQ(number.substr(0, 3), "TL-");
    for (size_t pos : {7u, 12u, 17u}) EXPECT_EQ(number[pos], '-') << number;
    const std::string body = Body(number);
    ASSERT_EQ(body.size(), 16u);
    for (char c : body) EXPECT_NE(kAlphabet.find(c), std::string_view::npos);
  }
}

TEST(TrackingNumberTest, CheckSymbolZeroesTheWeightedSum) {
  for (int n = 0; n < 1000; ++n) {
    const std::string body = Body(NewNumber());
    uint8_t sum = 0;
    uint8_t alpha_power = 1;  // alpha^i
    for (char c : body) {
      sum ^= GfMultiply(alpha_power, static_cast<uint8_t>(kAlphabet.find(c)));
      alpha_power = GfMultiply(alpha_power, 2);
    }
    EXPECT_EQ(sum, 0) << body;
  }
}

TEST(TrackingNumberTest, ParseRoundTrip) {
  for (int i = 0; i < 1000; ++i) {
    const std::string number = NewNumber();
    const Result<std::string> parsed = ParseTrackingNumber(number);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed.value(), number);
    EXPECT_TRUE(IsValidTrackingNumber(number));
  }
}

TEST(TrackingNumberTest, ParseToleratesCaseSpacesAndHyphens) {
  const std::string number = NewNumber();
  const std::string body = Body(number);
  std::string lower;
  for (char c : number) lower.push_back(static_cast<char>(std::tolower(c)));
  std::string spaced;
  for (char c : body) (spaced += c) += " - ";
  const std::vector<std::string> variants = {
      body, lower, "  " + number + "  ", spaced, "tl" + body, "Tl " + body,
      "T1" + body, "t-l-" + body, "--" + body + "--",
      body.substr(0, 8) + " " + body.substr(8)};
  for (const std::string& variant : variants) {
    const Result<std::string> parsed = ParseTrackingNumber(variant);
    ASSERT_TRUE(parsed.ok()) << variant << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed.value(), number) << variant;
  }
}

TEST(TrackingNumberTest, ParseReadsILAsOneAndOAsZero) {
  // Find a number holding a 1 and a 0 and type them as I/l and O/o.
  for (int attempt = 0; attempt < 100000; ++attempt) {
    const std::string number = NewNumber();
    const std::string body = Body(number);
    if (body.find('1') == std::string::npos ||
        body.find('0') == std::string::npos) {
      continue;
    }
    for (const auto& [one, zero] : std::vector<std::pair<char, char>>{
             {'I', 'O'}, {'i', 'o'}, {'L', 'O'}, {'l', 'o'}}) {
      std::string typed = body;
      for (char& c : typed) {
        if (c == '1') c = one;
        if (c == '0') c = zero;
      }
      const Result<std::string> parsed = ParseTrackingNumber(typed);
      ASSERT_TRUE(parsed.ok()) << typed << ": " << parsed.status().ToString();
      EXPECT_EQ(parsed.value(), number);
    }
    return;
  }
  FAIL() << "no number with both 1 and 0 in 100000 draws";
}

TEST(TrackingNumberTest, PrefixIsOptionalButOnlyTL) {
  const std::string body = Body(NewNumber());
  EXPECT_TRUE(IsValidTrackingNumber(body));
  EXPECT_TRUE(IsValidTrackingNumber("TL" + body));
  EXPECT_EQ(ParseError("TX" + body),
            "a tracking number has 16 characters (not counting \"TL\", "
            "spaces and hyphens); got 18");
  EXPECT_EQ(ParseError("TLTL" + body),
            "a tracking number has 16 characters (not counting \"TL\", "
            "spaces and hyphens); got 18");
  EXPECT_EQ(ParseError("TL-" + body.substr(1)),
            "a tracking number has 16 characters (not counting \"TL\", "
            "spaces and hyphens); got 15");
}

TEST(TrackingNumberTest, ClearErrorsOnBadInput) {
  EXPECT_EQ(ParseError(""), "the tracking number is empty");
  EXPECT_EQ(ParseError(" - -  "), "the tracking number is empty");
  EXPECT_EQ(ParseError("ABC"),
            "a tracking number has 16 characters (not counting \"TL\", "
            "spaces and hyphens); got 3");
  EXPECT_EQ(ParseError("TL-ABCD-EFGH-JKMU-0000"),
            "invalid character 'U' at position 17");
  EXPECT_EQ(ParseError("TL-ABCD_EFGH"), "invalid character '_' at position 8");
  EXPECT_EQ(ParseError(std::string("AB\0CD", 5)),
            "invalid character at position 3");
  EXPECT_EQ(ParseError("AB\tCD"), "invalid character at position 3");
  // Non-ASCII: the position counts characters, not UTF-8 bytes, and the
  // character is not echoed.
  EXPECT_EQ(ParseError("\xC3\xA9\xC3\xA9X*"),
            "invalid character at position 1");
  EXPECT_EQ(ParseError("AB\xC3\xA9"), "invalid character at position 3");
  EXPECT_EQ(ParseError(std::string(64, '-') + "A"),
            "the tracking number is too long (more than 64 characters)");
  EXPECT_EQ(ParseError(std::string(1 << 20, 'A')),
            "the tracking number is too long (more than 64 characters)");
  // 64 bytes is still read.
  std::string padded = Body(NewNumber());
  padded += std::string(64 - padded.size(), ' ');
  EXPECT_TRUE(IsValidTrackingNumber(padded));
}

TEST(TrackingNumberTest, EverySingleSubstitutionIsDetected) {
  for (int n = 0; n < 300; ++n) {
    const std::string body = Body(NewNumber());
    for (size_t pos = 0; pos < body.size(); ++pos) {
      for (char replacement : kAlphabet) {
        if (replacement == body[pos]) continue;
        std::string typo = body;
        typo[pos] = replacement;
        ASSERT_EQ(ParseError(typo), kCheckMismatch) << body << " -> " << typo;
      }
    }
  }
}

TEST(TrackingNumberTest, EveryAdjacentTranspositionIsDetected) {
  for (int n = 0; n < 300; ++n) {
    const std::string body = Body(NewNumber());
    for (size_t pos = 0; pos + 1 < body.size(); ++pos) {  // includes the check
      if (body[pos] == body[pos + 1]) continue;
      std::string typo = body;
      std::swap(typo[pos], typo[pos + 1]);
      ASSERT_EQ(ParseError(typo), kCheckMismatch) << body << " -> " << typo;
    }
  }
}

TEST(TrackingNumberTest, NoDuplicatesInAMillion) {
  constexpr size_t kCount = 1000000;
  std::unordered_set<std::string> seen;
  seen.reserve(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    // The 15 random symbols fit std::string's inline buffer: no allocation.
    ASSERT_TRUE(seen.insert(Body(NewNumber()).substr(0, 15)).second)
        << "duplicate after " << i;
  }
}

TEST(TrackingNumberTest, EverySymbolAppearsInEveryRandomPosition) {
  constexpr int kCount = 320000;  // 10000 expected per (position, symbol)
  std::array<std::array<int, 32>, 15> histogram{};
  for (int i = 0; i < kCount; ++i) {
    const std::string body = Body(NewNumber());
    for (size_t pos = 0; pos < 15; ++pos) {
      ++histogram[pos][kAlphabet.find(body[pos])];
    }
  }
  for (size_t pos = 0; pos < 15; ++pos) {
    for (size_t symbol = 0; symbol < 32; ++symbol) {
      // sigma is about 98: +-10% is a 10-sigma bound, never a flake.
      EXPECT_GT(histogram[pos][symbol], 9000) << pos << " " << kAlphabet[symbol];
      EXPECT_LT(histogram[pos][symbol], 11000) << pos << " " << kAlphabet[symbol];
    }
  }
}

}  // namespace
}  // namespace tipline
