#!/bin/bash
# Inbound HTTP under load: `quest serve` against its peers, in one run.
#
#   loadtest/http/run.sh [QUEST_BIN]        (default: build/quest)
#
# Two endpoints, each served by
#   quest    hello.q (an async handler returning a 13-byte text/plain body)
#            and json.q (an async handler returning a three-field Dict as JSON)
#   quest-shared  the same with `listener = "shared"` (two workers only)
#   h2o      the same bodies as static files: the ceiling
#   nginx    `return 200` with the same bodies
#   nginx-lua  content_by_lua_block (OpenResty's model), cjson for JSON
#   node     node:http (node:cluster for two workers)
#   aiohttp  aiohttp.web on asyncio (forked, SO_REUSEPORT, for two workers)
# with one worker (server on CPU 0) and with two (server on CPUs 0-1); the
# load generator runs on CPU 1.  Each configuration is measured in
# BENCH_HTTP_RUNS rounds; a round runs every server in turn: start it, warm
# up, one `wrk -t1 -c64 -d${BENCH_SECONDS}s --latency` (and, in the first
# round, `ab -n 20000 -c 100 -k`), stop it by its PID.  The table reports
# the median run and the range of the runs.  Server CPU per request is the
# utime+stime of the server process tree over the wrk run divided by the
# requests wrk completed.
#
# Other load on the machine: before each wrk run the script waits (up to
# BENCH_QUIET_WAIT seconds) for the machine to be idle; after it, it computes
# the CPU other processes used during the run (guard.sh) and repeats a run
# whose foreign CPU exceeds 5% of the two CPUs, up to BENCH_TRIES tries,
# keeping the least disturbed try.  The "foreign" column is that share in
# the run reported; read rows above a few percent with care.
#
# Settings: BENCH_SECONDS (10), BENCH_HTTP_RUNS (1), BENCH_TRIES (2),
# BENCH_QUIET_WAIT (10), BENCH_HTTP_SERVERS (all: "quest h2o nginx nginx-lua
# node aiohttp"), BENCH_HTTP_WORKERS ("1 2").  Peers that are not installed
# are skipped (scripts/bootstrap bench installs them).  Raw output is kept in
# a /tmp/quest-http-bench.* directory, named at the end.  Exits non-zero when
# quest fails to start or answers with errors.
set -u
here=$(cd "$(dirname "$0")" && pwd)
quest=$(realpath "${1:-$here/../../build/quest}")
seconds=${BENCH_SECONDS:-10}
runs=${BENCH_HTTP_RUNS:-1}
tries=${BENCH_TRIES:-2}
quiet_wait=${BENCH_QUIET_WAIT:-10}
servers=${BENCH_HTTP_SERVERS:-"quest quest-shared h2o nginx nginx-lua node aiohttp"}
worker_counts=${BENCH_HTTP_WORKERS:-"1 2"}
port=9311
python=/usr/bin/python3 # Debian's, where python3-aiohttp is installed
source "$here/guard.sh"

for tool in wrk ab curl taskset; do
    if ! command -v "$tool" >/dev/null; then
        echo "inbound HTTP benchmark: no $tool (scripts/bootstrap bench); nothing ran"
        exit 0
    fi
done

work=$(mktemp -d /tmp/quest-http-bench.XXXXXX)
chmod 755 "$work" # h2o serves www/ as user nobody
mkdir "$work/www"
printf 'Hello, World!' >"$work/www/hello.txt"
printf '{"message":"Hello, World!","id":42,"ok":true}' >"$work/www/hello.json"
results=$work/results.tsv
server_pid=
failed=0
trap 'stop_server' EXIT
trap 'exit 130' INT TERM # through the EXIT trap: never leave a server behind

