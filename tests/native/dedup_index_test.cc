#include "tipline/dedup_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace tipline {
namespace {

std::unique_ptr<DedupIndex> NewIndex(double threshold = 0.5) {
  Result<std::unique_ptr<DedupIndex>> index = DedupIndex::Create(threshold);
  EXPECT_TRUE(index.ok());
  return std::move(index).value();
}

std::string Report(int i) {
  return "report " + std::to_string(i) + " about user " + std::to_string(i * 7) +
         " posting harassment in channel " + std::to_string(i % 13) +
         " every single day since " + std::to_string(1000 + i);
}

TEST(DedupIndexTest, RejectsBadThresholds) {
  for (double bad : {0.0, -0.1, 1.5, std::nan("")}) {
    Result<std::unique_ptr<DedupIndex>> index = DedupIndex::Create(bad);
    ASSERT_FALSE(index.ok());
    EXPECT_EQ(index.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_TRUE(DedupIndex::Create(1.0).ok());
}

TEST(DedupIndexTest, FindsNearDuplicateBestFirst) {
  auto index = NewIndex();
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(index->Add(i, Report(i)).ok());
  EXPECT_EQ(index->size(), 500u);
  Result<std::vector<DedupMatch>> matches = index->Query(Report(42) + " please", 10);
  ASSERT_TRUE(matches.ok());
  ASSERT_FALSE(matches.value().empty());
  EXPECT_EQ(matches.value()[0].key, 42);
  for (size_t i = 1; i < matches.value().size(); ++i) {
    EXPECT_GE(matches.value()[i - 1].similarity, matches.value()[i].similarity);
  }
  for (const DedupMatch& m : matches.value()) EXPECT_GE(m.similarity, 0.5);
}

TEST(DedupIndexTest, UnrelatedTextFindsNothing) {
  auto index = NewIndex();
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(index->Add(i, Report(i)).ok());
  Result<std::vector<DedupMatch>> matches =
      index->Query("完全不同的一段中文内容，与上面的报告没有任何关系", 10);
  ASSERT_TRUE(matches.ok());
  EXPECT_TRUE(matches.value().empty());
}

TEST(DedupIndexTest, ThresholdAndKLimitResults) {
  // Containment only at 1.0 for the strict index: the variant below shares
  // 93 % of its shingles with base.
  auto strict = std::move(DedupIndex::Create(0.95, kSignatureVersion, 1.0)).value();
  auto loose = NewIndex(0.3);
  // Long enough (over kLongPairShingles) for the threshold to apply as set.
  const std::string base =
      "the same complaint text repeated by several people in the group, word for "
      "word, with the same link to the same shop";
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(strict->Add(i, base).ok());
    ASSERT_TRUE(loose->Add(i, base).ok());
  }
  // Not contained in base either way, so only the Jaccard similarity counts.
  const std::string variant = base.substr(0, base.size() - 5) + "chat";
  ASSERT_TRUE(strict->Add(9, variant).ok());
  ASSERT_TRUE(loose->Add(9, variant).ok());
  const auto all = loose->Query(base, 10).value();
  EXPECT_EQ(all.size(), 6u);
  EXPECT_EQ(all.back().key, 9);  // exact copies first, ties by key
  EXPECT_EQ(all[0].key, 0);
  EXPECT_EQ(loose->Query(base, 3).value().size(), 3u);
  EXPECT_TRUE(loose->Query(base, 0).value().empty());
  const auto exact = strict->Query(base, 10).value();
  ASSERT_EQ(exact.size(), 5u);
  for (const DedupMatch& m : exact) EXPECT_EQ(m.similarity, 1.0);
}

TEST(DedupIndexTest, RemoveAndReplace) {
  auto index = NewIndex();
  ASSERT_TRUE(index->Add(1, "first report about a leaked phone number").ok());
  ASSERT_TRUE(index->Add(2, "first report about a leaked phone number").ok());
  EXPECT_TRUE(index->Remove(1));
  EXPECT_FALSE(index->Remove(1));
  EXPECT_FALSE(index->Contains(1));
  auto matches = index->Query("first report about a leaked phone number", 10).value();
  ASSERT_EQ(matches.size(), 1u);
  EXPECT_EQ(matches[0].key, 2);
  // Re-adding a key replaces its text.
  ASSERT_TRUE(index->Add(2, "something else entirely different words").ok());
  EXPECT_EQ(index->size(), 1u);
  EXPECT_TRUE(index->Query("first report about a leaked phone number", 10).value().empty());
}

TEST(DedupIndexTest, ManyRemovalsKeepProbeChainsIntact) {
  auto index = NewIndex();
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(index->Add(i, Report(i)).ok());
  for (int i = 0; i < 3000; i += 2) ASSERT_TRUE(index->Remove(i));
  for (int i = 1; i < 3000; i += 100) {
    const auto matches = index->Query(Report(i), 1).value();
    ASSERT_EQ(matches.size(), 1u) << i;
    EXPECT_EQ(matches[0].key, i);
    EXPECT_EQ(matches[0].similarity, 1.0);
  }
  for (int i = 0; i < 3000; i += 200) EXPECT_TRUE(index->Query(Report(i), 5).value().empty() ||
                                                  index->Query(Report(i), 5).value()[0].key != i);
}

TEST(DedupIndexTest, ReplacedTextsLeaveTheirVerifyDataBehindUntilCompacted) {
  // Each replacement leaves the old verify set and matching form in the
  // pools; past a few hundred thousand values they are compacted, and every
  // stored text must still verify as itself (and a typo'd copy with the
  // substance check reading its matching form).
  auto index = NewIndex(kDefaultDedupThreshold);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5000; ++i) {
      ASSERT_TRUE(index->Add(i, Report(i + 10000 * round)).ok());
    }
  }
  ASSERT_EQ(index->size(), 5000u);
  for (int i = 0; i < 5000; i += 97) {
    const auto matches = index->Query(Report(i + 20000), 1).value();
    ASSERT_EQ(matches.size(), 1u) << i;
    EXPECT_EQ(matches[0].key, i);
    EXPECT_EQ(matches[0].similarity, 1.0);
    std::string typo = Report(i + 20000);
    typo.replace(3, 2, "ro");
    const auto near = index->Query(typo, 1).value();
    ASSERT_EQ(near.size(), 1u) << i;
    EXPECT_EQ(near[0].key, i);
    const std::vector<DedupMatch> old = index->Query(Report(i), 10).value();
    for (const DedupMatch& match : old) EXPECT_NE(match.similarity, 1.0);
  }
}

