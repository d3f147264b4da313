#!/bin/bash
# How quest serve turns a handler's value into the answer: Str, Bytes, nil,
# and the response Dict's status, headers (Str, repeated, other values in
# their text form), json and body, with keys written as literals or built
# at run time, and the 500s for values it cannot send.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"

# get PATH: "status content-type body" of GET PATH.
get() {
    curl -s -o "$tmp/body" -w '%{http_code} %{content_type} ' "$url$1"
    cat "$tmp/body"
}

serve_start --workers 1 tests/e2e/apps/response.q
check "Str" "$(get /text)" "200 text/plain; charset=utf-8 plain"
check "Bytes" "$(get /bytes | od -An -c | tr -s ' ')" "$(printf '200 application/octet-stream \0\1' | od -An -c | tr -s ' ')"
check "nil" "$(get /nil)" "204  "
check "status" "$(get /status)" "201  made"
check "status not an Int" "$(get /bad-status | cut -c1-3)" "500"
check "body not Str or Bytes" "$(get /bad-body | cut -c1-3)" "500"
check "json" "$(get /json)" '200 application/json {"a":null,"b":[1,2]}'
check "json wins over body" "$(get /json-null)" '200 application/json null'
check "json keeps a content-type of its own" "$(get /json-type)" '200 application/vnd.x+json [1]'
check "json that cannot be encoded" "$(get /json-bad | cut -c1-3)" "500"
check "keys built at run time" "$(get /runtime-keys)" "202  built"
curl -s -D "$tmp/h" -o /dev/null "$url/headers"
check "Str header" "$(grep -i '^x-one:' "$tmp/h" | tr -d '\r')" "x-one: 1"
check "repeated header" "$(grep -i '^x-many:' "$tmp/h" | tr -d '\r' | tr '\n' ' ')" "x-many: a x-many: b "
check "Int header" "$(grep -i '^x-int:' "$tmp/h" | tr -d '\r')" "x-int: 7"
check "Float header" "$(grep -i '^x-float:' "$tmp/h" | tr -d '\r')" "x-float: 1.5"
grep -qi '^x-nil' "$tmp/h" && fail "a nil header was sent"
check "still serving" "$(get /text)" "200 text/plain; charset=utf-8 plain"
serve_stop || fail "server exited non-zero"
echo ok
