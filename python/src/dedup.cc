// Bindings for tipline/normalize.h, tipline/minhash.h and
// tipline/dedup_index.h. Arguments are converted with the GIL held; the
// normalisation, hashing and index work runs with it released.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.h"
#include "status_error.h"
#include "text_args.h"
#include "tipline/dedup_index.h"
#include "tipline/dedup_model.h"
#include "tipline/minhash.h"
#include "tipline/normalize.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

MinHashSignature SignatureArg(py::handle object) {
  std::string copy;
  const std::string_view bytes = BytesArg(object, &copy);
  return ValueOrRaise(DecodeSignature(bytes));
}

py::bytes SignatureBytes(const MinHashSignature& signature) {
  const std::string bytes = EncodeSignature(signature);
  return py::bytes(bytes.data(), bytes.size());
}

py::list MatchList(const std::vector<DedupMatch>& matches) {
  py::list out(matches.size());
  for (size_t i = 0; i < matches.size(); ++i) {
    out[i] = py::make_tuple(matches[i].key, matches[i].similarity);
  }
  return out;
}

std::vector<MinHashSignature> SignaturesOf(const std::vector<std::string_view>& texts,
                                           uint8_t version) {
  std::vector<MinHashSignature> signatures;
  size_t failed = 0;
  Status status;
  {
    py::gil_scoped_release release;
    status = ComputeSignatures(texts, &signatures, &failed, version);
  }
  if (!status.ok()) {
    RaiseStatus(Status(status.code(), "text " + std::to_string(failed) + ": " +
                                          status.message()));
  }
  return signatures;
}

uint8_t VersionArg(int version) {
  return static_cast<uint8_t>(version >= 1 && version <= 3 ? version : 0);
}

// Signatures of many texts as bytes: hashed and encoded on all cores with
// the GIL released, then one bytes object each. A block of texts at a time,
// so that the encoding buffers stay a few megabytes and are reused from
// block to block instead of a fresh, page-faulting one per batch.
py::list SignaturesAsBytes(py::handle texts, int version) {
  constexpr size_t kBlock = 4096;
  py::list owner;
  const std::vector<std::string_view> views = TextsArg(texts, &owner);
  PyObject* out = PyList_New(static_cast<Py_ssize_t>(views.size()));
  if (out == nullptr) throw py::error_already_set();
  py::list result = py::reinterpret_steal<py::list>(out);
  EncodedSignatures encoded;
  std::vector<std::string_view> block;
  for (size_t first = 0; first < views.size(); first += kBlock) {
    block.assign(views.begin() + static_cast<ptrdiff_t>(first),
                 views.begin() + static_cast<ptrdiff_t>(std::min(views.size(), first + kBlock)));
    size_t failed = 0;
    Status status;
    {
      py::gil_scoped_release release;
      status = ComputeEncodedSignatures(block, &encoded, &failed, VersionArg(version));
    }
    if (!status.ok()) {
      RaiseStatus(failed < block.size()
          ? Status(status.code(), "text " + std::to_string(first + failed) + ": " +
                                      status.message())
          : status);
    }
    for (size_t i = 0; i < encoded.items.size(); ++i) {
      PyObject* bytes = PyBytes_FromStringAndSize(
          encoded.items[i].data(), static_cast<Py_ssize_t>(encoded.items[i].size()));
      if (bytes == nullptr) throw py::error_already_set();
      PyList_SET_ITEM(out, static_cast<Py_ssize_t>(first + i), bytes);
    }
  }
  return result;
}

py::bytes OneSignature(py::handle text, int version) {
  const std::string_view view = TextArg(text);
  Result<MinHashSignature> signature = InternalError("not run");
  {
    py::gil_scoped_release release;
    signature = ComputeSignature(view, VersionArg(version));
  }
  return SignatureBytes(ValueOrRaise(std::move(signature)));
}

std::string Normalize(py::handle text, int version) {
  const std::string_view view = TextArg(text);
  Result<std::string> normalized = InternalError("not run");
  {
    py::gil_scoped_release release;
    normalized = NormalizeForDedup(view, version);
  }
  return ValueOrRaise(std::move(normalized));
}

// The Python-visible index: a DedupIndex plus the conversions.
class PyDedupIndex {
 public:
  PyDedupIndex(std::optional<double> threshold, int version, double containment)
      : index_(ValueOrRaise(DedupIndex::Create(
            threshold.value_or(version == 1 ? kDefaultDedupThresholdV1
                                            : kDefaultDedupThreshold),
            VersionArg(version),
            containment))) {}

  double threshold() const { return index_->threshold(); }
  double containment() const { return index_->containment(); }
  int version() const { return index_->version(); }
  size_t size() const { return index_->size(); }
  bool contains(int64_t key) const { return index_->Contains(key); }

