#!/bin/bash
# `quest test`: which files it finds, what it prints for passing, failing,
# skipped and unloadable tests, the options, and its exit status.  Run by
# tests/e2e/run.sh; the fixtures are written to a scratch directory.
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

# has TEXT : the last output contains TEXT.
has() {
    case $out in *"$1"*) ;; *) fail "expected '$1' in output: $out" ;; esac
}

lacks() {
    case $out in *"$1"*) fail "did not expect '$1' in output: $out" ;; *) ;; esac
}

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/test/sub" "$dir/test/.hidden"

cat >"$dir/test/passing_test.q" <<'EOF'
use "std/test" {module, describe, it, assert_eq}
module("Passing")
describe("numbers", fun ()
    it("adds", fun () assert_eq(1 + 1, 2) end)
    it("prints while captured", fun ()
        puts("quiet please")
        assert_eq(2 * 2, 4)
    end)
end)
EOF

cat >"$dir/test/sub/test_failing.q" <<'EOF'
use "std/test" {module, describe, it, assert, assert_eq, skip, tag}
module("Failing")
describe("broken things", fun ()
    it("compares", fun ()
        puts("noise from the failing test")
        assert_eq("a", "b", "letters differ")
        assert(false)
    end)
    it("raises", fun ()
        raise ValueErr.new("exploded")
    end)
    skip("later", "not written yet")
    tag("slow")
    it("is slow", fun () assert(true) end)
end)
EOF

cat >"$dir/test/sub/broken_test.q" <<'EOF'
use "std/test" {it}
it("runs before the error", fun () nil end)
raise RuntimeErr.new("top level went wrong")
EOF

# Helpers and hidden files are not tests.
echo 'raise "helper must not run"' >"$dir/test/_helper_test.q"
echo 'raise "dot file must not run"' >"$dir/test/.hidden/x_test.q"
echo 'raise "not a test name"' >"$dir/test/helper.q"

cd "$dir"

# All passing: exit 0, one line per module, the summary.
expect 0 "$quest" test --no-color test/passing_test.q
has "✓ [2/2] Passing"
has "Test Results: ✓ All tests passed!"
has "━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━"
has "Total:   2  |  Passed:  2  |  Elapsed: "
lacks "quiet please"
lacks "Failed:"
lacks $'\e['

# Colours are on unless --no-color.
expect 0 "$quest" test test/passing_test.q
has $'\e[32m'

# Failures: exit status = failures, the messages, the captured output of
# the failing tests, the exception and its stack, the skip.
expect 3 "$quest" test --no-color test/sub/test_failing.q
has "✗ [1/4] Failing"
has "✗ broken things [1/4]"
has "✗ Expected \"b\" but got \"a\": letters differ"
has "✗ Assertion failed"
has "Captured stdout:"
has "noise from the failing test"
has "✗ raises"
has "Unexpected ValueErr: exploded"
has "Stack trace:"
has "⊘ Skipped - later (not written yet)"
has "Test Results: ✗ Some tests failed"
has "Total:   4  |  Passed:  1  |  Failed:  3  |  Skipped: 1"

# A file that fails to load is reported and counted; the others still run.
expect 1 "$quest" test --no-color test/sub/broken_test.q test/passing_test.q
has "✗ Failed to load module: test/sub/broken_test.q"
has "Error: RuntimeErr: top level went wrong"
has "✓ [2/2] Passing"
has "Total:   3  |  Passed:  3  |  Failed:  1"

# Discovery: without paths, test/ recursively, in sorted order, without
# helpers, dot files or files not named like tests.
expect 4 "$quest" test --no-color
lacks "must not run"
lacks "not a test name"
case $out in
*"✓ [2/2] Passing"*"Failed to load module: test/sub/broken_test.q"*"✗ [1/4] Failing"*) ;;
*) fail "files ran out of order: $out" ;;
esac
has "Total:   7  |  Passed:  4  |  Failed:  4  |  Skipped: 1"

# A named file that does not follow the naming is not run; a missing path
# is an error.
expect 0 "$quest" test --no-color test/helper.q
has "Total:   0"
expect 1 "$quest" test --no-color no/such/dir
has "no such file or directory: no/such/dir"

# Tags: --tag runs only tagged tests, --skip-tag skips them.
expect 0 "$quest" test --no-color --tag=slow test/passing_test.q
has "Total:   2  |  Skipped: 2"
expect 3 "$quest" test --no-color --skip-tag=slow test/sub/test_failing.q
has "Skipped - is slow (tag 'slow')"

# Verbose: one line per test with its time, failures under their test.
expect 0 "$quest" test --no-color -v test/passing_test.q
has "Passing"
has "numbers"
has "  ✓ adds "
expect 3 "$quest" test --no-color -v test/sub/test_failing.q
has "  ✗ compares"
has "    Expected \"b\" but got \"a\": letters differ"
has "  ⊘ later (not written yet)"

# --cap=no: output is not captured.
expect 0 "$quest" test --no-color --cap=no test/passing_test.q
has "quiet please"

# A test file run as a plain script prints its results as it goes.
expect 0 "$quest" test/passing_test.q
has "adds"
has "prints while captured"

# The test files see sys.argv as the reference's runner gives it.
cat >"$dir/test/argv_test.q" <<'EOF'
use "std/test" {it, assert_eq}
use "std/sys"
it("sees the runner's argv", fun () assert_eq(sys.argv[0], "quest test") end)
EOF
expect 0 "$quest" test --no-color test/argv_test.q
has "Passed:  1"
