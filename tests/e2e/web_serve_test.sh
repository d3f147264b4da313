#!/bin/bash
# quest serve with std/web: routes with parameters, middleware headers,
# redirects, static files through h2o's file sender (ETag, 304, Range, no
# traversal), 404 pages.  Serves examples/web/app.q.  Run by tests/e2e/run.sh.
set -u
quest=$1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
tmp=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    sed 's/^/  server stderr: /' "$tmp/err" >&2
    exit 1
}
check() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }

for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 20000))
    "$quest" serve --port "$port" --workers 2 examples/web/app.q >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    up=
    for _ in $(seq 50); do
        curl -s -o /dev/null "http://127.0.0.1:$port/" && { up=1; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$up" ] && break
    kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; pid=
done
[ -n "$pid" ] || fail "server did not start"
url=http://127.0.0.1:$port

check "home" "$(curl -s -o /dev/null -w '%{http_code}' "$url/")" 200
curl -s -i "$url/" | grep -qi '^x-response-time:' || fail "after-middleware header missing"
curl -s -i "$url/" | grep -qi '^x-content-type-options: nosniff' || fail "default header missing"
curl -s "$url/hello/world" | grep -qi 'world' || fail "path parameter"
check "redirect" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url/home")" "301 $url/"
check "404" "$(curl -s -o /dev/null -w '%{http_code}' "$url/no/such/page")" 404

# static files
check "css" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$url/static/style.css")" "200 text/css"
cmp -s <(curl -s "$url/static/style.css") examples/web/public/style.css || fail "static body differs"
etag=$(curl -s -I "$url/static/style.css" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag" {print $2}')
[ -n "$etag" ] || fail "no ETag on a static file"
check "conditional GET" "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$url/static/style.css")" 304
check "range" "$(curl -s -r 0-3 "$url/static/style.css" | wc -c | tr -d ' ')" 4
check "traversal" "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$url/static/../app.q")" 404

kill -TERM "$pid"
wait "$pid" || fail "exit status after SIGTERM"
pid=
echo ok
