# std/process: running programs to completion, talking to spawned ones,
# pipelines, timeouts, and the errors of bad commands.  Every child here
# ends within a few seconds: slow ones are killed or given a timeout.

use "std/test" {module, describe, it, assert, assert_eq, assert_neq, assert_nil, assert_type, assert_raises}
use "std/process"
use "std/time"

module("std/process")

describe("run", fun ()
    it("captures stdout, stderr and the exit code", fun ()
        let r = process.run(["sh", "-c", "echo out; echo err >&2; exit 3"])
        assert_eq(r.stdout(), "out\n")
        assert_eq(r.stderr(), "err\n")
        assert_eq(r.code(), 3)
        assert(not r.success())
        assert(not r)
        assert_eq(r.str(), "<ProcessResult code=3>")
        assert(process.run(["true"]))
    end)

    it("passes arguments without a shell", fun ()
        assert_eq(process.run(["printf", "%s|", "a b", "$HOME", "*"]).stdout(), "a b|$HOME|*|")
    end)

    it("feeds stdin from a Str or Bytes", fun ()
        assert_eq(process.run(["cat"], {"stdin": "hello"}).stdout(), "hello")
        assert_eq(process.run(["wc", "-c"], {"stdin": b"\x00\x01\x02"}).stdout().trim(), "3")
    end)

    it("moves more data than a pipe holds, both ways", fun ()
        let big = "0123456789abcdef" * 65536
        let r = process.run(["cat"], {"stdin": big})
        assert_eq(r.stdout().len(), big.len())
        let e = process.run(["sh", "-c", "cat >&2"], {"stdin": big})
        assert_eq(e.stderr().len(), big.len())
    end)

    it("runs in another directory with its own environment", fun ()
        assert_eq(process.run(["pwd"], {"cwd": "/tmp"}).stdout().trim(), "/tmp")
        let r = process.run(["sh", "-c", "echo $A-$HOME"], {"env": {"A": "1", "PATH": "/usr/bin:/bin"}})
        assert_eq(r.stdout(), "1-\n")
    end)

    it("gives raw bytes and replaces invalid UTF-8 in text", fun ()
        let r = process.run(["printf", "\\377ok"])
        assert_eq(r.stdout_bytes().len(), 3)
        assert_eq(r.stdout(), chr(65533) .. "ok")
    end)

    it("reports death by a signal as a negative code", fun ()
        assert_eq(process.run(["sh", "-c", "kill -9 $$"]).code(), -9)
    end)

    it("kills a child that outlives its timeout", fun ()
        let start = time.ticks_ms()
        assert_raises(TimeoutErr, fun () process.run(["sleep", "5"], {"timeout": 0.3}) end)
        assert(time.ticks_ms() - start < 3000)
        assert(process.run(["echo", "fast"], {"timeout": 5}).success())
    end)
end)

describe("check_run and shell", fun ()
    it("returns stdout, or raises with the details", fun ()
        assert_eq(process.check_run(["echo", "ok"]), "ok\n")
        let message = ""
        try
            process.check_run(["sh", "-c", "echo out; echo bad >&2; exit 2"])
        catch e: RuntimeErr
            message = e.message()
        end
        assert(message.contains("exit code 2") and message.contains("out") and message.contains("bad"))
    end)

    it("runs a line through sh", fun ()
        assert_eq(process.shell("echo hi | tr a-z A-Z").stdout(), "HI\n")
        assert_eq(process.shell("pwd", {"cwd": "/"}).stdout(), "/\n")
    end)
end)

describe("pipeline", fun ()
    it("connects each stdout to the next stdin", fun ()
        let r = process.pipeline([["printf", "b\\na\\nc\\n"], ["sort"], ["head", "-n", "2"]])
        assert_eq(r.stdout(), "a\nb\n")
        assert_eq(r.code(), 0)
    end)

    it("returns the last command's code and everyone's stderr", fun ()
        let r = process.pipeline([["sh", "-c", "echo one >&2; echo x"], ["grep", "nomatch"]])
        assert_eq(r.code(), 1)
        assert_eq(r.stderr(), "one\n")
    end)

    it("takes options for the whole line", fun ()
        let r = process.pipeline([["cat"], ["wc", "-l"]], {"stdin": "1\n2\n3\n", "timeout": 5})
        assert_eq(r.stdout().trim(), "3")
        assert_raises(TimeoutErr, fun () process.pipeline([["sleep", "5"], ["cat"]], {"timeout": 0.2}) end)
    end)
end)

