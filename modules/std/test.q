"""
std/test — Quest's test framework.

    use "std/test" {module, describe, it, assert_eq, assert_raises}

    module("Arithmetic")

    describe("division", fun ()
        it("truncates integers", fun ()
            assert_eq(7 / 2, 3)
        end)
        it("refuses zero", fun ()
            assert_raises(RuntimeErr, fun () 1 / 0 end)
        end)
    end)

Tests run as soon as `it` is called, so loading a test file runs it.
`quest test [paths]` loads every test_*.q / *_test.q file, then calls
stats(), which prints the summary and gives the exit status.

Assertions do not raise: a failed assertion is recorded and the test goes
on, so one test can report several failures.  An exception escaping a test
fails it too.  While a test runs, what it prints is captured; the output
of a failing test is shown with its failure.

Output is condensed (one line per module, details only for failures and
skips) when the runner asks for it, verbose otherwise (a line per test).
"""

use "std/term"
use "std/time"
use "std/sys"
use "std/io"

# ---- settings: the runner sets them from its command line -------------------

let use_colors = true
let condensed = false          # quest test turns it on unless -v
let capture_mode = "all"       # all, 1, stdout, stderr, no, 0
let only_tags = []             # run only tests carrying one of these
let excluded_tags = []         # skip tests carrying one of these

# ---- totals -------------------------------------------------------------------

let total = 0
let passed = 0
let failed = 0
let skipped = 0
let started_ms = time.ticks_ms()

# ---- the current module -------------------------------------------------------
# In condensed mode a module is reported when the next one starts (or at
# stats()): its counts, then the describe blocks that had failures or skips.

let mod_name = nil
let mod_total = 0
let mod_passed = 0
let mod_failed = 0
let mod_lines = []
let mod_header_shown = false   # its name was printed above an immediate report

# ---- the current describe block -----------------------------------------------

let desc_name = nil
let desc_total = 0
let desc_passed = 0
let desc_failed = 0
let desc_notes = []            # failure and skip lines, condensed mode
let desc_header_shown = false
let desc_tags = []
let desc_before = []           # hooks run around each test of the block
let desc_after = []
let desc_after_all = []        # hooks run when the block ends

let pending_tags = []          # from tag(), for the next describe or it
let in_test = false
let test_notes = []            # failures of the running test, verbose mode

# =============================================================================
# Settings
# =============================================================================

pub fun set_colors(enabled)
    use_colors = enabled
end

pub fun set_condensed(enabled)
    condensed = enabled
end

pub fun set_capture(mode)
    capture_mode = mode
end

pub fun set_filter_tags(tags)
    only_tags = tags
end

pub fun set_skip_tags(tags)
    excluded_tags = tags
end

# tag(name or [names]): tags for the next describe or it.  A describe's tags
# apply to every test inside it.
pub fun tag(tags)
    if tags.cls() == "Str"
        tags = [tags]
    end
    pending_tags = tags
end

fun take_tags()
    let tags = pending_tags
    pending_tags = []
    tags
end

# =============================================================================
# Colours (plain text with set_colors(false))
# =============================================================================

pub fun green(text)
    if use_colors
        return term.green(text)
    end
    text
end

pub fun red(text)
    if use_colors
        return term.red(text)
    end
    text
end

pub fun yellow(text)
    if use_colors
        return term.yellow(text)
    end
    text
end

pub fun cyan(text)
    if use_colors
        return term.cyan(text)
    end
    text
end

pub fun bold(text)
    if use_colors
        return term.bold(text)
    end
    text
end

pub fun dimmed(text)
    if use_colors
        return term.dimmed(text)
    end
    text
end

# format_time(ms): "12ms", "3s", "2m" or "1h", rounded.
pub fun format_time(ms)
    if ms < 1000
        return ms.round().str() .. "ms"
    elif ms < 60000
        return (ms / 1000.0).round().str() .. "s"
    elif ms < 3600000
        return (ms / 60000.0).round().str() .. "m"
    end
    (ms / 3600000.0).round().str() .. "h"
end

# =============================================================================
# Reporting
# =============================================================================

# A value as failure messages show it (strings quoted).
fun show(value)
    if value == nil
        return "nil"
    end
    value._rep()
end

fun with_note(text, message)
    if message == nil
        return text
    end
    text .. ": " .. message
end

fun tag_suffix(tags)
    if tags.len() == 0
        return ""
    end
    " " .. dimmed("[" .. tags.join(", ") .. "]")
end

fun count_failure()
    failed = failed + 1
    mod_failed = mod_failed + 1
    desc_failed = desc_failed + 1
end

