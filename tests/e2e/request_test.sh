#!/bin/bash
# The request Dict quest serve hands to handlers, field by field, and its
# reuse across requests: the server keeps per-worker copies of keys and of
# recently seen values (method, path, host, header values, peer address),
# so a run of requests on one connection whose values change must still see
# each request's own values, and what one handler changes must not reach the
# next.  Also the access log: one whole line per request, text and JSON.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
app=tests/e2e/apps/request.q

# requests PORT SPEC...: send the raw requests SPEC (printf escapes) one by
# one on a single keep-alive connection; print one line per answer:
# "<local port> <body>".
requests() {
    python3 - "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
local = s.getsockname()[1]
buf = b""
for spec in sys.argv[2:]:
    s.sendall(spec.encode().decode("unicode_escape").encode("latin-1"))
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, buf = buf.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(buf) < length:
        buf += s.recv(65536)
    body, buf = buf[:length], buf[length:]
    print(local, body.decode())
PY
}

# field JSON EXPR: evaluate the Python expression EXPR on the parsed JSON
# (named r), printed as JSON.
field() {
    python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(json.dumps(eval(sys.argv[2]), sort_keys=True))' "$1" "$2"
}

serve_start --workers 1 "$app"

# ---- every field, with curl ------------------------------------------------
r=$(curl -s -X POST -d 'a=1' -A 'agent/1' -e 'http://ref.example/' -b 'sid=42; theme=dark' \
    -H 'X-Custom: custom value' "$url/echo?x=1&y=two%20words")