# available SERVER: true when SERVER's program is installed.
available() {
    case $1 in
    quest | quest-shared) [ -x "$quest" ] ;;
    h2o) command -v h2o >/dev/null ;;
    nginx) command -v nginx >/dev/null ;;
    nginx-lua) command -v nginx >/dev/null &&
        [ -e /usr/share/nginx/modules/ngx_http_lua_module.so ] &&
        dpkg-query -W lua-cjson >/dev/null 2>&1 ;;
    node) command -v node >/dev/null ;;
    aiohttp) "$python" -c 'import aiohttp' 2>/dev/null ;;
    esac
}

# measured SERVER WORKERS: false for quest-shared with one worker (one
# listener either way: the same as quest).
measured() {
    [ "$1-$2" != quest-shared-1 ]
}

# conf TEMPLATE WORKERS: the peer config with @PORT@, @WORKERS@ and @DIR@
# filled in; prints its path.
conf() {
    local out
    out=$work/$(basename "$1" .conf)-$2.conf
    sed -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$2|g" -e "s|@DIR@|$work|g" "$1" >"$out"
    echo "$out"
}

# server_command SERVER ENDPOINT WORKERS: the command line, and the URL
# path, of SERVER for ENDPOINT (hello or json); sets cmd and path.
server_command() {
    local peers=$here/peers
    case $1 in
    quest | quest-shared)
        cmd=(env QUEST_ACCESS_LOG=false QUEST_DRAIN_TIMEOUT=1)
        [ "$1" = quest-shared ] && cmd+=(QUEST_LISTENER=shared)
        cmd+=("$quest" serve "$here/$2.q" --host 127.0.0.1 --port "$port" --workers "$3")
        path=/ ;;
    h2o)
        cmd=(h2o -c "$(conf "$peers/h2o.conf" "$3")")
        if [ "$2" = hello ]; then path=/hello.txt; else path=/hello.json; fi ;;
    nginx | nginx-lua)
        cmd=(nginx -p "$work" -e "$work/$1-$3.err" -c "$(conf "$peers/$1.conf" "$3")") ;;
    node)
        cmd=(node "$peers/node-http.js" "$port" "$3") ;;
    aiohttp)
        cmd=("$python" "$peers/aiohttp_app.py" "$port" "$3") ;;
    esac
    case $1 in
    quest | quest-shared | h2o) ;;
    *) if [ "$2" = hello ]; then path=/; else path=/json; fi ;;
    esac
}

# start_server LOG CPUS COMMAND...: start it pinned to CPUS and wait until
# it answers; sets server_pid.
start_server() {
    local log=$1 cpus=$2 i
    shift 2
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        echo "inbound HTTP benchmark: port $port is already in use" >&2
        return 1
    fi
    taskset -c "$cpus" "$@" >"$log" 2>&1 &
    server_pid=$!
    for ((i = 0; i < 100; i++)); do
        curl -sf -o /dev/null "$url" && return 0
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "inbound HTTP benchmark: $* did not answer on $url:" >&2
    sed 's/^/    /' "$log" >&2
    stop_server
    return 1
}

# stop_server: SIGTERM to the server's PID (nginx, node:cluster and the
# aiohttp supervisor stop their children), SIGKILL to its tree after 5 s.
stop_server() {
    local i tree
    [ -n "$server_pid" ] || return 0
    tree=$(guard_tree "$server_pid")
    kill -TERM "$server_pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    # shellcheck disable=SC2086  # one PID a word
    kill -KILL $tree 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=
}

# to_ms VALUE: wrk's latency (463.00us, 1.35ms, 1.02s) in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) printf "%.2f", v / 1000
        else if (v ~ /ms$/) printf "%.2f", v + 0
        else if (v ~ /s$/) printf "%.2f", v * 1000
        else printf "-" }'
}

