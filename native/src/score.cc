#include "tipline/score.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "internal/parallel.h"

namespace tipline {
namespace {

constexpr size_t kTableSize = 1024;  // exact lookups for small integer counts
constexpr size_t kAccuracyTableSide = 64;  // upheld x rejected
constexpr double kMaxScore = 100.0;

inline double Sanitize(double x) { return (x > 0 && std::isfinite(x)) ? x : 0.0; }

// x is already sanitised (>= 0, finite). int32 conversions: the unsigned
// ones are much slower on x86-64.
inline bool SmallInteger(double x) {
  return x < static_cast<double>(kTableSize) &&
         x == static_cast<double>(static_cast<int32_t>(x));
}
inline size_t TableIndex(double x) { return static_cast<uint32_t>(static_cast<int32_t>(x)); }

double AccuracyFraction(double upheld, double decided, double axis) {
  const double correct = upheld / decided;
  return correct >= axis ? (correct - axis) / (1.0 - axis)
                         : -((axis - correct) / axis);
}

// The per-factor formulas. Scorer caches them in tables for small integer
// counts; a table entry is the same expression on the same input, so cached
// and direct values are bit-identical.
struct Formulas {
  const ScoreWeights& w;

  double Reporters(double n) const {
    n = std::max(1.0, n);
    return w.reporters * std::min(1.0, std::log(n) / std::log(w.reporters_saturation));
  }
  double Log4Times5(double decided) const {
    return 5.0 * (std::log(decided) / std::log(4.0));
  }
  double Damped(double weight, double count, double saturation) const {
    return weight * std::min(1.0, std::log1p(count) / std::log1p(saturation));
  }
  double ReporterAccuracy(double upheld, double rejected) const {
    const double decided = upheld + rejected;
    double raw = w.reporter_prior;
    if (decided > w.accuracy_min_reports && decided > 0) {
      raw += AccuracyFraction(upheld, decided, w.accuracy_axis) * Log4Times5(decided);
    }
    return w.reporter_accuracy * std::clamp(raw / w.accuracy_scale, -1.0, 1.0);
  }
  double TargetHistory(double t) const {
    return Damped(w.target_history, t, w.target_history_saturation);
  }
  double PersonalData(double p) const {
    return Damped(w.personal_data, p, w.personal_data_saturation);
  }
};

// Contributions cached for small whole counts.
struct ScoreTables {
  double severity_weight = 0, sla_weight = 0;
  alignas(64) std::array<double, kTableSize> reporters{}, target{}, personal{};
  alignas(64) std::array<double, kAccuracyTableSide * kAccuracyTableSide> accuracy{};
};

inline double ClampScore(double sum) { return std::clamp(sum, 0.0, kMaxScore); }

// --- The batch kernel ---------------------------------------------------------
// Rows go a block at a time. Branch-free passes over the columns, which the
// compiler vectorises (with -fno-trapping-math, set for this file), turn each
// input into its sanitised value or table index and mark rows whose counts
// are not small whole numbers; a last pass adds the table entries in the
// order Contributions adds them, so the sums are the same bits. Marked rows
// (rare) are recomputed by the caller from the formulas. Built for AVX-512,
// AVX2 and baseline x86-64 and picked at load time; the arithmetic is the
// same IEEE double operations on every path (no FMA contraction here).

// Rows per block: short passes keep the seven input streams prefetched;
// 32 to 96 measured best, 256 and more a third slower.
constexpr size_t kBlock = 64;

// NaN, negatives and infinities count as 0, like Sanitize, without a branch.
inline double SanitizeBranchless(double x) {
  constexpr double kInfinity = std::numeric_limits<double>::infinity();
  return static_cast<bool>(static_cast<unsigned>(x > 0.0) &
                           static_cast<unsigned>(x < kInfinity))
             ? x
             : 0.0;
}

// index[j]: the sanitised in[j] as an index below `size`; redo[j] |= 1 where
// that index is not the count itself (a fraction, or too large).
inline void IndexColumn(const double* in, size_t n, size_t size, int32_t* index,
                        int32_t* redo) {
  const double last = static_cast<double>(size - 1);
  for (size_t j = 0; j < n; ++j) {
    const double x = SanitizeBranchless(in[j]);
    const int32_t i = static_cast<int32_t>(x < last ? x : last);
    index[j] = i;
    redo[j] |= static_cast<int32_t>(static_cast<double>(i) != x);
  }
}

// Weighted min(1, sanitised x).
inline void LinearColumn(const double* in, size_t n, double weight, double* out) {
  for (size_t j = 0; j < n; ++j) {
    const double x = SanitizeBranchless(in[j]);
    out[j] = weight * (x < 1.0 ? x : 1.0);
  }
}

// Inlined into each build of ScoreBlock, so that every CPU's build
// vectorises the conversions too.
#if defined(__GNUC__)
#define TIPLINE_KERNEL_INLINE inline __attribute__((always_inline))
#else
#define TIPLINE_KERNEL_INLINE inline
#endif

// Rows [first, first + n) of a column as doubles: in place for float64,
// else converted (exactly) into buffer, which holds kBlock values.
template <class T>
TIPLINE_KERNEL_INLINE const double* Widen(const void* data, size_t first,
                                          size_t n, double* buffer) {
  const T* in = static_cast<const T*>(data) + first;
  for (size_t j = 0; j < n; ++j) buffer[j] = static_cast<double>(in[j]);
  return buffer;
}

TIPLINE_KERNEL_INLINE const double* BlockOf(const TypedColumn& column,
                                            size_t first, size_t n,
                                            double* buffer) {
  switch (column.type) {
    case ColumnType::kFloat64:
      return static_cast<const double*>(column.data) + first;
    case ColumnType::kFloat32:
      return Widen<float>(column.data, first, n, buffer);
    case ColumnType::kInt64:
      return Widen<int64_t>(column.data, first, n, buffer);
    case ColumnType::kInt32:
      return Widen<int32_t>(column.data, first, n, buffer);
    case ColumnType::kUInt32:
      return Widen<uint32_t>(column.data, first, n, buffer);
    case ColumnType::kInt16:
      return Widen<int16_t>(column.data, first, n, buffer);
    case ColumnType::kUInt16:
      return Widen<uint16_t>(column.data, first, n, buffer);
    case ColumnType::kInt8:
      return Widen<int8_t>(column.data, first, n, buffer);
    case ColumnType::kUInt8:
      return Widen<uint8_t>(column.data, first, n, buffer);
  }
  return Widen<double>(column.data, first, n, buffer);  // not reached
}

// Row i of a column as a double.
double ValueAt(const TypedColumn& column, size_t i) {
  double buffer;
  return *BlockOf(column, i, 1, &buffer);
}

// Scores rows [first, first + n) of `cols` (n <= kBlock) into out[0, n);
// returns whether any redo[j] is set.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && \
    !defined(TIPLINE_NO_TARGET_CLONES)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
bool ScoreBlock(const ScoreTables& t, const TypedReportColumns& cols,
                size_t first, size_t n, double* out, int32_t* redo) {
  alignas(64) double severity[kBlock], sla[kBlock], wide[kBlock];
  alignas(64) int32_t reporters[kBlock], upheld[kBlock], rejected[kBlock],
      target[kBlock], personal[kBlock];
  LinearColumn(BlockOf(cols.severity, first, n, wide), n, t.severity_weight,
               severity);
  LinearColumn(BlockOf(cols.sla_used, first, n, wide), n, t.sla_weight, sla);
  std::fill(redo, redo + n, 0);
  IndexColumn(BlockOf(cols.reporters, first, n, wide), n, kTableSize,
              reporters, redo);
  IndexColumn(BlockOf(cols.upheld, first, n, wide), n, kAccuracyTableSide,
              upheld, redo);
  IndexColumn(BlockOf(cols.rejected, first, n, wide), n, kAccuracyTableSide,
              rejected, redo);
  IndexColumn(BlockOf(cols.target_upheld, first, n, wide), n, kTableSize,
              target, redo);
  IndexColumn(BlockOf(cols.personal_data_signals, first, n, wide), n,
              kTableSize, personal, redo);
  for (size_t j = 0; j < n; ++j) {
    upheld[j] = upheld[j] * static_cast<int32_t>(kAccuracyTableSide) + rejected[j];
  }
  const double* reporters_table = t.reporters.data();
  const double* accuracy_table = t.accuracy.data();
  const double* target_table = t.target.data();
  const double* personal_table = t.personal.data();
  for (size_t j = 0; j < n; ++j) {
    const double sum = severity[j] + reporters_table[reporters[j]] +
                       accuracy_table[upheld[j]] + target_table[target[j]] +
                       personal_table[personal[j]] + sla[j];
    out[j] = sum < 0.0 ? 0.0 : (kMaxScore < sum ? kMaxScore : sum);  // ClampScore
  }
  int32_t any = 0;
  for (size_t j = 0; j < n; ++j) any |= redo[j];
  return any != 0;
}

class Scorer {
 public:
  Scorer(const ScoreWeights& weights, bool with_tables)
      : w_(weights), f_{w_} {
    if (!with_tables) return;
    tables_ = std::make_unique<ScoreTables>();
    ScoreTables& t = *tables_;
    t.severity_weight = w_.severity;
    t.sla_weight = w_.sla_urgency;
    for (size_t i = 0; i < kTableSize; ++i) {
      const auto x = static_cast<double>(i);
      t.reporters[i] = f_.Reporters(x);
      t.target[i] = f_.TargetHistory(x);
      t.personal[i] = f_.PersonalData(x);
    }
    for (size_t u = 0; u < kAccuracyTableSide; ++u) {
      for (size_t r = 0; r < kAccuracyTableSide; ++r) {
        t.accuracy[u * kAccuracyTableSide + r] = f_.ReporterAccuracy(
            static_cast<double>(u), static_cast<double>(r));
      }
    }
  }