# A failed assertion or fail(): counted now; shown with its describe
# block (condensed), under its test (verbose), or at once outside tests.
fun record_failure(message)
    count_failure()
    if condensed
        desc_notes.push(red("✗") .. " " .. message)
    elif in_test
        test_notes.push(message)
    else
        puts("  " .. red("✗") .. " " .. message)
    end
end

# The name of what was raised: an exception's type, or a raised struct's.
fun error_type(e)
    if e.cls() == "Exception"
        return e.type().str()
    end
    e.cls()
end

fun error_text(e)
    "Unexpected " .. error_type(e) .. ": " .. e.message()
end

fun show_stack(e, indent)
    if e.cls() != "Exception"
        return nil
    end
    let stack = e.stack()
    if stack != nil and stack.len() > 0
        puts(indent .. "Stack trace:")
        for frame in stack
            puts(indent .. "  " .. dimmed(frame))
        end
    end
end

fun show_output(label, text)
    if text == nil or text == ""
        return nil
    end
    puts("    " .. dimmed("Captured " .. label .. ":"))
    for line in text.split("\n")
        if line != ""
            puts("      " .. dimmed(line))
        end
    end
end

# Condensed mode prints a failing test at once, under its module and
# describe names (each printed once).
fun show_context()
    if not mod_header_shown
        mod_header_shown = true
        if mod_name != nil
            puts("\n" .. red("✗") .. " " .. mod_name)
        end
    end
    if not desc_header_shown
        desc_header_shown = true
        if desc_name != nil
            puts("  " .. red("✗") .. " " .. desc_name)
        end
    end
end

fun report_failed_test(name, tags, ms, error, out_text, err_text)
    if condensed
        show_context()
        puts("  " .. red("✗") .. " " .. name)
    else
        puts("  " .. red("✗") .. " " .. name .. tag_suffix(tags) .. " " .. dimmed(format_time(ms)))
        for note in test_notes
            puts("    " .. red(note))
        end
    end
    if error != nil
        puts("    " .. red(error_text(error)))
    end
    show_output("stdout", out_text)
    show_output("stderr", err_text)
    if error != nil
        show_stack(error, "    ")
    end
end

# The current describe block's lines for the module report (condensed).
fun flush_describe()
    if not condensed or desc_notes.len() == 0
        return nil
    end
    let counts = desc_passed.str() .. "/" .. desc_total.str()
    if desc_failed > 0
        counts = red(counts)
    else
        counts = green(counts)
    end
    let indent = "      "
    if desc_name == nil
        indent = "    "
    else
        let marker = green("✓")
        if desc_failed > 0
            marker = red("✗")
        end
        mod_lines.push("    " .. marker .. " " .. desc_name .. " [" .. counts .. "]")
    end
    for note in desc_notes
        mod_lines.push(indent .. note)
    end
    desc_notes = []
end

fun reset_describe(name)
    desc_name = name
    desc_total = 0
    desc_passed = 0
    desc_failed = 0
    desc_notes = []
    desc_header_shown = false
end

# Print the module's line (condensed) and start counting afresh.
fun end_module()
    flush_describe()
    if condensed and mod_total > 0
        let counts = mod_passed.str() .. "/" .. mod_total.str()
        let marker = green("✓")
        if mod_failed > 0
            marker = red("✗")
            counts = red(counts)
        else
            counts = green(counts)
        end
        puts(marker .. " [" .. counts .. "] " .. mod_name)
        for line in mod_lines
            puts(line)
        end
    end
    mod_name = nil
    mod_total = 0
    mod_passed = 0
    mod_failed = 0
    mod_lines = []
    mod_header_shown = false
    reset_describe(nil)
end

# =============================================================================
# Organising tests
# =============================================================================

# module(name): starts a named group of describe blocks.
pub fun module(name)
    end_module()
    mod_name = name
    if not condensed
        puts("")
        puts(yellow(name))
    end
end

# describe(name, body): a block of tests; body() runs at once.  An error
# escaping body (outside any it) propagates: the file fails to load.
pub fun describe(name, body)
    let outer = {
        name: desc_name, total: desc_total, passed: desc_passed,
        failed: desc_failed, notes: desc_notes,
        header_shown: desc_header_shown, tags: desc_tags,
        before: desc_before, after: desc_after, after_all: desc_after_all
    }
    reset_describe(name)
    # Inner blocks inherit tags and hooks; copies, so that what they add
    # stays theirs.
    desc_tags = desc_tags.concat(take_tags())
    desc_before = desc_before.concat([])
    desc_after = desc_after.concat([])
    desc_after_all = []
    if not condensed
        puts("\n" .. bold(cyan(name)))
    end
    try
        body()
    ensure
        run_hooks(desc_after_all)
        flush_describe()
        desc_name = outer["name"]
        desc_total = outer["total"]
        desc_passed = outer["passed"]
        desc_failed = outer["failed"]
        desc_notes = outer["notes"]
        desc_header_shown = outer["header_shown"]
        desc_tags = outer["tags"]
        desc_before = outer["before"]
        desc_after = outer["after"]
        desc_after_all = outer["after_all"]
    end