TEST(DedupIndexTest, EmptyTextIsStoredButMatchesNothing) {
  auto index = NewIndex();
  ASSERT_TRUE(index->Add(7, "!!!").ok());
  EXPECT_EQ(index->size(), 1u);
  EXPECT_TRUE(index->Query("!!!", 10).value().empty());
  EXPECT_TRUE(index->Remove(7));
}

TEST(DedupIndexTest, AddSignaturesEqualsAdd) {
  auto one = NewIndex();
  auto batch = NewIndex();
  std::vector<int64_t> keys;
  std::vector<MinHashSignature> signatures;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(one->Add(i, Report(i)).ok());
    keys.push_back(i);
    signatures.push_back(ComputeSignature(Report(i)).value());
  }
  ASSERT_TRUE(batch->AddSignatures(keys, signatures).ok());
  const auto queries = batch->QuerySignatures(signatures, 3);
  for (int i = 0; i < 100; i += 9) {
    EXPECT_EQ(queries[i], one->Query(Report(i), 3).value());
  }
}

TEST(DedupIndexTest, RejectsBadVersionsAndContainment) {
  EXPECT_FALSE(DedupIndex::Create(0.5, 4).ok());
  EXPECT_FALSE(DedupIndex::Create(0.5, 0).ok());
  EXPECT_FALSE(DedupIndex::Create(0.5, 2, 0.0).ok());
  EXPECT_FALSE(DedupIndex::Create(0.5, 2, 1.5).ok());
  EXPECT_TRUE(DedupIndex::Create(0.5, 1).ok());
  EXPECT_TRUE(DedupIndex::Create(0.5, 2).ok());
}

