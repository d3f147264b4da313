"""
std/log — leveled, hierarchical logging in the manner of Python's logging.

    use "std/log"
    log.info("server started")                 # the root logger

    let db = log.get_logger("app.db")          # a named logger
    db.set_level(log.DEBUG)
    db.debug("connected")                      # goes to app.db's handlers,
                                               # then app's, then root's

A message passes a logger when its level is at least the logger's
effective level (its own, else the nearest ancestor's).  Every handler of
the logger and of its ancestors (while `propagate` is true) then sees it;
each handler has its own level and filters, and a Formatter that turns the
record into text.  Logging never raises: a handler that cannot write
reports the failure on stderr.

Records are Dicts: {"record": {...fields...}, "exc_info": error or nil},
the fields being name, level_no, level_name, message, datetime, created,
relative_created, module_name, line_no, func_name, filename, pathname.

When ./.settings.toml has a [log] table, it is applied once, on first
import, as log.configure(table).  See docs/stdlib/log.md.
"""

use "std/io"
use "std/term"
use "std/time"

pub const NOTSET = 0
pub const DEBUG = 10
pub const INFO = 20
pub const WARNING = 30
pub const ERROR = 40
pub const CRITICAL = 50

const LEVEL_NAMES = {"0": "NOTSET", "10": "DEBUG", "20": "INFO", "30": "WARNING",
                     "40": "ERROR", "50": "CRITICAL"}
const LEVEL_NUMBERS = {"NOTSET": 0, "DEBUG": 10, "INFO": 20, "WARNING": 30, "WARN": 30,
                       "ERROR": 40, "CRITICAL": 50, "FATAL": 50}

const DEFAULT_FORMAT = "{timestamp} {level_name} [{name}] {message}"
const DEFAULT_DATE_FORMAT = "[%d/%b/%Y %H:%M:%S]"

let started_ms = time.ticks_ms()

# =============================================================================
# Levels
# =============================================================================

pub fun level_to_name(level)
    "The name of a level number: \"INFO\" for 20, \"Level 25\" for others."
    let name = LEVEL_NAMES.get(level.str())
    if name == nil
        return "Level " .. level.str()
    end
    name
end

pub fun name_to_level(name)
    "The number of a level name (any case); ValueErr for an unknown name."
    let level = nil
    if name.is(Str)
        level = LEVEL_NUMBERS.get(name.upper())
    end
    if level == nil
        raise ValueErr.new("Unknown log level: " .. name)
    end
    level
end

# A level given as Int or as a name.
fun to_level(level)
    if level.is(Int)
        return level
    elif level.is(Str)
        return name_to_level(level)
    end
    raise TypeErr.new("A log level must be Int or Str, got " .. level.cls())
end

# Report a failure of a handler without raising: logging must not break
# the program it observes.
fun report_failure(what, e)
    try
        io.stderr.write("Logging error: " .. what .. ": " .. e.message() .. "\n")
    catch ignored
    end
end

# =============================================================================
# Records
# =============================================================================

fun make_record(name, level, message, exc_info)
    let now = time.now_local()
    let record = {
        "name": name,
        "level_no": level,
        "level_name": level_to_name(level),
        "message": message,
        "datetime": now,
        "created": time.now().as_millis() / 1000.0,
        "relative_created": (time.ticks_ms() - started_ms) * 1.0,
        "pathname": nil,
        "filename": nil,
        "module_name": nil,
        "line_no": nil,
        "func_name": nil
    }
    {"record": record, "exc_info": exc_info}
end

# Replace each {field} of template by its value in fields; other braces
# stay as they are.
fun render(template, fields)
    let pieces = template.split("{")
    let out = [pieces[0]]
    let i = 1
    while i < pieces.len()
        let piece = pieces[i]
        let inner = piece.split("}")
        if inner.len() > 1 and fields.contains(inner[0])
            out.push("" .. fields[inner[0]])
            out.push(inner.slice(1, inner.len()).join("}"))
        else
            out.push("{" .. piece)
        end
        i = i + 1
    end
    out.join("")
end

# =============================================================================
# Formatter
# =============================================================================

