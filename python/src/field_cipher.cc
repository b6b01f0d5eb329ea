// Bindings for tipline/keyset.h, tipline/field_cipher.h and
// tipline/data_key.h: _native.Keyset, _native.FieldCipher and
// _native.DataKey (the facade wraps them). A data key's bytes never reach
// Python: only its wrapped form does. Arguments are converted
// with the GIL held; the cipher work runs with the GIL released, into a
// bytes object allocated beforehand.
#include <Python.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bindings.h"
#include "status_error.h"
#include "tipline/ciphertext_format.h"
#include "tipline/data_key.h"
#include "tipline/field_cipher.h"
#include "tipline/keyset.h"
#include "tipline/secret.h"

namespace py = pybind11;

namespace tipline::python {
namespace {

// A view of a bytes object's buffer: valid while the object is alive, and
// bytes are immutable, so it may be read with the GIL released.
std::string_view View(const py::bytes& bytes) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(bytes.ptr(), &data, &size) != 0) {
    throw py::error_already_set();
  }
  return std::string_view(data, static_cast<size_t>(size));
}

// A new bytes object of `size` bytes to be filled in.
py::bytes NewBytes(size_t size) {
  PyObject* object = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(size));
  if (object == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::bytes>(object);
}

uint8_t* Buffer(py::bytes& bytes) {
  return reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(bytes.ptr()));
}

std::shared_ptr<Keyset> Generate() { return ValueOrRaise(Keyset::Generate()); }

std::shared_ptr<Keyset> FromBytes(const py::bytes& data,
                                  const py::bytes& master_key) {
  const SecretBytes master = SecretBytes::CopyFrom(View(master_key));
  return ValueOrRaise(Keyset::FromWrapped(View(data), master));
}

py::bytes ToBytes(const Keyset& keyset, const py::bytes& master_key) {
  const SecretBytes master = SecretBytes::CopyFrom(View(master_key));
  return py::bytes(ValueOrRaise(keyset.ToWrapped(master)));
}

std::string KeyStatusOf(const Keyset& keyset, uint32_t key_id) {
  return KeyStatusName(ValueOrRaise(keyset.key_status(key_id)));
}

std::string Repr(const Keyset& keyset) {
  std::string ids;
  for (uint32_t id : keyset.key_ids()) {
    if (!ids.empty()) ids += ", ";
    ids += std::to_string(id);
  }
  return "<tipline_core.Keyset keys=[" + ids +
         "] primary=" + std::to_string(keyset.primary_id()) + ">";
}

// FieldCipher's and DataKey's, which have the same EncryptInto/DecryptInto.
template <class Cipher>
py::bytes Encrypt(const Cipher& cipher, const py::bytes& plaintext,
                  const py::bytes& associated_data) {
  const std::string_view in = View(plaintext);
  const std::string_view aad = View(associated_data);
  if (in.size() > FieldCipher::kMaxPlaintextSize) {
    RaiseStatus(InvalidArgumentError("the plaintext is larger than 1 GiB"));
  }
  py::bytes out = NewBytes(FieldCipher::CiphertextSize(in.size()));
  uint8_t* buffer = Buffer(out);
  Status status;
  {
    py::gil_scoped_release release;
    status = cipher.EncryptInto(in, aad, buffer,
                                FieldCipher::CiphertextSize(in.size()));
  }
  ThrowIfError(status);
  return out;
}

template <class Cipher>
py::bytes Decrypt(const Cipher& cipher, const py::bytes& ciphertext,
                  const py::bytes& associated_data) {
  const std::string_view in = View(ciphertext);
  const std::string_view aad = View(associated_data);
  if (in.size() < kCiphertextOverhead) {
    RaiseStatus(DecryptionFailedError("decryption failed"));
  }
  const size_t size = in.size() - kCiphertextOverhead;
  py::bytes out = NewBytes(size);
  uint8_t* buffer = Buffer(out);
  Status status;
  {
    py::gil_scoped_release release;
    status = cipher.DecryptInto(in, aad, buffer, size);
  }
  ThrowIfError(status);  // `out` (zeroed) is dropped on failure
  return out;
}

std::shared_ptr<DataKey> GenerateDataKey() {
  return ValueOrRaise(DataKey::Generate());
}

std::shared_ptr<DataKey> UnwrapDataKey(const FieldCipher& cipher,
                                       const py::bytes& wrapped,
                                       const py::bytes& associated_data) {
  const std::string_view in = View(wrapped);
  const std::string_view aad = View(associated_data);
  Result<std::unique_ptr<DataKey>> key(InternalError("not unwrapped"));
  {
    py::gil_scoped_release release;
    key = DataKey::Unwrap(cipher, in, aad);
  }
  return ValueOrRaise(std::move(key));
}

py::bytes WrapDataKey(const DataKey& key, const FieldCipher& cipher,
                      const py::bytes& associated_data) {
  return py::bytes(ValueOrRaise(key.Wrap(cipher, View(associated_data))));
}