  // Contributions in ScoreFactor order; returns their sum.
  double Contributions(double severity, double reporters, double upheld,
                       double rejected, double target, double personal,
                       double sla, double* c) const {
    severity = Sanitize(severity);
    reporters = Sanitize(reporters);
    upheld = Sanitize(upheld);
    rejected = Sanitize(rejected);
    target = Sanitize(target);
    personal = Sanitize(personal);
    sla = Sanitize(sla);

    const ScoreTables* t = tables_.get();
    c[0] = w_.severity * std::min(1.0, severity);
    c[1] = t && SmallInteger(reporters) ? t->reporters[TableIndex(reporters)]
                                        : f_.Reporters(reporters);
    c[2] = t && upheld < kAccuracyTableSide && rejected < kAccuracyTableSide &&
                   SmallInteger(upheld) && SmallInteger(rejected)
               ? t->accuracy[TableIndex(upheld) * kAccuracyTableSide +
                             TableIndex(rejected)]
               : f_.ReporterAccuracy(upheld, rejected);
    c[3] = t && SmallInteger(target) ? t->target[TableIndex(target)]
                                     : f_.TargetHistory(target);
    c[4] = t && SmallInteger(personal) ? t->personal[TableIndex(personal)]
                                       : f_.PersonalData(personal);
    c[5] = w_.sla_urgency * std::min(1.0, sla);
    return c[0] + c[1] + c[2] + c[3] + c[4] + c[5];
  }