check "method" "$(field "$r" 'r["method"]')" '"POST"'
check "path" "$(field "$r" 'r["path"]')" '"/echo"'
check "query_string" "$(field "$r" 'r["query_string"]')" '"x=1&y=two%20words"'
check "query" "$(field "$r" 'r["query"]')" '{"x": "1", "y": "two words"}'
check "user_agent" "$(field "$r" 'r["user_agent"]')" '"agent/1"'
check "referer" "$(field "$r" 'r["referer"]')" '"http://ref.example/"'
check "content_type" "$(field "$r" 'r["content_type"]')" '"application/x-www-form-urlencoded"'
check "cookies" "$(field "$r" 'r["cookies"]')" '{"sid": "42", "theme": "dark"}'
check "body" "$(field "$r" 'r["body"]')" '"a=1"'
check "content_length" "$(field "$r" 'r["content_length"]')" '3'
check "version" "$(field "$r" 'r["version"]')" '"HTTP/1.1"'
check "host" "$(field "$r" 'r["host"]')" "\"127.0.0.1:$port\""
check "client_ip" "$(field "$r" 'r["client_ip"]')" '"127.0.0.1"'
check "remote_addr" "$(field "$r" 'r["remote_addr"].startswith("127.0.0.1:") and r["remote_addr"][10:].isdigit()')" 'true'
check "scheme" "$(field "$r" 'r["scheme"]')" '"http"'
check "params" "$(field "$r" 'r["params"]')" '{}'
check "headers" "$(field "$r" 'sorted(r["headers"].items())')" \
    "$(field '{}' '[["accept", "*/*"], ["content-type", "application/x-www-form-urlencoded"], ["cookie", "sid=42; theme=dark"], ["referer", "http://ref.example/"], ["user-agent", "agent/1"], ["x-custom", "custom value"]]')"
check "field order" "$(curl -s "$url/keys")" \
    "method,path,query_string,query,headers,user_agent,referer,content_type,cookies,body,content_length,version,host,remote_addr,client_ip,scheme,params"

check "a request Dict grows" "$(curl -s "$url/grow")" "[37, 19, GET, 0]"

# No body, no headers of note: the defaults.
r=$(curl -s -H 'User-Agent:' -H 'Accept:' "$url/")
check "defaults" "$(field "$r" '[r["body"], r["content_length"], r["user_agent"], r["referer"], r["content_type"], r["cookies"], r["query"], r["query_string"], r["headers"]]')" \
    "$(field '{}' '["", 0, "", "", "", {}, {}, "", {}]')" # h2o keeps Host as the authority
check "HTTP/1.0" "$(field "$(curl -s --http1.0 "$url/")" 'r["version"]')" '"HTTP/1.0"'

# ---- values that change between requests on one connection ------------------
long=$(printf 'L%.0s' $(seq 300)) # longer than the values the server remembers
out=$(requests "$port" \
    'GET /a?q=1 HTTP/1.1\r\nHost: one\r\nUser-Agent: A\r\nX-Token: t1\r\n\r\n' \
    'POST /b HTTP/1.1\r\nHost: two\r\nUser-Agent: B\r\nContent-Length: 2\r\n\r\nhi' \
    'GET /a HTTP/1.1\r\nHost: one\r\nUser-Agent: A\r\nX-Token: t2\r\n\r\n' \
    "GET /a HTTP/1.1\r\nHost: one\r\nUser-Agent: $long\r\n\r\n" \
    "GET /a HTTP/1.1\r\nHost: one\r\nUser-Agent: ${long}x\r\n\r\n" \
    'GET /mutate?z=1 HTTP/1.1\r\nHost: one\r\nCookie: c=1\r\n\r\n' \
    'GET /a?z=1 HTTP/1.1\r\nHost: one\r\nCookie: c=1\r\nUser-Agent: A\r\n\r\n')
[ "$(printf '%s\n' "$out" | wc -l)" = 7 ] || fail "keep-alive run: $out"
line() { printf '%s\n' "$out" | sed -n "$1p" | cut -d' ' -f2-; }
local_port=$(printf '%s\n' "$out" | head -1 | cut -d' ' -f1)
summary='[r["method"], r["path"], r["host"], r["user_agent"], r["headers"].get("x-token"), r["body"], r["query"]]'
check "run 1" "$(field "$(line 1)" "$summary")" '["GET", "/a", "one", "A", "t1", "", {"q": "1"}]'
check "run 2" "$(field "$(line 2)" "$summary")" '["POST", "/b", "two", "B", null, "hi", {}]'
check "run 3" "$(field "$(line 3)" "$summary")" '["GET", "/a", "one", "A", "t2", "", {}]'
check "run 4" "$(field "$(line 4)" 'r["user_agent"] == "L" * 300')" 'true'
check "run 5" "$(field "$(line 5)" 'r["user_agent"] == "L" * 300 + "x"')" 'true'
check "run 6" "$(line 6)" "mutated"
check "run 7: nothing leaked from /mutate" \
    "$(field "$(line 7)" '[r["method"], r["query"], r["cookies"], r["params"], "x-injected" in r["headers"]]')" \
    '["GET", {"z": "1"}, {"c": "1"}, {}, false]'
check "remote_addr on one connection" "$(field "$(line 7)" 'r["remote_addr"]')" "\"127.0.0.1:$local_port\""

# ---- the access log: one whole line per request ------------------------------
specs=()
for i in $(seq 40); do specs+=("GET /log/$i HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"); done
requests "$port" "${specs[@]}" >/dev/null
serve_stop || fail "server exited non-zero"
for i in 1 20 40; do
    grep -Eq "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z 127\.0\.0\.1 GET /log/$i 200 [0-9]+ [0-9]+\.[0-9]{3}ms$" "$tmp/out" ||
        fail "access line for /log/$i: $(grep "/log/$i " "$tmp/out")"
done
check "access lines" "$(grep -c ' GET /log/' "$tmp/out")" 40

# ---- HTTP/2: the same Dict from HPACK-decoded headers ---------------------------
QUEST_HTTP2=true serve_start --workers 1 "$app"
for agent in h2-agent/1 h2-agent/2; do
    r=$(curl -s --http2-prior-knowledge -A "$agent" -H 'Content-Type: text/x-test' -b 'k=v' "$url/h2?a=b")
    check "h2 fields ($agent)" \
        "$(field "$r" '[r["version"], r["user_agent"], r["content_type"], r["cookies"], r["path"], r["query"], r["headers"]["user-agent"]]')" \
        "[\"HTTP/2.0\", \"$agent\", \"text/x-test\", {\"k\": \"v\"}, \"/h2\", {\"a\": \"b\"}, \"$agent\"]"
done
serve_stop || fail "server exited non-zero"

# ---- behind a trusted proxy: the client and scheme it names -------------------
QUEST_TRUSTED_PROXIES=10.9.9.9,127.0.0.1 serve_start --workers 1 "$app"
r=$(curl -s -H 'X-Forwarded-For: 203.0.113.7 , 10.0.0.1' -H 'X-Forwarded-Proto: https' "$url/")
check "client behind a proxy" "$(field "$r" '[r["client_ip"], r["scheme"], r["remote_addr"][:10]]')" \
    '["203.0.113.7", "https", "127.0.0.1:"]'
r=$(curl -s -H 'X-Forwarded-Proto: http' "$url/")
check "no X-Forwarded-For" "$(field "$r" '[r["client_ip"], r["scheme"]]')" '["127.0.0.1", "http"]'
serve_stop || fail "server exited non-zero"
serve_start --workers 1 "$app"
r=$(curl -s -H 'X-Forwarded-For: 203.0.113.7' -H 'X-Forwarded-Proto: https' "$url/")
check "untrusted proxy headers" "$(field "$r" '[r["client_ip"], r["scheme"]]')" '["127.0.0.1", "http"]'
serve_stop || fail "server exited non-zero"

# Two workers logging long lines into one pipe under concurrent load: every
# line arrives whole (writes are whole lines of at most PIPE_BUF bytes).
mkfifo "$tmp/fifo"
# A slow reader: the pipe fills, so a write larger than PIPE_BUF would be split.
python3 -c '
import sys, time
src, dst = open(sys.argv[1], "rb"), open(sys.argv[2], "wb")
while chunk := src.read1(4096):
    dst.write(chunk)
    time.sleep(0.002)
' "$tmp/fifo" "$tmp/piped" &
catpid=$!
e2e_on_exit() { kill "$catpid" 2>/dev/null; }
port=$((20000 + RANDOM % 12000))
"$quest" serve --port "$port" --workers 2 "$app" >"$tmp/fifo" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
python3 - "$port" <<'PY' || fail "concurrent requests failed"
import http.client, sys, threading
def client(n):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    for i in range(150):
        c.request("GET", "/p%02d-%03d-" % (n, i) + "x" * 900)
        assert c.getresponse().read()
threads = [threading.Thread(target=client, args=(n,)) for n in range(12)]
for t in threads: t.start()
for t in threads: t.join()
PY
serve_stop || fail "server exited non-zero"
wait "$catpid"
whole=$(grep -Ec "^[0-9-]{10}T[0-9:.]{12}Z 127\.0\.0\.1 GET /p[0-9]{2}-[0-9]{3}-x{900} 200 [0-9]+ [0-9]+\.[0-9]{3}ms$" "$tmp/piped")
check "whole access lines through a pipe" "$whole" 1800
check "nothing else" "$(grep -v '^quest serve:' "$tmp/piped" | grep -vc ' GET / 200 ')" 1800

QUEST_LOG_FORMAT=json serve_start --workers 2 "$app"
curl -s -o /dev/null "$url/q%22uote\\back?x=1"
curl -s -o /dev/null -X DELETE "$url/gone"
serve_stop || fail "server exited non-zero"
python3 - "$tmp/out" <<'PY' || fail "JSON access log: $(cat "$tmp/out")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
paths = {l["path"]: l for l in lines}
q = paths['/q%22uote\\back?x=1']
assert q["method"] == "GET" and q["status"] == 200 and q["client"] == "127.0.0.1", q
assert isinstance(q["ms"], float) and isinstance(q["bytes"], int) and q["worker"] in (0, 1), q
assert paths["/gone"]["method"] == "DELETE", paths
PY
echo ok
