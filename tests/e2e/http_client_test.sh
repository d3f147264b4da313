#!/bin/bash
# std/http/client inside quest serve: handlers of tests/e2e/apps/http_client.q
# await calls back into the same one-worker server — a proxied request,
# twenty concurrent 200 ms calls that must overlap, and a sync call that
# must fail with a clear message instead of blocking the loop.  Run by
# tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
serve_start --workers 1 tests/e2e/apps/http_client.q

body=$(curl -s "$url/proxy")
[ "$body" = '{"body":"hello via proxy","status":200}' ] || fail "proxy: $body"

body=$(curl -s "$url/fanout")
ok=$(python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(d["ok"], d["ms"])' "$body") ||
    fail "fanout: $body"
set -- $ok
[ "$1" = 20 ] || fail "fanout: $body"
# Serially it would take 4 s; sanitizer builds are slower, hence the margin.
[ "$2" -lt 1500 ] || fail "fanout did not overlap: $body"

code=$(curl -s -o /dev/null -w '%{http_code}' "$url/sync")
[ "$code" = 500 ] || fail "sync call: status $code"
grep -q "sync code cannot wait for a response inside the event loop; call it from an async fun and await it" \
    "$tmp/err" || fail "sync call: no clear error in the log"

# The worker still serves after all that.
body=$(curl -s "$url/hello")
[ "$body" = "hello via nobody" ] || fail "after: $body"

serve_stop || fail "exit status $? after SIGTERM"
exit 0
