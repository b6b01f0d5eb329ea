// Bindings for tipline/audit_chain.h: audit_genesis, audit_link and
// audit_verify. Arguments are converted (and copied into AuditEvents) with
// the GIL held; a verification runs with it released. A single link is
// hashed with the GIL held: it costs less than releasing it.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bindings.h"
#include "status_error.h"
#include "text_args.h"
#include "tipline/audit_chain.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

// A Python int (not bool) as int64; InvalidInput when it does not fit.
int64_t Int64Arg(py::handle object, const std::string& what) {
  if (!PyLong_Check(object.ptr()) || PyBool_Check(object.ptr())) {
    throw py::type_error(what + " must be int, not " +
                         Py_TYPE(object.ptr())->tp_name);
  }
  int overflow = 0;
  const long long value =
      PyLong_AsLongLongAndOverflow(object.ptr(), &overflow);
  if (value == -1 && PyErr_Occurred()) throw py::error_already_set();
  if (overflow != 0) {
    RaiseStatus(InvalidArgumentError(what + " does not fit in 64 bits"));
  }
  return static_cast<int64_t>(value);
}

std::vector<std::pair<std::string, std::string>> DetailsArg(
    py::handle details) {
  if (!PyDict_Check(details.ptr())) {
    throw py::type_error(std::string("details must be a dict of str to str, "
                                     "not ") +
                         Py_TYPE(details.ptr())->tp_name);
  }
  std::vector<std::pair<std::string, std::string>> pairs;
  pairs.reserve(static_cast<size_t>(PyDict_Size(details.ptr())));
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(details.ptr(), &position, &key, &value)) {
    pairs.emplace_back(std::string(TextArg(key, "detail key")),
                       std::string(TextArg(value, "detail value")));
  }
  return pairs;
}

AuditEvent EventArg(int64_t report_id, py::handle sequence,
                    py::handle timestamp_us, py::handle actor, py::handle kind,
                    py::handle details) {
  AuditEvent event;
  event.report_id = report_id;
  event.sequence = Int64Arg(sequence, "sequence");
  event.timestamp_us = Int64Arg(timestamp_us, "timestamp_us");
  event.actor = std::string(TextArg(actor, "actor"));
  event.kind = std::string(TextArg(kind, "kind"));
  event.details = DetailsArg(details);
  return event;
}

py::bytes HashToBytes(const AuditHash& hash) {
  return py::bytes(reinterpret_cast<const char*>(hash.data()), hash.size());
}

py::bytes Genesis(py::handle report_id) {
  return HashToBytes(
      ValueOrRaise(AuditGenesis(Int64Arg(report_id, "report_id"))));
}

py::bytes Link(py::handle prev_hash, py::handle report_id, py::handle sequence,
               py::handle timestamp_us, py::handle actor, py::handle kind,
               py::handle details) {
  std::string copy;
  const std::string_view prev = BytesArg(prev_hash, &copy, "prev_hash");
  if (prev.size() != kAuditHashSize) {
    RaiseStatus(InvalidArgumentError("prev_hash must be 32 bytes"));
  }
  AuditHash prev_array{};
  std::copy(prev.begin(), prev.end(), prev_array.begin());
  const AuditEvent event =
      EventArg(Int64Arg(report_id, "report_id"), sequence, timestamp_us, actor,
               kind, details);
  return HashToBytes(ValueOrRaise(LinkHash(prev_array, event)));
}

constexpr char kEventShape[] =
    " must be a 6-tuple (sequence, timestamp_us, actor, kind, details, "
    "stored_hash)";

// None when the chain holds, else the index of its first broken link. A
// stored hash that is not 32 bytes cannot match, so its link is broken.
py::object Verify(py::handle report_id_arg, py::handle events_arg) {
  const int64_t report_id = Int64Arg(report_id_arg, "report_id");
  if (PyUnicode_Check(events_arg.ptr()) || PyBytes_Check(events_arg.ptr())) {
    throw py::type_error("events must be a list of tuples, not a string");
  }
  const py::list items(py::reinterpret_borrow<py::object>(events_arg));
  std::vector<AuditEvent> events;
  std::vector<AuditHash> hashes;
  events.reserve(items.size());
  hashes.reserve(items.size());
  std::optional<size_t> first_bad_hash;
  for (size_t i = 0; i < items.size(); ++i) {
    const py::handle item = PyList_GET_ITEM(items.ptr(), static_cast<Py_ssize_t>(i));
    const std::string name = "event " + std::to_string(i);
    if (!(PyTuple_Check(item.ptr()) || PyList_Check(item.ptr())) ||
        PySequence_Size(item.ptr()) != 6) {
      throw py::type_error(name + kEventShape);
    }
    const py::tuple fields(py::reinterpret_borrow<py::object>(item));
    events.push_back(EventArg(report_id, fields[0], fields[1], fields[2],
                              fields[3], fields[4]));
    // EventArg copies the report id: a chain carries one report's events.
    std::string copy;
    const std::string_view stored =
        BytesArg(fields[5], &copy, (name + " stored_hash").c_str());
    AuditHash hash{};
    if (stored.size() == kAuditHashSize) {
      std::copy(stored.begin(), stored.end(), hash.begin());
    } else if (!first_bad_hash) {
      first_bad_hash = i;
    }
    hashes.push_back(hash);
  }
  if (first_bad_hash) {
    events.resize(*first_bad_hash);
    hashes.resize(*first_bad_hash);
  }

  std::optional<Result<std::optional<size_t>>> result;
  {
    py::gil_scoped_release release;
    result.emplace(VerifyChain(report_id, events, hashes));
  }
  std::optional<size_t> broken = ValueOrRaise(std::move(*result));
  if (!broken) broken = first_bad_hash;
  if (!broken) return py::none();
  return py::int_(*broken);
}

}  // namespace

void RegisterAuditChain(py::module_& m) {
  m.attr("AUDIT_HASH_SIZE") = py::int_(kAuditHashSize);
  m.attr("AUDIT_ENCODING_VERSION") = py::int_(kAuditEncodingVersion);
  m.def("audit_genesis", &Genesis, py::arg("report_id"),
        "The previous hash of a report's first audit link (32 bytes).");
  m.def("audit_link", &Link, py::arg("prev_hash"), py::arg("report_id"),
        py::arg("sequence"), py::arg("timestamp_us"), py::arg("actor"),
        py::arg("kind"), py::arg("details"),
        "SHA-256(prev_hash || encoding of the event): the hash to store.");
  m.def("audit_verify", &Verify, py::arg("report_id"), py::arg("events"),
        "Index of the first broken link of a stored chain, or None.");
}

}  // namespace tipline::python
