#!/usr/bin/env bash
# make test: installs what is missing, builds, and runs every test suite:
# native (plain and ASan/UBSan), binding, the Tryton module on SQLite and on
# PostgreSQL, the browser end-to-end test, a clean `pip install .` and the
# deployment shape (tests/deploy).
# Prints one line per suite and a closing "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/var/test-logs
mkdir -p "$LOGS"

scripts/bootstrap.sh || exit 1

passed=0 failed=0 failures=()
run_suite() {  # run_suite NAME COMMAND...: output to the suite's log
  local name=$1; shift
  local start=$SECONDS
  "$@" > "$LOGS/$name.log" 2>&1
  echo "$? $((SECONDS - start))" > "$LOGS/$name.result"
}
report_suite() {
  local name=$1 status seconds
  read -r status seconds < "$LOGS/$name.result"
  if [ "$status" = 0 ]; then
    passed=$((passed + 1))
    echo "== $name: ok ($seconds s)"
  else
    failed=$((failed + 1)); failures+=("$name")
    echo "== $name: FAILED ($seconds s); last lines of $LOGS/$name.log:"
    tail -n 40 "$LOGS/$name.log" | sed 's/^/   | /'
  fi
}
# together NAME:FUNCTION...: run suites side by side (the machine has two
# cores and most suites use one), then report them in order.
together() {
  local spec pids=()
  for spec in "$@"; do
    run_suite "${spec%%:*}" "${spec#*:}" & pids+=($!)
  done
  wait "${pids[@]}"
  for spec in "$@"; do report_suite "${spec%%:*}"; done
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

native_build() { scripts/build-native.sh; }   # also runs ctest, plain and ASan
binding_tests() { PYTHONPATH=python .venv/bin/python -m pytest -q tests/binding; }
sqlite_tests() { module_tests "$ROOT/var/dbcache-sqlite" DB_NAME=:memory:; }
e2e_tests() { scripts/e2e.sh; }
# The multi-process shape on PostgreSQL: logging with every start, gunicorn
# behind nginx, a key rotated across workers, the backup and restore drill.
deploy_tests() { .venv/bin/python -m pytest -v tests/deploy; }
pip_install_test() { tests/packaging/test_pip_install.sh; }

together native-build:native_build
together binding:binding_tests module-sqlite:sqlite_tests \
  module-postgresql:postgresql_tests
together browser-e2e:e2e_tests pip-install:pip_install_test \
  deploy:deploy_tests

echo
[ $failed -eq 0 ] || echo "failed suites: ${failures[*]}"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
