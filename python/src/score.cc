// Bindings for tipline/score.h, tipline/personal_data.h and tipline/burst.h.
// Columns are any buffer-protocol objects (array.array, memoryview, numpy
// arrays) or sequences of numbers. Contiguous float64 buffers, and for
// score_batch also float32 and 8- to 64-bit integer ones, are read in place;
// others are converted once. Scoring runs with the GIL released.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.h"
#include "status_error.h"
#include "text_args.h"
#include "tipline/burst.h"
#include "tipline/personal_data.h"
#include "tipline/score.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

// A column of numbers: a view into the caller's buffer where it can be read
// in place (float64 always; with `narrow`, also float32 and 8- to 64-bit
// integers, which score_batch reads as they are), else a float64 copy.
class Column {
 public:
  Column(py::handle object, const char* name, bool narrow = false)
      : narrow_(narrow) {
    if (PyObject_CheckBuffer(object.ptr()) && !PyBytes_Check(object.ptr()) &&
        !PyUnicode_Check(object.ptr())) {
      FromBuffer(object, name);
    } else {
      try {
        copy_ = py::cast<std::vector<double>>(object);
      } catch (const py::cast_error&) {
        throw py::type_error(std::string(name) +
                             " must be a buffer or a sequence of numbers");
      }
      size_ = copy_.size();
      typed_ = TypedColumn{copy_.data(), ColumnType::kFloat64};
    }
  }

  // The values as doubles; only for columns made without `narrow`.
  const double* data() const { return static_cast<const double*>(typed_.data); }
  const TypedColumn& typed() const { return typed_; }
  // Bytes from one value to the next in typed().data.
  size_t item_size() const { return item_size_; }
  size_t size() const { return size_; }

 private:
  template <class T>
  void Convert(const py::buffer_info& info) {
    copy_.resize(size_);
    for (size_t i = 0; i < size_; ++i) {
      T value;
      std::memcpy(&value,
                  static_cast<const char*>(info.ptr) +
                      static_cast<ptrdiff_t>(i) * info.strides[0],
                  sizeof value);
      copy_[i] = static_cast<double>(value);
    }
    typed_ = TypedColumn{copy_.data(), ColumnType::kFloat64};
  }

  // The type score_batch reads in place for a buffer format, if any.
  static std::optional<ColumnType> InPlaceType(char code, py::ssize_t size) {
    switch (code) {
      case 'f': return size == 4 ? std::optional(ColumnType::kFloat32) : std::nullopt;
      case 'b': return ColumnType::kInt8;
      case 'B': return ColumnType::kUInt8;
      case 'h': return size == 2 ? std::optional(ColumnType::kInt16) : std::nullopt;
      case 'H': return size == 2 ? std::optional(ColumnType::kUInt16) : std::nullopt;
      case 'i':
      case 'l':
      case 'q':
        if (size == 4) return ColumnType::kInt32;
        if (size == 8) return ColumnType::kInt64;
        return std::nullopt;
      case 'I':
        return size == 4 ? std::optional(ColumnType::kUInt32) : std::nullopt;
      default:
        return std::nullopt;
    }
  }

  void FromBuffer(py::handle object, const char* name) {
    info_.emplace(py::reinterpret_borrow<py::buffer>(object).request());
    const py::buffer_info& info = *info_;
    if (info.ndim != 1) {
      throw py::type_error(std::string(name) + " must be one-dimensional");
    }
    size_ = static_cast<size_t>(info.shape[0]);
    std::string format = info.format;
    if (!format.empty() && std::strchr("@=<!", format[0]) != nullptr) {
      if (format[0] == '!') {
        throw py::type_error(std::string(name) + ": big-endian buffers are not supported");
      }
      format.erase(0, 1);
    }
    if (format.size() != 1) {
      throw py::type_error(std::string(name) + ": unsupported buffer format " +
                           info.format);
    }
    const char code = format[0];
    const bool contiguous = size_ <= 1 || info.strides[0] == info.itemsize;
    if (code == 'd' && info.itemsize == 8 && contiguous) {
      typed_ = TypedColumn{info.ptr, ColumnType::kFloat64};  // read in place
      return;
    }
    if (narrow_ && contiguous) {
      if (const auto type = InPlaceType(code, info.itemsize)) {
        typed_ = TypedColumn{info.ptr, *type};
        item_size_ = static_cast<size_t>(info.itemsize);
        return;
      }
    }
#define TIPLINE_CASE(c, type)                                   \
  case c:                                                       \
    if (info.itemsize != sizeof(type)) break;                   \
    Convert<type>(info);                                        \
    return;
    switch (code) {
      TIPLINE_CASE('d', double)
      TIPLINE_CASE('f', float)
      TIPLINE_CASE('b', signed char)
      TIPLINE_CASE('B', unsigned char)
      TIPLINE_CASE('?', bool)
      TIPLINE_CASE('h', short)
      TIPLINE_CASE('H', unsigned short)
      TIPLINE_CASE('i', int)
      TIPLINE_CASE('I', unsigned int)
      TIPLINE_CASE('l', long)
      TIPLINE_CASE('L', unsigned long)
      TIPLINE_CASE('q', long long)
      TIPLINE_CASE('Q', unsigned long long)
      default:
        break;
    }
#undef TIPLINE_CASE
    throw py::type_error(std::string(name) + ": unsupported buffer format " +
                         info.format);
  }

