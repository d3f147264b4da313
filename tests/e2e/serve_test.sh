#!/bin/bash
# quest serve end to end: start the server on 127.0.0.1 and drive it with
# curl — sync and async handlers, errors, limits (413, 504, CPU budget),
# keep-alive and pipelining, aborted requests, start-up failures, and the
# SIGTERM drain with a request in flight.  Run by tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
app=tests/e2e/apps/basic.q

# in_use WHAT ENV...: a second server on $port must fail at once, saying why.
in_use() {
    local what=$1
    shift
    env "$@" timeout 10 "$quest" serve --port "$port" --workers 1 "$app" >/dev/null 2>"$tmp/e3"
    check "$what: exit status" "$?" 1
    grep -q "cannot listen on 127.0.0.1:$port: Address already in use" "$tmp/e3" ||
        fail "$what: not explained: $(cat "$tmp/e3")"
}

# drain_check WHAT: SIGTERM with a request in flight: new connections are
# refused at once, the request completes, then the server exits 0.
drain_check() {
    local cpid refused=
    curl -s "$url/drain" >"$tmp/inflight" &
    cpid=$!
    sleep 0.1
    kill -TERM "$pid"
    for _ in $(seq 25); do
        kill -0 "$cpid" 2>/dev/null || break
        if [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "$url/")" = 000 ]; then
            kill -0 "$cpid" 2>/dev/null && refused=1
            break
        fi
        sleep 0.02
    done
    serve_wait || fail "$1: server exited non-zero after SIGTERM"
    wait "$cpid"
    check "$1: in-flight request during drain" "$(cat "$tmp/inflight")" "drained"
    [ -n "$refused" ] || fail "$1: no new connection was refused while a request was in flight"
}

# raw BYTES: send BYTES (printf escapes) on one connection, print the reply.
raw() {
    python3 - "$port" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except socket.timeout:
    pass
sys.stdout.write(data.decode("latin-1"))
PY
}

# ---- start-up failures -----------------------------------------------------
printf 'fun handle_request(req)\n  "x"\n' >"$tmp/broken.q"
"$quest" serve --port 1 "$tmp/broken.q" >/dev/null 2>"$tmp/e1" && fail "a syntax error started the server"
grep -q "broken.q:" "$tmp/e1" || fail "syntax error without file:line: $(cat "$tmp/e1")"
printf 'let x = 1\n' >"$tmp/nohandler.q"
"$quest" serve --port 1 "$tmp/nohandler.q" >/dev/null 2>"$tmp/e2" && fail "an app without a handler started"
grep -q "handle_request" "$tmp/e2" || fail "missing handler not explained: $(cat "$tmp/e2")"
QUEST_LISTENER=both "$quest" serve --port 1 "$app" >/dev/null 2>"$tmp/e4" && fail "an unknown listener started"
grep -q "invalid listener (reuseport or shared): both" "$tmp/e4" || fail "bad listener not explained: $(cat "$tmp/e4")"

export QUEST_REQUEST_TIMEOUT=1 QUEST_CPU_BUDGET=2000000 QUEST_MAX_BODY_SIZE=1000
serve_start --workers 2 "$app"

# port in use: SO_REUSEPORT would let a second server share it
in_use "port in use"
in_use "port in use (shared listener)" QUEST_LISTENER=shared

# ---- requests ----------------------------------------------------------------
check "GET /" "$(curl -s "$url/")" "hello"
check "content-type" "$(curl -s -o /dev/null -w '%{content_type}' "$url/")" "text/plain"
body=$(curl -s -X POST -d 'a=1' -b 'sid=42; theme=dark' "$url/echo?x=1&y=two%20words")
case $body in *'"method":"POST"'*) ;; *) fail "echo method: $body" ;; esac
case $body in *'"y":"two words"'*) ;; *) fail "echo query: $body" ;; esac
case $body in *'"body":"a=1"'*) ;; *) fail "echo body: $body" ;; esac
case $body in *'"sid":"42"'*) ;; *) fail "echo cookies: $body" ;; esac
check "json status" "$(curl -s -o /dev/null -w '%{http_code}' "$url/echo")" 201
check "json type" "$(curl -s -o /dev/null -w '%{content_type}' "$url/echo")" "application/json"
check "async handler" "$(curl -s "$url/slow")" "slow done"
check "bytes body" "$(curl -s "$url/bytes" | od -An -tx1 | tr -d ' \n')" "000102"
curl -s -i "$url/cookie" | grep -qi '^set-cookie: session=abc; Path=/; HttpOnly' || fail "cookie header"
check "404" "$(curl -s -o /dev/null -w '%{http_code}' "$url/nope")" 404

# errors: generic 500 body, details only in the log
check "500" "$(curl -s -o /dev/null -w '%{http_code}' "$url/boom")" 500
curl -s "$url/boom" | grep -q "secret detail" && fail "500 body leaks the exception"
grep -q "secret detail" "$tmp/err" || fail "exception not logged"

