#include "tipline/minhash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tipline {
namespace {

// Version 2's golden values (set when version 2 was introduced; changing
// them invalidates every stored version-2 signature).
constexpr uint64_t kGoldenV2Digest = 0x17CAF6F3DF5F6D59ULL;
constexpr uint32_t kGoldenV2Value0 = 0xE77E78BCu;
constexpr int64_t kGoldenV2Band0 = 3491768344116697757LL;
// Version 3's (set when version 3 was introduced).
constexpr uint64_t kGoldenV3Digest = 0xA8D704CA3CCC0632ULL;

MinHashSignature Signature(const std::string& text) {
  Result<MinHashSignature> result = ComputeSignature(text);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : MinHashSignature{};
}

MinHashSignature SignatureV2(const std::string& text) {
  Result<MinHashSignature> result = ComputeSignature(text, kSignatureVersion2);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : MinHashSignature{};
}

MinHashSignature SignatureV1(const std::string& text) {
  Result<MinHashSignature> result = ComputeSignature(text, kSignatureVersion1);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : MinHashSignature{};
}

double Similarity(const std::string& a, const std::string& b) {
  return EstimateSimilarity(Signature(a), Signature(b));
}

double Jaccard(const std::string& a, const std::string& b) {
  return VerifyOverlap(Signature(a), Signature(b)).jaccard;
}

TEST(MinHashTest, XxHash64MatchesReferenceVectors) {
  // From the reference implementation (libxxhash 0.8.1).
  EXPECT_EQ(XxHash64("", 0, 0), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(XxHash64("a", 1, 0), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(XxHash64("abc", 3, 0), 0x44BC2CF5AD770999ULL);
  const std::string long_text = "Nobody inspects the spammish repetition";
  EXPECT_EQ(XxHash64(long_text.data(), long_text.size(), 0), 0xFBCEA83C8A378BF1ULL);
  std::string bytes;
  for (int i = 0; i < 100; ++i) bytes.push_back(static_cast<char>(i));
  EXPECT_EQ(XxHash64(bytes.data(), bytes.size(), 0), 0x6AC1E58032166597ULL);
  EXPECT_EQ(XxHash64("abc", 3, 0x9E3779B185EBCA8DULL), 0x7E49C9D7E85A4AB6ULL);
}

TEST(MinHashTest, GoldenSignatureIsStable) {
  // Version 1, still stored by databases until the re-signing cron job has
  // run: changing the hash, shingling, seeds or layout changes these bytes,
  // and invalidates every version-1 signature stored in a database.
  const std::string bytes =
      EncodeSignature(SignatureV1("The quick brown fox jumps over the lazy dog"));
  ASSERT_EQ(bytes.size(), kSignatureBytes);
  const std::string golden_prefix(
      "\x01\x00\x80\x00"
      "\xba\xb5\xf9\x1c"
      "\x9c\xbd\x04\x05"
      "\x0e\xa5\xc1\x11",
      16);
  EXPECT_EQ(bytes.substr(0, 16), golden_prefix);
  EXPECT_EQ(BandKey(SignatureV1("The quick brown fox jumps over the lazy dog"), 0),
            4299783182534612903LL);
  const MinHashSignature chinese = SignatureV1("我的個人信息被洩露了");
  EXPECT_EQ(chinese.values[0], 0x06686B42u);
  EXPECT_EQ(chinese.values[1], 0x4264472Au);
}

TEST(MinHashTest, WholeSignaturesAreStableOnEveryKernel) {
  // Every byte of 204 signatures, hashed: the kernel is picked per CPU
  // (x86-64-v4, AVX2, baseline; tests/CMakeLists.txt also builds this test
  // for the baseline alone), and each must store the same bytes. The same
  // texts as tests/binding/test_dedup.py's digest.
  std::vector<std::string> texts = {
      "The quick brown fox jumps over the lazy dog",
      "\u6211\u7684\u4e2a\u4eba\u4fe1\u606f\u88ab\u6cc4\u9732\u4e86"
      "\u5305\u62ec\u7535\u8bdd\u53f7\u7801\u548c\u5bb6\u5ead\u4f4f\u5740",
      "Mixed \u4e2d\u6587 and English, \uff46\uff55\uff4c\uff4c width", "a b"};
  for (int i = 0; i < 200; ++i) {
    texts.push_back("report " + std::to_string(i) + " about user " +
                    std::to_string(i * 7) + " posting spam links every night");
  }
  std::string all;
  for (const std::string& text : texts) all += EncodeSignature(SignatureV1(text));
  EXPECT_EQ(XxHash64(all.data(), all.size(), 0), 0xD857AC2709CC8C8AULL);
  // Version 2 (set deliberately when version 2 was introduced).
  all.clear();
  for (const std::string& text : texts) all += EncodeSignature(SignatureV2(text));
  EXPECT_EQ(XxHash64(all.data(), all.size(), 0), kGoldenV2Digest);
  // Version 3 (set deliberately when version 3 was introduced).
  all.clear();
  for (const std::string& text : texts) all += EncodeSignature(Signature(text));
  EXPECT_EQ(XxHash64(all.data(), all.size(), 0), kGoldenV3Digest);
}

TEST(MinHashTest, GoldenVersion2SignatureIsStable) {
  const MinHashSignature signature =
      SignatureV2("The quick brown fox jumps over the lazy dog");
  const std::string bytes = EncodeSignature(signature);
  // 35 letters without spaces: 33 3-grams, "the" twice.
  ASSERT_EQ(bytes.size(), kSignatureBytes + kVerifyHeaderBytes + 4 * 32);
  EXPECT_EQ(bytes.substr(0, 4), std::string("\x02\x00\x80\x00", 4));
  EXPECT_EQ(signature.shingle_count, 32u);
  EXPECT_EQ(signature.values[0], kGoldenV2Value0);
  EXPECT_EQ(BandKey(signature, 0), kGoldenV2Band0);
  EXPECT_TRUE(SignatureV2("我的個人信息被洩露了").cjk);
  EXPECT_FALSE(signature.cjk);
}

TEST(MinHashTest, Version3IsVersion2WithBandsAndTheMatchingForm) {
  for (const std::string text :
       {"The quick brown fox jumps over the lazy dog", "我的個人信息被洩露了，請處理",
        "Mixed 中文 and ＥＮＧＬＩＳＨ", "?!", "a"}) {
    const MinHashSignature v2 = SignatureV2(text), v3 = Signature(text);
    EXPECT_EQ(v3.version, 3);
    EXPECT_EQ(v3.values, v2.values) << text;
    EXPECT_EQ(v3.shingles, v2.shingles) << text;
    EXPECT_EQ(v3.shingle_count, v2.shingle_count) << text;
    EXPECT_EQ(v3.cjk, v2.cjk) << text;
    // The regular bands are version 2's, so a version-3 query finds
    // version-2 rows.
    const std::vector<int64_t> keys = BandKeys(v3), old = BandKeys(v2);
    ASSERT_GE(keys.size(), old.size());
    EXPECT_TRUE(std::equal(old.begin(), old.end(), keys.begin())) << text;
    EXPECT_DOUBLE_EQ(VerifyOverlap(v2, v3).jaccard, v2.empty() ? 0.0 : 1.0);
  }
  EXPECT_EQ(Signature("The quick, brown fox!").text, "thequickbrownfox");
  EXPECT_EQ(Signature("我的個人信息 被洩露了").text, "我的个人信息被泄露了");
  EXPECT_EQ(Signature("?!").text, "");
  EXPECT_TRUE(SignatureV2("abc").text.empty());
  std::string long_text(kMaxVerifyTextChars + 1, 'x');
  for (size_t i = 0; i < long_text.size(); i += 7) long_text[i] = 'y';
  EXPECT_TRUE(Signature(long_text).text.empty());
  EXPECT_EQ(Signature(long_text.substr(1)).text.size(), kMaxVerifyTextChars);
}

TEST(MinHashTest, EncodeDecodeRoundTrip) {
  const MinHashSignature signature = Signature("round trip of a signature");
  Result<MinHashSignature> decoded = DecodeSignature(EncodeSignature(signature));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), signature);
}

TEST(MinHashTest, DecodeRejectsBadBytes) {
  std::string bytes = EncodeSignature(SignatureV1("some text here"));
  EXPECT_FALSE(DecodeSignature(bytes.substr(0, kSignatureBytes - 1)).ok());
  EXPECT_FALSE(DecodeSignature(bytes + "x").ok());
  EXPECT_FALSE(DecodeSignature("").ok());
  for (size_t header_byte = 0; header_byte < kSignatureHeaderBytes; ++header_byte) {
    std::string tampered = bytes;
    tampered[header_byte] ^= 0x01;
    Result<MinHashSignature> result = DecodeSignature(tampered);
    ASSERT_FALSE(result.ok()) << header_byte;
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(MinHashTest, DecodeRejectsBadVerifySets) {
  const std::string good = EncodeSignature(SignatureV2("some text here, long enough"));
  ASSERT_TRUE(DecodeSignature(good).ok());
  EXPECT_FALSE(DecodeSignature(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(DecodeSignature(good + "abcd").ok());
  EXPECT_FALSE(DecodeSignature(good.substr(0, kSignatureBytes)).ok());
  std::string unsorted = good;  // swap the first two set values
  const size_t first = kSignatureBytes + kVerifyHeaderBytes;
  for (size_t i = 0; i < 4; ++i) std::swap(unsorted[first + i], unsorted[first + 4 + i]);
  EXPECT_FALSE(DecodeSignature(unsorted).ok());
  std::string count = good;  // a stored count that disagrees with the set
  count[kSignatureBytes] ^= 0x01;
  EXPECT_FALSE(DecodeSignature(count).ok());
  std::string flags = good;
  flags[1] = 2;
  EXPECT_FALSE(DecodeSignature(flags).ok());
}

TEST(MinHashTest, DecodeRejectsBadMatchingForms) {
  const std::string good = EncodeSignature(Signature("some text here, long enough"));
  ASSERT_TRUE(DecodeSignature(good).ok());
  EXPECT_EQ(DecodeSignature(good).value().text, "sometextherelongenough");
  EXPECT_FALSE(DecodeSignature(good.substr(0, good.size() - 1)).ok());
  EXPECT_FALSE(DecodeSignature(good + "x").ok());
  const size_t form = good.size() - std::string("sometextherelongenough").size();
  std::string spaced = good;
  spaced[form + 2] = ' ';
  EXPECT_FALSE(DecodeSignature(spaced).ok());
  std::string not_utf8 = good;
  not_utf8[form] = '\xff';
  EXPECT_FALSE(DecodeSignature(not_utf8).ok());
  // A version-2 signature with a matching form appended is not version 2.
  EXPECT_FALSE(DecodeSignature(EncodeSignature(SignatureV2("some text here")) +
                               std::string("\x03\0\0\0abc", 7)).ok());
}

TEST(MinHashTest, Version2SurvivesTyposCaseAndWidth) {
  // The example: the same complaint, three typos and full width.
  const std::string a = "I want another RE-WRIT on my CEASAR SALAD!!";
  const std::string b = "I wannt another re-write \uff4f\uff4e my ceasar salad!!";
  EXPECT_GT(Jaccard(a, b), 0.6);
  EXPECT_LT(EstimateSimilarity(SignatureV1(a), SignatureV1(b)), 0.5);
  EXPECT_LT(Jaccard(a, "Someone keeps posting spam links in the chat"), 0.1);
}

TEST(MinHashTest, Version2IgnoresSpacingAndPunctuation) {
  EXPECT_EQ(Signature("spam links, every night!"), Signature("spamlinks every   night"));
  EXPECT_EQ(Signature("我的 个人 信息"), Signature("我的个人信息。"));
}

TEST(MinHashTest, Version2MapsTaiwanVocabulary) {
  // tw2sp maps 軟體 -> 软件 and 滑鼠 -> 鼠标, which t2s leaves as 软体, 滑鼠;
  // the traditional text keeps both readings, so the simplified one written
  // with mainland words is contained in it, and so is one that keeps 资料,
  // which tw2sp would have made 数据.
  const ShingleOverlap taiwan =
      VerifyOverlap(Signature("我的軟體和滑鼠壞了"), Signature("我的软件和鼠标坏了"));
  EXPECT_DOUBLE_EQ(taiwan.containment, 1.0);
  EXPECT_GT(taiwan.jaccard, 0.5);
  EXPECT_LT(EstimateSimilarity(SignatureV1("我的軟體和滑鼠壞了"),
                               SignatureV1("我的软件和鼠标坏了")), 0.5);
  EXPECT_DOUBLE_EQ(VerifyOverlap(Signature("個人資料被洩露了"),
                                 Signature("个人资料被泄露了")).containment, 1.0);
}

TEST(MinHashTest, VerifyOverlapIsExact) {
  // "abcdef": abc bcd cde def; "abcdefg" adds efg: 4 shared of 5.
  const ShingleOverlap o = VerifyOverlap(Signature("abcdef"), Signature("abcdefg"));
  EXPECT_DOUBLE_EQ(o.jaccard, 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(o.containment, 1.0);
  EXPECT_EQ(o.smaller, 4u);
  // Chinese: 3-grams and 2-grams. 中文测试: 2 + 3; 中文测: 1 + 2; shared 3.
  const ShingleOverlap z = VerifyOverlap(Signature("中文测试"), Signature("中文测"));
  EXPECT_DOUBLE_EQ(z.jaccard, 3.0 / 5.0);
  EXPECT_DOUBLE_EQ(z.containment, 1.0);
  // Across versions, nothing.
  EXPECT_EQ(VerifyOverlap(Signature("abcdef"), SignatureV1("abcdef")).jaccard, 0.0);
  EXPECT_EQ(EstimateSimilarity(Signature("abcdef"), SignatureV1("abcdef")), 0.0);
}

TEST(MinHashTest, OverlapOfSetsCountsEveryCommonValue) {
  // The intersection of exact sets is counted four values at a time where
  // the CPU can: every size (blocks and tails), runs of common values
  // across block edges, equal last values, one set inside the other.
  std::mt19937 rng(9);
  for (int round = 0; round < 3000; ++round) {
    std::vector<uint32_t> x, y;
    const uint32_t range = 8 + rng() % 400;  // dense: many common values
    for (uint32_t v = 0; v < range; ++v) {
      const uint32_t r = rng() % 4;
      if (r == 0 || r == 2) x.push_back(v);
      if (r == 1 || r == 2) y.push_back(v);
    }
    if (round % 7 == 0) y = x;
    if (round % 11 == 0) y.assign(x.begin(), x.begin() + static_cast<long>(x.size() / 2));
    if (x.empty() || y.empty()) continue;
    std::vector<uint32_t> common;
    std::set_intersection(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(common));
    const auto nx = static_cast<uint32_t>(x.size()), ny = static_cast<uint32_t>(y.size());
    const ShingleOverlap o = OverlapOfSets(x.data(), nx, nx, y.data(), ny, ny);
    const double inter = static_cast<double>(common.size());
    ASSERT_DOUBLE_EQ(o.jaccard, inter / (nx + ny - inter)) << "round " << round;
    ASSERT_DOUBLE_EQ(o.containment, inter / std::min(nx, ny)) << "round " << round;
  }
}

TEST(MinHashTest, LongTextsKeepABottomKSketch) {
  std::string a, b;
  uint32_t state = 12345;  // pseudo-random letters: thousands of 3-grams
  for (int i = 0; i < 20000; ++i) {
    state = state * 1103515245u + 12345u;
    a.push_back(static_cast<char>('a' + (state >> 16) % 26));
  }
  b = a + "and a short tail";
  const MinHashSignature x = Signature(a), y = Signature(b);
  EXPECT_EQ(x.shingles.size(), kMaxVerifyShingles);
  EXPECT_GT(x.shingle_count, kMaxVerifyShingles);
  const ShingleOverlap o = VerifyOverlap(x, y);
  EXPECT_GT(o.jaccard, 0.95);
  EXPECT_GT(o.containment, 0.95);
  Result<MinHashSignature> decoded = DecodeSignature(EncodeSignature(x));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded.value(), x);
}

TEST(MinHashTest, VersionsHaveTheirOwnBandKeys) {
  const std::vector<int64_t> v3 = BandKeys(Signature("a few words for the bands"));
  const std::vector<int64_t> v1 = BandKeys(SignatureV1("a few words for the bands"));
  ASSERT_EQ(v3.size(), kLshBandsV2 + kLshExtraBands);
  ASSERT_EQ(v1.size(), kLshBands);
  for (const int64_t k : v3) {
    for (const int64_t j : v1) EXPECT_NE(k, j);
  }
  EXPECT_FALSE(ComputeSignature("text", 4).ok());
  EXPECT_FALSE(ComputeSignature("text", 0).ok());
}

TEST(MinHashTest, ShortTextsHaveTheExtraWindows) {
  // 33 shingles: stored and looked up under all 128 windows.
  const MinHashSignature short_text = Signature("The quick brown fox jumps over the lazy dog");
  ASSERT_LE(short_text.shingle_count, kShortTextShingles);
  EXPECT_EQ(BandKeys(short_text).size(), kMaxLshBands);
  // About 100: the regular bands only.
  const MinHashSignature medium = Signature(
      "The quick brown fox jumps over the lazy dog, then the dog wakes up and "
      "chases the fox around the yard.");
  ASSERT_GT(medium.shingle_count, kShortTextShingles);
  EXPECT_EQ(BandKeys(medium).size(), kLshBandsV2);
  // Version 2 never has them.
  EXPECT_EQ(BandKeys(SignatureV2("The quick brown fox")).size(), kLshBandsV2);
}

TEST(MinHashTest, DifferentSubstanceSeesTwoBodiesInOneWrapper) {
  const std::string wrap = "I saw this in the group chat yesterday and it is not the first time: ";
  // Two different messages quoted in the same words: each has a long run of
  // its own.
  EXPECT_TRUE(DifferentSubstance(
      Signature(wrap + "the landlord kept my whole deposit"),
      Signature(wrap + "someone is selling fake concert tickets")));
  // The same message with typos, an inserted word, a cut end, or quoted in
  // a longer one: one side at least has no long run of its own.
  const std::string body = "the landlord kept my whole deposit and never answered my calls";
  const MinHashSignature original = Signature(body);
  EXPECT_FALSE(DifferentSubstance(original, Signature(
      "teh landlord kept my whole depsoit and never answerd my calls")));
  EXPECT_FALSE(DifferentSubstance(original, Signature(
      "the landlord honestly kept my whole deposit and never answered my calls")));
  EXPECT_FALSE(DifferentSubstance(original, Signature("the landlord kept my whole")));
  EXPECT_FALSE(DifferentSubstance(original, Signature(wrap + body + " Please help.")));
  // Without matching forms (version 2) it never says so.
  EXPECT_FALSE(DifferentSubstance(
      SignatureV2(wrap + "the landlord kept my whole deposit"),
      SignatureV2(wrap + "someone is selling fake concert tickets")));
}

TEST(MinHashTest, DifferentSubstanceSeesASubstitutedWordInChinese) {
  const std::string journalctl = "表 3.5. 典型的 journalctl 命令片段列表";
  const std::string aggregate = "ALTER AGGREGATE - 修改一个聚集函数的定义";
  // One identifier, number or run of Han characters put in place of another.
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {journalctl, "表 3.6. 典型的 systemctl 命令片段列表"},
           {journalctl, "表 3.5. 典型的 systemctl 命令片段列表"},
           {journalctl, "表 3.6. 典型的 journalctl 命令片段列表"},
           {aggregate, "ALTER FUNCTION - 修改一个函数的定义"},
           {"-S 文件 文件存在且为套接字", "-r 文件 文件存在且用户具有读权限"},
           {"迫使一个 IDE 驱动器立即进入最低能耗", "迫使一个 USB 驱动器立即进入最低能耗"},
           {"对于 GUI 版本，在前台运行", "对于 CLI 版本，在前台运行"}}) {
    EXPECT_TRUE(DifferentSubstance(Signature(a), Signature(b))) << a << " | " << b;
    EXPECT_TRUE(DifferentSubstance(Signature(b), Signature(a))) << a << " | " << b;
  }
  // Typos, a cut end, affixes, case and punctuation, a reordered number, one
  // mistyped Han character: the same text.
  for (const auto& [a, b] : std::vector<std::pair<std::string, std::string>>{
           {journalctl, "表 3.5. 典型的 jounralctl 命令片段列表"},
           {journalctl, "回复：表 3.5. 典型的 journalctl 命令片段"},
           {journalctl, "表 3.5. 典型的 journalctl 命令片段列表 please fix"},
           {aggregate, "Re: ALTER AGGREGATE - 修改一个聚集函数的定义 please fix"},
           {aggregate, "ALTER AGGERGATE - 修改一个聚集函数的定"},
           {aggregate, "alter aggregate 修改一个聚集函数的定义"},
           {"9.4.1. 系统安全性和完整性检查", "1. 9.4. 系统安全性和完整性检查"},
           {"debian 社会契约第二条", "debian 社会契约第八条"},
           // One typo in a word of three letters: a letter changed, two swapped.
           {"迫使一个 IDE 驱动器立即进入最低能耗", "迫使一个 IDW 驱动器立即进入最低能耗"},
           {"如何解码或创建 web 中的 %-encoding?", "如何解码或创建 wev 中的 %-encoding?"},
           {"对于 GUI 版本，在前台运行", "对于 UGI 版本，在前台运行"}}) {
    EXPECT_FALSE(DifferentSubstance(Signature(a), Signature(b))) << a << " | " << b;
    EXPECT_FALSE(DifferentSubstance(Signature(b), Signature(a))) << a << " | " << b;
  }
  // Latin texts are left to the run rule: a different word in a short
  // English line is not a substitution here.
  EXPECT_FALSE(DifferentSubstance(Signature("use journalctl to read the log"),
                                  Signature("use systemctl to read the log")));
  // Nor does it apply without matching forms (version 2).
  EXPECT_FALSE(DifferentSubstance(SignatureV2(journalctl),
                                  SignatureV2("表 3.6. 典型的 systemctl 命令片段列表")));
}

TEST(MinHashTest, NormalisationVariantsHaveEqualSignatures) {
  EXPECT_EQ(Signature("Hello, World! This is SPAM."),
            Signature("ｈｅｌｌｏ　ｗｏｒｌｄ this is spam"));
  EXPECT_EQ(Signature("這是一個測試"), Signature("这是一个测试"));
}

TEST(MinHashTest, NearDuplicatesAreSimilarInEnglish) {
  const std::string a =
      "My landlord has kept the whole deposit for three months and refuses to "
      "answer any of my messages about returning it";
  const std::string b =
      "My landlord has kept the whole deposit for three months and refuses to "
      "answer all of my messages about returning it!";
  const std::string unrelated =
      "Someone keeps posting spam links to a crypto investment scheme in the "
      "football club group chat every night";
  EXPECT_GT(Similarity(a, b), 0.7);
  EXPECT_LT(Similarity(a, unrelated), 0.1);
}

TEST(MinHashTest, NearDuplicatesAreSimilarInChinese) {
  const std::string a = "我的个人信息被泄露了，包括电话号码和家庭住址，请尽快处理";
  const std::string b = "我的個人信息被洩露了，包括電話號碼和家庭地址，請儘快處理！";
  const std::string unrelated = "有人在群里每天晚上发布虚假投资广告，骗了很多老人的钱";
  EXPECT_GT(Similarity(a, b), 0.7);
  EXPECT_LT(Similarity(a, unrelated), 0.1);
}

TEST(MinHashTest, MixedLanguageTextShinglesBothScripts) {
  const std::string a = "我的iPhone手机被偷了 please help find it";
  EXPECT_GT(Similarity(a, "我的iPhone手机被偷了 please help me find it"), 0.6);
  EXPECT_LT(Similarity(a, "我的iPhone手机被偷了"), 0.8);
}

TEST(MinHashTest, ShinglesAreTokenBigramsInVersion1) {
  EXPECT_EQ(ShingleHashes("one two three", 1).size(), 2u);
  EXPECT_EQ(ShingleHashes("中文测试", 1).size(), 3u);  // 4 characters, 3 bigrams
  EXPECT_EQ(ShingleHashes("abc中文", 1).size(), 2u);   // abc|中, 中|文
  EXPECT_EQ(ShingleHashes("single", 1).size(), 1u);
  EXPECT_TRUE(ShingleHashes("", 1).empty());
}

TEST(MinHashTest, ShinglesAreCharacterNgramsInVersion2) {
  EXPECT_EQ(ShingleHashes("one two").size(), 4u);      // one ne2 etw two
  EXPECT_EQ(ShingleHashes("中文测试").size(), 5u);     // 2 3-grams + 3 2-grams
  EXPECT_EQ(ShingleHashes("abc中文").size(), 4u);      // 3 3-grams + 中文
  EXPECT_EQ(ShingleHashes("ab").size(), 1u);
  EXPECT_EQ(ShingleHashes("a").size(), 1u);
  EXPECT_EQ(ShingleHashes("中文").size(), 1u);
  EXPECT_TRUE(ShingleHashes("").empty());
}

TEST(MinHashTest, EmptyTextMatchesNothing) {
  const MinHashSignature empty = Signature("?!");
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(EstimateSimilarity(empty, empty), 0.0);
  EXPECT_TRUE(BandKeys(empty).empty());
}

TEST(MinHashTest, BandKeysAreNonNegativeAndDistinctAcrossBands) {
  const std::vector<int64_t> keys = BandKeys(Signature("a few words for the bands"));
  ASSERT_EQ(keys.size(), kMaxLshBands);
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_GE(keys[i], 0);
    for (size_t j = 0; j < i; ++j) EXPECT_NE(keys[i], keys[j]);
  }
}

TEST(MinHashTest, BatchEqualsSingle) {
  std::vector<std::string> texts;
  for (int i = 0; i < 2000; ++i) texts.push_back("report number " + std::to_string(i) + " 报告");
  std::vector<std::string_view> views(texts.begin(), texts.end());
  std::vector<MinHashSignature> batch;
  ASSERT_TRUE(ComputeSignatures(views, &batch).ok());
  for (size_t i = 0; i < texts.size(); i += 97) EXPECT_EQ(batch[i], Signature(texts[i]));
  EncodedSignatures encoded;
  for (const uint8_t version : {1, 2, 3}) {
    ASSERT_TRUE(ComputeEncodedSignatures(views, &encoded, nullptr, version).ok());
    ASSERT_EQ(encoded.items.size(), texts.size());
    for (size_t i = 0; i < texts.size(); ++i) {
      ASSERT_EQ(encoded.items[i],
                EncodeSignature(ComputeSignature(texts[i], version).value()));
    }
  }
}

TEST(MinHashTest, BatchReportsFirstFailure) {
  std::vector<std::string_view> views = {"ok", "bad \xff", "ok too", "\xfe"};
  std::vector<MinHashSignature> batch;
  size_t failed = 99;
  const Status status = ComputeSignatures(views, &batch, &failed);
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(failed, 1u);
  EncodedSignatures encoded;
  failed = 99;
  EXPECT_EQ(ComputeEncodedSignatures(views, &encoded, &failed).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(failed, 1u);
  EXPECT_TRUE(encoded.items.empty() && encoded.chunks.empty());
}

}  // namespace
}  // namespace tipline
