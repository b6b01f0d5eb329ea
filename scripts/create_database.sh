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
TRYTONPASSFILE=$PASSFILE .venv/bin/trytond-admin -c $CONF -d "$NAME" \
  --all --email admin@example.com 2>&1 | grep -v "^\s*$" | grep -iv "warn" || true
.venv/bin/trytond-admin -c $CONF -d "$NAME" \
  -u tipline sale_opportunity --activate-dependencies 2>&1 \
  | grep -iv "warn" || true
.venv/bin/python scripts/demo_data.py -c $CONF -d "$NAME"
