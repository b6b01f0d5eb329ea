#!/usr/bin/env bash
# Runs the native tests (both build dirs) and the Python binding tests.
# Run scripts/build-native.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$PWD/.venv/bin/python}

for dir in build build-asan; do
  if [ ! -f "$dir/CTestTestfile.cmake" ]; then
    echo "$dir/ is not configured: run scripts/build-native.sh" >&2
    exit 1
  fi
  (cd "$dir" && ctest --output-on-failure -j2)
done

PYTHONPATH=python "$PYTHON" -m pytest -q tests/binding