# limits
check "CPU budget" "$(curl -s -o /dev/null -w '%{http_code}' "$url/spin")" 503
check "still serving after a busy loop" "$(curl -s "$url/")" "hello"
check "413" "$(head -c 5000 /dev/zero | curl -s -o /dev/null -w '%{http_code}' --data-binary @- "$url/echo")" 413
check "504" "$(curl -s -o /dev/null -w '%{http_code}' "$url/sleepy?id=t1")" 504
sleep 0.2
grep -q "ensure ran for t1" "$tmp/out" || fail "timed-out handler was not cancelled (no ensure)"

# one Server header on every kind of response, h2o's own errors included
servers() { curl -s -i -m 5 "$@" | tr -d '\r' | grep -ci '^server: quest$'; }
check "server: handler" "$(servers "$url/")" 1
check "server: 404" "$(servers "$url/nope")" 1
check "server: 500" "$(servers "$url/boom")" 1
check "server: 504" "$(servers "$url/sleepy?id=t2")" 1
check "server: 413" "$(head -c 5000 /dev/zero | servers --data-binary @- "$url/echo")" 1
check "server: 431" "$(servers -H "x-big: $(head -c 20000 /dev/zero | tr '\0' a)" "$url/")" 1
check "server: 400" "$(servers -H 'transfer-encoding: bogus' -d x "$url/echo")" 1
check "server: upgrade refused" "$(servers -H 'upgrade: websocket' -H 'connection: upgrade' "$url/")" 1

# keep-alive and pipelining: several requests on one connection
n=$(curl -s -v "$url/" "$url/" "$url/" 2>&1 | grep -c "Re-using existing connection")
[ "$n" -ge 2 ] || fail "keep-alive: connection not reused"
resp=$(raw 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hits HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "pipelined responses" "$(printf '%s' "$resp" | grep -o 'HTTP/1.1 200' | wc -l)" 3
printf '%s' "$resp" | tr -d '\r' | tr '\n' ' ' | grep -q 'hello.*slow done' || fail "pipelined bodies out of order: $resp"

# malformed HTTP gets 400, and the server lives on
bad=$(raw 'BLAH\r\n\r\n')
case $bad in *" 400 "*) ;; *) fail "malformed request: '$bad'" ;; esac
check "serving after a malformed request" "$(curl -s "$url/")" "hello"

# aborted requests: the client leaves mid-await; the handler is cancelled
for i in 1 2 3 4 5; do curl -s -m 0.1 "$url/sleepy?id=gone$i" >/dev/null; done
check "serving after aborted requests" "$(curl -s "$url/")" "hello"

drain_check "SIGTERM"
grep -q "GET /drain 200" "$tmp/out" || fail "no access log line"

# one listening socket shared by the workers: the same server, the same drain
QUEST_LISTENER=shared serve_start --workers 2 "$app"
for i in 1 2 3 4 5 6; do check "shared listener: request $i" "$(curl -s "$url/")" "hello"; done
check "shared listener: async" "$(curl -s "$url/slow")" "slow done"
in_use "port in use by a shared listener"
drain_check "shared listener"

# an async handler: inline when it does not wait, a Task when it does
serve_start --workers 1 tests/e2e/apps/async_handler.q
check "async: no wait" "$(curl -s "$url/")" "now"
check "async: its Task" "$(curl -s "$url/task")" "handle_request"
check "async: suspends" "$(curl -s "$url/slow")" "slow done"
check "async: nested suspension" "$(curl -s "$url/nested")" "nested!"
check "async: try across a suspension" "$(curl -s "$url/caught")" "caught late"
check "async: error" "$(curl -s -o /dev/null -w '%{http_code}' "$url/boom")" 500
check "async: error after waiting" "$(curl -s -o /dev/null -w '%{http_code}' "$url/boom-late")" 500
grep -q "secret now" "$tmp/err" && grep -q "secret later" "$tmp/err" || fail "async handler errors not logged"
check "async: 504" "$(curl -s -o /dev/null -w '%{http_code}' "$url/sleepy?id=a1")" 504
for i in 1 2 3; do curl -s -m 0.1 "$url/sleepy?id=agone$i" >/dev/null; done
check "async: serving after timeouts and aborts" "$(curl -s "$url/")" "now"
sleep 1.2 # past QUEST_REQUEST_TIMEOUT: an abort h2o has not noticed yet times out
grep -q "async ensure ran for a1" "$tmp/out" || fail "timed-out async handler was not cancelled"
grep -q "async ensure ran for agone3" "$tmp/out" || fail "aborted async handler was not cancelled"
serve_stop || fail "async handler server exited non-zero"

# h2c (HTTP/2 over plain TCP) when enabled, including reset streams
QUEST_HTTP2=true serve_start --workers 2 "$app"
check "h2c" "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version}' "$url/")" 2
check "h2c async" "$(curl -s --http2-prior-knowledge "$url/slow")" "slow done"
for i in 1 2 3; do curl -s --http2-prior-knowledge -m 0.1 "$url/sleepy?id=h2gone$i" >/dev/null; done
check "serving after reset h2 streams" "$(curl -s --http2-prior-knowledge "$url/")" "hello"
serve_stop || fail "h2c server exited non-zero"
echo ok
