#!/bin/bash
# Connections that arrive while the app's top level is still awaiting (a
# pool opening, say) must wait for a ready worker, never reach one whose
# HTTP context does not exist yet, with either kind of listener.  Run by
# tests/e2e/run.sh.
set -u
quest=$1
. "$(dirname "$0")/lib.sh"

round=0
for listener in reuseport shared reuseport shared; do
    round=$((round + 1))
    port=$((20000 + RANDOM % 12000))
    QUEST_LISTENER=$listener "$quest" serve --port "$port" --workers 2 tests/e2e/apps/slow_start.q >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    # Knock while the top level sleeps: a refused connection is fine, a
    # crash is not.  Then the first answer must be the app's.
    body=
    for _ in $(seq 60); do
        kill -0 "$pid" 2>/dev/null || fail "round $round ($listener): the server died while starting"
        body=$(curl -s --max-time 2 "http://127.0.0.1:$port/") && break
        sleep 0.05
    done
    [ "$body" = ready ] || fail "round $round ($listener): got '$body' instead of the app's answer"
    serve_stop || fail "round $round ($listener): exit status $? after SIGTERM"
done
echo ok
