#!/usr/bin/env bash
# Requests/s of the HTTP layer alone: `{ __typename }` (no SQL) against gateways built from the
# given checkouts (e.g. one on Express, one on node:http), alternating, ROUNDS times each.
# Usage: DATABASE_URL=postgres://.../db bench/http-layer.sh <checkout> [<checkout> ...]
# The database must exist; each checkout migrates it and issues its own admin token.
set -euo pipefail
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-4711}
KEY="k1:$(head -c 32 /dev/urandom | base64)"
for round in $(seq 1 "$ROUNDS"); do
  for dir in "$@"; do
    token=$(cd "$dir" && NODE_ENV=production SECRETS_KEYS=$KEY DB_RUN_MIGRATIONS=true npm run -s token:create -- --role admin --name "bench-$round" 2>/dev/null | tail -1)
    (cd "$dir" && NODE_ENV=production SECRETS_KEYS=$KEY DB_RUN_MIGRATIONS=true LOG_LEVEL=warn HEALTH_MONITOR_ENABLED=false \
      RATE_LIMIT_PER_MINUTE=1000000000 HOST=127.0.0.1 PORT=$PORT exec node -r @swc-node/register src/main.ts) &
    pid=$!
    until curl -s -o /dev/null "http://127.0.0.1:$PORT/health"; do sleep 0.2; done
    "$(dirname "$0")/../node_modules/.bin/autocannon" -c "$CONNECTIONS" -d 2 -m POST -H content-type=application/json -H "authorization=Bearer $token" \
      -b '{"query":"{ __typename }"}' "http://127.0.0.1:$PORT/graphql" > /dev/null 2>&1   # warm-up
    rps=$("$(dirname "$0")/../node_modules/.bin/autocannon" -j -c "$CONNECTIONS" -d "$DURATION" -m POST -H content-type=application/json -H "authorization=Bearer $token" \
      -b '{"query":"{ __typename }"}' "http://127.0.0.1:$PORT/graphql" 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${r.requests.average} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non2xx ${r.non2xx}, errors ${r.errors}`)})')
    echo "round $round $dir: $rps"
    kill -TERM "$pid"; wait "$pid" || true
  done
done
