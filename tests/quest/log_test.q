# std/log: levels, the logger hierarchy, handlers, formatters and filters.
# Handlers write into io.StringIO buffers so that the output can be read.

use "std/test" {module, describe, it, assert, assert_eq, assert_raises}
use "std/log"
use "std/io"
use "std/sys"

module("std/log")

let scratch = "/tmp/quest_log_test_" .. sys.pid().str()

# A handler that writes bare messages into buf.
fun capture(buf, level = log.NOTSET)
    log.StreamHandler.new(level: level, stream: buf,
        formatter_obj: log.Formatter.new(format_string: "{level_name}:{name}:{message}"))
end

describe("levels", fun ()
    it("has the usual numbers and names", fun ()
        assert_eq([log.NOTSET, log.DEBUG, log.INFO, log.WARNING, log.ERROR, log.CRITICAL], [0, 10, 20, 30, 40, 50])
        assert_eq(log.level_to_name(log.WARNING), "WARNING")
        assert_eq(log.level_to_name(25), "Level 25")
        assert_eq(log.name_to_level("error"), 40)
        assert_eq(log.name_to_level("WARN"), 30)
    end)

    it("rejects unknown level names and non-levels", fun ()
        assert_raises(ValueErr, fun () log.name_to_level("LOUD") end)
        let logger = log.Logger.new(name: "t")
        assert_raises(ValueErr, fun () logger.set_level("LOUD") end)
        assert_raises(TypeErr, fun () logger.set_level([1]) end)
    end)
end)

describe("loggers", fun ()
    it("passes records at or above the level to its handlers", fun ()
        let buf = io.StringIO.new()
        let logger = log.Logger.new(name: "svc", level: log.INFO, handlers: [capture(buf)], propagate: false)
        logger.debug("hidden")
        logger.info("shown")
        logger.log("ERROR", "by name")
        assert_eq(buf.get_value(), "INFO:svc:shown\nERROR:svc:by name\n")
    end)

    it("inherits the nearest ancestor's level", fun ()
        let parent = log.get_logger("lt_inherit")
        let child = log.get_logger("lt_inherit.db.query")
        parent.set_level(log.ERROR)
        assert_eq(child.effective_level(), log.ERROR)
        assert(not child.is_enabled_for(log.WARNING))
        log.get_logger("lt_inherit.db").set_level(log.DEBUG)
        assert_eq(child.effective_level(), log.DEBUG)
    end)

    it("returns the same logger for the same name", fun ()
        let a = log.get_logger("lt_same")
        a.set_level(log.CRITICAL)
        assert_eq(log.get_logger("lt_same").level, log.CRITICAL)
        assert_eq(log.get_logger("").name, "root")
        assert_eq(log.get_logger("root").name, "root")
    end)

    it("propagates records to the ancestors' handlers", fun ()
        let top = io.StringIO.new()
        let low = io.StringIO.new()
        let app = log.get_logger("lt_prop")
        app.propagate = false
        app.add_handler(capture(top))
        let db = log.get_logger("lt_prop.db")
        db.set_level(log.DEBUG)
        db.add_handler(capture(low))
        db.debug("query")
        assert_eq(low.get_value(), "DEBUG:lt_prop.db:query\n")
        assert_eq(top.get_value(), "DEBUG:lt_prop.db:query\n")
        db.propagate = false
        db.info("local")
        assert(not top.get_value().contains("local"))
    end)

    it("adds, removes and clears handlers", fun ()
        let a = io.StringIO.new()
        let b = io.StringIO.new()
        let ha = capture(a)
        let hb = capture(b)
        let logger = log.Logger.new(name: "h", level: log.DEBUG, propagate: false)
        logger.add_handler(ha)
        logger.add_handler(hb)
        logger.info("one")
        logger.remove_handler(ha)
        logger.info("two")
        logger.clear_handlers()
        logger.info("three")
        assert_eq(a.get_value(), "INFO:h:one\n")
        assert_eq(b.get_value(), "INFO:h:one\nINFO:h:two\n")
    end)

    it("logs an exception with its type, message and stack", fun ()
        let buf = io.StringIO.new()
        let logger = log.Logger.new(name: "x", level: log.DEBUG, handlers: [capture(buf)], propagate: false)
        try
            raise ValueErr.new("bad value")
        catch e
            logger.exception("failed", e)
        end
        let text = buf.get_value()
        assert(text.startswith("ERROR:x:failed\nValueErr: bad value"), text)
        assert(text.contains("Stack trace:"), text)
    end)
end)

