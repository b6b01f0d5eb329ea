// Bindings for tipline/tracking.h. No GIL release: a parse is far cheaper
// than releasing and re-taking the GIL.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "bindings.h"
#include "status_error.h"
#include "tipline/tracking.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

// The UTF-8 view of a str, read in place (no copy of a huge string). Only
// str reaches here (py::str rejects bytes with TypeError). False for strings
// that have no UTF-8 form (lone surrogates).
bool Utf8View(const py::str& text, std::string_view* view) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    return false;
  }
  *view = std::string_view(data, static_cast<size_t>(size));
  return true;
}

std::string NewNumber() { return ValueOrRaise(NewTrackingNumber()); }

std::string Parse(const py::str& text) {
  std::string_view view;
  if (!Utf8View(text, &view)) {
    RaiseStatus(InvalidArgumentError(
        "the tracking number contains characters that are not valid text"));
  }
  return ValueOrRaise(ParseTrackingNumber(view));
}

bool IsValid(const py::str& text) {
  std::string_view view;
  return Utf8View(text, &view) && IsValidTrackingNumber(view);
}

}  // namespace

void RegisterTracking(py::module_& m) {
  m.def("new_tracking_number", &NewNumber,
        "A fresh random tracking number, TL-XXXX-XXXX-XXXX-XXXX.");
  m.def("parse_tracking_number", &Parse, py::arg("text"),
        "The canonical form of a typed tracking number; raises Error.");
  m.def("is_valid_tracking_number", &IsValid, py::arg("text"),
        "Whether parse_tracking_number would accept text.");
}

}  // namespace tipline::python
