#!/usr/bin/env bash
# bench/log-append.cjs against gateways built from the given checkouts, alternating, ROUNDS times
# (default 1), each time on a fresh database (e.g. main's code, then this branch's).
# Usage: ROUNDS=3 bench/log-append.sh <checkout> [<checkout> ...]   (PostgreSQL at PGURL, default the local 5432)
# A checkout without node_modules can use this one's: ln -s "$PWD/node_modules" <checkout>/node_modules
set -euo pipefail
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432}
PORT=${PORT:-4711}
KEY="k1:$(head -c 32 /dev/urandom | base64)"
SCRIPT="$(cd "$(dirname "$0")" && pwd)/log-append.cjs"
ROUNDS=${ROUNDS:-1}
n=0
for round in $(seq 1 "$ROUNDS"); do for dir in "$@"; do
  n=$((n + 1))
  db="log_append_bench_$n"
  psql -q "$PGURL/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" > /dev/null
  export DATABASE_URL="$PGURL/$db"
  (cd "$dir" && npm run -s db:migrate > /dev/null)
  token=$(cd "$dir" && npm run -s token:create -- --role operator --name bench 2>/dev/null | tail -1)
  (cd "$dir" && NODE_ENV=production SECRETS_KEYS=$KEY LOG_LEVEL=warn HEALTH_MONITOR_ENABLED=false \
    RATE_LIMIT_PER_MINUTE=1000000000 HOST=127.0.0.1 PORT=$PORT exec node -r @swc-node/register src/main.ts > /dev/null 2>&1) &
  pid=$!
  trap 'kill "$pid" 2>/dev/null || true' EXIT
  until curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; do sleep 0.2; done
  GATEWAY_URL="http://127.0.0.1:$PORT/graphql" TOKEN=$token node "$SCRIPT" "round $round $dir"
  kill -TERM "$pid"; wait "$pid" || true
  psql -q "$PGURL/postgres" -c "DROP DATABASE $db" > /dev/null
done; done
