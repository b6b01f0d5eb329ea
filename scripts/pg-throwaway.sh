#!/usr/bin/env bash
# pg-throwaway.sh start|stop DIR PORT: a disposable PostgreSQL cluster from
# Debian's postgresql package, trust auth on 127.0.0.1:PORT, for machines
# where no server runs.
set -euo pipefail
action=$1 DIR=$2 PORT=$3
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
case $action in
  start)
    if [ ! -f "$DIR/data/PG_VERSION" ]; then
      mkdir -p "$DIR/data" "$DIR/sock" && chown -R postgres: "$DIR"
      su postgres -c "$BIN/initdb -D $DIR/data -U postgres --auth=trust -E UTF8 --locale=C.UTF-8" >/dev/null
    fi
    su postgres -c "$BIN/pg_ctl -D $DIR/data -l $DIR/pg.log -w start -o '-p $PORT -k $DIR/sock -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off'" >/dev/null
    ;;
  stop)
    su postgres -c "$BIN/pg_ctl -D $DIR/data -w stop" >/dev/null
    ;;
esac