pub type Formatter
    """
    Turns a record into a line of text.  format_string names record fields
    in braces ({name}, {message}, {level_name}, {level_no}, {module_name},
    {line_no}, {func_name}, {filename}, {pathname}, {created},
    {relative_created}) plus {timestamp}, the record's time written with
    date_format (strftime codes).  use_colors colours the level name.
    """
    pub format_string: Str = DEFAULT_FORMAT
    pub date_format: Str = DEFAULT_DATE_FORMAT
    pub use_colors: Bool = false

    fun format(record_data)
        let record = record_data["record"]
        let fields = record.clone()
        fields["timestamp"] = self.format_time(record)
        let level_name = record.get("level_name")
        if level_name == nil
            level_name = level_to_name(record["level_no"])
        end
        if self.use_colors
            level_name = self.colorize_level(level_name, record["level_no"])
        end
        fields["level_name"] = level_name
        let text = render(self.format_string, fields)
        let exc = record_data.get("exc_info")
        if exc != nil
            text = text .. "\n" .. self.format_exception(exc)
        end
        text
    end

    fun format_time(record)
        let when = record.get("datetime")
        if when == nil
            return ""
        end
        when.format(self.date_format)
    end

    fun format_exception(exc)
        let lines = [exc.type() .. ": " .. exc.message()]
        let stack = exc.stack()
        if stack.len() > 0
            lines.push("Stack trace:")
            for frame in stack
                lines.push("  " .. frame)
            end
        end
        lines.join("\n")
    end

    fun colorize_level(level_name, level_no)
        if level_no >= CRITICAL
            return term.bold(term.red(level_name))
        elif level_no >= ERROR
            return term.red(level_name)
        elif level_no >= WARNING
            return term.yellow(level_name)
        elif level_no >= INFO
            return term.cyan(level_name)
        end
        term.grey(level_name)
    end
end

let default_formatter = Formatter.new()

# =============================================================================
# Filter
# =============================================================================

pub type Filter
    """
    Passes records of the logger named `name` and of its descendants
    ("app.db" passes "app.db" and "app.db.query", not "app.dbx").  An
    empty name passes everything.
    """
    pub name: Str = ""

    fun filter(record)
        let logger = record["name"]
        self.name == "" or logger == self.name or logger.startswith(self.name .. ".")
    end
end

# =============================================================================
# Handlers
# =============================================================================

# What every handler does before emitting: its level, then its filters.
# Returns the record data when it was emitted, nil when it was held back.
fun handle_with(handler, record_data)
    let record = record_data["record"]
    if record["level_no"] < handler.level
        return nil
    end
    for f in handler.filters
        if not f.filter(record)
            return nil
        end
    end
    handler.emit(record_data)
    record_data
end

fun format_with(handler, record_data)
    let formatter = handler.formatter_obj
    if formatter == nil
        formatter = default_formatter
    end
    formatter.format(record_data)
end

pub type Handler
    "The common shape of handlers; emit() is left to the concrete ones."
    pub level: Int = NOTSET
    pub formatter_obj = nil
    pub filters: Array = []

    fun emit(record_data)
        raise RuntimeErr.new("Handler.emit() must be implemented by a concrete handler")
    end
    fun handle(record_data) handle_with(self, record_data) end
    fun format(record_data) format_with(self, record_data) end
    fun set_level(level) self.level = to_level(level) end
    fun set_formatter(formatter) self.formatter_obj = formatter end
    fun add_filter(f) self.filters.push(f) end
end

pub type StreamHandler
    """
    Writes each record as a line to `stream`: any object with write(Str)
    (io.stderr, an io.StringIO ...), or the program's standard output when
    nil.
    """
    pub level: Int = NOTSET
    pub formatter_obj = nil
    pub filters: Array = []
    pub stream = nil

    fun emit(record_data)
        let line = self.format(record_data)
        if self.stream == nil
            puts(line)
            return nil
        end
        try
            self.stream.write(line .. "\n")
        catch e
            report_failure("cannot write to the stream", e)
        end
    end
    fun handle(record_data) handle_with(self, record_data) end
    fun format(record_data) format_with(self, record_data) end
    fun set_level(level) self.level = to_level(level) end
    fun set_formatter(formatter) self.formatter_obj = formatter end
    fun add_filter(f) self.filters.push(f) end
end

pub type FileHandler
    """
    Appends each record as a line to the file at `filepath`.  With mode
    "w" the file is emptied by the first record, then appended to.
    """
    pub filepath: Str = ""
    pub mode: Str = "a"
    pub level: Int = NOTSET
    pub formatter_obj = nil
    pub filters: Array = []

    fun emit(record_data)
        let line = self.format(record_data) .. "\n"
        try
            if self.mode == "w"
                io.write(self.filepath, line)
                self.mode = "a"
            elif self.mode == "a"
                io.append(self.filepath, line)
            else
                raise ValueErr.new("file mode must be \"a\" or \"w\", not \"" .. self.mode .. "\"")
            end
        catch e
            report_failure("cannot write to " .. self.filepath, e)
        end
    end
    fun handle(record_data) handle_with(self, record_data) end
    fun format(record_data) format_with(self, record_data) end
    fun set_level(level) self.level = to_level(level) end
    fun set_formatter(formatter) self.formatter_obj = formatter end
    fun add_filter(f) self.filters.push(f) end
end

# =============================================================================
# Logger
# =============================================================================

