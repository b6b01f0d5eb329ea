#!/usr/bin/env bash
# Configures, builds and tests the native core twice:
#   build/      Release, Python extension (written to python/tipline_core/) + tests
#   build-asan/ Debug, ASan+UBSan, tests only
# Idempotent: re-running only rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$PWD/.venv/bin/python}
PYBIND11_DIR=$("$PYTHON" -c 'import pybind11; print(pybind11.get_cmake_dir())')

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$PYTHON" -Dpybind11_DIR="$PYBIND11_DIR"
cmake --build build -j2
(cd build && ctest --output-on-failure -j2)

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug \
  -DTIPLINE_SANITIZE=ON -DTIPLINE_BUILD_PYTHON=OFF
cmake --build build-asan -j2
(cd build-asan && ctest --output-on-failure -j2)