py::bytes RewrapDataKey(const FieldCipher& cipher, const py::bytes& wrapped,
                        const py::bytes& associated_data) {
  return py::bytes(ValueOrRaise(
      DataKey::Rewrap(cipher, View(wrapped), View(associated_data))));
}

// The key id named by a stored value's prefix, or None when the bytes do not
// start a ciphertext of this format.
py::object CiphertextKeyId(const py::bytes& data) {
  const std::string_view view = View(data);
  uint32_t key_id = 0;
  if (!ParseCiphertextPrefix(reinterpret_cast<const uint8_t*>(view.data()),
                             view.size(), &key_id)) {
    return py::none();
  }
  return py::int_(key_id);
}

py::bytes CiphertextPrefix(uint32_t key_id) {
  uint8_t prefix[kCiphertextPrefixSize];
  WriteCiphertextPrefix(key_id, prefix);
  return py::bytes(reinterpret_cast<const char*>(prefix), sizeof prefix);
}

}  // namespace

void RegisterFieldCipher(py::module_& m) {
  py::class_<Keyset, std::shared_ptr<Keyset>>(
      m, "Keyset",
      "AES-256-GCM keyset (see tipline/keyset.h for the life cycle).")
      .def_static("generate", &Generate,
                  "A keyset with one enabled primary key (id 1).")
      .def_static("from_bytes", &FromBytes, py::arg("data"),
                  py::arg("master_key"),
                  "Unwraps to_bytes() output; wrong key or damage raises "
                  "decryption_failed.")
      .def("to_bytes", &ToBytes, py::arg("master_key"),
           "The keyset wrapped (AES-256-GCM) under a 32-byte master key.")
      .def("add_key",
           [](Keyset& k) { return ValueOrRaise(k.AddKey()); },
           "Adds an enabled, non-primary key; returns its id.")
      .def("set_primary",
           [](Keyset& k, uint32_t id) { ThrowIfError(k.SetPrimary(id)); },
           py::arg("key_id"))
      .def("rotate", [](Keyset& k) { return ValueOrRaise(k.Rotate()); },
           "Adds a key and makes it primary; returns its id.")
      .def("disable",
           [](Keyset& k, uint32_t id) { ThrowIfError(k.Disable(id)); },
           py::arg("key_id"))
      .def("enable",
           [](Keyset& k, uint32_t id) { ThrowIfError(k.Enable(id)); },
           py::arg("key_id"))
      .def("destroy",
           [](Keyset& k, uint32_t id) { ThrowIfError(k.Destroy(id)); },
           py::arg("key_id"))
      .def("key_status", &KeyStatusOf, py::arg("key_id"),
           "'enabled' or 'disabled'.")
      .def_property_readonly("key_ids", &Keyset::key_ids)
      .def_property_readonly("primary_id", &Keyset::primary_id)
      .def("__repr__", &Repr);

  m.attr("CIPHERTEXT_PREFIX_SIZE") = py::int_(kCiphertextPrefixSize);
  m.attr("CIPHERTEXT_OVERHEAD") = py::int_(kCiphertextOverhead);
  m.def("ciphertext_key_id", &CiphertextKeyId, py::arg("data"),
        "The key id in a stored value's first bytes (its prefix will do); "
        "None when they do not start a ciphertext.");
  m.def("ciphertext_prefix", &CiphertextPrefix, py::arg("key_id"),
        "The first CIPHERTEXT_PREFIX_SIZE bytes of every ciphertext under "
        "key_id.");

  py::class_<FieldCipher>(m, "FieldCipher",
                          "AEAD over a shared Keyset (thread-safe).")
      .def(py::init<std::shared_ptr<Keyset>>(), py::arg("keyset"))
      .def("encrypt", &Encrypt<FieldCipher>, py::arg("plaintext"),
           py::arg("associated_data"))
      .def("decrypt", &Decrypt<FieldCipher>, py::arg("ciphertext"),
           py::arg("associated_data"))
      .def_property_readonly("keyset", &FieldCipher::keyset);

  m.attr("DATA_KEY_ID") = py::int_(kDataKeyId);
  m.attr("WRAPPED_DATA_KEY_SIZE") = py::int_(DataKey::kWrappedSize);
  py::class_<DataKey, std::shared_ptr<DataKey>>(
      m, "DataKey", "A record's own AES-256-GCM key (tipline/data_key.h).")
      .def_static("generate", &GenerateDataKey)
      .def_static("unwrap", &UnwrapDataKey, py::arg("cipher"),
                  py::arg("wrapped"), py::arg("associated_data"))
      .def_static("rewrap", &RewrapDataKey, py::arg("cipher"),
                  py::arg("wrapped"), py::arg("associated_data"))
      .def("wrap", &WrapDataKey, py::arg("cipher"),
           py::arg("associated_data"))
      .def("encrypt", &Encrypt<DataKey>, py::arg("plaintext"),
           py::arg("associated_data"))
      .def("decrypt", &Decrypt<DataKey>, py::arg("ciphertext"),
           py::arg("associated_data"));
}

}  // namespace tipline::python