TEST(DedupIndexTest, AnIndexHoldsOneVersion) {
  auto v3 = NewIndex();
  auto v2 = std::move(DedupIndex::Create(0.5, kSignatureVersion2)).value();
  const MinHashSignature second = ComputeSignature(Report(1), 2).value();
  EXPECT_EQ(v3->AddSignature(1, second).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(v2->AddSignature(1, second).ok());
  EXPECT_EQ(v2->Query(Report(1) + " please", 5).value().size(), 1u);
  EXPECT_TRUE(v3->QuerySignature(second, 5).empty());
  auto v1 = std::move(DedupIndex::Create(0.5, kSignatureVersion1)).value();
  const MinHashSignature old = ComputeSignature(Report(1), 1).value();
  const MinHashSignature now = ComputeSignature(Report(1)).value();
  EXPECT_EQ(v3->AddSignature(1, old).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v1->AddSignature(1, now).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v3->AddSignatures({1, 2}, {now, old}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(v3->size(), 0u);
  ASSERT_TRUE(v1->AddSignature(1, old).ok());
  ASSERT_TRUE(v3->AddSignature(1, now).ok());
  // A version-1 index still finds version-1 near-duplicates by estimate.
  const auto found = v1->Query(Report(1) + " please", 5).value();
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found[0].key, 1);
  EXPECT_TRUE(v1->QuerySignature(now, 5).empty());
  EXPECT_TRUE(v3->QuerySignature(old, 5).empty());
}

TEST(DedupIndexTest, TyposAreFoundAndVerified) {
  auto index = NewIndex();
  ASSERT_TRUE(index->Add(1, "I want another RE-WRIT on my CEASAR SALAD!!").ok());
  ASSERT_TRUE(index->Add(2, "I want another coffee on my desk before noon").ok());
  const auto found =
      index->Query("I wannt another re-write \uff4f\uff4e my ceasar salad!!", 10).value();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, 1);
  EXPECT_GT(found[0].similarity, 0.6);
}

TEST(DedupIndexTest, ContainmentFindsATruncatedReport) {
  auto index = NewIndex();
  const std::string whole =
      "The seller in the second-hand phone group took my deposit of 300 yuan and "
      "then blocked me; his account is still selling the same phone to others, "
      "and two friends of mine lost their deposits to him in the same way last week";
  ASSERT_TRUE(index->Add(1, whole).ok());
  const std::string prefix = whole.substr(0, 70);  // Jaccard about 0.3
  const ShingleOverlap overlap = VerifyOverlap(ComputeSignature(whole).value(),
                                               ComputeSignature(prefix).value());
  ASSERT_LT(overlap.jaccard, JaccardThreshold(kDefaultDedupThreshold, overlap.smaller,
                                              false));
  ASSERT_GE(overlap.containment, kDefaultContainmentThreshold);
  const auto found = index->Query(prefix, 10).value();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_DOUBLE_EQ(found[0].similarity, overlap.containment);
  // Two very short texts never match on containment alone: "abcdefgh" (6
  // shingles) is all inside the other, whose Jaccard with it is low.
  const MinHashSignature tiny = ComputeSignature("abcdefgh").value();
  const MinHashSignature around =
      ComputeSignature("abcdefgh and then a whole lot more words after it").value();
  ASSERT_DOUBLE_EQ(VerifyOverlap(tiny, around).containment, 1.0);
  EXPECT_EQ(MatchScore(tiny, around), 0.0);
}

TEST(DedupIndexTest, ShortAndChinesePairsNeedLessOverlap) {
  const double t = kDefaultDedupThreshold;
  EXPECT_DOUBLE_EQ(JaccardThreshold(t, kLongPairShingles, false), t);
  EXPECT_DOUBLE_EQ(JaccardThreshold(t, 1000, false), t);
  EXPECT_NEAR(JaccardThreshold(t, kShortPairShingles, false), 0.26, 1e-12);
  EXPECT_NEAR(JaccardThreshold(t, 5, false), 0.26, 1e-12);
  EXPECT_NEAR(JaccardThreshold(t, kShortPairShingles, true), 0.24, 1e-12);
  EXPECT_NEAR(JaccardThreshold(t, kCjkLongPairShingles, true), 0.36, 1e-12);
  const double middle = JaccardThreshold(t, (kShortPairShingles + kLongPairShingles) / 2, false);
  EXPECT_GT(middle, 0.26);
  EXPECT_LT(middle, t);
  // Scaled with the threshold an administrator sets.
  EXPECT_NEAR(JaccardThreshold(0.8, kShortPairShingles, false), 0.8 * kShortScale, 1e-12);
}

TEST(DedupIndexTest, TheSameWrapperAroundOtherWordsIsNotADuplicate) {
  auto index = NewIndex(kDefaultDedupThreshold);
  const std::string wrap = "Someone forwarded me the following message, see for yourself: ";
  const std::string first = wrap + "my deposit was kept";
  ASSERT_TRUE(index->Add(1, first).ok());
  // The Jaccard similarity is enough, but each has a run of its own.
  const std::string other = wrap + "fake concert tickets";
  const ShingleOverlap overlap = VerifyOverlap(ComputeSignature(first).value(),
                                               ComputeSignature(other).value());
  ASSERT_GE(overlap.jaccard,
            JaccardThreshold(kDefaultDedupThreshold, overlap.smaller, false));
  EXPECT_TRUE(index->Query(other, 10).value().empty());
  const auto found = index->Query(wrap + "my depsoit was kept!!", 10).value();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, 1);
}

