// The one place where a C++ Status becomes a Python exception:
// tipline_core._native.Error(message), with .code (e.g. "invalid_argument")
// and .message. tipline_core/__init__.py maps codes to public exceptions.
#ifndef TIPLINE_PYTHON_STATUS_ERROR_H_
#define TIPLINE_PYTHON_STATUS_ERROR_H_

#include <pybind11/pybind11.h>

#include <utility>

#include "tipline/status.h"

namespace tipline::python {

// Raises _native.Error for a non-ok status (a kInternal one if it is ok).
// Call with the GIL held.
[[noreturn]] void RaiseStatus(const Status& status);

inline void ThrowIfError(const Status& status) {
  if (!status.ok()) RaiseStatus(status);
}

template <class T>
T ValueOrRaise(Result<T>&& result) {
  if (!result.ok()) RaiseStatus(result.status());
  return std::move(result).value();
}

}  // namespace tipline::python

#endif  // TIPLINE_PYTHON_STATUS_ERROR_H_