describe("spawn", fun ()
    it("writes to stdin and reads from stdout and stderr", fun ()
        let p = process.spawn(["sh", "-c", "cat; echo done >&2"])
        assert_type(p, "Process")
        assert_type(p.stdin, "WritableStream")
        assert_type(p.stdout, "ReadableStream")
        assert_eq(p.stdin.write("line 1\n"), 7)
        p.stdin.writelines(["line 2\n", "line 3"])
        p.stdin.close()
        assert_eq(p.stdout.readline(), "line 1\n")
        assert_eq(p.stdout.readlines(), ["line 2\n", "line 3"])
        assert_eq(p.stdout.readline(), "")
        assert_eq(p.stderr.read(), "done\n")
        assert_eq(p.wait(), 0)
        assert_eq(p.wait(), 0)
        assert(p.pid() > 0)
    end)

    it("reads in pieces, as text or bytes", fun ()
        let p = process.spawn(["printf", "abcdef"])
        p.stdin.close()
        assert_eq(p.wait(), 0)
        assert_eq(p.stdout.read(2), "ab")
        assert_eq(p.stdout.read_bytes(3).len(), 3)
        assert_eq(p.stdout.read(), "f")
        assert_eq(p.stdout.read(), "")
    end)

    it("communicates in one go", fun ()
        let p = process.spawn(["sh", "-c", "tr a-z A-Z; echo warn >&2; exit 4"])
        let r = p.communicate("quiet\n")
        assert_eq(r["stdout"], "QUIET\n")
        assert_eq(r["stderr"], "warn\n")
        assert_eq(r["code"], 4)
    end)

    it("waits with a timeout, polls, and stops children", fun ()
        let p = process.spawn(["sleep", "5"])
        assert_nil(p.poll())
        assert_nil(p.wait_with_timeout(0.1))
        p.terminate()
        assert_eq(p.wait_with_timeout(3), -15)
        assert_eq(p.poll(), -15)
        let q = process.spawn(["sleep", "5"])
        q.send_signal("SIGINT")
        assert_eq(q.wait(), -2)
        let k = process.spawn(["sleep", "5"])
        k.kill()
        assert_eq(k.wait(), -9)
        assert_raises(RuntimeErr, fun () k.send_signal("TERM") end)
    end)

    it("reads what arrives within a time limit", fun ()
        let p = process.spawn(["sh", "-c", "sleep 0.3; echo late"])
        assert_eq(p.stdout.read_nonblocking(100, 0.01), "")
        assert_eq(p.stdout.read_nonblocking(100, 3), "late\n")
        p.wait()
    end)

    it("closes stdin and waits at the end of a with block", fun ()
        let code = nil
        with process.spawn(["cat"]) as p
            p.stdin.write("x")
            code = p.poll()
        end
        assert_nil(code)
        with process.spawn(["sh", "-c", "exit 6"]) as q
            code = q
        end
        assert_eq(code.poll(), 6)
    end)

    it("does not let a child stall on a full pipe while we wait", fun ()
        let p = process.spawn(["sh", "-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"])
        p.stdin.close()
        assert_eq(p.wait(), 0)
        assert_eq(p.stdout.read_bytes().len(), 300000)
        assert_eq(p.stderr.read_bytes().len(), 300000)
    end)

    it("refuses writing to a closed stdin", fun ()
        let p = process.spawn(["true"])
        p.stdin.close()
        assert_raises(RuntimeErr, fun () p.stdin.write("x") end)
        p.wait()
        let q = process.spawn(["true"])
        q.wait()
        assert_raises(IOErr, fun () q.stdin.write("x" * 1000000) end)
    end)
end)

describe("bad commands and options", fun ()
    it("raises IOErr for programs that do not exist", fun ()
        assert_raises(IOErr, fun () process.run(["quest-no-such-program-xyz"]) end)
        assert_raises(IOErr, fun () process.spawn(["/no/such/program"]) end)
        assert_raises(IOErr, fun () process.pipeline([["echo", "x"], ["quest-no-such-program-xyz"]]) end)
        let message = ""
        try
            process.run(["quest-no-such-program-xyz"])
        catch e
            message = e.message()
        end
        assert(message.contains("No such file"))
    end)

    it("raises for malformed commands and options", fun ()
        assert_raises(ValueErr, fun () process.run([]) end)
        assert_raises(TypeErr, fun () process.run("ls") end)
        assert_raises(TypeErr, fun () process.run(["echo", 1]) end)
        assert_raises(TypeErr, fun () process.run(["echo"], "opts") end)
        assert_raises(TypeErr, fun () process.run(["echo"], {"env": {"A": 1}}) end)
        assert_raises(TypeErr, fun () process.run(["echo"], {"stdin": 5}) end)
        assert_raises(ValueErr, fun () process.run(["echo"], {"timeout": -1}) end)
        assert_raises(IOErr, fun () process.run(["pwd"], {"cwd": "/no/such/dir"}) end)
        assert_raises(ValueErr, fun () process.pipeline([]) end)
        assert_raises(ValueErr, fun () process.spawn(["true"]).send_signal("SIGNOPE") end)
    end)

    it("exports its types", fun ()
        assert_neq(process.Process, nil)
        assert_neq(process.ProcessResult, nil)
    end)
end)