pub type Logger
    """
    A named source of records.  level nil (the default for named loggers)
    means "as my parent"; propagate passes records on to the parent's
    handlers after the logger's own.
    """
    pub name: Str = ""
    pub level = nil
    pub handlers: Array = []
    pub propagate: Bool = true
    pub parent = nil

    fun debug(message) self.log(DEBUG, message) end
    fun info(message) self.log(INFO, message) end
    fun warning(message) self.log(WARNING, message) end
    fun error(message) self.log(ERROR, message) end
    fun critical(message) self.log(CRITICAL, message) end
    fun exception(message, exc = nil) self.log(ERROR, message, exc) end

    fun log(level, message, exc_info = nil)
        let lvl = to_level(level)
        if self.is_enabled_for(lvl)
            self.handle(make_record(self.name, lvl, message, exc_info))
        end
        nil
    end

    fun is_enabled_for(level)
        to_level(level) >= self.effective_level()
    end

    fun effective_level()
        let logger = self
        while logger != nil
            if logger.level != nil
                return logger.level
            end
            logger = logger.parent
        end
        NOTSET
    end

    # Own handlers, then the ancestors' while propagation allows.
    fun handle(record_data)
        let logger = self
        while logger != nil
            for h in logger.handlers
                h.handle(record_data)
            end
            if not logger.propagate
                return nil
            end
            logger = logger.parent
        end
        nil
    end

    fun set_level(level)
        if level == nil
            self.level = nil
        else
            self.level = to_level(level)
        end
    end

    fun add_handler(handler) self.handlers.push(handler) end

    fun remove_handler(handler)
        let id = handler._id()
        self.handlers = self.handlers.filter(fun (h) h._id() != id end)
    end

    fun clear_handlers() self.handlers = [] end
end

# =============================================================================
# The registry of named loggers
# =============================================================================

let loggers = {}

pub fun get_root_logger()
    "The root of the hierarchy: level WARNING, one StreamHandler."
    let root = loggers.get("root")
    if root == nil
        root = Logger.new(name: "root", level: WARNING, handlers: [StreamHandler.new()],
                          propagate: false)
        loggers["root"] = root
    end
    root
end

pub fun get_logger(name = "")
    """
    The logger of a dotted name, created (with its missing ancestors) on
    first use; "" and "root" name the root logger.
    """
    if name == "" or name == "root"
        return get_root_logger()
    end
    let logger = loggers.get(name)
    if logger != nil
        return logger
    end
    let parts = name.split(".")
    let parent = get_root_logger()
    if parts.len() > 1
        parent = get_logger(parts.slice(0, parts.len() - 1).join("."))
    end
    logger = Logger.new(name: name, parent: parent)
    loggers[name] = logger
    logger
end

# =============================================================================
# The root logger's shortcuts
# =============================================================================

pub fun debug(message) get_root_logger().debug(message) end
pub fun info(message) get_root_logger().info(message) end
pub fun warning(message) get_root_logger().warning(message) end
pub fun error(message) get_root_logger().error(message) end
pub fun critical(message) get_root_logger().critical(message) end
pub fun exception(message, exc = nil) get_root_logger().exception(message, exc) end

pub fun set_level(level)
    "Set the root logger's level."
    get_root_logger().set_level(level)
end

pub fun get_level()
    "The root logger's effective level."
    get_root_logger().effective_level()
end

pub fun basic_config(level = nil, format = nil, filename = nil, filemode = nil)
    """
    Give the root logger a single handler: a FileHandler on filename (mode
    filemode, default "a") when given, else a StreamHandler on standard
    output; its Formatter uses format (default
    "{timestamp} {level_name} [{name}] {message}").  Sets the root level
    when level is not nil.
    """
    let root = get_root_logger()
    let handler = nil
    let formatter = Formatter.new(format_string: format ?: DEFAULT_FORMAT)
    if filename != nil
        if filename.contains("\x00")
            raise ValueErr.new("Invalid log file path: contains a NUL byte")
        end
        handler = FileHandler.new(filepath: filename, mode: filemode ?: "a", formatter_obj: formatter)
    else
        handler = StreamHandler.new(formatter_obj: formatter)
    end
    root.clear_handlers()
    root.add_handler(handler)
    if level != nil
        root.set_level(level)
    end
end

pub fun configure(options)
    """
    Apply a Dict of settings (the [log] table of .settings.toml): level
    (root level, name or number), format, date_format, use_colors
    (for the default formatter, used by handlers without their own),
    filename and filemode (root logs to that file instead of stdout).
    """
    if options.contains("format")
        default_formatter.format_string = options["format"]
    end
    if options.contains("date_format")
        default_formatter.date_format = options["date_format"]
    end
    if options.contains("use_colors")
        default_formatter.use_colors = options["use_colors"]
    end
    if options.contains("filename")
        let root = get_root_logger()
        root.clear_handlers()
        root.add_handler(FileHandler.new(filepath: options["filename"],
                                         mode: options.get("filemode", "a")))
    end
    if options.contains("level")
        set_level(options["level"])
    end
end

fun configure_from_settings()
    use "std/settings"
    if settings.contains("log")
        configure(settings.section("log"))
    end
end

configure_from_settings()
