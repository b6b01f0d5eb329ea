#!/usr/bin/env bash
# make demo: install, build, create the SQLite demo database (unless it
# exists; TIPLINE_DEMO_RESET=1 recreates it) and serve the sao web client
# on http://127.0.0.1:8000 until stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/build-extension.sh
DB_DIR=$PWD/var/demo NAME=tipline
# A local mail sink, so that the demo's mail can be read: every message
# lands as a file in var/demo/mail/new/.
MAIL_DIR=$DB_DIR/mail MAIL_PORT=${TIPLINE_DEMO_MAIL_PORT:-8025}
mkdir -p "$MAIL_DIR"/{cur,new,tmp}
.venv/bin/python -m aiosmtpd -n -l 127.0.0.1:$MAIL_PORT \
  -c aiosmtpd.handlers.Mailbox "$MAIL_DIR" &
SINK=$!
trap 'kill $SINK 2>/dev/null || true' EXIT
# trytond reads the environment first and then its files, so the sink's
# address goes in a file of its own, read after the shipped one.
printf '[email]\nuri = smtp://127.0.0.1:%s\n' "$MAIL_PORT" >"$DB_DIR/mail.conf"
if [ ! -s "$DB_DIR/$NAME.sqlite" ] || [ "${TIPLINE_DEMO_RESET:-0}" = 1 ]; then
  echo "demo: creating the database $DB_DIR/$NAME.sqlite"
  mkdir -p "$DB_DIR"
  scripts/create_database.sh "$DB_DIR" "$NAME" | tee "$DB_DIR/users.txt"
else
  cat "$DB_DIR/users.txt" 2>/dev/null || true
fi
export TRYTOND_DATABASE__PATH=$DB_DIR
export TRYTOND_TIPLINE__KEY_FILE=$DB_DIR/tipline.key
export TRYTOND_WEB__ROOT=$PWD/var/sao/package
echo
echo "Tipline is served on http://127.0.0.1:8000/#$NAME (Ctrl-C stops it)"
echo "The demo's mail is delivered to $MAIL_DIR/new/ (one file a message)"
# -d loads the database at start; trytond 8.0 cannot log anyone in to a
# database whose pool a first request registered empty.
# Mail and the other timed jobs (escalation, rescoring, reviews) run in
# trytond-cron: requests never send mail themselves.
.venv/bin/trytond-cron -c manifests/trytond-sqlite.conf "$DB_DIR/mail.conf" \
  -d "$NAME" --logconf manifests/logging.conf &
CRON=$!
trap 'kill $CRON $SINK 2>/dev/null || true' EXIT
.venv/bin/trytond -c manifests/trytond-sqlite.conf "$DB_DIR/mail.conf" \
  -d "$NAME" --logconf manifests/logging.conf
