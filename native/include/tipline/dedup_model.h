// The verify step's learned decision on a version-3 pair: gradient-boosted
// trees over what the two texts have in common and where they differ.
//
// The shingle measures (Jaccard, containment) cannot tell a typo from a
// different word: both cost a few shingles. Where they differ can: two
// versions of one report differ by typos, inserted or deleted words, moved
// clauses, a cut end or words added before or after, while two different
// reports built on one pattern ("表 3.5. 典型的 journalctl 命令片段列表" and
// "表 3.6. 典型的 systemctl 命令片段列表") differ by a word put in the place of
// another. So a pair whose overlap reaches the model's region (below) is
// aligned on its matching forms (their longest common subsequence), and the
// gaps of the alignment, with the overlap and the rule decisions, are the
// features of a small tree ensemble (PairFeature). One ensemble is for two
// Chinese texts (both MinHashSignature::cjk), one for the others.
//
// The trees are trained by tests/bench/train_dedup_model.py on the
// benchmarks' candidate pairs (README, "De-duplication quality") and
// written to src/dedup_model_trees.inc; the decision is the same on every
// machine (the features are computed in double precision and compared with
// the trees' thresholds as scikit-learn does: left when value <= threshold).
//
// The model applies to a pair when both texts have a matching form, neither
// verify set was cut and the shorter form has at most kModelMaxChars code
// points. It is asked only about pairs whose overlap reaches its region
// (ModelRegion), and rejects the others; pairs it does not apply to keep the
// rule decision (MatchScore). It overrules the first of the rules only
// with more certainty: two texts that each carry runs of their own (the same
// greeting or signature around two different messages, or a cut report
// against one with a long affix: SubstanceOf) need a
// probability of 0.9 (kOwnSubstanceLogOdds) instead of the ensemble's cut. The features are always taken at the default
// threshold and containment, where the trees were trained; the index's
// threshold and containment set the region: a Jaccard similarity of
// JaccardThreshold(RegionThreshold(threshold), ...) or a containment of
// RegionContainment(containment) (texts of kMinContainmentShingles or
// more). At the defaults that is 0.28 and 0.70; a stricter setting narrows
// it (at 1.0 it is what the rules need at 1.0), a looser one widens it.
#ifndef TIPLINE_DEDUP_MODEL_H_
#define TIPLINE_DEDUP_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tipline/minhash.h"

namespace tipline {

// The features, in order. "a" is the text with the shorter matching form.
enum PairFeature : size_t {
  kFeatureJaccard,             // exact Jaccard similarity of the verify sets
  kFeatureContainment,         // overlap over the smaller set
  kFeatureShorterChars,        // code points of a's matching form
  kFeatureLongerChars,         // of b's
  kFeatureCommonOfShorter,     // longest common subsequence / a's code points
  kFeatureCommonOfLonger,      // ... / b's
  kFeatureRuleMatch,           // 1 when the rules (MatchScore) match the pair
  kFeatureDifferentSubstance,  // 1 when DifferentSubstance says so
  kFeatureOneSidedGaps,        // gaps inside the alignment with one side only
  kFeatureOneSidedChars,       // their code points
  kFeatureTwoSidedGaps,        // gaps inside with code points on both sides
  kFeatureLargestTwoSided,     // the largest such gap's smaller side
  kFeatureTwoSidedChars,       // the sum of their smaller sides
  kFeatureLargestTwoSidedHan,  // the largest smaller side, Han characters only
  kFeatureMovedGaps,           // two-sided gaps whose one side is in the other text
  kFeatureTailSmaller,         // after the last common code point: smaller side
  kFeatureTailLarger,          // larger side
  kFeatureHeadSmaller,         // before the first common code point
  kFeatureHeadLarger,
  kFeatureNumbersApart,        // runs of digits in one text only (distinct)
  kFeatureNumbersShared,
  kFeatureWordsApart,          // runs of 3+ ASCII letters in one text only
  kFeatureWordsShared,
  kFeatureHanShare,            // Han characters / a's code points
  kFeatureSmallerSet,          // the smaller text's distinct shingles
  kFeatureOwnSubstance,        // 1 when each text has runs of its own (SubstanceOf)
  kPairFeatures
};

inline constexpr size_t kModelMaxChars = 1000;
// RegionThreshold(t) = 1 - (1 - t) * kModelThresholdStretch, and the same
// for the containment, at least 0. The trees were trained on candidates down
// to a containment of 0.55 (a stretch of 3); between 0.55 and 0.70 they
// accepted no pair of any benchmark set, while in a shared vocabulary that
// band held about a third of the unrelated candidates a query screened in,
// so the region stops at 0.70 (README, "Query cost at scale").
inline constexpr double kModelThresholdStretch = 4.0 / 3.0;
inline constexpr double kModelContainmentStretch = 2.0;
constexpr double RegionThreshold(double threshold) noexcept {
  const double t = 1.0 - (1.0 - threshold) * kModelThresholdStretch;
  return t > 0.0 ? t : 0.0;
}
constexpr double RegionContainment(double containment) noexcept {
  const double c = 1.0 - (1.0 - containment) * kModelContainmentStretch;
  return c > 0.0 ? c : 0.0;
}

struct PairFeatures {
  std::array<double, kPairFeatures> values{};
};

// Whether trees were trained into this build (without them every pair keeps
// the rule decision).
bool HasDedupModel() noexcept;

// The features of a pair (matching forms, ascending verify sets and the
// texts' distinct shingle counts, as DifferentSubstanceOf takes them); false
// when the model does not apply to it by its forms and sets (the region is
// the caller's: ModelRegion). `overlap`, when given, is the sets' overlap
// (OverlapOfSets), which the caller has already computed.
bool PairFeaturesOf(std::string_view text_a, const uint32_t* x, size_t nx,
                    uint32_t count_x, std::string_view text_b, const uint32_t* y,
                    size_t ny, uint32_t count_y, bool cjk, PairFeatures* out,
                    const ShingleOverlap* overlap = nullptr) noexcept;

// Whether the model applies to a pair by its forms and sets (what
// PairFeaturesOf checks before it reads the forms): both forms present,
// neither verify set cut, the shorter form of at most kModelMaxChars code
// points.
bool ModelApplies(std::string_view text_a, size_t nx, uint32_t count_x,
                  std::string_view text_b, size_t ny, uint32_t count_y) noexcept;

// A pair the model applies to whose Jaccard similarity reaches this is
// accepted without it: the trees accepted every such pair of every set
// measured (replica seeds 151 with --curate exact and 152, development seed
// 1611: 8,818 pairs; at 0.8, one rejection in 17,617, a Chinese pair), and
// their features cost several microseconds (README, "Query cost at scale").
inline constexpr double kModelSureJaccard = 0.9;

// Whether an overlap reaches the model's region at an index's threshold and
// containment.
bool ModelRegion(const ShingleOverlap& overlap, bool cjk, double threshold,
                 double containment) noexcept;

// The ensemble's log-odds that the pair is one report twice, and its
// decision: the log-odds reaching the ensemble's cut, or for texts that each
// carry substance of their own (kFeatureOwnSubstance) kOwnSubstanceLogOdds.
double DuplicateLogOdds(const PairFeatures& features, bool cjk) noexcept;
bool ModelMatches(const PairFeatures& features, bool cjk) noexcept;

}  // namespace tipline

#endif  // TIPLINE_DEDUP_MODEL_H_
