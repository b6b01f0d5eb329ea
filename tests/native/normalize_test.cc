#include "tipline/normalize.h"

#include <gtest/gtest.h>

#include <string>

namespace tipline {
namespace {

std::string Normalized(const std::string& text) {
  Result<std::string> result = NormalizeForDedup(text);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : std::string();
}

TEST(NormalizeTest, FoldsFullWidthToHalfWidth) {
  EXPECT_EQ(Normalized("ＡＢＣ１２３"), "abc123");
  EXPECT_EQ(Normalized("ｈｅｌｌｏ　ｗｏｒｌｄ"), "hello world");
}

TEST(NormalizeTest, FoldsCaseIncludingSpecialCases) {
  EXPECT_EQ(Normalized("HeLLo WORLD"), "hello world");
  EXPECT_EQ(Normalized("STRASSE Straße"), "strasse strasse");
  EXPECT_EQ(Normalized("ΣΊΣΥΦΟΣ"), Normalized("σίσυφος"));
  EXPECT_EQ(Normalized("ﬁle"), "file");  // compatibility ligature
}

TEST(NormalizeTest, FoldsPunctuationAndWhitespace) {
  EXPECT_EQ(Normalized("  Hello,\tworld!!!  How--are\nyou?  "), "hello world how are you");
  EXPECT_EQ(Normalized("你好，世界。「测试」"), "你好 世界 测试");
  EXPECT_EQ(Normalized("...!!!"), "");
  EXPECT_EQ(Normalized(""), "");
}

TEST(NormalizeTest, DropsZeroWidthCharacters) {
  EXPECT_EQ(Normalized("sp\u200bam"), "spam");
  EXPECT_EQ(Normalized("sp\u00adam"), "spam");  // soft hyphen
}

TEST(NormalizeTest, MapsTraditionalToSimplifiedChinese) {
  EXPECT_EQ(Normalized("這是一個測試"), "这是一个测试");
  EXPECT_EQ(Normalized("個人資料被洩露"), Normalized("个人资料被泄露"));
}

TEST(NormalizeTest, SimplifiedTextShortcutAgreesWithOpencc) {
  // Text without characters that t2s changes skips OpenCC; OpenCC itself
  // must leave such text unchanged.
  const ChineseConverter* converter = TraditionalToSimplified().value();
  for (const char* text :
       {"我的个人信息被泄露了 包括电话号码和家庭住址 请尽快处理",
        "有人在群里每天晚上发布虚假投资广告 骗了很多老人的钱", "头发很长", "干燥"}) {
    EXPECT_EQ(Normalized(text), converter->Convert(text).value()) << text;
  }
  EXPECT_EQ(Normalized("頭髮很長"), "头发很长");
}

TEST(NormalizeTest, HandlesMixedChineseAndLatin) {
  EXPECT_EQ(Normalized("我的iPhone手機，ＩＤ是ABC-123"), "我的iphone手机 id是abc 123");
}

TEST(NormalizeTest, AsciiFastPathAgreesWithIcuPath) {
  // Appending a non-ASCII word sends the text through ICU; the ASCII prefix
  // must come out the same.
  const std::string ascii = "Mixed CASE, punctuation; (and) [brackets] $100 + 5% ~x|y";
  const std::string with_icu = Normalized(ascii + " é");
  EXPECT_EQ(with_icu, Normalized(ascii) + " é");
}

TEST(NormalizeTest, IsIdempotent) {
  for (const char* text :
       {"Ｈｅｌｌｏ，ＷＯＲＬＤ！", "這是一個測試。iPhone手機", "a\u0301 ﬁ Straße"}) {
    const std::string once = Normalized(text);
    EXPECT_EQ(Normalized(once), once) << text;
  }
}

TEST(NormalizeTest, RejectsInvalidUtf8) {
  for (const std::string& bad : {std::string("\xff"), std::string("a\xc3"),
                                std::string("\xed\xa0\x80"),  // surrogate
                                std::string("\xc0\xaf")}) {   // overlong
    Result<std::string> result = NormalizeForDedup(bad);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(IsValidUtf8(bad));
  }
  EXPECT_TRUE(IsValidUtf8("ok 好 \xf0\x9f\x98\x80"));
}

TEST(NormalizeTest, MissingOpenccDataIsAClearError) {
  Result<std::unique_ptr<ChineseConverter>> converter =
      ChineseConverter::Open("/nonexistent/opencc/t2s.json");
  ASSERT_FALSE(converter.ok());
  EXPECT_EQ(converter.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(converter.status().message().find("libopencc-data"), std::string::npos);
}

TEST(NormalizeTest, DefaultOpenccConfigLoads) {
  Result<const ChineseConverter*> converter = TraditionalToSimplified();
  ASSERT_TRUE(converter.ok()) << converter.status().ToString();
  Result<std::string> simplified = converter.value()->Convert("漢字");
  ASSERT_TRUE(simplified.ok());
  EXPECT_EQ(simplified.value(), "汉字");
}

}  // namespace
}  // namespace tipline
