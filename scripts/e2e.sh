#!/usr/bin/env bash
# e2e.sh: the browser end-to-end test. Creates a fresh SQLite database with
# the demo data in var/e2e/, serves it with trytond and sao on
# 127.0.0.1:8010, drives Debian's chromium through it (node --test
# tests/e2e/) and always stops the server. Exits with the test's status.
# Screenshots land in tests/e2e/screenshots/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIR=$ROOT/var/e2e NAME=tipline
PORT=${TIPLINE_E2E_PORT:-8010}
URL=http://127.0.0.1:$PORT
LOG=$DIR/trytond.log

[ -x .venv/bin/trytond ] || { echo "e2e: run scripts/bootstrap.sh first" >&2; exit 2; }
[ -d var/sao/package/dist ] || { echo "e2e: sao is missing, run scripts/bootstrap.sh" >&2; exit 2; }
[ -x /usr/bin/chromium ] || { echo "e2e: /usr/bin/chromium is missing" >&2; exit 2; }
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  (cd tests/e2e && npm ci --no-audit --no-fund)
fi
if curl -s -o /dev/null --max-time 2 "$URL/"; then
  echo "e2e: something already listens on $URL; stop it or set TIPLINE_E2E_PORT" >&2
  exit 2
fi

start=$(date +%s)
echo "e2e: creating the database $DIR/$NAME.sqlite"
scripts/create_database.sh "$DIR" "$NAME" </dev/null >"$DIR.create.log" 2>&1 \
  || { cat "$DIR.create.log" >&2; exit 1; }
mv "$DIR.create.log" "$DIR/create.log"

export TRYTOND_DATABASE__PATH=$DIR
export TRYTOND_TIPLINE__KEY_FILE=$DIR/tipline.key
export TRYTOND_WEB__ROOT=$ROOT/var/sao/package
# -d loads the database's pool at start. Without it trytond 8.0.12 answers
# the first login with KeyError 'res.user' (Cache.sync's Pool() registers an
# empty pool, so security._get_pool never initialises it).
# The config file wins over TRYTOND_WEB__LISTEN (trytond reads the environment
# first, then the files), so a second file sets the port.
printf '[web]\nlisten = 127.0.0.1:%s\n' "$PORT" >"$DIR/e2e.conf"
# The shipped logging configuration, so that its redaction is what is tested.
.venv/bin/trytond -c manifests/trytond-sqlite.conf "$DIR/e2e.conf" -d "$NAME" \
  --logconf manifests/logging.conf </dev/null >"$LOG" 2>&1 &
SERVER=$!
stop_server() {
  if kill -0 "$SERVER" 2>/dev/null; then
    kill "$SERVER" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER" 2>/dev/null || true
  fi
  wait "$SERVER" 2>/dev/null || true
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "e2e: waiting for trytond on $URL"
for _ in $(seq 120); do
  if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "e2e: trytond died; the end of $LOG:" >&2; tail -30 "$LOG" >&2; exit 1
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL/" || true)
  [ "$code" = 200 ] && break
  sleep 0.5
done
[ "$code" = 200 ] || { echo "e2e: trytond did not answer; see $LOG" >&2; exit 1; }

echo "e2e: running the browser tests ($(( $(date +%s) - start )) s so far)"
status=0
rm -f "$DIR/anonymous.json"
(cd tests/e2e && TIPLINE_URL=$URL TIPLINE_DB=$NAME \
  TIPLINE_E2E_ANONYMOUS=$DIR/anonymous.json \
  TIPLINE_E2E_DEMO_LOG=$DIR/create.log node --test \
  --test-concurrency=1 --test-reporter=spec) </dev/null || status=$?
stop_server
# What the reporters typed in the browser must be nowhere at rest: not in
# the raw database file (nor its journal) and not in the server's log.
at_rest=0
.venv/bin/python - "$DIR/$NAME.sqlite" "$LOG" <<'PY' || at_rest=$?
import glob, sys
typed = [
    'SO-1042 asked us to pay',             # the tests' descriptions
    'insulting note on opportunity OPP-7',
    'I fear retaliation',
    'same casino advert into the notes',
    'account of a temp, access revoked',   # a moderator's internal note
    'changed last night to an account',    # the demo data's reports
    'same discount advert was pasted',
    'Was the driver the same',             # the conversation's messages
    'the same driver signed both',
    'Which payment run was it',
    'on Tuesday morning',
    'Pat Warehouse', 'ExamplePhone',       # the photo's metadata
    ]
found = []
for path in glob.glob(sys.argv[1] + '*') + [sys.argv[2]]:
    data = open(path, 'rb').read()
    for text in typed:
        for form in (text.encode(), text.encode('utf-16-le')):
            if form in data:
                found.append('%s in %s' % (text, path))
if found:
    print('e2e: report text found at rest:', *found, sep='\n  ')
    sys.exit(1)
print('e2e: no report text in the database file or the server log')
PY
# The anonymous report filed in the browser must not be tied to its filer:
# no row of Tipline's, and no wizard session, may carry the filer's user
# id; its times are whole hours; the file and its log keep no session data
# of the filing; no line of the server log names the filer's login on a
# Tipline call.
unlinked=0
.venv/bin/python tests/e2e/unlinked.py "$DIR/$NAME.sqlite" "$LOG" \
  "$DIR/anonymous.json" || unlinked=$?
[ $status -eq 0 ] && status=$at_rest
[ $status -eq 0 ] && status=$unlinked
echo "e2e: done in $(( $(date +%s) - start )) s, status $status (server log: $LOG)"
exit $status
