#!/usr/bin/env bash
# Builds only what Tryton needs at run time: the tipline_core._native
# extension, written next to python/tipline_core/__init__.py.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-$PWD/.venv/bin/python}
PYBIND11_DIR=$("$PYTHON" -c 'import pybind11; print(pybind11.get_cmake_dir())')
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$PYTHON" -Dpybind11_DIR="$PYBIND11_DIR" >/dev/null
echo "build: tipline_core._native (log: build/extension.log)"
cmake --build build -j2 --target _native > build/extension.log 2>&1 \
  || { tail -n 40 build/extension.log >&2; exit 1; }