end

fun run_hooks(hooks)
    for hook in hooks
        hook()
    end
end

# before(fn) / after(fn): run fn before / after each following test of the
# current describe block (and of blocks nested in it).
pub fun before(setup)
    desc_before.push(setup)
end

pub fun after(teardown)
    desc_after.push(teardown)
end

# before_all(fn) runs fn now; after_all(fn) when the current block ends.
pub fun before_all(setup)
    setup()
end

pub fun after_all(teardown)
    desc_after_all.push(teardown)
end

# Why a test with these tags does not run, or nil.
fun skip_reason(tags)
    for t in excluded_tags
        if tags.contains(t)
            return "tag '" .. t .. "'"
        end
    end
    if only_tags.len() == 0
        return nil
    end
    for t in only_tags
        if tags.contains(t)
            return nil
        end
    end
    "missing required tag"
end

fun count_test()
    total = total + 1
    mod_total = mod_total + 1
    desc_total = desc_total + 1
end

fun record_skip(name, tags, reason)
    skipped = skipped + 1
    if condensed
        let note = "Skipped - " .. name
        if reason != nil
            note = note .. " (" .. reason .. ")"
        end
        desc_notes.push(yellow("⊘") .. " " .. note)
    else
        let why = ""
        if reason != nil
            why = " " .. dimmed("(" .. reason .. ")")
        end
        puts("  " .. yellow("⊘") .. " " .. name .. tag_suffix(tags) .. why)
    end
end

# skip(name, reason = nil): a test that is listed but not run.
pub fun skip(name, reason = nil)
    let tags = desc_tags.concat(take_tags())
    count_test()
    record_skip(name, tags, reason)
end

# Whether the capture mode takes "stdout" or "stderr".
fun captures(stream)
    if capture_mode == "stdout" or capture_mode == "stderr"
        return capture_mode == stream
    end
    capture_mode != "no" and capture_mode != "0"
end

# it(name, body): one test, run now.
pub fun it(name, body)
    let tags = desc_tags.concat(take_tags())
    count_test()
    let reason = skip_reason(tags)
    if reason != nil
        record_skip(name, tags, reason)
        return nil
    end

    let failed_before = failed
    let started = time.ticks_ms()
    let out_buf = nil
    let err_buf = nil
    let out_guard = nil
    let err_guard = nil
    if captures("stdout")
        out_buf = io.StringIO.new()
        out_guard = sys.redirect_stream(sys.stdout, out_buf)
    end
    if captures("stderr")
        err_buf = io.StringIO.new()
        err_guard = sys.redirect_stream(sys.stderr, err_buf)
    end

    in_test = true
    test_notes = []
    let error = nil
    try
        run_hooks(desc_before)
        body()
    catch e
        error = e
    end
    try
        run_hooks(desc_after)
    catch e
        if error == nil
            error = e
        end
    end
    in_test = false

    let out_text = nil
    let err_text = nil
    if out_guard != nil
        out_guard.restore()
        out_text = out_buf.get_value()
    end
    if err_guard != nil
        err_guard.restore()
        err_text = err_buf.get_value()
    end
    let ms = time.ticks_ms() - started

    if error != nil
        count_failure()
        if condensed
            desc_notes.push(red("✗") .. " " .. name .. ": " .. error_text(error))
        end
    end
    if failed == failed_before
        passed = passed + 1
        mod_passed = mod_passed + 1
        desc_passed = desc_passed + 1
        if not condensed
            puts("  " .. green("✓") .. " " .. name .. tag_suffix(tags) .. " " .. dimmed(format_time(ms)))
        end
    elif not condensed or error != nil or out_text or err_text
        report_failed_test(name, tags, ms, error, out_text, err_text)
    end
end

# =============================================================================
# Assertions: a failure is recorded, nothing is raised
# =============================================================================

pub fun assert(condition, message = nil)
    if not condition
        record_failure(with_note("Assertion failed", message))
    end
end

pub fun assert_eq(actual, expected, message = nil)
    if actual != expected
        record_failure(with_note("Expected " .. show(expected) .. " but got " .. show(actual), message))
    end
end

