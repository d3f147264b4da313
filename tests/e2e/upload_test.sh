#!/bin/bash
# multipart/form-data uploads and the request-header limit, end to end:
# real `curl -F` uploads to tests/e2e/apps/upload.q (text fields, a binary
# file with NUL bytes and CRLFs, two files, a repeated field), bodies that
# are refused (400 malformed, 413 too many parts or too large), 431 for
# headers over max_header_size and h2o's own header limits, the settings
# from quest.toml, .settings.toml and the environment, and start-up errors
# for a missing --config file and a
# max_header_size h2o cannot honour.  Run by tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
app=tests/e2e/apps/upload.q

# field JSON EXPR: a value from the app's JSON answer (a Python expression on d).
field() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2" ||
        fail "not JSON: $1"
}

code() { # code CURL-ARGS...: the status curl gets
    curl -s -o /dev/null -w '%{http_code}' "$@"
}

# ---- a max_header_size above h2o's H2O_MAX_REQLEN is refused at start-up -----
QUEST_MAX_HEADER_SIZE=417793 "$quest" serve --port 1 "$app" >/dev/null 2>"$tmp/e1" && fail "max_header_size 417793 accepted"
grep -q "max_header_size 417793 is above 417792" "$tmp/e1" || fail "unclear start-up error: $(cat "$tmp/e1")"

QUEST_MAX_FORM_PARTS=5 QUEST_MAX_HEADER_SIZE=4096 QUEST_MAX_BODY_SIZE=1000000 serve_start --workers 2 "$app"

# ---- uploads -------------------------------------------------------------------
printf 'caf\xc3\xa9 au lait\n' >"$tmp/note.txt"
# NUL bytes, CRLFs, dashes and what looks like a delimiter, then random bytes.
{ printf '\x00\x01\r\n--\r\n--x\r\n\r\n\x00'; head -c 200000 /dev/urandom; printf '\r\n'; } >"$tmp/blob.bin"
blob_sum=$(sha256sum "$tmp/blob.bin" | cut -d' ' -f1)
blob_len=$(wc -c <"$tmp/blob.bin")

r=$(curl -s -F 'title=Hello, wörld' -F 'empty=' -F "doc=@$tmp/note.txt" \
    -F "blob=@$tmp/blob.bin;type=application/octet-stream" "$url/echo")
check "body keys" "$(field "$r" 'd["keys"]')" "['fields', 'files']"
check "text field" "$(field "$r" 'd["fields"]["title"]')" "Hello, wörld"
check "empty field" "$(field "$r" 'repr(d["fields"]["empty"])')" "''"
check "two files, in order" "$(field "$r" '[f["name"] for f in d["files"]]')" "['doc', 'blob']"
check "file name" "$(field "$r" 'd["files"][0]["filename"]')" "note.txt"
check "curl's type for .txt" "$(field "$r" 'd["files"][0]["mime_type"]')" "text/plain"
check "text file content" "$(field "$r" 'd["files"][0]["sha256"]')" "$(sha256sum "$tmp/note.txt" | cut -d' ' -f1)"
check "binary file type" "$(field "$r" 'd["files"][1]["mime_type"]')" "application/octet-stream"
check "binary file as Bytes" "$(field "$r" 'd["files"][1]["cls"]')" "Bytes"
check "binary file size" "$(field "$r" 'd["files"][1]["size"]')" "$blob_len"
check "binary file length" "$(field "$r" 'd["files"][1]["len"]')" "$blob_len"
check "binary file content" "$(field "$r" 'd["files"][1]["sha256"]')" "$blob_sum"

r=$(curl -s -F a=first -F b=x -F a=last "$url/echo")
check "repeated field: the last wins" "$(field "$r" 'd["fields"]')" "{'a': 'last', 'b': 'x'}"
check "no files" "$(field "$r" 'd["files"]')" "[]"

# A raw body: quoted boundary with a space, preamble and epilogue, a file
# part without Content-Type, header names in other cases.
printf 'preamble\r\n--a b\r\ncontent-disposition: form-data; name="up"; filename="r.dat"\r\n\r\nraw\r\n--a b--\r\nepilogue' \
    >"$tmp/raw"
r=$(curl -s -H 'Content-Type: multipart/form-data; boundary="a b"' --data-binary "@$tmp/raw" "$url/echo")
check "raw form: file" "$(field "$r" '[d["files"][0][k] for k in ("name", "filename", "mime_type", "size")]')" \
    "['up', 'r.dat', 'text/plain', 3]"

# Other bodies are untouched.
r=$(curl -s -d 'a=1&b=2' "$url/echo")
check "urlencoded body stays a Str" "$(field "$r" 'd["cls"], d["text"]')" "('Str', 'a=1&b=2')"

# ---- refused bodies --------------------------------------------------------------
mp='Content-Type: multipart/form-data; boundary=XyZ'
check "no boundary line: 400" "$(code -H "$mp" -d 'junk' "$url/echo")" 400
curl -s -H "$mp" -d 'junk' "$url/echo" | grep -q '^400 Bad Request: Invalid multipart/form-data: the body has no boundary line' ||
    fail "400 without its reason"
