#include "tipline/dedup_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tipline/dedup_index.h"
#include "tipline/minhash.h"

namespace tipline {
namespace {

MinHashSignature Sign(const std::string& text) { return ComputeSignature(text).value(); }

bool Features(const MinHashSignature& a, const MinHashSignature& b, PairFeatures* out) {
  return PairFeaturesOf(a.text, a.shingles.data(), a.shingles.size(), a.shingle_count, b.text,
                        b.shingles.data(), b.shingles.size(), b.shingle_count, a.cjk && b.cjk,
                        out);
}

TEST(DedupModelTest, ThisBuildHasTrainedTrees) { EXPECT_TRUE(HasDedupModel()); }

TEST(DedupModelTest, FeaturesReadTheAlignmentsGaps) {
  // "journalctl" in the place of "systemctl", and 3.5 in the place of 3.6:
  // gaps with code points on both sides, numbers on one side only.
  PairFeatures f;
  ASSERT_TRUE(Features(Sign("表 3.5. 典型的 journalctl 命令片段列表"),
                       Sign("表 3.6. 典型的 systemctl 命令片段列表"), &f));
  EXPECT_EQ(f.values[kFeatureShorterChars], 21.0);  // 表3.6.典型的systemctl命令片段列表
  EXPECT_EQ(f.values[kFeatureLongerChars], 22.0);
  EXPECT_GE(f.values[kFeatureTwoSidedGaps], 2.0);
  EXPECT_EQ(f.values[kFeatureNumbersApart], 2.0);  // 5 and 6
  EXPECT_EQ(f.values[kFeatureWordsApart], 2.0);
  EXPECT_EQ(f.values[kFeatureOneSidedGaps], 0.0);
  EXPECT_EQ(f.values[kFeatureDifferentSubstance], 1.0);

  // A word inserted in the middle and a cut end: one gap with one side only,
  // a tail with one side only, nothing substituted.
  ASSERT_TRUE(Features(Sign("我的押金被房东扣了三个月还不退"),
                       Sign("我的押金其实被房东扣了三个月"), &f));
  EXPECT_EQ(f.values[kFeatureOneSidedGaps], 1.0);
  EXPECT_EQ(f.values[kFeatureOneSidedChars], 2.0);  // 其实
  EXPECT_EQ(f.values[kFeatureTwoSidedGaps], 0.0);
  EXPECT_EQ(f.values[kFeatureTailSmaller], 0.0);
  EXPECT_EQ(f.values[kFeatureTailLarger], 3.0);  // 还不退
  EXPECT_EQ(f.values[kFeatureCommonOfShorter], 12.0 / 14.0);
  EXPECT_EQ(f.values[kFeatureHanShare], 1.0);
}

TEST(DedupModelTest, FeaturesAreTheSameWhicheverTextComesFirst) {
  const MinHashSignature a = Sign("I want another RE-WRIT on my CEASAR SALAD!!");
  const MinHashSignature b = Sign("I wannt another re-write ｏｎ my ceasar salad!!");
  PairFeatures ab, ba;
  ASSERT_TRUE(Features(a, b, &ab));
  ASSERT_TRUE(Features(b, a, &ba));
  EXPECT_EQ(ab.values, ba.values);
  EXPECT_EQ(MatchScore(a, b), MatchScore(b, a));
}

TEST(DedupModelTest, DoesNotApplyWithoutMatchingForms) {
  const MinHashSignature a = ComputeSignature("the same words", kSignatureVersion2).value();
  PairFeatures f;
  EXPECT_FALSE(Features(a, Sign("the same words"), &f));
  EXPECT_FALSE(Features(Sign(std::string(kModelMaxChars + 1, 'a') + " x"),
                        Sign(std::string(kModelMaxChars + 1, 'a') + " y"), &f));
}

TEST(DedupModelTest, NoisyCopiesMatchAndTemplateLinesDoNot) {
  // The example: two typos, case and full-width letters. Under the
  // rules alone its Jaccard similarity decides; the trees see that every
  // difference is a typo.
  EXPECT_GT(MatchScore(Sign("I want another RE-WRIT on my CEASAR SALAD!!"),
                       Sign("I wannt another re-write ｏｎ my ceasar salad!!")),
            0.0);
  EXPECT_GT(MatchScore(Sign("如果你处于 GUI 环境中，你可以通过 Ctrl-Alt-F3 键前往字符控制台"),
                       Sign("回复：如果你處於 GUI 環境中，你可以通过 Ctrl-Alt-F3 键前往字符控制台")),
            0.0);
  // Two lines of one table, and two commands of one manual.
  EXPECT_EQ(MatchScore(Sign("表 3.5. 典型的 journalctl 命令片段列表"),
                       Sign("表 3.6. 典型的 systemctl 命令片段列表")),
            0.0);
  EXPECT_EQ(MatchScore(Sign("ALTER AGGREGATE - 修改一个聚集函数的定义"),
                       Sign("ALTER FUNCTION - 修改一个函数的定义")),
            0.0);
}

TEST(DedupModelTest, TwoMessagesInOneWrapperNeedMoreCertainty) {
  const std::string wrap = "Someone forwarded me the following message, see for yourself: ";
  const MinHashSignature a = Sign(wrap + "my deposit was kept");
  const MinHashSignature b = Sign(wrap + "fake concert tickets");
  PairFeatures f;
  ASSERT_TRUE(Features(a, b, &f));
  EXPECT_EQ(f.values[kFeatureOwnSubstance], 1.0);
  EXPECT_GE(DuplicateLogOdds(f, false), 0.0);  // past the cut of other pairs
  EXPECT_FALSE(ModelMatches(f, false));
  EXPECT_EQ(MatchScore(a, b), 0.0);
  // The same message with a typo and an exclamation: one report.
  EXPECT_GT(MatchScore(a, Sign(wrap + "my depsoit was kept!!")), 0.0);
}

TEST(DedupModelTest, ModelAppliesWhereItsFeaturesCanBeRead) {
  // ModelApplies counts code points without decoding (VerifiedScore asks it
  // before it accepts a pair of kModelSureJaccard unasked): a form of 1,000
  // Han characters (3,000 bytes) is in, one of 1,001 out, as for
  // PairFeaturesOf.
  std::string han;
  for (int i = 0; i < 1001; ++i) han += i % 7 == 0 ? "报" : i % 3 == 0 ? "告" : "押金";
  // Cut to whole characters: 1,000 and 1,001 code points of the same text.
  std::string thousand, more;
  size_t count = 0;
  for (size_t pos = 0; pos < han.size() && count < 1001; pos += 3, ++count) {
    if (count < 1000) thousand += han.substr(pos, 3);
    more += han.substr(pos, 3);
  }
  const MinHashSignature a = Sign(thousand), b = Sign(more), c = Sign(more + "报");
  const auto applies = [](const MinHashSignature& x, const MinHashSignature& y) {
    return ModelApplies(x.text, x.shingles.size(), x.shingle_count, y.text,
                        y.shingles.size(), y.shingle_count);
  };
  PairFeatures f;
  EXPECT_TRUE(applies(a, b));
  EXPECT_TRUE(Features(a, b, &f));
  EXPECT_FALSE(applies(b, c));
  EXPECT_FALSE(Features(b, c, &f));
  // No matching form: neither.
  MinHashSignature bare = a;
  bare.text.clear();
  EXPECT_FALSE(applies(bare, b));
  EXPECT_FALSE(Features(bare, b, &f));
}

TEST(DedupModelTest, TheThresholdSetsTheRegion) {
  EXPECT_DOUBLE_EQ(RegionThreshold(kDefaultDedupThreshold), 0.28);
  EXPECT_DOUBLE_EQ(RegionContainment(kDefaultContainmentThreshold), 0.70);
  EXPECT_EQ(RegionThreshold(1.0), 1.0);
  EXPECT_EQ(RegionThreshold(0.1), 0.0);
  // A long report with one typo, which the trees accept at the defaults: at
  // 1.0 it is out of the region.
  const std::string report =
      "My landlord kept the whole deposit after I moved out in March, although the flat "
      "was cleaned and the inspection found nothing wrong with it.";
  std::string typo = report;
  typo.replace(typo.find("deposit"), 7, "depsoit");
  const MinHashSignature a = Sign(report);
  const MinHashSignature b = Sign(typo);
  ASSERT_GT(MatchScore(a, b), 0.0);
  EXPECT_EQ(MatchScore(a, b, 1.0, 1.0), 0.0);
  EXPECT_EQ(MatchScore(a, a, 1.0, 1.0), 1.0);
}

TEST(DedupModelTest, TheIndexDecidesAsMatchScore) {
  // The index verifies from its pools, MatchScore from two signatures: the
  // same decision either way, for pairs on both sides of the cut.
  const char* const texts[] = {
      "I want another RE-WRIT on my CEASAR SALAD!!",
      "I wannt another re-write ｏｎ my ceasar salad!!",
      "I want another rewrite on my caesar salad please",
      "表 3.5. 典型的 journalctl 命令片段列表",
      "表 3.6. 典型的 systemctl 命令片段列表",
      "表 3.5. 典型的 journalctl 命令片段列表请处理",
      "我的押金被房东扣了三个月还不退",
      "我的押金其实被房东扣了三个月",
      "我的定金被中介扣了三个月还不退",
  };
  auto index = DedupIndex::Create().value();
  const size_t n = sizeof(texts) / sizeof(texts[0]);
  size_t matched = 0;
  for (size_t i = 0; i < n; ++i) {
    const MinHashSignature query = Sign(texts[i]);
    const auto found = index->QuerySignature(query, 10);
    for (size_t j = 0; j < i; ++j) {
      const double score = MatchScore(query, Sign(texts[j]));
      const bool in_index = std::any_of(found.begin(), found.end(), [&](const DedupMatch& m) {
        return m.key == static_cast<int64_t>(j);
      });
      EXPECT_EQ(in_index, score > 0.0) << texts[i] << " / " << texts[j];
      matched += score > 0.0;
    }
    ASSERT_TRUE(index->AddSignature(static_cast<int64_t>(i), query).ok());
  }
  EXPECT_GE(matched, 4u);
}

}  // namespace
}  // namespace tipline
