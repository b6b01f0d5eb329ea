#include "tipline/score.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "tipline/personal_data.h"

namespace tipline {
namespace {

ScoreExplanation Explain(const ReportFactors& r, const ScoreWeights& w = ScoreWeights()) {
  Result<ScoreExplanation> result = ExplainScore(r, w);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : ScoreExplanation{};
}

double Sum(const ScoreExplanation& e) {
  double sum = 0;
  for (const auto& [factor, value] : e.contributions) sum += value;
  return sum;
}

TEST(ScoreTest, BoundsAndExplanationSum) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int i = 0; i < 2000; ++i) {
    ReportFactors r{unit(rng), 1.0 + static_cast<double>(rng() % 50),
                    static_cast<double>(rng() % 100), static_cast<double>(rng() % 100),
                    static_cast<double>(rng() % 10), static_cast<double>(rng() % 6),
                    unit(rng) * 1.5};
    const ScoreExplanation e = Explain(r);
    EXPECT_GE(e.score, 0.0);
    EXPECT_LE(e.score, 100.0);
    EXPECT_NEAR(Sum(e), e.score, 1e-9);
  }
}

TEST(ScoreTest, ClampedScoresExplainTheClamp) {
  ScoreWeights heavy;
  heavy.severity = 200;
  const ScoreExplanation e = Explain({1.0, 1, 0, 0, 0, 0, 0}, heavy);
  EXPECT_EQ(e.score, 100.0);
  ASSERT_EQ(e.contributions.back().first, ScoreFactor::kBounds);
  EXPECT_NEAR(Sum(e), 100.0, 1e-9);
  const ScoreExplanation low = Explain({0, 1, 0, 50, 0, 0, 0});
  EXPECT_EQ(low.score, 0.0);  // a mostly-rejected reporter's only factor is negative
  EXPECT_EQ(low.contributions.back().first, ScoreFactor::kBounds);
}

TEST(ScoreTest, FactorsMoveTheScoreTheRightWay) {
  const ReportFactors base{0.5, 1, 0, 0, 0, 0, 0.2};
  const double s = Explain(base).score;
  auto with = [&](auto change) {
    ReportFactors r = base;
    change(r);
    return Explain(r).score;
  };
  EXPECT_GT(with([](ReportFactors& r) { r.severity = 0.9; }), s);
  EXPECT_GT(with([](ReportFactors& r) { r.reporters = 5; }), s);
  EXPECT_GT(with([](ReportFactors& r) { r.upheld = 30; }), s);
  EXPECT_LT(with([](ReportFactors& r) { r.rejected = 30; }), s);
  EXPECT_GT(with([](ReportFactors& r) { r.target_upheld = 3; }), s);
  EXPECT_GT(with([](ReportFactors& r) { r.personal_data_signals = 2; }), s);
  EXPECT_GT(with([](ReportFactors& r) { r.sla_used = 0.9; }), s);
  // Damped: the tenth reporter adds less than the second.
  const double one = with([](ReportFactors& r) { r.reporters = 1; });
  const double two = with([](ReportFactors& r) { r.reporters = 2; });
  const double nine = with([](ReportFactors& r) { r.reporters = 9; });
  const double ten = with([](ReportFactors& r) { r.reporters = 10; });
  EXPECT_GT(two - one, ten - nine);
}

TEST(ScoreTest, AccuracyBonusFollowsDiscourse) {
  // No bonus up to 5 decided reports; the axis (0.7) gives 0.
  EXPECT_EQ(AccuracyBonus(5, 0, 0.7, 5), 0.0);
  EXPECT_NEAR(AccuracyBonus(7, 3, 0.7, 5), 0.0, 1e-12);
  // All upheld: 5 * log4(decided); all rejected: its negative.
  EXPECT_NEAR(AccuracyBonus(16, 0, 0.7, 5), 10.0, 1e-12);
  EXPECT_NEAR(AccuracyBonus(0, 16, 0.7, 5), -10.0, 1e-12);
  EXPECT_GT(AccuracyBonus(64, 0, 0.7, 5), AccuracyBonus(16, 0, 0.7, 5));
}

TEST(ScoreTest, WeightsChangeTheScore) {
  const ReportFactors r{0.8, 3, 10, 2, 1, 2, 0.5};
  ScoreWeights w;
  const double before = Explain(r, w).score;
  w.sla_urgency = 0;
  EXPECT_NEAR(Explain(r, w).score, before - 7.5, 1e-9);
  w.severity = 0;
  EXPECT_NEAR(Explain(r, w).score, before - 7.5 - 28.0, 1e-9);
}

TEST(ScoreTest, InvalidWeightsAreRejected) {
  ScoreWeights w;
  w.accuracy_axis = 1.0;
  EXPECT_EQ(ExplainScore({}, w).status().code(), StatusCode::kInvalidArgument);
  w = ScoreWeights();
  w.severity = std::nan("");
  EXPECT_FALSE(ValidateScoreWeights(w).ok());
  w = ScoreWeights();
  w.reporters_saturation = 1.0;
  EXPECT_FALSE(ValidateScoreWeights(w).ok());
}