printf -- '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\ncut short' >"$tmp/short"
check "no closing boundary: 400" "$(code -H "$mp" --data-binary "@$tmp/short" "$url/echo")" 400
printf -- '--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--\r\n' >"$tmp/noname"
check "no Content-Disposition: 400" "$(code -H "$mp" --data-binary "@$tmp/noname" "$url/echo")" 400
printf -- '--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--XyZ--\r\n' >"$tmp/good"
check "the same body with its boundary: 200" "$(code -H "$mp" --data-binary "@$tmp/good" "$url/echo")" 200
check "no boundary parameter: 400" "$(code -H 'Content-Type: multipart/form-data' --data-binary "@$tmp/good" "$url/echo")" 400
check "five parts: allowed" "$(code -F 1=a -F 2=b -F 3=c -F 4=d -F 5=e "$url/echo")" 200
check "six parts: 413" "$(code -F 1=a -F 2=b -F 3=c -F 4=d -F 5=e -F 6=f "$url/echo")" 413
curl -s -F 1=a -F 2=b -F 3=c -F 4=d -F 5=e -F 6=f "$url/echo" |
    grep -q '^413 Payload Too Large: multipart/form-data with more than 5 parts' || fail "413 without its reason"
head -c 1200000 /dev/zero >"$tmp/big"
check "an upload over max_body_size: 413" "$(code -F "f=@$tmp/big" "$url/echo")" 413
check "serving after refusals" "$(curl -s "$url/")" "ok"

# ---- request headers ---------------------------------------------------------------
# What max_header_size counts: method, target, Host and every other
# header's name and value.  Without User-Agent and Accept, curl sends Host only.
host=127.0.0.1:$port
room=$((4096 - 3 - 1 - ${#host} - 5)) # GET, /, Host, x-big
pad() { head -c "$1" /dev/zero | tr '\0' a; }
check "headers at the limit" "$(code -H 'User-Agent:' -H 'Accept:' -H "X-Big: $(pad $room)" "$url/")" 200
check "one byte over: 431" "$(code -H 'User-Agent:' -H 'Accept:' -H "X-Big: $(pad $((room + 1)))" "$url/")" 431
curl -s -H "X-Big: $(pad 5000)" "$url/" | grep -q '^431 Request Header Fields Too Large' || fail "431 body"
curl -s -i -H "X-Big: $(pad 5000)" "$url/" | head -1 | grep -q '431 Request Header Fields Too Large' || fail "431 status line"
# h2o's own limits, before ours: 100 headers, 417792 bytes of request head.
# It answers 400 and closes; curl may see the close before the answer.
for i in $(seq 101); do echo "X-H$i: v"; done >"$tmp/many"
check "101 headers: h2o's 400" "$(code -H "@$tmp/many" "$url/")" 400
{ printf 'X-Huge: '; pad 420000; echo; } >"$tmp/huge"
c=$(code -H "@$tmp/huge" "$url/")
case $c in 400 | 000) ;; *) fail "a 420000-byte header: $c" ;; esac
check "serving after h2o's limits" "$(curl -s "$url/")" "ok"
serve_stop || fail "exit status $? after SIGTERM"

# ---- the settings come from quest.toml, then the environment -----------------------
printf '[std.web]\nmax_form_parts = 2\nmax_header_size = 1024\n' >"$tmp/quest.toml"
serve_start --workers 1 --config "$tmp/quest.toml" "$app"
check "quest.toml max_form_parts" "$(code -F a=1 -F b=2 -F c=3 "$url/echo")" 413
check "quest.toml max_header_size" "$(code -H "X-Big: $(pad 1100)" "$url/")" 431
serve_stop || fail "exit status $? after SIGTERM"
QUEST_MAX_FORM_PARTS=3 serve_start --workers 1 --config "$tmp/quest.toml" "$app"
check "QUEST_MAX_FORM_PARTS over quest.toml" "$(code -F a=1 -F b=2 -F c=3 "$url/echo")" 200
serve_stop || fail "exit status $? after SIGTERM"

# ---- .settings.toml [std.web] (working directory) comes after quest.toml -----------
app=$PWD/$app
cd "$tmp" || fail "cd $tmp"
printf '[std.web]\nmax_form_parts = 3\n' >.settings.toml
serve_start --workers 1 --config "$tmp/quest.toml" "$app"
check ".settings.toml over quest.toml" "$(code -F a=1 -F b=2 -F c=3 "$url/echo")" 200
check "quest.toml still read" "$(code -H "X-Big: $(pad 1100)" "$url/")" 431
serve_stop || fail "exit status $? after SIGTERM"
QUEST_MAX_FORM_PARTS=2 serve_start --workers 1 --config "$tmp/quest.toml" "$app"
check "QUEST_* over .settings.toml" "$(code -F a=1 -F b=2 -F c=3 "$url/echo")" 413
serve_stop || fail "exit status $? after SIGTERM"
"$quest" serve --port 1 --config "$tmp/missing.toml" "$app" >/dev/null 2>"$tmp/e2" && fail "a missing --config file accepted"
grep -q "missing.toml: No such file" "$tmp/e2" || fail "unclear error for a missing --config: $(cat "$tmp/e2")"
echo ok
