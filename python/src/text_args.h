// Argument conversions shared by the dedup and score bindings. Call with the
// GIL held; the views stay valid while the Python objects they came from do.
#ifndef TIPLINE_PYTHON_TEXT_ARGS_H_
#define TIPLINE_PYTHON_TEXT_ARGS_H_

#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>
#include <vector>

#include "status_error.h"

namespace tipline::python {

// The UTF-8 of a str, read in place, or nullptr with the Python error
// cleared for strings without a UTF-8 form (lone surrogates). TypeError for
// non-str.
inline const char* Utf8Of(pybind11::handle text, Py_ssize_t* size,
                          const std::string& what) {
  if (!PyUnicode_Check(text.ptr())) {
    throw pybind11::type_error(what + " must be str, not " +
                               Py_TYPE(text.ptr())->tp_name);
  }
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), size);
  if (data == nullptr) PyErr_Clear();
  return data;
}

[[noreturn]] inline void RaiseNotText(const std::string& what) {
  RaiseStatus(InvalidArgumentError(what +
                                   " contains characters that are not valid "
                                   "text (lone surrogates)"));
}

// The UTF-8 of a str, read in place. Raises InvalidInput (via _native.Error)
// for strings without a UTF-8 form (lone surrogates), TypeError for non-str.
inline std::string_view TextArg(pybind11::handle text, const char* what = "text") {
  Py_ssize_t size = 0;
  const char* data = Utf8Of(text, &size, what);
  if (data == nullptr) RaiseNotText(what);
  return std::string_view(data, static_cast<size_t>(size));
}

// The str items of a sequence, kept alive by *owner while views are in use.
inline std::vector<std::string_view> TextsArg(pybind11::handle texts,
                                              pybind11::list* owner) {
  if (PyUnicode_Check(texts.ptr()) || PyBytes_Check(texts.ptr())) {
    throw pybind11::type_error("texts must be a sequence of str, not a string");
  }
  *owner = pybind11::list(pybind11::reinterpret_borrow<pybind11::object>(texts));
  std::vector<std::string_view> views;
  views.reserve(owner->size());
  for (pybind11::handle item : *owner) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_Check(item.ptr()) && PyUnicode_IS_COMPACT_ASCII(item.ptr())
        ? static_cast<const char*>(PyUnicode_DATA(item.ptr()))
        : nullptr;
    if (data != nullptr) {
      size = PyUnicode_GET_LENGTH(item.ptr());
    } else {
      const std::string what = "text " + std::to_string(views.size());
      data = Utf8Of(item, &size, what);
      if (data == nullptr) RaiseNotText(what);
    }
    views.emplace_back(data, static_cast<size_t>(size));
  }
  return views;
}

// The bytes of a bytes-like object (bytes, bytearray, memoryview from a
// database driver). *copy holds them when the object is not immutable bytes.
inline std::string_view BytesArg(pybind11::handle object, std::string* copy,
                                 const char* what = "signature") {
  if (PyBytes_Check(object.ptr())) {
    char* data = nullptr;
    Py_ssize_t size = 0;
    if (PyBytes_AsStringAndSize(object.ptr(), &data, &size) != 0) {
      throw pybind11::error_already_set();
    }
    return std::string_view(data, static_cast<size_t>(size));
  }
  if (PyObject_CheckBuffer(object.ptr()) && !PyUnicode_Check(object.ptr())) {
    Py_buffer view;
    if (PyObject_GetBuffer(object.ptr(), &view, PyBUF_SIMPLE) != 0) {
      throw pybind11::error_already_set();
    }
    copy->assign(static_cast<const char*>(view.buf),
                 static_cast<size_t>(view.len));
    PyBuffer_Release(&view);
    return *copy;
  }
  throw pybind11::type_error(std::string(what) + " must be bytes-like, not " +
                             Py_TYPE(object.ptr())->tp_name);
}

}  // namespace tipline::python

#endif  // TIPLINE_PYTHON_TEXT_ARGS_H_