  py::bytes signature(py::handle text) const {
    return OneSignature(text, index_->version());
  }

  py::list signatures(py::handle texts) const {
    return SignaturesAsBytes(texts, index_->version());
  }

  void add(int64_t key, py::handle text) {
    const std::string_view view = TextArg(text);
    Status status;
    {
      py::gil_scoped_release release;
      status = index_->Add(key, view);
    }
    ThrowIfError(status);
  }

  void add_signature(int64_t key, py::handle signature) {
    const MinHashSignature decoded = SignatureArg(signature);
    Status status;
    {
      py::gil_scoped_release release;
      status = index_->AddSignature(key, decoded);
    }
    ThrowIfError(status);
  }

  void add_many(py::handle keys, py::handle texts) {
    const auto key_list = py::cast<std::vector<int64_t>>(keys);
    py::list owner;
    const std::vector<std::string_view> views = TextsArg(texts, &owner);
    if (key_list.size() != views.size()) {
      RaiseStatus(InvalidArgumentError("add_many needs as many keys as texts"));
    }
    const std::vector<MinHashSignature> signatures =
        SignaturesOf(views, index_->version());
    Status status;
    {
      py::gil_scoped_release release;
      status = index_->AddSignatures(key_list, signatures);
    }
    ThrowIfError(status);
  }

  bool remove(int64_t key) {
    py::gil_scoped_release release;
    return index_->Remove(key);
  }

  py::list query(py::handle text, size_t k) const {
    const std::string_view view = TextArg(text);
    Result<std::vector<DedupMatch>> matches = InternalError("not run");
    {
      py::gil_scoped_release release;
      matches = index_->Query(view, k);
    }
    return MatchList(ValueOrRaise(std::move(matches)));
  }

  py::list query_signature(py::handle signature, size_t k) const {
    const MinHashSignature decoded = SignatureArg(signature);
    std::vector<DedupMatch> matches;
    {
      py::gil_scoped_release release;
      matches = index_->QuerySignature(decoded, k);
    }
    return MatchList(matches);
  }

  py::list query_many(py::handle texts, size_t k) const {
    py::list owner;
    const std::vector<MinHashSignature> signatures =
        SignaturesOf(TextsArg(texts, &owner), index_->version());
    std::vector<std::vector<DedupMatch>> results;
    {
      py::gil_scoped_release release;
      results = index_->QuerySignatures(signatures, k);
    }
    py::list out(results.size());
    for (size_t i = 0; i < results.size(); ++i) out[i] = MatchList(results[i]);
    return out;
  }

 private:
  std::unique_ptr<DedupIndex> index_;
};

py::list KeyList(const std::vector<int64_t>& keys) {
  py::list out;
  for (const int64_t key : keys) out.append(key);
  return out;
}

py::list BandKeysOf(py::handle signature) {
  return KeyList(BandKeys(SignatureArg(signature)));
}

double Similarity(py::handle a, py::handle b) {
  return EstimateSimilarity(SignatureArg(a), SignatureArg(b));
}

int VersionOf(py::handle signature) { return SignatureArg(signature).version; }

py::tuple Verify(py::handle a, py::handle b) {
  const MinHashSignature x = SignatureArg(a);
  const MinHashSignature y = SignatureArg(b);
  if (x.version == 1 || y.version == 1) {
    RaiseStatus(InvalidArgumentError(
        "verify needs two signatures of version 2 or 3"));
  }
  ShingleOverlap overlap;
  {
    py::gil_scoped_release release;
    overlap = VerifyOverlap(x, y);
  }
  return py::make_tuple(overlap.jaccard, overlap.containment);
}

// The verify model's features of two version-3 signatures, or None where
// the model does not apply by their forms and sets.
py::object Features(py::handle a, py::handle b) {
  const MinHashSignature x = SignatureArg(a);
  const MinHashSignature y = SignatureArg(b);
  if (x.version != 3 || y.version != 3) return py::none();
  PairFeatures features;
  bool applies = false;
  {
    py::gil_scoped_release release;
    applies = PairFeaturesOf(x.text, x.shingles.data(), x.shingles.size(), x.shingle_count,
                             y.text, y.shingles.data(), y.shingles.size(), y.shingle_count,
                             x.cjk && y.cjk, &features);
  }
  if (!applies) return py::none();
  py::tuple out(static_cast<size_t>(kPairFeatures));
  for (size_t i = 0; i < kPairFeatures; ++i) out[i] = features.values[i];
  return out;
}