TEST(DedupIndexTest, CommonBucketsAndCandidatesAreBounded) {
  // 300 copies of one text: every band key is the same, so its buckets fill
  // at kMaxBucketSlots and a query verifies at most kMaxVerifiedCandidates.
  auto index = NewIndex();
  const std::string text = "the same template text pasted by everyone in the group";
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(index->Add(i, text).ok());
  EXPECT_EQ(index->size(), 300u);
  const auto found = index->Query(text, 1000).value();
  ASSERT_EQ(found.size(), std::min(kMaxBucketSlots, kMaxVerifiedCandidates));
  for (const DedupMatch& m : found) EXPECT_EQ(m.similarity, 1.0);
  EXPECT_EQ(found[0].key, 0);
  // Removing the first copies makes room in the buckets for later adds.
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(index->Remove(i));
  ASSERT_TRUE(index->Add(1000, text).ok());
  const std::vector<DedupMatch> after = index->Query(text, 1000).value();
  bool later = false;
  for (const DedupMatch& m : after) later |= m.key == 1000;
  EXPECT_TRUE(later);
}

TEST(DedupIndexTest, ACrowdedBucketAloneBringsNoCandidate) {
  // Two near-duplicates of the query: one shares band 0 whole with it and
  // two of the three values of every other band; the other shares bands 0
  // and 1 whole. Unrelated texts sharing bands 0 and 1 then crowd both
  // buckets. The first is met in one crowded bucket only, as are the many
  // unrelated texts of a shared vocabulary met through a common band key:
  // not a candidate. The second is met in two: a candidate, and found.
  // One shingle per bin: value b of a signature is the low half of its
  // shingle in bin b (minhash.h).
  std::mt19937_64 rng(8);
  const auto shingle = [&rng](uint64_t bin) { return bin << 57 | rng() >> 7; };
  std::vector<uint64_t> query(kMinHashPermutations);
  for (uint64_t b = 0; b < kMinHashPermutations; ++b) query[b] = shingle(b);
  std::vector<uint64_t> one = query, two = query;
  for (uint64_t b = kLshRowsV2; b < kMinHashPermutations; b += kLshRowsV2) {
    if (b + 2 < kMinHashPermutations) one[b + 2] = shingle(b + 2);
    if (b >= 2 * kLshRowsV2 && b + 2 < kMinHashPermutations) two[b + 2] = shingle(b + 2);
  }
  std::vector<int64_t> keys = {1, 2};
  std::vector<MinHashSignature> signatures = {
      SignatureOfShingles(one.data(), one.size()),
      SignatureOfShingles(two.data(), two.size())};
  for (size_t f = 0; f < kMaxBucketSlots - 1; ++f) {
    std::vector<uint64_t> filler(kMinHashPermutations);
    for (uint64_t b = 0; b < kMinHashPermutations; ++b) {
      filler[b] = b < 2 * kLshRowsV2 ? query[b] : shingle(b);
    }
    keys.push_back(static_cast<int64_t>(100 + f));
    signatures.push_back(SignatureOfShingles(filler.data(), filler.size()));
  }
  auto index = NewIndex(kDefaultDedupThreshold);
  ASSERT_TRUE(index->AddSignatures(keys, signatures).ok());
  const MinHashSignature asked = SignatureOfShingles(query.data(), query.size());
  ASSERT_GT(MatchScore(asked, signatures[0]), 0.0);
  ASSERT_GT(MatchScore(asked, signatures[1]), 0.0);
  const auto found = index->QuerySignature(asked, 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, 2);
  // Full or only crowded, the same: band 0's bucket holds both near-
  // duplicates and 14 fillers (the 15th came when it was full), band 1's
  // the second and 15. As the fillers go, both shrink by one a filler;
  // once they hold fewer than kCrowdedBucketSlots, both are found.
  for (size_t f = 0; f < kMaxBucketSlots - 1; ++f) {
    ASSERT_TRUE(index->Remove(static_cast<int64_t>(100 + f)));
    const size_t held = f + 3 <= kMaxBucketSlots ? kMaxBucketSlots - 1 - f : 2;
    const auto now = index->QuerySignature(asked, 10);
    ASSERT_EQ(now.size(), held < kCrowdedBucketSlots ? 2u : 1u) << f;
  }
}

