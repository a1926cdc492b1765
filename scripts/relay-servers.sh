#!/usr/bin/env bash
# Real servers for the relay's scale-out tests: a PostgreSQL cluster (Debian packages) in a
# temporary directory, run as an unprivileged user, and an S3-compatible server (moto from PyPI),
# both on loopback. Installs them when missing.
#   scripts/relay-servers.sh start DIR   # starts both, writes DIR/env (source it), prints it
#   scripts/relay-servers.sh stop DIR
set -euo pipefail
action=${1:?usage: relay-servers.sh start|stop DIR}
dir=${2:?usage: relay-servers.sh start|stop DIR}
if command -v sudo >/dev/null && [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi

pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$bin" ] && echo "$bin"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs a command as the cluster's owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
start)
  if [ -z "$(pg_bin)" ]; then
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq postgresql >/dev/null
  fi
  python3 -c 'import moto.server, flask_cors' 2>/dev/null ||
    python3 -m pip install --quiet 'moto[server]'
  bin=$(pg_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chmod o+rx "$dir"
  fi
  pgdata="$dir/pgdata"
  rm -rf "$pgdata"
  mkdir -p "$pgdata"
  [ "$(id -u)" = 0 ] && chown postgres "$pgdata"
  as_owner "$bin/initdb" -D "$pgdata" -U relay --auth=trust --no-sync >"$dir/initdb.log"
  pg_port=$(free_port)
  as_owner "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-p $pg_port -k $pgdata -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
    start >/dev/null
  s3_port=$(free_port)
  python3 -m moto.server -H 127.0.0.1 -p "$s3_port" >"$dir/moto.log" 2>&1 &
  echo $! >"$dir/moto.pid"
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$s3_port/" && break
    sleep 0.1
  done
  curl -sf -X PUT "http://127.0.0.1:$s3_port/relay-test" >/dev/null
  cat >"$dir/env" <<ENV
export RELAY_TEST_DATABASE_URL=postgres://relay@127.0.0.1:$pg_port/postgres
export RELAY_TEST_BLOB_STORE=s3://relay-test
export AWS_ENDPOINT=http://127.0.0.1:$s3_port
export AWS_ALLOW_HTTP=true
export AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test
export AWS_SECRET_ACCESS_KEY=test
ENV
  cat "$dir/env"
  ;;
stop)
  [ -f "$dir/moto.pid" ] && kill "$(cat "$dir/moto.pid")" 2>/dev/null || true
  bin=$(pg_bin) || true
  if [ -n "${bin:-}" ] && [ -d "$dir/pgdata" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/pgdata" -m immediate stop >/dev/null 2>&1 || true
  fi
  ;;
*)
  echo "usage: relay-servers.sh start|stop DIR" >&2
  exit 2
  ;;
esac