  bool narrow_ = false;
  std::optional<py::buffer_info> info_;  // released with the GIL held
  std::vector<double> copy_;
  TypedColumn typed_;
  size_t item_size_ = sizeof(double);
  size_t size_ = 0;
};

// --- Weights ------------------------------------------------------------------

struct WeightField {
  const char* name;
  double ScoreWeights::*member;
};
constexpr WeightField kWeightFields[] = {
    {"severity", &ScoreWeights::severity},
    {"reporters", &ScoreWeights::reporters},
    {"reporters_saturation", &ScoreWeights::reporters_saturation},
    {"reporter_accuracy", &ScoreWeights::reporter_accuracy},
    {"reporter_prior", &ScoreWeights::reporter_prior},
    {"accuracy_axis", &ScoreWeights::accuracy_axis},
    {"accuracy_min_reports", &ScoreWeights::accuracy_min_reports},
    {"accuracy_scale", &ScoreWeights::accuracy_scale},
    {"target_history", &ScoreWeights::target_history},
    {"target_history_saturation", &ScoreWeights::target_history_saturation},
    {"personal_data", &ScoreWeights::personal_data},
    {"personal_data_saturation", &ScoreWeights::personal_data_saturation},
    {"sla_urgency", &ScoreWeights::sla_urgency},
};

ScoreWeights WeightsFromKwargs(const py::kwargs& kwargs) {
  ScoreWeights weights;
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::cast<std::string>(key);
    bool known = false;
    for (const WeightField& field : kWeightFields) {
      if (name == field.name) {
        weights.*field.member = py::cast<double>(value);
        known = true;
      }
    }
    if (!known) throw py::type_error("ScoreWeights has no weight named " + name);
  }
  ThrowIfError(ValidateScoreWeights(weights));
  return weights;
}

py::dict WeightsDict(const ScoreWeights& weights) {
  py::dict out;
  for (const WeightField& field : kWeightFields) out[field.name] = weights.*field.member;
  return out;
}

ScoreWeights WeightsArg(const py::object& weights) {
  if (weights.is_none()) return ScoreWeights();
  if (py::isinstance<py::dict>(weights)) {
    return WeightsFromKwargs(py::reinterpret_borrow<py::kwargs>(weights));
  }
  return py::cast<ScoreWeights>(weights);
}

// --- Scoring ----------------------------------------------------------------

py::tuple Explain(double severity, double reporters, double upheld,
                  double rejected, double target_upheld, double pii_signals,
                  double sla_used, const py::object& weights) {
  const ScoreWeights w = WeightsArg(weights);
  const ReportFactors report{severity,      reporters,   upheld,  rejected,
                             target_upheld, pii_signals, sla_used};
  const ScoreExplanation explanation = ValueOrRaise(ExplainScore(report, w));
  py::list reasons;
  for (const auto& [factor, contribution] : explanation.contributions) {
    reasons.append(py::make_tuple(ScoreFactorName(factor), contribution));
  }
  return py::make_tuple(explanation.score, reasons);
}

