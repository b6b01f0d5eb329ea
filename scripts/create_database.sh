#!/usr/bin/env bash
# create_database.sh DIR NAME [PORT]: a fresh SQLite database NAME in DIR with
# Tipline, the CRM modules and the demo data, ready to be served.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$1 NAME=$2
mkdir -p "$DIR"
rm -f "$DIR/$NAME.sqlite" && touch "$DIR/$NAME.sqlite"
export TRYTOND_DATABASE__PATH=$DIR
CONF=manifests/trytond-sqlite.conf
PASSFILE=$(mktemp)
trap 'rm -f "$PASSFILE"' EXIT
echo "${TIPLINE_DEMO_ADMIN_PASSWORD:-tipline-admin}" > "$PASSFILE"
LOG=$DIR/$NAME.admin.log
admin() {  # trytond-admin, quiet unless it fails
  if ! .venv/bin/trytond-admin -c $CONF -d "$NAME" "$@" >"$LOG" 2>&1; then
    echo "trytond-admin $* failed; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}
TRYTONPASSFILE=$PASSFILE admin --all --email admin@example.com
admin -u tipline sale_opportunity --activate-dependencies
.venv/bin/python scripts/demo_data.py -c $CONF -d "$NAME"
