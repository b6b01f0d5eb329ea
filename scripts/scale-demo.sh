#!/usr/bin/env bash
# make scale-demo: the scale-out shape on this machine, until Ctrl-C.
#  - PostgreSQL: the server at 127.0.0.1:5432 if it answers, else a
#    throwaway cluster in var/scale/pg (scripts/pg-throwaway.sh);
#  - an SMTP sink (aiosmtpd) writing every mail to the maildir var/scale/mail;
#  - the database scale_demo with the demo data (created once;
#    TIPLINE_DEMO_RESET=1 recreates it);
#  - gunicorn serving trytond.application:app with TIPLINE_WORKERS worker
#    processes (manifests/gunicorn.conf.py), trytond-cron and tipline-worker,
#    all with manifests/logging.conf.
# Ports: TIPLINE_SCALE_PORT (web, 8100), TIPLINE_SCALE_SMTP_PORT (8125),
# TIPLINE_SCALE_PG_PORT (the throwaway cluster, 5434). Logs: var/scale/log/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
scripts/bootstrap.sh
scripts/build-extension.sh

DIR=$ROOT/var/scale LOGS=$ROOT/var/scale/log MAIL=$ROOT/var/scale/mail
NAME=${TIPLINE_SCALE_DB:-scale_demo}
PORT=${TIPLINE_SCALE_PORT:-8100}
SMTP_PORT=${TIPLINE_SCALE_SMTP_PORT:-8125}
WORKERS=${TIPLINE_WORKERS:-2}
mkdir -p "$LOGS" "$MAIL"/{cur,new,tmp}

# Each process runs in its own process group (setsid), which holds the
# process pools of trytond-cron and trytond-worker too; stopping signals the
# group. gunicorn takes QUIT as a quick shutdown (TERM would wait out sao's
# long-polling requests).
pids=() throwaway=
stop_all() {
  trap - EXIT INT TERM
  echo
  echo "scale-demo: stopping"
  local pid
  for pid in "${pids[@]}"; do
    if [ "$pid" = "${gunicorn:-}" ]; then
      kill -QUIT "$pid" 2>/dev/null || true
    else
      kill -TERM -- "-$pid" 2>/dev/null || true
    fi
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ -n "$throwaway" ]; then scripts/pg-throwaway.sh stop "$throwaway"; fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM
for port in "$PORT" "$SMTP_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "scale-demo: 127.0.0.1:$port is taken; stop its server or set TIPLINE_SCALE_PORT / TIPLINE_SCALE_SMTP_PORT" >&2
    exit 2
  fi
done

# PostgreSQL.
PG_HOST=127.0.0.1 PG_PORT=5432
if ! pg_isready -q -h "$PG_HOST" -p "$PG_PORT"; then
  PG_PORT=${TIPLINE_SCALE_PG_PORT:-5434}
  echo "scale-demo: no PostgreSQL on 5432; a throwaway cluster on $PG_PORT"
  scripts/pg-throwaway.sh start "$DIR/pg" "$PG_PORT"
  throwaway="$DIR/pg"
fi
PSQL=(psql -h "$PG_HOST" -p "$PG_PORT" -U postgres -Atq)

# The SMTP sink, before anything sends mail.
setsid .venv/bin/python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
  -c aiosmtpd.handlers.Mailbox "$MAIL" >"$LOGS/smtp.log" 2>&1 &
pids+=($!)

# One configuration file for every process: the shipped manifest with this
# machine's database server, key, mail server and web client.
CONF=$DIR/trytond.conf
.venv/bin/python scripts/trytond-conf.py "$CONF" manifests/trytond-postgresql.conf \
  "database.uri=postgresql://postgres@$PG_HOST:$PG_PORT/" \
  "web.listen=127.0.0.1:$PORT" "web.root=$ROOT/var/sao/package" \
  "web.num_proxies=0" \
  "tipline.key_file=$DIR/tipline.key" \
  "email.uri=smtp://127.0.0.1:$SMTP_PORT" "email.from=Tipline <tipline@localhost>"

exists=$("${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$NAME'")
if [ "$exists" != 1 ] || [ ! -s "$DIR/users.txt" ] || [ ! -f "$DIR/tipline.key" ] \
    || [ "${TIPLINE_DEMO_RESET:-0}" = 1 ]; then
  echo "scale-demo: creating the database $NAME on PostgreSQL $PG_HOST:$PG_PORT (a few minutes)"
  rm -f "$DIR/users.txt"
  scripts/create_database.sh "$DIR" "$NAME" "$CONF" >"$DIR/users.tmp" 2>"$LOGS/create.log" \
    || { tail -n 30 "$LOGS/create.log" >&2; exit 1; }
  mv "$DIR/users.tmp" "$DIR/users.txt"
fi

export TRYTOND_LOGGING_CONFIG=$ROOT/manifests/logging.conf
TRYTOND_CONFIG=$CONF TRYTOND_DATABASE_NAMES=$NAME TIPLINE_BIND=127.0.0.1:$PORT \
  setsid .venv/bin/gunicorn -c manifests/gunicorn.conf.py --workers "$WORKERS" \
  >"$LOGS/gunicorn.log" 2>&1 &
gunicorn=$!
pids+=($!)
setsid .venv/bin/trytond-cron -c "$CONF" -d "$NAME" >"$LOGS/cron.log" 2>&1 &
pids+=($!)
# tipline-worker exits with 75 when PostgreSQL drops its connection; this
# loop starts it again, as systemd's Restart=always does.
setsid bash -c 'while "$@"; [ $? -eq 75 ]; do sleep 1; done' worker \
  scripts/tipline-worker -c "$CONF" -d "$NAME" >"$LOGS/worker.log" 2>&1 &
pids+=($!)

# Ready when a worker logs a user in over JSON-RPC.
login='{"id": 1, "method": "common.db.login", "params": ["moderator", {"password": "moderate-demo-1"}, "en"]}'
for _ in $(seq 120); do
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "scale-demo: a process died; see $LOGS/" >&2; tail -n 20 "$LOGS"/*.log >&2; exit 1; }
  done
  if curl -sf --max-time 5 -H 'Content-Type: application/json' -d "$login" \
      "http://127.0.0.1:$PORT/$NAME/rpc/" | grep -q '"result": *\['; then
    ready=1; break
  fi
  sleep 1
done
[ "${ready:-0}" = 1 ] || { echo "scale-demo: gunicorn did not answer; see $LOGS/gunicorn.log" >&2; exit 1; }

echo
cat "$DIR/users.txt"
echo
echo "Tipline serves http://127.0.0.1:$PORT/#$NAME with $WORKERS gunicorn workers, trytond-cron and tipline-worker on PostgreSQL $PG_HOST:$PG_PORT/$NAME"
echo "Mail arrives in $MAIL/new/ (one file a message); logs are in $LOGS/. Ctrl-C stops everything."
wait -n "${pids[@]}" || true
echo "scale-demo: a process stopped; see $LOGS/" >&2
exit 1