TEST(ScoreTest, BadInputsCountAsZero) {
  const double nan = std::nan("");
  const ScoreExplanation e = Explain({nan, -3, nan, -1, INFINITY, -5, nan});
  EXPECT_EQ(e.score, Explain({0, 1, 0, 0, 0, 0, 0}).score);
}

TEST(ScoreTest, BatchEqualsPerItemBitForBit) {
  std::mt19937_64 rng(5);
  const size_t n = 200000;  // large enough for the threaded path
  std::vector<double> sev(n), rep(n), up(n), rej(n), tgt(n), pii(n), sla(n), out(n);
  for (size_t i = 0; i < n; ++i) {
    sev[i] = (rng() % 101) / 100.0;
    rep[i] = (i % 7 == 0) ? 1500.5 : static_cast<double>(rng() % 30);  // off-table too
    up[i] = static_cast<double>(rng() % 80);
    rej[i] = (i % 11 == 0) ? 2.5 : static_cast<double>(rng() % 80);
    tgt[i] = static_cast<double>(rng() % 2000);
    pii[i] = static_cast<double>(rng() % 4);
    sla[i] = (rng() % 1000) / 700.0;
  }
  ScoreWeights w;
  w.personal_data = 20;
  const ReportColumns cols{n, sev.data(), rep.data(), up.data(), rej.data(),
                           tgt.data(), pii.data(), sla.data()};
  ASSERT_TRUE(ScoreBatch(cols, w, out.data()).ok());
  for (size_t i = 0; i < n; i += 13) {
    const ReportFactors r{sev[i], rep[i], up[i], rej[i], tgt[i], pii[i], sla[i]};
    ASSERT_EQ(out[i], Explain(r, w).score) << i;
  }
}

// The batch kernel's branch-free path: NaN, infinities, negatives, values
// on either side of the table bounds, -0.0 sums from negative weights, and
// sizes that end mid-block must all give ExplainScore's bits.
TEST(ScoreTest, BatchMatchesExplainOnEdgeValues) {
  const double nan = std::nan("");
  const double values[] = {nan,   -INFINITY, INFINITY, -1.0,  -0.0,   0.0,
                           0.5,   1.0,       2.0,      62.0,  63.0,   64.0,
                           1022.0, 1023.0,   1024.0,   1e300, 3.0e9,  7.25};
  const size_t kinds = sizeof values / sizeof values[0];
  for (const bool negative : {false, true}) {
    ScoreWeights w;
    if (negative) {
      w.severity = -35;
      w.reporters = -15;
      w.reporter_accuracy = -10;
      w.target_history = -10;
      w.personal_data = -15;
      w.sla_urgency = -15;
    }
    for (const size_t n : {size_t{1}, size_t{63}, size_t{65}, size_t{1000}}) {
      std::vector<double> col[7];
      for (size_t c = 0; c < 7; ++c) {
        for (size_t i = 0; i < n; ++i) col[c].push_back(values[(i * (c + 3) + c) % kinds]);
      }
      std::vector<double> out(n, -1);
      const ReportColumns cols{n, col[0].data(), col[1].data(), col[2].data(), col[3].data(),
                               col[4].data(), col[5].data(), col[6].data()};
      ASSERT_TRUE(ScoreBatch(cols, w, out.data()).ok());
      for (size_t i = 0; i < n; ++i) {
        const ReportFactors r{col[0][i], col[1][i], col[2][i], col[3][i],
                              col[4][i], col[5][i], col[6][i]};
        const double expected = Explain(r, w).score;
        ASSERT_EQ(std::signbit(out[i]), std::signbit(expected)) << i;
        ASSERT_EQ(out[i], expected) << "n=" << n << " row " << i;
      }
    }
  }
}

template <class T>
TypedColumn Typed(const std::vector<T>& values, ColumnType type) {
  return TypedColumn{values.data(), type};
}

