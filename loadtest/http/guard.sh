# shellcheck shell=bash
# Sourced by loadtest/http/run.sh: CPU accounting that keeps other load on a
# shared machine out of the figures.
#
# The method (the same as the peer baselines in the stack research): the
# machine's busy time is every CPU's user+nice+system+irq+softirq+steal
# jiffies from /proc/stat.  This kernel has no IRQ time accounting, so
# softirq ticks are charged to the running task *and* counted in the softirq
# column; busy time minus the CPU of the server and of the load generator is
# therefore what other processes used ("foreign" CPU).

# guard_busy: busy jiffies of the whole machine.
guard_busy() {
    awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

# guard_tree PID: PID and all its descendants (nginx workers, node:cluster
# and aiohttp children).
guard_tree() {
    local p
    echo "$1"
    for p in $(pgrep -P "$1"); do guard_tree "$p"; done
}

# guard_jiffies PID...: utime+stime of those processes (all their threads),
# read after the last ')' of /proc/PID/stat, since a command name may hold
# spaces.
guard_jiffies() {
    local s=0 p
    for p in "$@"; do
        [ -r "/proc/$p/stat" ] || continue
        s=$((s + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
    done
    echo "$s"
}

# guard_wait_quiet MAX_SECONDS: wait until the machine has been idle (busy
# under 5% of one CPU) for two consecutive seconds, at most MAX_SECONDS.
# Prints the seconds waited; false if the machine never went quiet.
guard_wait_quiet() {
    local max=$1 t=0 ok=0 b0 b1
    while [ "$t" -lt "$max" ]; do
        b0=$(guard_busy)
        sleep 1
        b1=$(guard_busy)
        t=$((t + 1))
        if [ $((b1 - b0)) -le $((hz / 20)) ]; then
            ok=$((ok + 1))
            [ "$ok" -ge 2 ] && { echo "$t"; return 0; }
        else
            ok=0
        fi
    done
    echo "$t"
    return 1
}

hz=$(getconf CLK_TCK)
