#!/bin/bash
# quest serve with std/web: routes with parameters, middleware headers,
# redirects, static files through h2o's file sender (ETag, 304, Range, no
# traversal), 404 pages.  Serves examples/web/app.q.  Run by tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"
serve_start --workers 2 examples/web/app.q

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

serve_stop || fail "exit status $? after SIGTERM"
echo ok