# wrk_run OUT: one guarded wrk run against $url, keeping in OUT the try
# with the least foreign CPU; appends "req/s p50 p99 cpu_us foreign%
# errors" to OUT.rows.
wrk_run() {
    local out=$1 try b0 b1 j0 j1 wj foreign limit=$((2 * hz * seconds * 5 / 100))
    local pids best_f='' best_j=0 reqs rps p50 p99 errors
    for ((try = 1; try <= tries; try++)); do
        guard_wait_quiet "$quiet_wait" >/dev/null
        pids=$(guard_tree "$server_pid")
        # shellcheck disable=SC2086
        b0=$(guard_busy) j0=$(guard_jiffies $pids)
        taskset -c 1 /usr/bin/time -f '%U %S' -o "$out.time" \
            wrk -t1 -c64 -d"${seconds}s" --latency "$url" >"$out.try" 2>&1
        # shellcheck disable=SC2086
        b1=$(guard_busy) j1=$(guard_jiffies $pids)
        wj=$(awk -v hz="$hz" '{ printf "%d", ($1 + $2) * hz }' "$out.time")
        foreign=$(((b1 - b0) - (j1 - j0) - wj))
        if [ -z "$best_f" ] || [ "$foreign" -lt "$best_f" ]; then
            best_f=$foreign best_j=$((j1 - j0))
            mv "$out.try" "$out"
        fi
        [ "$foreign" -le "$limit" ] && break
        echo "    (try $try: other processes used $foreign jiffies; repeating)" >&2
    done
    rm -f "$out.try" "$out.time"
    reqs=$(awk '/ requests in / { print $1 }' "$out")
    rps=$(awk '/^Requests\/sec/ { printf "%.0f", $2 }' "$out")
    p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$out")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$out")")
    errors=$(awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$out")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "${rps:--}" "$p50" "$p99" \
        "$(awk -v j="$best_j" -v n="${reqs:-0}" -v hz="$hz" \
            'BEGIN { if (n > 0) printf "%.1f", j * 1e6 / hz / n; else printf "-" }')" \
        "$(awk -v f="$best_f" -v all=$((2 * hz * seconds)) 'BEGIN { printf "%.0f%%", 100 * f / all }')" \
        "${errors:-none}" >>"$out.rows"
}

# ab_run OUT: ab -n 20000 -c 100 -k against $url; prints "req/s p50 p99 errors".
ab_run() {
    local out=$1 rps p50 p99 errors
    taskset -c 1 timeout 60 ab -n 20000 -c 100 -k "$url" >"$out" 2>&1
    rps=$(awk '/^Requests per second/ { printf "%.0f", $4 }' "$out")
    p50=$(awk '$1 == "50%" { print $2 }' "$out")
    p99=$(awk '$1 == "99%" { print $2 }' "$out")
    errors=$(awk '/^(Failed requests|Non-2xx responses):/ && $NF != 0 { printf "%s; ", $0 }' "$out")
    [ -n "$rps" ] || errors="ab failed: $(tail -1 "$out")"
    printf '%s\t%s\t%s\t%s\n' "${rps:--}" "${p50:--}" "${p99:--}" "${errors:-none}"
}

# run_once SERVER ENDPOINT WORKERS ROUND: start the server, warm it up,
# one guarded wrk run (and ab in the first round), stop it.
run_once() {
    local name=$1-$2-$3 cpus=0 raw
    [ "$3" -gt 1 ] && cpus=0-1
    server_command "$1" "$2" "$3"
    url=http://127.0.0.1:$port$path
    raw=$work/$name
    echo "  round $4: $1 $2, $3 worker(s)" >&2
    if ! start_server "$raw-$4.log" "$cpus" "${cmd[@]}"; then
        touch "$raw.failed"
        return
    fi
    [ "$4" = 1 ] && curl -si "$url" >"$raw.response"
    taskset -c 1 wrk -t1 -c64 -d2s "$url" >/dev/null 2>&1 # warm-up
    wrk_run "$raw-wrk$4.txt"
    [ "$4" = 1 ] && ab_run "$raw-ab.txt" >"$raw.ab"
    stop_server
}