// Narrow columns read in place score exactly as the same values in float64.
TEST(ScoreTest, TypedColumnsEqualFloat64) {
  std::mt19937_64 rng(11);
  const size_t n = 1000;
  std::vector<double> sev(n), cnt(n), sla(n);
  std::vector<float> sev32(n), sla32(n);
  std::vector<int64_t> i64(n);
  std::vector<int32_t> i32(n);
  std::vector<uint32_t> u32(n);
  std::vector<int16_t> i16(n);
  std::vector<uint16_t> u16(n);
  std::vector<int8_t> i8(n);
  std::vector<uint8_t> u8(n);
  for (size_t i = 0; i < n; ++i) {
    sev32[i] = static_cast<float>(rng() % 101) / 100.0f;
    sla32[i] = static_cast<float>(rng() % 1000) / 700.0f;
    sev[i] = sev32[i];
    sla[i] = sla32[i];
    const auto c = static_cast<int>(rng() % 120);  // some beyond the tables
    cnt[i] = c;
    i64[i] = i32[i] = c;
    u32[i] = static_cast<uint32_t>(c);
    i16[i] = static_cast<int16_t>(c);
    u16[i] = static_cast<uint16_t>(c);
    i8[i] = static_cast<int8_t>(c);
    u8[i] = static_cast<uint8_t>(c);
  }
  std::vector<double> expected(n), got(n);
  const ReportColumns doubles{n, sev.data(), cnt.data(), cnt.data(), cnt.data(),
                              cnt.data(), cnt.data(), sla.data()};
  ASSERT_TRUE(ScoreBatch(doubles, ScoreWeights(), expected.data()).ok());
  const TypedColumn counts[] = {
      Typed(cnt, ColumnType::kFloat64), Typed(i64, ColumnType::kInt64),
      Typed(i32, ColumnType::kInt32),   Typed(u32, ColumnType::kUInt32),
      Typed(i16, ColumnType::kInt16),   Typed(u16, ColumnType::kUInt16),
      Typed(i8, ColumnType::kInt8),     Typed(u8, ColumnType::kUInt8)};
  for (const TypedColumn& c : counts) {
    const TypedReportColumns typed{n, Typed(sev32, ColumnType::kFloat32), c, c, c,
                                   c, c, Typed(sla32, ColumnType::kFloat32)};
    std::fill(got.begin(), got.end(), -1.0);
    ASSERT_TRUE(ScoreBatch(typed, ScoreWeights(), got.data()).ok());
    EXPECT_EQ(got, expected) << "column type " << static_cast<int>(c.type);
  }
  TypedReportColumns bad{n, counts[0], counts[0], counts[0], counts[0],
                         counts[0], counts[0], counts[0]};
  bad.upheld.type = static_cast<ColumnType>(200);
  EXPECT_EQ(ScoreBatch(bad, ScoreWeights(), got.data()).code(),
            StatusCode::kInvalidArgument);
}

TEST(ScoreTest, BatchNeedsEveryColumn) {
  double x = 0, out = 0;
  ReportColumns cols{1, &x, &x, &x, &x, &x, nullptr, &x};
  EXPECT_EQ(ScoreBatch(cols, ScoreWeights(), &out).code(), StatusCode::kInvalidArgument);
}

TEST(ScoreTest, TopKIsBestFirstWithIndexTieBreak) {
  const std::vector<double> scores = {5, 9, std::nan(""), 9, 1, 7};
  const auto top = TopK(scores.data(), scores.size(), 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0], (std::pair<size_t, double>(1, 9)));
  EXPECT_EQ(top[1], (std::pair<size_t, double>(3, 9)));
  EXPECT_EQ(top[2], (std::pair<size_t, double>(5, 7)));
  EXPECT_EQ(TopK(scores.data(), scores.size(), 100).size(), 5u);  // NaN skipped
  EXPECT_TRUE(TopK(scores.data(), scores.size(), 0).empty());
}

PersonalDataCounts Find(const std::string& text) {
  Result<PersonalDataCounts> counts = FindPersonalData(text);
  EXPECT_TRUE(counts.ok());
  return counts.ok() ? counts.value() : PersonalDataCounts{};
}

TEST(PersonalDataTest, ResidentIdChecksum) {
  EXPECT_TRUE(IsValidChineseResidentId("11010519491231002X"));
  EXPECT_TRUE(IsValidChineseResidentId("11010519491231002x"));
  EXPECT_FALSE(IsValidChineseResidentId("110105194912310021"));  // wrong check
  EXPECT_FALSE(IsValidChineseResidentId("11010519491331002X"));  // month 13
  EXPECT_TRUE(IsValidChineseResidentId("440524198001010013"));
  EXPECT_EQ(Find("身份证号11010519491231002X已泄露").resident_id, 1u);
  EXPECT_EQ(Find("身份证号110105194912310021").resident_id, 0u);
}

TEST(PersonalDataTest, CardNumbersNeedLuhn) {
  EXPECT_TRUE(IsValidCardNumber("4111111111111111"));
  EXPECT_TRUE(IsValidCardNumber("5500005555555559"));
  EXPECT_FALSE(IsValidCardNumber("4111111111111112"));
  EXPECT_FALSE(IsValidCardNumber("411111111111"));  // too short
  EXPECT_EQ(Find("card 4111 1111 1111 1111 leaked").card, 1u);
  EXPECT_EQ(Find("card 4111-1111-1111-1112 leaked").card, 0u);
  EXPECT_EQ(Find("ｃａｒｄ　４１１１１１１１１１１１１１１１").card, 1u);  // full width
}

TEST(PersonalDataTest, EmailsAndPhones) {
  const PersonalDataCounts c = Find(
      "mail a.b+c@example.com or zhang@mail.qq.com, call +86 138 0013 8000 or "
      "(555) 123-4567; not an email: a@b, user@localhost, not a phone: 12345");
  EXPECT_EQ(c.email, 2u);
  EXPECT_EQ(c.phone, 2u);
  EXPECT_EQ(c.card, 0u);
  EXPECT_EQ(Find("12345678@qq.com").email, 1u);
  EXPECT_EQ(Find("12345678@qq.com").phone, 0u);
  EXPECT_EQ(Find("手机：１３８００１３８０００").phone, 1u);
  EXPECT_EQ(Find("").total(), 0u);
  EXPECT_FALSE(FindPersonalData("\xff").ok());
}

}  // namespace
}  // namespace tipline