  // out[begin, end) through ScoreBlock; its marked rows from the formulas.
  // Needs the tables.
  void Batch(const TypedReportColumns& cols, size_t begin, size_t end,
             double* out) const {
    alignas(64) int32_t redo[kBlock];
    double c[kScoreFactorCount];
    for (size_t block = begin; block < end; block += kBlock) {
      const size_t n = std::min(end - block, kBlock);
      if (!ScoreBlock(*tables_, cols, block, n, out + block, redo)) continue;
      for (size_t j = 0; j < n; ++j) {
        if (redo[j] == 0) continue;
        const size_t i = block + j;
        out[i] = ClampScore(Contributions(
            ValueAt(cols.severity, i), ValueAt(cols.reporters, i),
            ValueAt(cols.upheld, i), ValueAt(cols.rejected, i),
            ValueAt(cols.target_upheld, i),
            ValueAt(cols.personal_data_signals, i), ValueAt(cols.sla_used, i),
            c));
      }
    }
  }

 private:
  const ScoreWeights w_;
  const Formulas f_;
  std::unique_ptr<ScoreTables> tables_;  // null: formulas only
};

}  // namespace

const char* ScoreFactorName(ScoreFactor factor) noexcept {
  switch (factor) {
    case ScoreFactor::kSeverity:
      return "severity";
    case ScoreFactor::kReporters:
      return "reporters";
    case ScoreFactor::kReporterAccuracy:
      return "reporter_accuracy";
    case ScoreFactor::kTargetHistory:
      return "target_history";
    case ScoreFactor::kPersonalData:
      return "personal_data";
    case ScoreFactor::kSlaUrgency:
      return "sla_urgency";
    case ScoreFactor::kBounds:
      return "bounds";
  }
  return "unknown";
}

Status ValidateScoreWeights(const ScoreWeights& w) {
  const std::pair<const char*, double> all[] = {
      {"severity", w.severity},
      {"reporters", w.reporters},
      {"reporters_saturation", w.reporters_saturation},
      {"reporter_accuracy", w.reporter_accuracy},
      {"reporter_prior", w.reporter_prior},
      {"accuracy_axis", w.accuracy_axis},
      {"accuracy_min_reports", w.accuracy_min_reports},
      {"accuracy_scale", w.accuracy_scale},
      {"target_history", w.target_history},
      {"target_history_saturation", w.target_history_saturation},
      {"personal_data", w.personal_data},
      {"personal_data_saturation", w.personal_data_saturation},
      {"sla_urgency", w.sla_urgency},
  };
  for (const auto& [name, value] : all) {
    if (!std::isfinite(value)) {
      return InvalidArgumentError(std::string("score weight ") + name +
                                  " must be a finite number");
    }
  }
  if (!(w.reporters_saturation > 1.0)) {
    return InvalidArgumentError("reporters_saturation must be greater than 1");
  }
  if (!(w.target_history_saturation > 0.0) || !(w.personal_data_saturation > 0.0)) {
    return InvalidArgumentError("saturations must be greater than 0");
  }
  if (!(w.accuracy_axis > 0.0 && w.accuracy_axis < 1.0)) {
    return InvalidArgumentError("accuracy_axis must be between 0 and 1");
  }
  if (!(w.accuracy_scale > 0.0)) {
    return InvalidArgumentError("accuracy_scale must be greater than 0");
  }
  if (!(w.accuracy_min_reports >= 0.0)) {
    return InvalidArgumentError("accuracy_min_reports must not be negative");
  }
  return Status::Ok();
}

double AccuracyBonus(double upheld, double rejected, double axis,
                     double min_reports) noexcept {
  upheld = Sanitize(upheld);
  rejected = Sanitize(rejected);
  const double decided = upheld + rejected;
  if (!(decided > min_reports) || decided <= 0) return 0.0;
  return AccuracyFraction(upheld, decided, axis) * 5.0 *
         (std::log(decided) / std::log(4.0));
}

Result<ScoreExplanation> ExplainScore(const ReportFactors& r,
                                      const ScoreWeights& weights) {
  if (Status status = ValidateScoreWeights(weights); !status.ok()) return status;
  const Scorer scorer(weights, /*with_tables=*/false);
  double c[kScoreFactorCount];
  const double sum =
      scorer.Contributions(r.severity, r.reporters, r.upheld, r.rejected,
                           r.target_upheld, r.personal_data_signals, r.sla_used, c);
  ScoreExplanation explanation;
  explanation.score = ClampScore(sum);
  for (size_t i = 0; i < kScoreFactorCount; ++i) {
    explanation.contributions.emplace_back(static_cast<ScoreFactor>(i), c[i]);
  }
  if (explanation.score != sum) {
    explanation.contributions.emplace_back(ScoreFactor::kBounds,
                                           explanation.score - sum);
  }
  return explanation;
}

Status ScoreBatch(const ReportColumns& cols, const ScoreWeights& weights,
                  double* out) {
  const auto column = [](const double* data) {
    return TypedColumn{data, ColumnType::kFloat64};
  };
  const TypedReportColumns typed{
      cols.size,          column(cols.severity),
      column(cols.reporters), column(cols.upheld),
      column(cols.rejected),  column(cols.target_upheld),
      column(cols.personal_data_signals), column(cols.sla_used)};
  return ScoreBatch(typed, weights, out);
}

Status ScoreBatch(const TypedReportColumns& cols, const ScoreWeights& weights,
                  double* out) {
  if (Status status = ValidateScoreWeights(weights); !status.ok()) return status;
  if (cols.size == 0) return Status::Ok();
  for (const TypedColumn* column :
       {&cols.severity, &cols.reporters, &cols.upheld, &cols.rejected,
        &cols.target_upheld, &cols.personal_data_signals, &cols.sla_used}) {
    if (column->data == nullptr) {
      return InvalidArgumentError("every score column is required");
    }
    if (static_cast<uint8_t>(column->type) >
        static_cast<uint8_t>(ColumnType::kUInt8)) {
      return InvalidArgumentError("unknown score column type");
    }
  }
  if (out == nullptr) return InvalidArgumentError("no output for the scores");
  const Scorer scorer(weights, /*with_tables=*/true);
  internal::ParallelFor(cols.size, 1 << 16, [&](size_t begin, size_t end) {
    scorer.Batch(cols, begin, end, out);
  });
  return Status::Ok();
}

std::vector<std::pair<size_t, double>> TopK(const double* scores, size_t n,
                                            size_t k) {
  using Entry = std::pair<size_t, double>;
  // "a ranks before b": higher score, then lower index.
  const auto before = [](const Entry& a, const Entry& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  };
  std::vector<Entry> heap;  // the best k so far; heap.front() is the worst
  if (k == 0) return heap;
  heap.reserve(std::min(n, k));
  for (size_t i = 0; i < n; ++i) {
    const double s = scores[i];
    if (std::isnan(s)) continue;
    if (heap.size() < k) {
      heap.emplace_back(i, s);
      std::push_heap(heap.begin(), heap.end(), before);
    } else if (s > heap.front().second) {  // equal scores: lower index kept
      std::pop_heap(heap.begin(), heap.end(), before);
      heap.back() = Entry(i, s);
      std::push_heap(heap.begin(), heap.end(), before);
    }
  }
  std::sort(heap.begin(), heap.end(), before);
  return heap;
}

}  // namespace tipline