pub fun assert_neq(actual, expected, message = nil)
    if actual == expected
        record_failure(with_note("Expected value to not equal " .. show(expected), message))
    end
end

pub fun assert_gt(actual, expected, message = nil)
    if actual <= expected
        record_failure(with_note("Expected " .. show(actual) .. " > " .. show(expected), message))
    end
end

pub fun assert_lt(actual, expected, message = nil)
    if actual >= expected
        record_failure(with_note("Expected " .. show(actual) .. " < " .. show(expected), message))
    end
end

pub fun assert_gte(actual, expected, message = nil)
    if actual < expected
        record_failure(with_note("Expected " .. show(actual) .. " >= " .. show(expected), message))
    end
end

pub fun assert_lte(actual, expected, message = nil)
    if actual > expected
        record_failure(with_note("Expected " .. show(actual) .. " <= " .. show(expected), message))
    end
end

pub fun assert_nil(value, message = nil)
    if value != nil
        record_failure(with_note("Expected nil but got " .. show(value), message))
    end
end

pub fun assert_not_nil(value, message = nil)
    if value == nil
        record_failure(with_note("Expected non-nil value", message))
    end
end

# assert_type(value, "Int"): compares value.cls() with the name.
pub fun assert_type(value, type_name, message = nil)
    let actual = "Nil"
    if value != nil
        actual = value.cls()
    end
    if actual != type_name
        record_failure(with_note("Expected type " .. type_name .. " but got " .. actual, message))
    end
end

pub fun assert_near(actual, expected, tolerance, message = nil)
    let diff = actual - expected
    if diff < 0
        diff = 0 - diff
    end
    if diff > tolerance
        record_failure(with_note("Expected " .. show(actual) .. " within " .. show(tolerance) .. " of " .. show(expected), message))
    end
end

# assert_raises(T, fn): fn() must raise exactly T (any error when T is Err).
pub fun assert_raises(expected_type, body, message = nil)
    let raised = nil
    try
        body()
    catch e
        raised = e
    end
    if raised == nil
        record_failure(with_note("Expected " .. expected_type .. " to be raised but nothing was raised", message))
    elif expected_type != Err and not raised.is(expected_type)
        record_failure(with_note("Expected " .. expected_type .. " but got " .. error_type(raised) .. ": " .. raised.message(), message))
    end
end

# fail(message): records a failure.
pub fun fail(message)
    record_failure(message)
end

# =============================================================================
# The runner's side
# =============================================================================

# begin_file(path): the runner is about to load a test file.  Its tests
# form a module named after the file until the file calls module().
pub fun begin_file(path)
    end_module()
    mod_name = path
end

# report_load_error(path, e): the file could not be loaded (a syntax error,
# or an error outside any test); counted as a failure.
pub fun report_load_error(path, e)
    end_module()
    failed = failed + 1
    puts("\n" .. red("✗ Failed to load module: " .. path))
    puts("  " .. red("Error: " .. error_type(e) .. ": " .. e.message()))
    show_stack(e, "  ")
end

# stats(): prints the summary; returns the exit status, 0 when nothing
# failed, else the number of failures (at most 255).
pub fun stats()
    end_module()
    let elapsed = time.ticks_ms() - started_ms

    let verdict = bold(green("✓ All tests passed!"))
    if failed > 0
        verdict = bold(red("✗ Some tests failed"))
    end
    puts("\n" .. bold("Test Results:") .. " " .. verdict)
    puts("━" * 62)

    let line = "Total:   " .. total.str()
    if passed > 0
        line = line .. "  |  " .. green("Passed:  " .. passed.str())
    end
    if failed > 0
        line = line .. "  |  " .. red("Failed:  " .. failed.str())
    end
    if skipped > 0
        line = line .. "  |  " .. yellow("Skipped: " .. skipped.str())
    end
    puts(line .. "  |  Elapsed: " .. dimmed(format_time(elapsed)))

    if failed > 255
        return 255
    end
    failed
end

# find_tests(paths): the test files among paths (files, or directories
# searched recursively): names test_*.q or *_test.q, no dot files.
pub fun find_tests(paths)
    let found = []
    for path in paths
        if io.is_dir(path)
            found = found.concat(find_tests_dir(path))
        elif io.is_file(path) and is_test_file(path)
            found.push(path)
        end
    end
    found
end

pub fun find_tests_dir(dir)
    io.glob(dir .. "/**/*.q").filter(fun (path) is_test_file(path) end)
end

fun is_test_file(path)
    let parts = path.split("/")
    let name = parts[parts.len() - 1]
    if name.startswith(".") or name.startswith("_")
        return false
    end
    name.startswith("test_") or name.endswith("_test.q")
end
