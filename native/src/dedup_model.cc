#include "tipline/dedup_model.h"

#include <algorithm>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "internal/unicode_text.h"
#include "tipline/dedup_index.h"

namespace tipline {
namespace {

// One node of a tree: a leaf when feature < 0.
struct TreeNode {
  double threshold;  // go left when the feature's value <= threshold
  double value;      // a leaf's log-odds
  int16_t feature;
  uint16_t left, right;
};

struct Ensemble {
  const TreeNode* nodes;
  const uint32_t* roots;  // the first node of each tree
  size_t trees;
  double baseline;  // log-odds before any tree
  double cut;       // log-odds a duplicate needs
};

#include "dedup_model_trees.inc"

double Evaluate(const Ensemble& model, const PairFeatures& features) {
  double sum = model.baseline;
  for (size_t t = 0; t < model.trees; ++t) {
    const TreeNode* node = model.nodes + model.roots[t];
    while (node->feature >= 0) {
      node = model.nodes + model.roots[t] +
             (features.values[static_cast<size_t>(node->feature)] <= node->threshold
                  ? node->left
                  : node->right);
    }
    sum += node->value;
  }
  return sum;
}

bool IsHan(uint32_t c) { return (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xF900 && c <= 0xFAFF); }

// The code points of a matching form (valid UTF-8: ComputeSignature makes
// it so and DecodeSignature checks it).
void Decode(std::string_view form, std::vector<uint32_t>* cps) {
  cps->clear();
  size_t pos = 0;
  while (pos < form.size()) {
    cps->push_back(static_cast<uint32_t>(internal::NextCodePoint(form, &pos)));
  }
}

// The matched positions (i in a, j in b) of a longest common subsequence,
// in order: Hyyro's bit-parallel LCS over a (the shorter), each column's
// bits kept for the traceback (as rapidfuzz recovers its alignment).
void Align(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b,
           std::vector<std::pair<uint32_t, uint32_t>>* matched) {
  matched->clear();
  const size_t m = a.size(), n = b.size();
  if (m == 0 || n == 0) return;
  const size_t words = (m + 63) / 64;
  // Each distinct code point of a gets a row of masks, found through a small
  // open-addressing table (key + 1, 0 when empty).
  size_t bits = 6;
  while ((size_t{1} << bits) < 2 * m) ++bits;
  const size_t table_mask = (size_t{1} << bits) - 1;
  thread_local std::vector<uint32_t> keys, rows;
  thread_local std::vector<uint64_t> masks;  // distinct code points x words
  thread_local std::vector<uint64_t> columns;
  keys.assign(table_mask + 1, 0);
  rows.resize(table_mask + 1);
  masks.clear();
  const auto cell = [&](uint32_t c) {
    size_t i = static_cast<size_t>((c * 0x9E3779B97F4A7C15ULL) >> (64 - bits));
    while (keys[i] != 0 && keys[i] != c + 1) i = (i + 1) & table_mask;
    return i;
  };
  for (size_t i = 0; i < m; ++i) {
    const size_t c = cell(a[i]);
    if (keys[c] == 0) {
      keys[c] = a[i] + 1;
      rows[c] = static_cast<uint32_t>(masks.size() / words);
      masks.resize(masks.size() + words, 0);
    }
    masks[rows[c] * words + i / 64] |= uint64_t{1} << (i % 64);
  }
  columns.resize(n * words);
  thread_local std::vector<uint64_t> s;
  s.assign(words, ~uint64_t{0});
  for (size_t j = 0; j < n; ++j) {
    const size_t c = cell(b[j]);
    const uint64_t* mask = keys[c] != 0 ? masks.data() + rows[c] * words : nullptr;
    uint64_t carry = 0;
    for (size_t w = 0; w < words; ++w) {
      const uint64_t u = mask != nullptr ? s[w] & mask[w] : 0;
      const uint64_t sum = s[w] + u;
      const uint64_t total = sum + carry;
      carry = static_cast<uint64_t>(sum < s[w]) | static_cast<uint64_t>(total < sum);
      s[w] = total | (s[w] - u);
      columns[j * words + w] = s[w];
    }
  }
  const auto bit = [&](size_t row, size_t col) {
    return (columns[row * words + col / 64] >> (col % 64)) & 1;
  };
  size_t row = n, col = m;
  while (row > 0 && col > 0) {
    if (bit(row - 1, col - 1) != 0) {
      --col;  // a[col] is not in the subsequence
      continue;
    }
    --row;
    if (row > 0 && bit(row - 1, col - 1) == 0) continue;  // nor is b[row]
    --col;
    if (a[col] == b[row]) {
      matched->emplace_back(static_cast<uint32_t>(col), static_cast<uint32_t>(row));
    }
  }
  std::reverse(matched->begin(), matched->end());
}

// Runs of ASCII digits, and of three or more ASCII letters (case folded),
// each as its 64-bit FNV-1a hash, sorted and distinct: compared, not read,
// so a hash serves as well as the string without building one.
void Words(const std::vector<uint32_t>& cps, std::vector<uint64_t>* numbers,
           std::vector<uint64_t>* words) {
  numbers->clear();
  words->clear();
  const auto kind = [](uint32_t c) {
    return c >= '0' && c <= '9' ? 2 : (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ? 1 : 0;
  };
  for (size_t i = 0; i < cps.size();) {
    const int k = kind(cps[i]);
    if (k == 0) {
      ++i;
      continue;
    }
    uint64_t hash = 0xCBF29CE484222325ULL;
    size_t length = 0;
    for (; i < cps.size() && kind(cps[i]) == k; ++i, ++length) {
      hash = (hash ^ (k == 1 ? cps[i] | 0x20 : cps[i])) * 0x100000001B3ULL;
    }
    if (k == 2) {
      numbers->push_back(hash);
    } else if (length >= 3) {
      words->push_back(hash);
    }
  }
  for (auto* list : {numbers, words}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
}

// (apart, shared) of two sorted distinct lists.
std::pair<double, double> Compare(const std::vector<uint64_t>& x,
                                  const std::vector<uint64_t>& y) {
  size_t shared = 0;
  for (size_t i = 0, j = 0; i < x.size() && j < y.size();) {
    if (x[i] == y[j]) {
      ++shared, ++i, ++j;
    } else if (x[i] < y[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return {static_cast<double>(x.size() + y.size() - 2 * shared),
          static_cast<double>(shared)};
}

bool Contains(const std::vector<uint32_t>& text, const uint32_t* begin, const uint32_t* end) {
  return std::search(text.begin(), text.end(), begin, end) != text.end();
}

}  // namespace

bool HasDedupModel() noexcept { return kCjkModel.trees > 0 && kOtherModel.trees > 0; }

bool ModelRegion(const ShingleOverlap& overlap, bool cjk, double threshold,
                 double containment) noexcept {
  return overlap.jaccard >=
             JaccardThreshold(RegionThreshold(threshold), overlap.smaller, cjk) - 1e-12 ||
         (overlap.smaller >= kMinContainmentShingles &&
          overlap.containment >= RegionContainment(containment) - 1e-12);
}

bool ModelApplies(std::string_view text_a, size_t nx, uint32_t count_x,
                  std::string_view text_b, size_t ny, uint32_t count_y) noexcept {
  if (text_a.empty() || text_b.empty() || nx != count_x || ny != count_y) return false;
  const auto code_points = [](std::string_view form) {
    return static_cast<size_t>(std::count_if(form.begin(), form.end(), [](char c) {
      return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
  };
  return std::min(code_points(text_a), code_points(text_b)) <= kModelMaxChars;
}

bool PairFeaturesOf(std::string_view text_a, const uint32_t* x, size_t nx,
                    uint32_t count_x, std::string_view text_b, const uint32_t* y,
                    size_t ny, uint32_t count_y, bool cjk, PairFeatures* out,
                    const ShingleOverlap* known) noexcept {
  if (text_a.empty() || text_b.empty() || nx != count_x || ny != count_y) return false;
  thread_local std::vector<uint32_t> a, b;
  Decode(text_a, &a);
  Decode(text_b, &b);
  if (b.size() < a.size()) std::swap(a, b);
  if (a.size() > kModelMaxChars) return false;
  auto& v = out->values;
  const ShingleOverlap overlap =
      known != nullptr ? *known : OverlapOfSets(x, nx, count_x, y, ny, count_y);
  bool own = false, different = false;
  SubstanceOf(text_a, x, nx, count_x, text_b, y, ny, count_y, &own, &different);
  const bool rules =
      !different &&
      (overlap.jaccard >=
           JaccardThreshold(kDefaultDedupThreshold, overlap.smaller, cjk) - 1e-12 ||
       (overlap.smaller >= kMinContainmentShingles &&
        overlap.containment >= kDefaultContainmentThreshold - 1e-12));
  v.fill(0.0);
  v[kFeatureJaccard] = overlap.jaccard;
  v[kFeatureContainment] = overlap.containment;
  v[kFeatureShorterChars] = static_cast<double>(a.size());
  v[kFeatureLongerChars] = static_cast<double>(b.size());
  v[kFeatureRuleMatch] = rules ? 1.0 : 0.0;
  v[kFeatureDifferentSubstance] = different ? 1.0 : 0.0;
  v[kFeatureSmallerSet] = static_cast<double>(std::min(count_x, count_y));
  v[kFeatureOwnSubstance] = own ? 1.0 : 0.0;

  thread_local std::vector<std::pair<uint32_t, uint32_t>> matched;
  Align(a, b, &matched);
  v[kFeatureCommonOfShorter] =
      static_cast<double>(matched.size()) / static_cast<double>(std::max<size_t>(1, a.size()));
  v[kFeatureCommonOfLonger] =
      static_cast<double>(matched.size()) / static_cast<double>(std::max<size_t>(1, b.size()));
  // The gaps between matched positions.
  size_t next_a = 0, next_b = 0;
  bool first = true;
  const auto han = [](const uint32_t* begin, const uint32_t* end) {
    return static_cast<double>(std::count_if(begin, end, IsHan));
  };
  for (size_t k = 0; k <= matched.size(); ++k) {
    const size_t i = k < matched.size() ? matched[k].first : a.size();
    const size_t j = k < matched.size() ? matched[k].second : b.size();
    const double ga = static_cast<double>(i - next_a), gb = static_cast<double>(j - next_b);
    if (ga > 0 || gb > 0) {
      if (first) {
        v[kFeatureHeadSmaller] = std::min(ga, gb);
        v[kFeatureHeadLarger] = std::max(ga, gb);
      } else if (k == matched.size()) {
        v[kFeatureTailSmaller] = std::min(ga, gb);
        v[kFeatureTailLarger] = std::max(ga, gb);
      } else if (ga == 0 || gb == 0) {
        v[kFeatureOneSidedGaps] += 1;
        v[kFeatureOneSidedChars] += ga + gb;
      } else {
        const uint32_t* xa = a.data() + next_a;
        const uint32_t* xb = b.data() + next_b;
        v[kFeatureTwoSidedGaps] += 1;
        v[kFeatureLargestTwoSided] = std::max(v[kFeatureLargestTwoSided], std::min(ga, gb));
        v[kFeatureTwoSidedChars] += std::min(ga, gb);
        v[kFeatureLargestTwoSidedHan] =
            std::max(v[kFeatureLargestTwoSidedHan],
                     std::min(han(xa, a.data() + i), han(xb, b.data() + j)));
        if (Contains(b, xa, a.data() + i) || Contains(a, xb, b.data() + j)) {
          v[kFeatureMovedGaps] += 1;
        }
      }
    }
    first = false;
    next_a = i + 1;
    next_b = j + 1;
  }
  thread_local std::vector<uint64_t> numbers_a, words_a, numbers_b, words_b;
  Words(a, &numbers_a, &words_a);
  Words(b, &numbers_b, &words_b);
  std::tie(v[kFeatureNumbersApart], v[kFeatureNumbersShared]) = Compare(numbers_a, numbers_b);
  std::tie(v[kFeatureWordsApart], v[kFeatureWordsShared]) = Compare(words_a, words_b);
  v[kFeatureHanShare] = han(a.data(), a.data() + a.size()) /
                        static_cast<double>(std::max<size_t>(1, a.size()));
  return true;
}

double DuplicateLogOdds(const PairFeatures& features, bool cjk) noexcept {
  return Evaluate(cjk ? kCjkModel : kOtherModel, features);
}

bool ModelMatches(const PairFeatures& features, bool cjk) noexcept {
  const Ensemble& model = cjk ? kCjkModel : kOtherModel;
  return Evaluate(model, features) >= (features.values[kFeatureOwnSubstance] != 0.0
                                           ? kOwnSubstanceLogOdds
                                           : model.cut);
}

}  // namespace tipline
