/* cli.h — what the command line asked for.
 *
 *   quest                          REPL (stdin not a terminal: run it as a script)
 *   quest FILE.q [args...]         run a script
 *   quest -e CODE [args...]        run CODE
 *   quest test [paths] [options]   run Quest test files
 *   quest serve APP [options]      serve an app
 *   quest --help | --version
 *
 * quest_cli_parse() only reads argv: it neither opens files nor looks at the
 * environment, so it is safe to unit-test and fuzz.  Options that were not
 * given stay "unset" (NULL / 0): the commands merge them with quest.toml, the
 * environment and the defaults, in that order of precedence.
 */
#ifndef QUEST_CLI_H
#define QUEST_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "vm/vm.h"

typedef enum {
    QUEST_CMD_REPL,
    QUEST_CMD_RUN,     /* script = file */
    QUEST_CMD_EVAL,    /* script = code given with -e */
    QUEST_CMD_TEST,
    QUEST_CMD_SERVE,   /* script = app file or directory */
    QUEST_CMD_HELP,    /* help_topic: NULL, "test" or "serve" */
    QUEST_CMD_VERSION,
} quest_command;

typedef struct quest_cli {
    quest_command command;
    const char *help_topic;
    const char *script;
    /* sys.argv of the script: its name first, then its arguments.  Points
     * into the argv given to quest_cli_parse(). */
    int script_argc;
    char **script_argv;

    /* quest test */
    const char **test_paths;   /* files or directories */
    int n_test_paths;
    const char **tags;         /* --tag: run only tests with one of these */
    int n_tags;
    const char **skip_tags;    /* --skip-tag */
    int n_skip_tags;
    bool no_color;             /* --no-color */
    bool verbose;              /* -v: one line per test instead of per module */
    const char *capture;       /* --cap: all, no, 0, 1, stdout, stderr */

    /* quest serve */
    const char *host;          /* --host */
    int port;                  /* --port, 1..65535 */
    int workers;               /* --workers, 1..QUEST_MAX_WORKERS */
    const char *config_path;   /* --config FILE */
    const char *log_format;    /* --log-format text|json */
} quest_cli;

#define QUEST_MAX_WORKERS 1024

/* Fill *cli from argv.  On a usage error, print it to `err` and return
 * false; *cli then needs no quest_cli_free(). */
bool quest_cli_parse(quest_cli *cli, int argc, char **argv, FILE *err);
void quest_cli_free(quest_cli *cli);

/* Usage text for `quest --help` (topic NULL), `quest test --help`,
 * `quest serve --help`. */
void quest_cli_help(const char *topic, FILE *out);

/* VM options for this command line: the standard library tables, the
 * script's sys.argv, and QUEST_GC_STRESS=1 from the environment.  Every
 * command that creates a VM starts from these (config/vm_options.c). */
void quest_vm_options(const quest_cli *cli, qvm_options *opts);

/* The commands implemented outside config/: each returns the exit status. */
int quest_test_main(const quest_cli *cli);   /* test runner (vm team) */
int quest_serve_main(const quest_cli *cli);  /* server/ */
/* web.run() in a script: serve that script (server/). */
int quest_serve_app(const char *app, const char *host, int port);
int quest_repl_main(const quest_cli *cli);   /* REPL (vm team) */

#endif
