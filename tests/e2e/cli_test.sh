#!/bin/bash
# The quest command line: help, version, usage errors, and running code
# from a file, from -e and from stdin.  Run by tests/e2e/run.sh.
set -eu
quest=$1

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect STATUS CMD... : run CMD, check its exit status, keep its output in $out.
expect() {
    want=$1
    shift
    set +e
    out=$("$@" 2>&1)
    got=$?
    set -e
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; output: $out"
}

expect 0 "$quest" --version
case $out in "quest 0.1.0"*) ;; *) fail "--version printed: $out" ;; esac

expect 0 "$quest" --help
case $out in *"quest test"*"quest serve"*) ;; *) fail "--help printed: $out" ;; esac

expect 0 "$quest" serve --help
case $out in *"--port"*) ;; *) fail "serve --help printed: $out" ;; esac

expect 2 "$quest" --no-such-option
expect 2 "$quest" serve
expect 2 "$quest" -e

expect 0 "$quest" tests/e2e/apps/hello_script.q
case $out in "Hello, Quest!"*"5 squared is 25"*) ;; *) fail "hello printed: $out" ;; esac

expect 0 "$quest" -e 'puts(1 + 2)'
[ "$out" = 3 ] || fail "-e printed: $out"

out=$(echo 'puts("from stdin")' | "$quest" 2>&1) || fail "stdin script exited $?: $out"
[ "$out" = "from stdin" ] || fail "stdin script printed: $out"

# An uncaught exception: exit status 1 and a report naming its type.
expect 1 "$quest" -e 'raise ValueErr.new("boom")'
case $out in *ValueErr*boom*) ;; *) fail "uncaught exception printed: $out" ;; esac

expect 1 "$quest" no/such/file.q
