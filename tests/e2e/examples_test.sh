#!/bin/bash
# The example apps, served as a user would serve them and driven with curl:
# examples/hello (what make run serves), examples/templates (a script),
# examples/bookmarks (SQLite CRUD with forms and templates), examples/api
# (JSON API with a router and token checks) and examples/pg_api (PostgreSQL
# pool; needs the test cluster on :6432, which make test starts).  Run by
# tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"

stop() { serve_stop || fail "exit status $? after SIGTERM"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# ---- hello: what make run serves ------------------------------------------------------------
serve_start --workers 2 examples/hello/app.q
check "hello" "$(curl -s "$url/")" "Hello, Quest!"
check "hello name" "$(curl -s "$url/hello/you")" "Hello, you!"
check "awaited answer" "$(curl -s "$url/later")" '{"message":"Hello, later!","waited":0.1}'
stop

# ---- templates: a static page from Markdown posts (a script, not a server) ----------------
page=$("$quest" examples/templates/render.q) || fail "examples/templates/render.q failed"
check "template page title" "$(echo "$page" | grep -c '<title>Home - Quest Notes</title>')" 1
check "one card per post" "$(echo "$page" | grep -c 'class="meta"')" 2
check "markdown table rendered" "$(echo "$page" | grep -c '<table>')" 1

# ---- bookmarks: SQLite, forms, templates ---------------------------------------------------
BOOKMARKS_DB="$tmp/bookmarks.db" serve_start --workers 2 examples/bookmarks/app.q
check "empty list" "$(curl -s "$url/" | grep -c 'Nothing here yet')" 1
check "create" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' \
    -d 'title=Quest&url=https://example.com/quest&tags=Lang,%20c' "$url/bookmarks")" "303 $url/#b1"
check "invalid form" "$(status -d 'title=&url=ftp://x' "$url/bookmarks")" 422
curl -s -d 'title=&url=ftp://x' "$url/bookmarks" | grep -q 'The title is empty' || fail "no validation message"
check "duplicate address" "$(status -d 'title=Again&url=https://example.com/quest' "$url/bookmarks")" 422
# Both workers see the same database: ask enough times to reach each.
for _ in 1 2 3 4 5 6; do
    check "json list" "$(curl -s "$url/api/bookmarks" | /usr/bin/python3 -c \
        'import json,sys; d=json.load(sys.stdin); print(d["count"], d["bookmarks"][0]["tags"])')" "1 lang,c"
done
check "tag filter" "$(curl -s "$url/?tag=c" | grep -c 'id="b1"')" 1
check "tag filter miss" "$(curl -s "$url/?tag=none" | grep -c 'id="b1"')" 0
check "escaped" "$(curl -s -o /dev/null -w '%{http_code}' \
    -d 'title=%3Cscript%3Ex&url=https://example.com/x' "$url/bookmarks")" 303
curl -s "$url/" | grep -q '<script>' && fail "title not escaped"
check "edit form" "$(curl -s "$url/bookmarks/1/edit" | grep -c 'value="Quest"')" 1
check "update" "$(status -d 'title=Quest%202&url=https://example.com/quest&tags=' "$url/bookmarks/1")" 303
check "updated" "$(curl -s "$url/api/bookmarks" | grep -c '"Quest 2"')" 1
check "missing" "$(status "$url/bookmarks/99/edit")" 404
check "bad id" "$(status "$url/bookmarks/abc/edit")" 404
check "delete" "$(status -X POST "$url/bookmarks/1/delete")" 303
check "delete again" "$(status -X POST "$url/bookmarks/1/delete")" 404
stop

# ---- api: router, JSON bodies, bearer token ------------------------------------------------
API_TOKEN=t0ken serve_start --workers 2 examples/api/app.q
check "api list" "$(status "$url/api/v1/todos")" 200
check "api no token" "$(status -d '{"title": "x"}' "$url/api/v1/todos")" 401
check "api create" "$(status -H 'Authorization: Bearer t0ken' -d '{"title": "Write docs"}' "$url/api/v1/todos")" 201
stop

# ---- pg_api: PostgreSQL pool ---------------------------------------------------------------
if ! (exec 3<>/dev/tcp/127.0.0.1/6432) 2>/dev/null; then
    echo "ok (examples/pg_api skipped: no PostgreSQL on 127.0.0.1:6432)"
    exit 0
fi
title="e2e-$$-$RANDOM"
serve_start --workers 2 examples/pg_api/app.q
created=$(curl -s -d "{\"title\": \"$title\", \"body\": \"hi\"}" "$url/notes")
id=$(echo "$created" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])') ||
    fail "create note: $created"
check "pg read" "$(curl -s "$url/notes/$id" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["body"])')" hi
check "pg conflict" "$(status -d "{\"title\": \"$title\"}" "$url/notes")" 409
check "pg update" "$(status -X PUT -d '{"body": "changed"}' "$url/notes/$id")" 200
check "pg delete" "$(status -X DELETE "$url/notes/$id")" 204
check "pg gone" "$(status "$url/notes/$id")" 404
check "pg batch rolls back" "$(status -d "[{\"title\": \"$title-a\"}, {\"title\": \"$title-a\"}]" "$url/notes/batch")" 409
check "pg batch nothing added" "$(curl -s "$url/notes?q=$title-a" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" 0
stop
echo ok