TEST(DedupIndexTest, BucketsGrowAndShrinkWithTheirTexts) {
  // Copies of a few texts added, removed and replaced at random, never more
  // than kMaxBucketSlots - 1 of one text: each query finds exactly the
  // copies of its text stored at that moment, as buckets move between a
  // cell and a block and blocks are freed and reused.
  std::mt19937_64 rng(12);
  const auto text_of = [](size_t t) {  // unrelated texts of random words
    std::mt19937 letters(static_cast<unsigned>(100 + t));
    std::string text;
    for (size_t w = 0; w < 10; ++w) {
      for (size_t c = 4 + letters() % 5; c > 0; --c) text += static_cast<char>('a' + letters() % 26);
      text += ' ';
    }
    return text;
  };
  constexpr size_t kTexts = 5;
  auto index = NewIndex();
  std::vector<int> text_at(64, -1);  // key -> the text it holds, or -1
  for (int step = 0; step < 4000; ++step) {
    const size_t key = rng() % text_at.size();
    const size_t t = rng() % kTexts;
    const auto copies = static_cast<size_t>(std::count(text_at.begin(), text_at.end(), t));
    if (rng() % 3 == 0 || copies + 1 >= kMaxBucketSlots) {
      EXPECT_EQ(index->Remove(static_cast<int64_t>(key)), text_at[key] >= 0);
      text_at[key] = -1;
    } else {
      ASSERT_TRUE(index->Add(static_cast<int64_t>(key), text_of(t)).ok());
      text_at[key] = static_cast<int>(t);
    }
    if (step % 10 != 0) continue;
    const size_t asked = rng() % kTexts;
    std::vector<int64_t> expected, got;
    for (size_t k = 0; k < text_at.size(); ++k) {
      if (text_at[k] == static_cast<int>(asked)) expected.push_back(static_cast<int64_t>(k));
    }
    const std::vector<DedupMatch> found = index->Query(text_of(asked), 100).value();
    for (const DedupMatch& m : found) got.push_back(m.key);
    std::sort(got.begin(), got.end());
    ASSERT_EQ(got, expected) << "step " << step;
  }
}

TEST(DedupIndexTest, Version1BucketsHaveNoBound) {
  // Version 1 kept every text of a bucket, as before version 2: its blocks
  // are chained.
  auto index = std::move(DedupIndex::Create(0.5, kSignatureVersion1)).value();
  const std::string text = "the same old template pasted by everyone in the group again";
  for (int i = 0; i < 3 * static_cast<int>(kMaxBucketSlots) + 5; ++i) {
    ASSERT_TRUE(index->Add(i, text).ok());
  }
  EXPECT_EQ(index->Query(text, 1000).value().size(), 3 * kMaxBucketSlots + 5);
  for (int i = 0; i < 2 * static_cast<int>(kMaxBucketSlots); ++i) ASSERT_TRUE(index->Remove(i));
  const auto left = index->Query(text, 1000).value();
  ASSERT_EQ(left.size(), kMaxBucketSlots + 5);
  EXPECT_EQ(left.front().key, 2 * static_cast<int64_t>(kMaxBucketSlots));
}

