# lib.sh — what the e2e scripts that serve an app share: a scratch
# directory, cleanup on exit, failing with the server's stderr, and
# starting and stopping `quest serve` on a free port.  Not a test itself
# (run.sh runs *_test.sh only).  In a bash script, after quest=$1:
#
#   . "$(dirname "$0")/lib.sh"
#   serve_start --workers 2 app.q        # sets $pid, $port and $url
#   check "GET /" "$(curl -s "$url/")" "hello"
#   serve_stop || fail "exit status"     # SIGTERM; 99 when a sanitizer complained
#
# The server's stdout and stderr go to $tmp/out and $tmp/err; it gets its
# port in $PORT too.  A script that starts other processes stops them in a
# function e2e_on_exit, which runs first on exit.

# The server leaves process-lifetime memory (h2o's buffer caches, the
# workers' VMs) to the OS at exit: not leaks worth reporting here.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
tmp=$(mktemp -d)
pid=

e2e_cleanup() {
    declare -F e2e_on_exit >/dev/null && e2e_on_exit
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap e2e_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    [ -f "$tmp/err" ] && sed 's/^/  server stderr: /' "$tmp/err" | tail -40 >&2
    exit 1
}

check() { # check DESCRIPTION ACTUAL EXPECTED
    [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# serve_start ARGS...: `quest serve --port P ARGS...` on a free port, once
# it answers HTTP; environment assignments before the call reach it.
serve_start() {
    local attempt
    for attempt in 1 2 3 4 5; do
        # Below the kernel's ephemeral range (32768-60999), where an outgoing
        # connection may hold any port.
        port=$((20000 + RANDOM % 12000))
        PORT=$port "$quest" serve --port "$port" "$@" >"$tmp/out" 2>"$tmp/err" &
        pid=$!
        for _ in $(seq 100); do
            if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
                url=http://127.0.0.1:$port
                return 0
            fi
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        pid=
    done
    fail "server did not start"
}

# serve_stop: SIGTERM and wait; the exit status, or 99 when a sanitizer
# reported something on the server's stderr.
serve_stop() {
    kill -TERM "$pid"
    serve_wait
}

# serve_wait: serve_stop after the signal was sent.
serve_wait() {
    wait "$pid"
    local status=$?
    pid=
    if grep -q "Sanitizer" "$tmp/err"; then
        sed 's/^/  server stderr: /' "$tmp/err" >&2
        return 99
    fi
    return $status
}
