#!/usr/bin/env bash
# create_database.sh DIR NAME [CONF]: a fresh database NAME with Tipline, the
# CRM modules and the demo data, ready to be served. CONF is the trytond
# configuration (manifests/trytond-sqlite.conf by default): with SQLite the
# database is DIR/NAME.sqlite; when CONF's [database] uri is PostgreSQL, NAME
# is dropped if it exists and created on that server. The master key is
# DIR/tipline.key (created if missing) unless TIPLINE_KEY_FILE names another
# file; a [tipline] key_file in CONF wins over both.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=$1 NAME=$2 CONF=${3:-manifests/trytond-sqlite.conf}
mkdir -p "$DIR"
# The database server CONF names, as psql options (empty for SQLite).
PG_ARGS=$(.venv/bin/python - "$CONF" <<'PY'
import configparser, sys, urllib.parse
parser = configparser.ConfigParser(interpolation=None)
parser.read(sys.argv[1])
uri = urllib.parse.urlparse(parser.get('database', 'uri', fallback='sqlite://'))
if uri.scheme.startswith('postgresql'):
    print(f'-h {uri.hostname or "127.0.0.1"} -p {uri.port or 5432}'
        f' -U {uri.username or "postgres"}')
PY
)
if [ -n "$PG_ARGS" ]; then
  # shellcheck disable=SC2086
  dropdb $PG_ARGS --if-exists "$NAME" 2>/dev/null
  # shellcheck disable=SC2086
  createdb $PG_ARGS -E UTF8 -T template0 "$NAME"
else
  rm -f "$DIR/$NAME.sqlite" && touch "$DIR/$NAME.sqlite"
  export TRYTOND_DATABASE__PATH=$DIR
fi
# Tipline's master key: created once beside the database, mode 0600.
KEY_FILE=${TIPLINE_KEY_FILE:-$DIR/tipline.key}
if [ ! -f "$KEY_FILE" ]; then
  .venv/bin/python -c 'import sys, tipline_core; tipline_core.create_master_key_file(sys.argv[1])' "$KEY_FILE"
fi
export TRYTOND_TIPLINE__KEY_FILE=$KEY_FILE
PASSFILE=$(mktemp)
trap 'rm -f "$PASSFILE"' EXIT
echo "${TIPLINE_DEMO_ADMIN_PASSWORD:-tipline-admin}" > "$PASSFILE"
LOG=$DIR/$NAME.admin.log
admin() {  # trytond-admin, quiet unless it fails
  if ! .venv/bin/trytond-admin -c "$CONF" -d "$NAME" "$@" >"$LOG" 2>&1; then
    echo "trytond-admin $* failed; the end of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    exit 1
  fi
}
TRYTONPASSFILE=$PASSFILE admin --all --email admin@example.com
# Chinese as well as English: the module ships zh_CN translations.
admin -u tipline sale_opportunity --activate-dependencies -l zh_CN
.venv/bin/python scripts/demo_data.py -c "$CONF" -d "$NAME"
