#include "status_error.h"

#include <Python.h>

#include "bindings.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

// Owned for the life of the process (the extension is never unloaded).
PyObject* g_error_type = nullptr;

}  // namespace

void RegisterStatusError(py::module_& m) {
  if (g_error_type == nullptr) {
    g_error_type = PyErr_NewExceptionWithDoc(
        "tipline_core._native.Error",
        "A failed native call; .code is the status code name.", PyExc_Exception,
        nullptr);
    if (g_error_type == nullptr) throw py::error_already_set();
  }
  m.attr("Error") = py::handle(g_error_type);
}

void RaiseStatus(const Status& status) {
  const StatusCode code =
      status.ok() ? StatusCode::kInternal : status.code();
  const std::string& message =
      status.ok() ? std::string("error raised for an ok status")
                  : status.message();
  py::handle type(g_error_type);
  py::object error = type(py::str(message));
  error.attr("code") = py::str(StatusCodeName(code));
  error.attr("message") = py::str(message);
  PyErr_SetObject(type.ptr(), error.ptr());
  throw py::error_already_set();
}

}  // namespace tipline::python
