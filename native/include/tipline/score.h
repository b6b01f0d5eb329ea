// Report priority: a score in [0, 100] that is a sum of named contributions,
// so a moderator sees why a report ranks where it does.
//
// Factors (each contribution is its weight times a number in [0, 1], except
// reporter accuracy, which is in [-1, 1]):
//   severity           category severity in [0, 1]
//   reporters          distinct reporters n in the case:
//                      ln(n) / ln(reporters_saturation), capped at 1
//   reporter_accuracy  Discourse's flag accuracy (ReviewableScore): a prior,
//                      plus, once the reporter has more than
//                      accuracy_min_reports decided reports, a bonus of
//                      5 * log4(decided) times how far the upheld fraction
//                      lies above accuracy_axis (towards 1) or, negative,
//                      below it (towards 0); divided by accuracy_scale and
//                      clamped to [-1, 1]
//   target_history     earlier upheld reports t against the same record:
//                      ln(1 + t) / ln(1 + target_history_saturation), capped
//   personal_data      personal-data signals p found in the text:
//                      ln(1 + p) / ln(1 + personal_data_saturation), capped
//   sla_urgency        fraction of the time to the SLA deadline used, capped
// The sum is clamped to [0, 100]; if that changes it, a "bounds" entry holds
// the difference so the explanation still adds up to the score.
// Inputs that are negative or not finite count as 0.
#ifndef TIPLINE_SCORE_H_
#define TIPLINE_SCORE_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "tipline/status.h"

namespace tipline {

struct ScoreWeights {
  double severity = 35.0;
  double reporters = 15.0;
  double reporters_saturation = 16.0;
  double reporter_accuracy = 10.0;
  double reporter_prior = 3.0;
  double accuracy_axis = 0.7;
  double accuracy_min_reports = 5.0;
  double accuracy_scale = 16.0;
  double target_history = 10.0;
  double target_history_saturation = 8.0;
  double personal_data = 15.0;
  double personal_data_saturation = 4.0;
  double sla_urgency = 15.0;
};

// kInvalidArgument naming the field: weights must be finite, saturations
// > 1 (reporters) or > 0, accuracy_axis in (0, 1), accuracy_scale > 0,
// accuracy_min_reports >= 0.
[[nodiscard]] Status ValidateScoreWeights(const ScoreWeights& weights);

enum class ScoreFactor : uint8_t {
  kSeverity,
  kReporters,
  kReporterAccuracy,
  kTargetHistory,
  kPersonalData,
  kSlaUrgency,
  kBounds,
};
inline constexpr size_t kScoreFactorCount = 6;  // without kBounds

// "severity", "reporters", "reporter_accuracy", "target_history",
// "personal_data", "sla_urgency", "bounds".
const char* ScoreFactorName(ScoreFactor factor) noexcept;

struct ReportFactors {
  double severity = 0;
  double reporters = 1;
  double upheld = 0;    // the reporter's earlier reports that were upheld
  double rejected = 0;  // ... and rejected
  double target_upheld = 0;
  double personal_data_signals = 0;
  double sla_used = 0;
};

struct ScoreExplanation {
  double score = 0;
  std::vector<std::pair<ScoreFactor, double>> contributions;
};

// Discourse's user_accuracy_bonus (before the prior and scaling): 0 up to
// min_reports decided reports, then the signed distance from `axis` times
// 5 * log4(upheld + rejected).
double AccuracyBonus(double upheld, double rejected, double axis,
                     double min_reports) noexcept;

[[nodiscard]] Result<ScoreExplanation> ExplainScore(const ReportFactors& report,
                                                    const ScoreWeights& weights);

// Columns of equal length (one entry per report).
struct ReportColumns {
  size_t size = 0;
  const double* severity = nullptr;
  const double* reporters = nullptr;
  const double* upheld = nullptr;
  const double* rejected = nullptr;
  const double* target_upheld = nullptr;
  const double* personal_data_signals = nullptr;
  const double* sla_used = nullptr;
};

// out[i] == ExplainScore(row i).score, bit for bit; uses all cores for large
// inputs. kInvalidArgument for bad weights or a missing column.
[[nodiscard]] Status ScoreBatch(const ReportColumns& columns,
                                const ScoreWeights& weights, double* out);

// A column of any of these element types, read in place: narrower columns
// (float32 severities, 16-bit counts) mean less memory to stream, which is
// what scoring a million reports waits on. Values are converted to double
// exactly, so the scores equal ExplainScore's of the converted values.
enum class ColumnType : uint8_t {
  kFloat64,
  kFloat32,
  kInt64,
  kInt32,
  kUInt32,
  kInt16,
  kUInt16,
  kInt8,
  kUInt8,
};

struct TypedColumn {
  const void* data = nullptr;
  ColumnType type = ColumnType::kFloat64;
};

struct TypedReportColumns {
  size_t size = 0;
  TypedColumn severity, reporters, upheld, rejected, target_upheld,
      personal_data_signals, sla_used;
};

[[nodiscard]] Status ScoreBatch(const TypedReportColumns& columns,
                                const ScoreWeights& weights, double* out);

// The k largest scores as (index, score), best first, ties by lower index.
// NaN scores are never selected.
std::vector<std::pair<size_t, double>> TopK(const double* scores, size_t n,
                                            size_t k);

}  // namespace tipline

#endif  // TIPLINE_SCORE_H_
