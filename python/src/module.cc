#include <pybind11/pybind11.h>

#include "bindings.h"

PYBIND11_MODULE(_native, m) {
  m.doc() = "Tipline native core (private: use the tipline_core package).";
  tipline::python::RegisterStatusError(m);
  tipline::python::RegisterTracking(m);
  tipline::python::RegisterFieldCipher(m);
  tipline::python::RegisterMasterKey(m);
  tipline::python::RegisterBlindIndex(m);
  tipline::python::RegisterReceipt(m);
  tipline::python::RegisterDedup(m);
  tipline::python::RegisterScore(m);
  tipline::python::RegisterAuditChain(m);
}
