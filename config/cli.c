/* cli.c — parsing the command line into a quest_cli (see cli.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config/cli.h"

static bool is(const char *arg, const char *short_name, const char *long_name)
{
    return (short_name && strcmp(arg, short_name) == 0) ||
           (long_name && strcmp(arg, long_name) == 0);
}

/* Match `--name VALUE` or `--name=VALUE` at argv[*i].  Returns 1 and sets
 * *value (advancing *i past a separate value), 0 when argv[*i] is another
 * option, -1 after printing an error when the value is missing. */
static int opt_value(const char *name, int argc, char **argv, int *i,
                     const char **value, FILE *err)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    if (arg[n] != '\0')
        return 0;
    if (*i + 1 >= argc) {
        fprintf(err, "quest: %s needs a value\n", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

static bool parse_int(const char *name, const char *s, int min, int max,
                      int *out, FILE *err)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max) {
        fprintf(err, "quest: %s must be a whole number from %d to %d, not '%s'\n",
                name, min, max, s);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool valid_capture(const char *mode)
{
    static const char *const modes[] = {"all", "no", "0", "1", "stdout", "stderr"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(mode, modes[i]) == 0)
            return true;
    return false;
}

static bool unknown_option(const char *cmd, const char *arg, FILE *err)
{
    fprintf(err, "quest: unknown option '%s'\nRun 'quest %s--help' for usage.\n",
            arg, cmd);
    return false;
}

/* An array that can hold every argument, so appends never overflow. */
static const char **arg_list(int argc)
{
    return calloc((size_t)argc + 1, sizeof(const char *));
}

static bool parse_test(quest_cli *cli, int argc, char **argv, FILE *err)
{
    cli->command = QUEST_CMD_TEST;
    cli->test_paths = arg_list(argc);
    cli->tags = arg_list(argc);
    cli->skip_tags = arg_list(argc);
    if (!cli->test_paths || !cli->tags || !cli->skip_tags) {
        fputs("quest: out of memory\n", err);
        return false;
    }
    bool only_paths = false;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v;
        int r;
        if (only_paths || arg[0] != '-' || arg[1] == '\0') {
            cli->test_paths[cli->n_test_paths++] = arg;
        } else if (strcmp(arg, "--") == 0) {
            only_paths = true;
        } else if (is(arg, "-h", "--help")) {
            cli->command = QUEST_CMD_HELP;
            cli->help_topic = "test";
            return true;
        } else if (is(arg, NULL, "--no-color")) {
            cli->no_color = true;
        } else if (is(arg, "-v", "--verbose")) {
            cli->verbose = true;
        } else if ((r = opt_value("--tag", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            cli->tags[cli->n_tags++] = v;
        } else if ((r = opt_value("--skip-tag", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            cli->skip_tags[cli->n_skip_tags++] = v;
        } else if ((r = opt_value("--cap", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            if (!valid_capture(v)) {
                fprintf(err, "quest: --cap must be all, no, 0, 1, stdout or stderr, not '%s'\n", v);
                return false;
            }
            cli->capture = v;
        } else {
            return unknown_option("test ", arg, err);
        }
    }
    return true;
}

static bool parse_serve(quest_cli *cli, int argc, char **argv, FILE *err)
{
    cli->command = QUEST_CMD_SERVE;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i], *v;
        int r;
        if (arg[0] != '-') {
            if (cli->script) {
                fprintf(err, "quest: serve takes one app, got '%s' and '%s'\n",
                        cli->script, arg);
                return false;
            }
            cli->script = arg;
        } else if (is(arg, "-h", "--help")) {
            cli->command = QUEST_CMD_HELP;
            cli->help_topic = "serve";
            return true;
        } else if ((r = opt_value("--host", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            cli->host = v;
        } else if ((r = opt_value("--port", argc, argv, &i, &v, err)) != 0) {
            if (r < 0 || !parse_int("--port", v, 1, 65535, &cli->port, err))
                return false;
        } else if ((r = opt_value("--workers", argc, argv, &i, &v, err)) != 0) {
            if (r < 0 || !parse_int("--workers", v, 1, QUEST_MAX_WORKERS,
                                    &cli->workers, err))
                return false;
        } else if ((r = opt_value("--config", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            cli->config_path = v;
        } else if ((r = opt_value("--log-format", argc, argv, &i, &v, err)) != 0) {
            if (r < 0)
                return false;
            if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0) {
                fprintf(err, "quest: --log-format takes text or json, got '%s'\n", v);
                return false;
            }
            cli->log_format = v;
        } else {
            return unknown_option("serve ", arg, err);
        }
    }
    if (!cli->script) {
        fputs("quest: serve needs an app: quest serve app.q\n", err);
        return false;
    }
    return true;
}

/* quest -e CODE [args...]: sys.argv is ["-e", args...], as Python's -c. */
static bool parse_eval(quest_cli *cli, int argc, char **argv, FILE *err)
{
    if (argc < 3) {
        fputs("quest: -e needs code to run: quest -e 'puts(1 + 2)'\n", err);
        return false;
    }
    cli->command = QUEST_CMD_EVAL;
    cli->script = argv[2];
    cli->script_argv = calloc((size_t)argc - 1, sizeof(char *));
    if (!cli->script_argv) {
        fputs("quest: out of memory\n", err);
        return false;
    }
    cli->script_argv[0] = argv[1];
    for (int i = 3; i < argc; i++)
        cli->script_argv[i - 2] = argv[i];
    cli->script_argc = argc - 2;
    return true;
}

bool quest_cli_parse(quest_cli *cli, int argc, char **argv, FILE *err)
{
    memset(cli, 0, sizeof *cli);
    bool ok = true;
    if (argc < 2) {
        cli->command = QUEST_CMD_REPL;
    } else if (is(argv[1], "-h", "--help")) {
        cli->command = QUEST_CMD_HELP;
    } else if (is(argv[1], "-v", "--version")) {
        cli->command = QUEST_CMD_VERSION;
    } else if (strcmp(argv[1], "-e") == 0) {
        ok = parse_eval(cli, argc, argv, err);
    } else if (strcmp(argv[1], "test") == 0) {
        ok = parse_test(cli, argc, argv, err);
    } else if (strcmp(argv[1], "serve") == 0) {
        ok = parse_serve(cli, argc, argv, err);
    } else if (argv[1][0] == '-') {
        ok = unknown_option("", argv[1], err);
    } else {
        cli->command = QUEST_CMD_RUN;
        cli->script = argv[1];
        cli->script_argc = argc - 1;
        cli->script_argv = argv + 1;
    }
    if (!ok)
        quest_cli_free(cli);
    return ok;
}

void quest_cli_free(quest_cli *cli)
{
    if (cli->command == QUEST_CMD_EVAL)
        free(cli->script_argv);
    free(cli->test_paths);
    free(cli->tags);
    free(cli->skip_tags);
    memset(cli, 0, sizeof *cli);
}

static const char main_help[] =
    "quest " QUEST_VERSION " - the Quest language and its application server\n"
    "\n"
    "Usage:\n"
    "  quest                         interactive REPL (reads a script from stdin\n"
    "                                when stdin is not a terminal)\n"
    "  quest FILE.q [ARGS...]        run a script; sys.argv is [FILE.q, ARGS...]\n"
    "  quest -e CODE [ARGS...]       run CODE\n"
    "  quest test [PATHS...] [OPTS]  run Quest test files (quest test --help)\n"
    "  quest serve APP [OPTS]        serve a web app (quest serve --help)\n"
    "  quest -h | --help             this help\n"
    "  quest -v | --version          version of quest and of its libraries\n"
    "\n"
    "Environment:\n"
    "  QUEST_PATH       directory searched for modules before the built-in library\n"
    "  QUEST_GC_STRESS  1 = collect garbage at every safe point (for testing)\n";

static const char test_help[] =
    "Usage: quest test [PATHS...] [OPTIONS]\n"
    "\n"
    "Runs the test files (*_test.q, test_*.q) found in PATHS, files or directories\n"
    "(default: test/ if it exists, else the current directory).  Exits non-zero\n"
    "when any test fails.\n"
    "\n"
    "Options:\n"
    "  --tag T        run only tests tagged T (repeatable)\n"
    "  --skip-tag T   skip tests tagged T (repeatable)\n"
    "  --no-color     plain output\n"
    "  -v, --verbose  one line per test\n"
    "  --cap MODE     capture test output: all (default), no, 0, 1, stdout, stderr\n"
    "  -h, --help     this help\n";

static const char serve_help[] =
    "Usage: quest serve APP [OPTIONS]\n"
    "\n"
    "Serves APP (a .q file or an app directory) over HTTP/1.1, HTTP/2 and\n"
    "WebSocket.\n"
    "\n"
    "Options:\n"
    "  --host ADDR    address to listen on (default 127.0.0.1)\n"
    "  --port N       port (default 3000)\n"
    "  --workers N    worker threads (default: number of CPUs)\n"
    "  --log-format F access log as text (default) or json\n"
    "  --config FILE  configuration file (default: quest.toml if present)\n"
    "  -h, --help     this help\n";

void quest_cli_help(const char *topic, FILE *out)
{
    if (topic && strcmp(topic, "test") == 0)
        fputs(test_help, out);
    else if (topic && strcmp(topic, "serve") == 0)
        fputs(serve_help, out);
    else
        fputs(main_help, out);
}
