#!/usr/bin/env bash
# make test: installs what is missing, builds, and runs every test suite:
# native (plain and ASan/UBSan), binding, the Tryton module on SQLite and on
# PostgreSQL, the browser end-to-end test and a clean `pip install .`.
# Prints one line per suite and a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/var/test-logs
mkdir -p "$LOGS"

scripts/bootstrap.sh || exit 1

passed=0 failed=0 failures=()
suite() {
  local name=$1; shift
  local start=$SECONDS
  echo "== $name"
  if "$@" > "$LOGS/$name.log" 2>&1; then
    passed=$((passed + 1))
    echo "   ok ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1)); failures+=("$name")
    echo "   FAILED ($((SECONDS - start)) s); last lines of $LOGS/$name.log:"
    tail -n 40 "$LOGS/$name.log" | sed 's/^/   | /'
  fi
}

module_tests() {  # module_tests DB_CACHE_DIR [env...]
  local cache=$1; shift
  rm -rf "$cache"
  env "$@" DB_CACHE="$cache" .venv/bin/python -m unittest discover \
    -s plugin/tipline/tests -v
}

postgresql_tests() {
  # A PostgreSQL server runs on machines of this kind; when none answers,
  # start a throwaway cluster from Debian's postgresql package.
  local uri=postgresql://postgres@127.0.0.1:5432/
  if ! pg_isready -q -h 127.0.0.1 -p 5432; then
    scripts/pg-throwaway.sh start "$ROOT/var/pg" 5433 || return 1
    uri=postgresql://postgres@127.0.0.1:5433/
  fi
  module_tests "$ROOT/var/dbcache-pg" \
    TRYTOND_DATABASE_URI="$uri" DB_NAME="tipline_test_$$"
}

suite native-build scripts/build-native.sh
suite native-and-binding scripts/test-native.sh
suite module-sqlite module_tests "$ROOT/var/dbcache-sqlite" DB_NAME=:memory:
suite module-postgresql postgresql_tests
suite browser-e2e scripts/e2e.sh
suite pip-install tests/packaging/test_pip_install.sh

echo
[ $failed -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