TEST(DedupIndexTest, TheBestEstimatesAreVerifiedWhenCandidatesAbound) {
  // More than kMaxVerifiedCandidates decoys share two bands each with the
  // query (a common phrase: five groups of kMaxBucketSlots, so that no
  // bucket is full) and nothing else; the near-duplicate shares one band
  // whole and two of the three values of every other. Ranked by the bands
  // they share, the decoys took every place and the near-duplicate was never
  // verified; ranked by their estimates, the decoys are screened out.
  // One shingle per bin: value b of a signature is the low half of its
  // shingle in bin b (minhash.h).
  std::mt19937_64 rng(5);
  const auto shingle = [&rng](uint64_t bin) { return bin << 57 | rng() >> 7; };
  std::vector<uint64_t> query(kMinHashPermutations);
  for (uint64_t b = 0; b < kMinHashPermutations; ++b) query[b] = shingle(b);
  auto index = NewIndex(kDefaultDedupThreshold);
  std::vector<int64_t> keys;
  std::vector<MinHashSignature> signatures;
  for (size_t d = 0; d < 5 * kMaxBucketSlots; ++d) {
    std::vector<uint64_t> decoy(kMinHashPermutations);
    const size_t group = d / kMaxBucketSlots;  // bands 2 group and 2 group + 1
    for (uint64_t b = 0; b < kMinHashPermutations; ++b) {
      decoy[b] = b / (2 * kLshRowsV2) == group ? query[b] : shingle(b);
    }
    keys.push_back(static_cast<int64_t>(d));
    signatures.push_back(SignatureOfShingles(decoy.data(), decoy.size()));
  }
  std::vector<uint64_t> near = query;
  for (uint64_t b = 0; b + kLshRowsV2 < kLshBandsV2 * kLshRowsV2; b += kLshRowsV2) {
    near[b + 2] = shingle(b + 2);  // bands 0 to 40 lose their third value
  }
  keys.push_back(1000);
  signatures.push_back(SignatureOfShingles(near.data(), near.size()));
  ASSERT_GT(signatures.size(), kMaxVerifiedCandidates);
  ASSERT_TRUE(index->AddSignatures(keys, signatures).ok());
  const MinHashSignature asked = SignatureOfShingles(query.data(), query.size());
  ASSERT_GE(MatchScore(asked, signatures.back()), kDefaultDedupThreshold);
  const auto found = index->QuerySignature(asked, 10);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].key, 1000);
}


TEST(DedupIndexTest, ShortPairsAreFoundThroughTheExtraWindows) {
  // Two short texts (30 shingles, a third of them changed) whose regular
  // bands all differ but which share an extra window, and verify: the
  // windows are what finds them, for the index as for the database.
  std::mt19937_64 rng(3);
  auto shingles = [&rng](size_t n) {
    std::vector<uint64_t> hashes(n);
    for (auto& h : hashes) h = rng();
    return hashes;
  };
  for (int attempt = 0; attempt < 20000; ++attempt) {
    std::vector<uint64_t> a = shingles(30), b = a;
    for (size_t i = 0; i < 10; ++i) b[i] = rng();
    const MinHashSignature sa = SignatureOfShingles(a.data(), a.size());
    const MinHashSignature sb = SignatureOfShingles(b.data(), b.size());
    const std::vector<int64_t> ka = BandKeys(sa), kb = BandKeys(sb);
    ASSERT_EQ(ka.size(), kMaxLshBands);
    bool regular = false, window = false;
    for (size_t i = 0; i < kLshBandsV2; ++i) regular |= ka[i] == kb[i];
    for (size_t i = kLshBandsV2; i < kMaxLshBands; ++i) window |= ka[i] == kb[i];
    if (regular || !window || MatchScore(sa, sb) == 0.0) continue;
    auto index = NewIndex();
    ASSERT_TRUE(index->AddSignature(1, sa).ok());
    const std::vector<DedupMatch> found = index->QuerySignature(sb, 10);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].key, 1);
    return;
  }
  FAIL() << "no such pair drawn";
}
TEST(DedupIndexTest, ConcurrentReadersAndWriterSmokeTest) {
  auto index = NewIndex();
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(index->Add(i, Report(i)).ok());
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&, t] {
      for (int i = t; i < 1000; i += 4) {
        const auto matches = index->Query(Report(i), 1).value();
        if (matches.empty() || matches[0].key != i) ++wrong;
      }
    });
  }
  std::thread writer([&] {
    for (int i = 1000; i < 1500; ++i) index->Add(i, Report(i)).IgnoreError();
    for (int i = 1000; i < 1500; i += 3) index->Remove(i);
  });
  for (auto& reader : readers) reader.join();
  writer.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(index->size(), 1000u + 500u - 167u);
}

}  // namespace
}  // namespace tipline