# summarize SERVER ENDPOINT WORKERS: appends to $results the median run's
# row, ab's row and the range of the runs' req/s.
summarize() {
    local raw=$work/$1-$2-$3 median range
    if [ -e "$raw.failed" ] || ! [ -e "$raw.ab" ]; then
        printf '%s\t%s\t%s\tdid not start\n' "$2" "$3" "$1" >>"$results"
        [ "${1%-shared}" = quest ] && failed=1
        return
    fi
    cat "$raw"-wrk*.txt.rows >"$raw.rows"
    median=$(sort -g -k1,1 "$raw.rows" | awk -v n="$(wc -l <"$raw.rows")" 'NR == int((n + 1) / 2)')
    range=$(sort -g -k1,1 "$raw.rows" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0fk-%.0fk", lo / 1000, hi / 1000 }')
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$1" "$median" "$(cat "$raw.ab")" "$range" >>"$results"
    if [ "${1%-shared}" = quest ] && ! tail -1 "$results" | awk -F'\t' '$9 != "none" || $13 != "none" { exit 1 }'; then
        failed=1
    fi
}

# report: the results table, then the targets for quest.
report() {
    echo "inbound HTTP: wrk -t1 -c64 -d${seconds}s (median of $runs), ab -n 20000 -c 100 -k;" \
        "latency in ms, server CPU in µs per request; load average $(cut -d' ' -f1-3 /proc/loadavg)"
    awk -F'\t' '
        BEGIN { printf "%-6s %2s %-12s %9s %11s %7s %7s %8s %8s %9s %6s %6s  %s\n",
                "body", "w", "server", "wrk req/s", "runs", "p50", "p99", "cpu/req", "foreign",
                "ab req/s", "p50", "p99", "errors" }
        NF < 12 { printf "%-6s %2s %-12s %s\n", $1, $2, $3, $4; next }
        { err = ($9 == "none" && $13 == "none") ? "none" : $9 " " $13
          printf "%-6s %2s %-12s %9s %11s %7s %7s %8s %8s %9s %6s %6s  %s\n",
                 $1, $2, $3, $4, $14, $5, $6, $7, $8, $10, $11, $12, err }' "$results"
    echo
    echo "targets for quest (wrk req/s ratios; p99 at 64 connections; quest-shared: listener = shared):"
    awk -F'\t' '
        NF >= 12 { rps[$1 " " $2 " " $3] = $4; p99[$1 " " $2 " " $3] = $6 }
        function ratio(k, who, peer, want,    q, p) {
            q = rps[k " " who]; p = rps[k " " peer]
            if (q == "" || p == "" || p == 0) return sprintf("%-22s", "vs " peer " -")
            return sprintf("vs %-9s %5.2fx %-6s", peer, q / p, (q / p >= want) ? "met" : "MISSED")
        }
        END {
            split("hello json", ends, " ")
            split("quest quest-shared", whos, " ")
            for (e = 1; e <= 2; e++) for (w = 1; w <= 2; w++) for (i = 1; i <= 2; i++) {
                k = ends[e] " " w; who = whos[i]
                if (!((k " " who) in rps)) continue
                printf "  %-12s %-5s %d worker(s): %s %s %s p99 %s ms %s\n", who, ends[e], w,
                    ratio(k, who, "h2o", 0.85), ratio(k, who, "nginx-lua", 0.85),
                    ratio(k, who, "node", 1.3), p99[k " " who],
                    (p99[k " " who] + 0 < 5) ? "met" : "MISSED"
            }
        }' "$results"
}

# Rounds: each round runs every server once, so a drift of the machine
# between rounds touches all of them alike, and every run starts a fresh
# server (how a server's threads split wrk's connections is decided anew).
echo "inbound HTTP benchmark: raw output in $work" >&2
for w in $worker_counts; do
    for e in hello json; do
        for ((r = 1; r <= runs; r++)); do
            for s in $servers; do
                measured "$s" "$w" && available "$s" && run_once "$s" "$e" "$w" "$r"
            done
        done
        for s in $servers; do
            measured "$s" "$w" || continue
            if available "$s"; then
                summarize "$s" "$e" "$w"
            else
                printf '%s\t%s\t%s\tnot installed\n' "$e" "$w" "$s" >>"$results"
            fi
        done
    done
done
report | tee "$work/report.txt"
exit $failed
