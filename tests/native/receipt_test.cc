#include "tipline/receipt.h"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <set>
#include <string>

namespace tipline {
namespace {

// Cheap parameters so the tests stay fast; the default is tested once.
constexpr ScryptParams kFast{10, 8, 1};

TEST(ReceiptTest, NewReceiptHasFourGroupsOfFourDigits) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string receipt = NewReceipt().value();
    ASSERT_EQ(receipt.size(), 19u);
    for (size_t j = 0; j < receipt.size(); ++j) {
      if (j % 5 == 4) {
        EXPECT_EQ(receipt[j], '-');
      } else {
        EXPECT_TRUE(receipt[j] >= '0' && receipt[j] <= '9');
      }
    }
    EXPECT_TRUE(seen.insert(receipt).second);
  }
}

TEST(ReceiptTest, DigitsAreRoughlyUniformInEveryPosition) {
  std::array<std::array<int, 10>, 16> counts{};
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    const std::string digits = NormalizeReceipt(NewReceipt().value()).value();
    for (size_t j = 0; j < 16; ++j) ++counts[j][digits[j] - '0'];
  }
  for (const auto& position : counts) {
    for (int count : position) {
      EXPECT_GT(count, kDraws / 10 - 300);  // ~7 sigma
      EXPECT_LT(count, kDraws / 10 + 300);
    }
  }
}

TEST(ReceiptTest, NormalizeAcceptsSpacesAndHyphens) {
  const std::string canonical = "1234567890123456";
  for (const char* typed :
       {"1234-5678-9012-3456", "1234 5678 9012 3456", "1234567890123456",
        " 1234--5678 - 9012 3456 ", "12-34-56-78-90-12-34-56"}) {
    EXPECT_EQ(NormalizeReceipt(typed).value(), canonical) << typed;
  }
}

TEST(ReceiptTest, NormalizeRejectsOthers) {
  for (const std::string& typed :
       {std::string(), std::string("----"), std::string("123456789012345"),
        std::string("12345678901234567"), std::string("1234-5678-9012-345x"),
        std::string("１２３４５６７８９０１２３４５６"),
        std::string("1234567890123456") + std::string(60, ' '),
        std::string("1234\t5678 9012 3456")}) {
    Result<std::string> result = NormalizeReceipt(typed);
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument) << typed;
  }
}

TEST(ReceiptTest, HashThenVerify) {
  const std::string receipt = NewReceipt().value();
  const std::string stored = HashReceipt(receipt, kFast).value();
  ASSERT_EQ(stored.size(), kReceiptHashSize);
  EXPECT_EQ(stored.substr(0, 4), std::string("\x01\x0a\x08\x01", 4));
  EXPECT_TRUE(VerifyReceipt(receipt, stored).value());
  std::string spaced = NormalizeReceipt(receipt).value();
  spaced.insert(8, " ");
  EXPECT_TRUE(VerifyReceipt(spaced, stored).value());
  std::string wrong = NormalizeReceipt(receipt).value();
  wrong[15] = wrong[15] == '9' ? '0' : static_cast<char>(wrong[15] + 1);
  EXPECT_FALSE(VerifyReceipt(wrong, stored).value());
  EXPECT_FALSE(VerifyReceipt("not a receipt", stored).value());
  // Fresh salt: hashing twice gives different records.
  EXPECT_NE(HashReceipt(receipt, kFast).value(), stored);
}

TEST(ReceiptTest, KnownAnswerFromAnIndependentScrypt) {
  // Python: hashlib.scrypt(b"1234567890123456", salt=bytes(range(16)),
  //                        n=1024, r=8, p=1, dklen=32)
  std::string stored("\x01\x0a\x08\x01", 4);
  for (int i = 0; i < 16; ++i) stored.push_back(static_cast<char>(i));
  const char* hex =
      "3f4bc93b18e204f35e7744e523fc5e719b9b8a1accfa4260e649ee30fea6e864";
  for (int i = 0; i < 32; ++i) {
    stored.push_back(static_cast<char>(
        std::stoi(std::string(hex + 2 * i, 2), nullptr, 16)));
  }
  EXPECT_TRUE(VerifyReceipt("1234-5678-9012-3456", stored).value());
  EXPECT_FALSE(VerifyReceipt("1234-5678-9012-3457", stored).value());
  stored.back() ^= 1;
  EXPECT_FALSE(VerifyReceipt("1234-5678-9012-3456", stored).value());
}

TEST(ReceiptTest, MalformedStoredHashIsInvalidArgument) {
  const std::string good = HashReceipt("1111222233334444", kFast).value();
  std::string bad_version = good;
  bad_version[0] = 2;
  std::string huge_n = good;
  huge_n[1] = 30;
  std::string zero_r = good;
  zero_r[2] = 0;
  std::string too_much_memory = good;  // 2^20 * 128 * 16 = 2 GiB
  too_much_memory[1] = 20;
  too_much_memory[2] = 16;
  for (const std::string& stored :
       {std::string(), good.substr(0, 51), good + "x", bad_version, huge_n,
        zero_r, too_much_memory}) {
    Result<bool> result = VerifyReceipt("1111222233334444", stored);
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(HashReceipt("1111222233334444", ScryptParams{9, 8, 1})
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(HashReceipt("abc", kFast).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ReceiptTest, EncodeDecodeRoundTrip) {
  const std::string stored = HashReceipt("1111222233334444", kFast).value();
  const ReceiptHash decoded = DecodeReceiptHash(stored).value();
  EXPECT_EQ(decoded.params.log2_n, 10);
  EXPECT_EQ(decoded.params.r, 8);
  EXPECT_EQ(decoded.params.p, 1);
  EXPECT_EQ(EncodeReceiptHash(decoded), stored);
}

TEST(ReceiptTest, DefaultParametersWork) {
  const auto start = std::chrono::steady_clock::now();
  const std::string stored = HashReceipt("1111-2222-3333-4444").value();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(stored[1], kReceiptScryptParams.log2_n);
  EXPECT_TRUE(VerifyReceipt("1111 2222 3333 4444", stored).value());
  std::printf("default receipt hash: %.1f ms\n",
              std::chrono::duration<double, std::milli>(elapsed).count());
}

}  // namespace
}  // namespace tipline
