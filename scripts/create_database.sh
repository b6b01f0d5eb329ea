#!/usr/bin/env bash
# create_database.sh DIR NAME: a fresh SQLite database NAME in DIR with
# Tipline, the CRM modules and the demo data, ready to be served. The master
# key is DIR/tipline.key (created if missing) unless TIPLINE_KEY_FILE names
# another file.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$1 NAME=$2
mkdir -p "$DIR"
rm -f "$DIR/$NAME.sqlite" && touch "$DIR/$NAME.sqlite"
export TRYTOND_DATABASE__PATH=$DIR
# Tipline's master key: created once beside the database, mode 0600.
KEY_FILE=${TIPLINE_KEY_FILE:-$DIR/tipline.key}
if [ ! -f "$KEY_FILE" ]; then
  .venv/bin/python -c 'import sys, tipline_core; tipline_core.create_master_key_file(sys.argv[1])' "$KEY_FILE"
fi
export TRYTOND_TIPLINE__KEY_FILE=$KEY_FILE
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
# Chinese as well as English: the module ships zh_CN translations.
admin -u tipline sale_opportunity --activate-dependencies -l zh_CN
.venv/bin/python scripts/demo_data.py -c $CONF -d "$NAME"