// `out`: None for a fresh array('d'), or a writable float64 buffer of the
// columns' length, filled in place and returned (rescoring into one buffer
// again and again saves allocating and zeroing it each time).
py::object ScoreBatchPy(py::handle severity, py::handle reporters,
                        py::handle upheld, py::handle rejected,
                        py::handle target_upheld, py::handle pii_signals,
                        py::handle sla_used, const py::object& weights,
                        const py::object& out) {
  const ScoreWeights w = WeightsArg(weights);
  const Column columns[] = {
      Column(severity, "severity", true),
      Column(reporters, "reporters", true),
      Column(upheld, "upheld", true),
      Column(rejected, "rejected", true),
      Column(target_upheld, "target_upheld", true),
      Column(pii_signals, "pii_signals", true),
      Column(sla_used, "sla_used", true)};
  const size_t n = columns[0].size();
  for (const Column& column : columns) {
    if (column.size() != n) {
      RaiseStatus(InvalidArgumentError("score columns must have equal lengths"));
    }
  }
  py::object result = out;
  if (out.is_none()) {
    // A fresh array('d') of n zeros, filled in place: nobody else can see it yet.
    py::object array_type = py::module_::import("array").attr("array");
    result = array_type("d", py::make_tuple(0.0)) * py::int_(n);
    if (n == 0) return result;
  } else if (!PyObject_CheckBuffer(out.ptr())) {
    throw py::type_error("out must be a writable float64 buffer, such as array('d')");
  }
  py::buffer_info target;
  try {
    target = py::reinterpret_borrow<py::buffer>(result).request(true);
  } catch (const py::error_already_set&) {
    throw py::type_error("out must be a writable float64 buffer, such as array('d')");
  }
  const std::string format = target.format;
  if (target.ndim != 1 || target.itemsize != 8 ||
      (format != "d" && format != "@d" && format != "=d" && format != "<d") ||
      (n > 1 && target.strides[0] != 8)) {
    throw py::type_error("out must be a contiguous one-dimensional float64 buffer");
  }
  if (static_cast<size_t>(target.shape[0]) != n) {
    RaiseStatus(InvalidArgumentError("out must have the columns' length"));
  }
  if (n == 0) return result;
  auto* scores = static_cast<double*>(target.ptr);
  const auto out_begin = reinterpret_cast<uintptr_t>(scores);
  const uintptr_t out_bytes = n * sizeof(double);
  for (const Column& column : columns) {  // rows recomputed late reread inputs
    const auto begin = reinterpret_cast<uintptr_t>(column.typed().data);
    const uintptr_t bytes = n * column.item_size();
    if (out_begin < begin + bytes && begin < out_begin + out_bytes) {
      RaiseStatus(InvalidArgumentError("out must not overlap a score column"));
    }
  }
  TypedReportColumns cols;
  cols.size = n;
  cols.severity = columns[0].typed();
  cols.reporters = columns[1].typed();
  cols.upheld = columns[2].typed();
  cols.rejected = columns[3].typed();
  cols.target_upheld = columns[4].typed();
  cols.personal_data_signals = columns[5].typed();
  cols.sla_used = columns[6].typed();
  Status status;
  {
    py::gil_scoped_release release;
    status = ScoreBatch(cols, w, scores);
  }
  ThrowIfError(status);
  return result;
}

py::list TopKPy(py::handle scores, size_t k) {
  const Column column(scores, "scores");
  std::vector<std::pair<size_t, double>> best;
  {
    py::gil_scoped_release release;
    best = TopK(column.data(), column.size(), k);
  }
  py::list out(best.size());
  for (size_t i = 0; i < best.size(); ++i) {
    out[i] = py::make_tuple(best[i].first, best[i].second);
  }
  return out;
}

py::dict PersonalDataSignals(py::handle text) {
  const std::string_view view = TextArg(text);
  Result<PersonalDataCounts> counts = InternalError("not run");
  {
    py::gil_scoped_release release;
    counts = FindPersonalData(view);
  }
  const PersonalDataCounts found = ValueOrRaise(std::move(counts));
  py::dict out;
  out["email"] = found.email;
  out["phone"] = found.phone;
  out["resident_id"] = found.resident_id;
  out["card"] = found.card;
  return out;
}

// --- Burst guard --------------------------------------------------------------

BurstParams BurstParamsFromKwargs(const py::kwargs& kwargs) {
  BurstParams params;
  for (const auto& [key, value] : kwargs) {
    const std::string name = py::cast<std::string>(key);
    if (name == "window_seconds") {
      params.window_seconds = py::cast<double>(value);
    } else if (name == "min_reports") {
      params.min_reports = py::cast<size_t>(value);
    } else if (name == "new_account_age_seconds") {
      params.new_account_age_seconds = py::cast<double>(value);
    } else if (name == "min_accuracy") {
      params.min_accuracy = py::cast<double>(value);
    } else {
      throw py::type_error("BurstParams has no parameter named " + name);
    }
  }
  ThrowIfError(ValidateBurstParams(params));
  return params;
}

