#!/bin/sh
# Run every tests/e2e/*_test.sh against a quest binary and report TAP.
#
#   tests/e2e/run.sh [QUEST_BIN]       (default: $QUEST_BIN, else build/quest)
#
# A test script runs from the repository root with the binary's absolute
# path as $1 and in $QUEST_BIN, and passes by exiting 0.  What it prints is
# shown only when it fails, on stderr, where meson's --print-errorlogs
# finds it.  Each script gets E2E_TIMEOUT seconds (default 120); then
# timeout(1) kills its whole process group, so a server it left behind dies
# with it.  Scripts must still clean up after themselves: remember the PID
# of every process they start and kill that PID on exit (trap ... EXIT),
# never a process found by name, since other test runs may share the machine.
set -u
cd "$(dirname "$0")/../.." || exit 1

bin=${1:-${QUEST_BIN:-build/quest}}
case $bin in
/*) ;;
*) bin=$PWD/$bin ;;
esac
export QUEST_BIN="$bin"
limit=${E2E_TIMEOUT:-120}

set -- tests/e2e/*_test.sh
[ -e "$1" ] || set --
echo "1..$#"

n=0
for t in "$@"; do
    n=$((n + 1))
    out=$(timeout -k 5 "$limit" bash "$t" "$bin" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        echo "ok $n - $t"
        continue
    fi
    if [ $rc -eq 124 ]; then
        echo "not ok $n - $t (timed out after ${limit}s)"
    else
        echo "not ok $n - $t (exit status $rc)"
    fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed "s|^|$t: |" >&2
done