// The score by which two stored signatures match, 0.0 if they do not: the
// verified decision for two signatures of versions 2 and 3, the estimate
// against threshold_v1 for two version-1 ones; 0.0 across.
double Match(py::handle a, py::handle b, double threshold, double containment,
             double threshold_v1) {
  const MinHashSignature x = SignatureArg(a);
  const MinHashSignature y = SignatureArg(b);
  if (!ComparableVersions(x.version, y.version)) return 0.0;
  if (x.version == 1) {
    const double estimate = EstimateSimilarity(x, y);
    return estimate >= threshold_v1 ? estimate : 0.0;
  }
  py::gil_scoped_release release;
  return MatchScore(x, y, threshold, containment);
}

}  // namespace

void RegisterDedup(py::module_& m) {
  m.attr("SIGNATURE_SIZE") = kSignatureBytes;
  m.attr("SIGNATURE_VERSION") = kSignatureVersion;
  m.attr("NUM_PERMUTATIONS") = kMinHashPermutations;
  m.attr("LSH_BANDS") = kLshBandsV2;
  m.attr("LSH_ROWS") = kLshRowsV2;
  m.attr("LSH_EXTRA_BANDS") = kLshExtraBands;
  m.attr("SHORT_TEXT_SHINGLES") = kShortTextShingles;
  m.attr("LSH_BANDS_V1") = kLshBands;
  m.attr("DEFAULT_DEDUP_THRESHOLD") = kDefaultDedupThreshold;
  m.attr("DEFAULT_DEDUP_THRESHOLD_V1") = kDefaultDedupThresholdV1;
  m.attr("DEFAULT_CONTAINMENT_THRESHOLD") = kDefaultContainmentThreshold;
  m.attr("MIN_CONTAINMENT_SHINGLES") = kMinContainmentShingles;

  m.def("normalize", &Normalize, py::arg("text"),
        py::arg("version") = static_cast<int>(kSignatureVersion),
        "The matching form of text (NFKC_Casefold, tw2sp or t2s, punctuation folded).");
  m.def("signature", &OneSignature, py::arg("text"),
        py::arg("version") = static_cast<int>(kSignatureVersion));
  m.def("signatures", &SignaturesAsBytes, py::arg("texts"),
        py::arg("version") = static_cast<int>(kSignatureVersion));
  m.def("signature_version", &VersionOf, py::arg("signature"));
  m.def("verify", &Verify, py::arg("sig_a"), py::arg("sig_b"),
        "(Jaccard, containment) of two signatures' shingle sets.");
  m.def("pair_features", &Features, py::arg("sig_a"), py::arg("sig_b"));
  m.def("match_score", &Match, py::arg("sig_a"), py::arg("sig_b"),
        py::arg("threshold") = kDefaultDedupThreshold,
        py::arg("containment") = kDefaultContainmentThreshold,
        py::arg("threshold_v1") = kDefaultDedupThresholdV1);
  m.def("jaccard_threshold", &JaccardThreshold, py::arg("threshold"),
        py::arg("smaller"), py::arg("cjk"));
  m.def("band_keys", &BandKeysOf, py::arg("signature"),
        "The LSH band keys a signature is stored under and looks up: "
        "non-negative 63-bit ints.");
  m.def("estimate_similarity", &Similarity, py::arg("sig_a"), py::arg("sig_b"),
        "Estimated Jaccard similarity of two signatures, in [0, 1].");

  py::class_<PyDedupIndex>(m, "DedupIndex")
      .def(py::init<std::optional<double>, int, double>(),
           py::arg("threshold") = py::none(),
           py::arg("version") = static_cast<int>(kSignatureVersion),
           py::arg("containment") = kDefaultContainmentThreshold)
      .def_property_readonly("threshold", &PyDedupIndex::threshold)
      .def_property_readonly("containment", &PyDedupIndex::containment)
      .def_property_readonly("version", &PyDedupIndex::version)
      .def("__len__", &PyDedupIndex::size)
      .def("__contains__", &PyDedupIndex::contains, py::arg("key"))
      .def("signature", &PyDedupIndex::signature, py::arg("text"))
      .def("signatures", &PyDedupIndex::signatures, py::arg("texts"))
      .def("add", &PyDedupIndex::add, py::arg("key"), py::arg("text"))
      .def("add_signature", &PyDedupIndex::add_signature, py::arg("key"),
           py::arg("signature"))
      .def("add_many", &PyDedupIndex::add_many, py::arg("keys"), py::arg("texts"))
      .def("remove", &PyDedupIndex::remove, py::arg("key"))
      .def("query", &PyDedupIndex::query, py::arg("text"), py::arg("k") = 10)
      .def("query_signature", &PyDedupIndex::query_signature,
           py::arg("signature"), py::arg("k") = 10)
      .def("query_many", &PyDedupIndex::query_many, py::arg("texts"),
           py::arg("k") = 10);
}

}  // namespace tipline::python