py::tuple DetectBurst(py::handle timestamps, py::handle account_ages,
                      py::handle accuracies, const py::object& params) {
  const BurstParams p =
      params.is_none() ? BurstParams() : py::cast<BurstParams>(params);
  const Column times(timestamps, "timestamps"), ages(account_ages, "account_ages"),
      accuracy(accuracies, "accuracies");
  if (times.size() != ages.size() || times.size() != accuracy.size()) {
    RaiseStatus(InvalidArgumentError("burst columns must have equal lengths"));
  }
  std::vector<TargetReport> reports(times.size());
  for (size_t i = 0; i < reports.size(); ++i) {
    reports[i] = TargetReport{times.data()[i], ages.data()[i], accuracy.data()[i]};
  }
  Result<BurstResult> result = InternalError("not run");
  {
    py::gil_scoped_release release;
    result = DetectReportBurst(reports, p);
  }
  const BurstResult burst = ValueOrRaise(std::move(result));
  return py::make_tuple(burst.is_burst, py::cast(burst.members));
}

}  // namespace

void RegisterScore(py::module_& m) {
  py::class_<ScoreWeights> weights(m, "ScoreWeights");
  weights.def(py::init(&WeightsFromKwargs));
  for (const WeightField& field : kWeightFields) {
    const auto member = field.member;
    weights.def_property(
        field.name, [member](const ScoreWeights& w) { return w.*member; },
        [member](ScoreWeights& w, double value) { w.*member = value; });
  }
  weights.def("as_dict", &WeightsDict)
      .def("__eq__", [](const ScoreWeights& a, const ScoreWeights& b) {
        for (const WeightField& field : kWeightFields) {
          if (a.*field.member != b.*field.member) return false;
        }
        return true;
      })
      .def("__repr__", [](const ScoreWeights& w) {
        std::string out = "ScoreWeights(";
        bool first = true;
        for (const WeightField& field : kWeightFields) {
          if (!first) out += ", ";
          first = false;
          out += std::string(field.name) + "=" +
                 py::repr(py::float_(w.*field.member)).cast<std::string>();
        }
        return out + ")";
      });

  py::class_<BurstParams>(m, "BurstParams")
      .def(py::init(&BurstParamsFromKwargs))
      .def_readwrite("window_seconds", &BurstParams::window_seconds)
      .def_readwrite("min_reports", &BurstParams::min_reports)
      .def_readwrite("new_account_age_seconds", &BurstParams::new_account_age_seconds)
      .def_readwrite("min_accuracy", &BurstParams::min_accuracy)
      .def("__repr__", [](const BurstParams& p) {
        return "BurstParams(window_seconds=" +
               py::repr(py::float_(p.window_seconds)).cast<std::string>() +
               ", min_reports=" + std::to_string(p.min_reports) +
               ", new_account_age_seconds=" +
               py::repr(py::float_(p.new_account_age_seconds)).cast<std::string>() +
               ", min_accuracy=" +
               py::repr(py::float_(p.min_accuracy)).cast<std::string>() + ")";
      });

  m.def("explain", &Explain, py::arg("severity"), py::arg("reporters"),
        py::arg("upheld"), py::arg("rejected"), py::arg("target_upheld"),
        py::arg("pii_signals"), py::arg("sla_used"), py::arg("weights") = py::none(),
        "(score, [(factor, contribution), ...]) for one report.");
  m.def("score_batch", &ScoreBatchPy, py::arg("severity"), py::arg("reporters"),
        py::arg("upheld"), py::arg("rejected"), py::arg("target_upheld"),
        py::arg("pii_signals"), py::arg("sla_used"), py::arg("weights") = py::none(),
        py::kw_only(), py::arg("out") = py::none(),
        "Scores of many reports given as columns; returns array('d'), or "
        "fills and returns `out`.");
  m.def("top_k", &TopKPy, py::arg("scores"), py::arg("k"),
        "The k best (index, score) pairs, best first.");
  m.def("personal_data_signals", &PersonalDataSignals, py::arg("text"),
        "Counts of e-mail, phone, resident_id and card numbers in text.");
  m.def("detect_report_burst", &DetectBurst, py::arg("timestamps"),
        py::arg("account_ages"), py::arg("accuracies"),
        py::arg("params") = py::none(),
        "(is_burst, [member indices]) for one target's recent reports.");
}

}  // namespace tipline::python
