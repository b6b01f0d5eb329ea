// Bindings for tipline/master_key.h, tipline/blind_index.h and
// tipline/receipt.h. Key material arrives as bytes and is copied into
// SecretBytes at once; the bytes objects themselves are the caller's.
#include <Python.h>
#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

#include "bindings.h"
#include "status_error.h"
#include "tipline/blind_index.h"
#include "tipline/master_key.h"
#include "tipline/receipt.h"
#include "tipline/secret.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

std::string_view View(const py::bytes& bytes) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(bytes.ptr(), &data, &size) != 0) {
    throw py::error_already_set();
  }
  return std::string_view(data, static_cast<size_t>(size));
}

// The UTF-8 of a str, in place; false for strings without one (surrogates).
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

py::bytes SecretToBytes(const SecretBytes& secret) {
  return py::bytes(reinterpret_cast<const char*>(secret.RevealSecretBytes()),
                   secret.size());
}

py::bytes NewMaster() { return SecretToBytes(ValueOrRaise(NewMasterKey())); }

py::bytes ParseMaster(const py::str& text) {
  std::string_view view;
  if (!Utf8View(text, &view)) {
    RaiseStatus(InvalidArgumentError(
        "the master key must be 64 hexadecimal characters or 32 bytes in "
        "base64"));
  }
  return SecretToBytes(ValueOrRaise(ParseMasterKey(view)));
}

py::bytes LoadMasterFile(const std::string& path) {
  Result<SecretBytes> key = [&] {
    py::gil_scoped_release release;
    return LoadMasterKeyFile(path);
  }();
  return SecretToBytes(ValueOrRaise(std::move(key)));
}

void CreateMasterFile(const std::string& path, const py::object& master_key) {
  Status status;
  if (master_key.is_none()) {
    py::gil_scoped_release release;
    status = CreateMasterKeyFile(path);
  } else {
    const SecretBytes key =
        SecretBytes::CopyFrom(View(master_key.cast<py::bytes>()));
    py::gil_scoped_release release;
    status = WriteMasterKeyFile(path, key);
  }
  ThrowIfError(status);
}

class PyBlindIndexer {
 public:
  explicit PyBlindIndexer(const py::bytes& master_key)
      : indexer_(ValueOrRaise(
            BlindIndexer::Create(SecretBytes::CopyFrom(View(master_key))))) {}
  explicit PyBlindIndexer(BlindIndexer indexer)
      : indexer_(std::move(indexer)) {}

  static PyBlindIndexer FromKey(const py::bytes& index_key) {
    return PyBlindIndexer(ValueOrRaise(
        BlindIndexer::FromKey(SecretBytes::CopyFrom(View(index_key)))));
  }

  py::bytes Index(const py::bytes& value, const py::bytes& purpose) const {
    const std::string_view value_view = View(value);
    const std::string_view purpose_view = View(purpose);
    Result<std::string> index = [&] {
      py::gil_scoped_release release;
      return indexer_.Index(purpose_view, value_view);
    }();
    return py::bytes(ValueOrRaise(std::move(index)));
  }

 private:
  BlindIndexer indexer_;
};

py::bytes Hash(const py::str& receipt) {
  std::string_view view;
  if (!Utf8View(receipt, &view)) {
    RaiseStatus(InvalidArgumentError(
        "a receipt is 16 digits, e.g. 1234-5678-9012-3456"));
  }
  Result<std::string> stored = [&] {
    py::gil_scoped_release release;  // scrypt: tens of milliseconds
    return HashReceipt(view);
  }();
  return py::bytes(ValueOrRaise(std::move(stored)));
}

bool Verify(const py::str& receipt, const py::bytes& stored) {
  std::string_view view;
  const std::string_view stored_view = View(stored);
  if (!Utf8View(receipt, &view)) view = "x";  // not a receipt: no match
  Result<bool> matches = [&] {
    py::gil_scoped_release release;
    return VerifyReceipt(view, stored_view);
  }();
  return ValueOrRaise(std::move(matches));
}

}  // namespace

void RegisterMasterKey(py::module_& m) {
  m.def("new_master_key", &NewMaster, "32 fresh random bytes.");
  m.def("parse_master_key", &ParseMaster, py::arg("text"),
        "64 hex characters or base64 of 32 bytes -> 32 bytes.");
  m.def("load_master_key_file", &LoadMasterFile, py::arg("path"),
        "Reads a 0600 key file of 64 hex characters and a newline.");
  m.def("create_master_key_file", &CreateMasterFile, py::arg("path"),
        py::arg("master_key") = py::none(),
        "Writes a key file (mode 0600) atomically; never replaces one.");
}

void RegisterBlindIndex(py::module_& m) {
  py::class_<PyBlindIndexer>(m, "BlindIndexer",
                             "HMAC-SHA256 blind index under a key derived "
                             "from the master key.")
      .def(py::init<const py::bytes&>(), py::arg("master_key"))
      .def_static("from_key", &PyBlindIndexer::FromKey, py::arg("index_key"),
                  "An indexer over an index key (blind_index_key's).")
      .def("index", &PyBlindIndexer::Index, py::arg("value"),
           py::arg("purpose"));
  m.def(
      "blind_index_key",
      [](const py::bytes& master_key) {
        return SecretToBytes(ValueOrRaise(BlindIndexer::DeriveKey(
            SecretBytes::CopyFrom(View(master_key)))));
      },
      py::arg("master_key"),
      "The index key a BlindIndexer derives from the master key.");
}

void RegisterReceipt(py::module_& m) {
  m.def("new_receipt", [] { return ValueOrRaise(NewReceipt()); },
        "A fresh receipt, dddd-dddd-dddd-dddd.");
  m.def("hash_receipt", &Hash, py::arg("receipt"),
        "The scrypt record to store for a receipt (GIL released).");
  m.def("verify_receipt", &Verify, py::arg("receipt"), py::arg("stored"),
        "Whether the receipt matches the stored record (GIL released).");
}

}  // namespace tipline::python
