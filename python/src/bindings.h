// One Register<Concept>() per concept; module.cc calls each once.
// To add a concept: write src/<concept>.cc defining Register<Concept>,
// declare it here, and add one call in module.cc.
#ifndef TIPLINE_PYTHON_BINDINGS_H_
#define TIPLINE_PYTHON_BINDINGS_H_

#include <pybind11/pybind11.h>

namespace tipline::python {

void RegisterStatusError(pybind11::module_& m);  // first: others raise it
void RegisterTracking(pybind11::module_& m);
void RegisterFieldCipher(pybind11::module_& m);  // Keyset, FieldCipher, DataKey
void RegisterMasterKey(pybind11::module_& m);
void RegisterBlindIndex(pybind11::module_& m);
void RegisterReceipt(pybind11::module_& m);
void RegisterDedup(pybind11::module_& m);
void RegisterScore(pybind11::module_& m);
void RegisterAuditChain(pybind11::module_& m);

}  // namespace tipline::python

#endif  // TIPLINE_PYTHON_BINDINGS_H_