describe("handlers", fun ()
    it("hold back records below their own level", fun ()
        let buf = io.StringIO.new()
        let h = capture(buf, log.WARNING)
        let logger = log.Logger.new(name: "lvl", level: log.DEBUG, handlers: [h], propagate: false)
        logger.info("quiet")
        h.set_level("DEBUG")
        logger.info("loud")
        assert_eq(buf.get_value(), "INFO:lvl:loud\n")
    end)

    it("report whether they emitted", fun ()
        let h = capture(io.StringIO.new(), log.ERROR)
        let logger = log.Logger.new(name: "r")
        let rec = {"record": {"name": "r", "level_no": log.INFO, "level_name": "INFO", "message": "m"}, "exc_info": nil}
        assert_eq(h.handle(rec), nil)
        h.set_level(log.INFO)
        assert(h.handle(rec) != nil)
    end)

    it("append to files, or truncate once with mode w", fun ()
        let path = scratch .. ".log"
        io.write(path, "old\n")
        let fmt = log.Formatter.new(format_string: "{message}")
        let logger = log.Logger.new(name: "f", level: log.DEBUG, propagate: false,
            handlers: [log.FileHandler.new(filepath: path, mode: "w", formatter_obj: fmt)])
        logger.info("first")
        logger.info("second")
        assert_eq(io.read(path), "first\nsecond\n")
        io.remove(path)
    end)

    it("never raise when the file cannot be written", fun ()
        let logger = log.Logger.new(name: "bad", level: log.DEBUG, propagate: false,
            handlers: [log.FileHandler.new(filepath: "/no/such/dir/x.log")])
        let err = io.StringIO.new()
        let guard = sys.redirect_stream(sys.stderr, err)
        logger.error("lost")
        guard.restore()
        assert(err.get_value().contains("Logging error"), err.get_value())
    end)

    it("apply filters by logger name", fun ()
        let buf = io.StringIO.new()
        let h = capture(buf)
        h.add_filter(log.Filter.new(name: "app.db"))
        let logger = log.Logger.new(name: "app.db.pool", level: log.DEBUG, handlers: [h], propagate: false)
        logger.info("in")
        let other = log.Logger.new(name: "app.dbx", level: log.DEBUG, handlers: [h], propagate: false)
        other.info("out")
        assert_eq(buf.get_value(), "INFO:app.db.pool:in\n")
    end)

    it("the base Handler has no emit", fun ()
        let h = log.Handler.new()
        let rec = {"record": {"name": "r", "level_no": log.INFO, "message": "m"}, "exc_info": nil}
        assert_raises(RuntimeErr, fun () h.handle(rec) end)
    end)
end)

describe("formatters", fun ()
    it("fill in the fields named in braces and keep other braces", fun ()
        let f = log.Formatter.new(format_string: "{level_no} {name} {message} {unknown} {")
        let rec = {"record": {"name": "n", "level_no": 20, "level_name": "INFO", "message": "m"}, "exc_info": nil}
        assert_eq(f.format(rec), "20 n m {unknown} {")
    end)

    it("write the timestamp with date_format", fun ()
        use "std/time"
        let f = log.Formatter.new(format_string: "{timestamp}|{message}", date_format: "%Y")
        let now = time.now_local()
        let rec = {"record": {"name": "n", "level_no": 20, "message": "m", "datetime": now}, "exc_info": nil}
        assert_eq(f.format(rec), now.year().str() .. "|m")
    end)

    it("colour level names only when asked", fun ()
        let rec = {"record": {"name": "n", "level_no": 40, "level_name": "ERROR", "message": "m"}, "exc_info": nil}
        let plain = log.Formatter.new(format_string: "{level_name}")
        let colored = log.Formatter.new(format_string: "{level_name}", use_colors: true)
        assert_eq(plain.format(rec), "ERROR")
        assert(colored.format(rec).contains(chr(27) .. "[31m"))
    end)
end)

describe("module functions", fun ()
    it("basic_config sends the root logger to a file in a format", fun ()
        let path = scratch .. ".basic.log"
        log.basic_config(log.INFO, "{level_name}|{message}", path, "w")
        log.debug("no")
        log.info("yes")
        log.warning("also")
        assert_eq(io.read(path), "INFO|yes\nWARNING|also\n")
        io.remove(path)
        log.basic_config(log.WARNING)
        assert_eq(log.get_level(), log.WARNING)
    end)

    it("configure applies a settings table", fun ()
        let path = scratch .. ".conf.log"
        log.configure({"level": "ERROR", "filename": path, "format": "<{message}>"})
        log.warning("skipped")
        log.error("kept")
        assert_eq(io.read(path), "<kept>\n")
        io.remove(path)
        log.configure({"format": "{timestamp} {level_name} [{name}] {message}"})
        log.basic_config(log.WARNING)
    end)
end)
