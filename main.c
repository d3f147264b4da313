/* main.c — the quest executable: parse the command line, run one command.
 *
 * Running a script lives here; the test runner, the REPL and the server are
 * entered through quest_test_main(), quest_repl_main() and quest_serve_main()
 * (config/cli.h). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gmp.h>
#include <h2o/version.h>
#include <libpq-fe.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <uv.h>
#include <zlib.h>

#include "config/cli.h"
#include "config/settings_env.h"

/* Versions of the libraries actually loaded, where they can tell us; h2o
 * only has its compile-time version. */
static void print_version(FILE *out)
{
    char pcre2[32] = "?";
    int pq = PQlibVersion();

    pcre2_config(PCRE2_CONFIG_VERSION, pcre2);
    fprintf(out, "quest %s\n", QUEST_VERSION);
    fprintf(out, "  h2o %s, libuv %s, %s, libpq %d.%d, SQLite %s,\n",
            H2O_VERSION, uv_version_string(), OpenSSL_version(OPENSSL_VERSION),
            pq / 10000, pq % 10000, sqlite3_libversion());
    fprintf(out, "  libcurl %s, PCRE2 %s, zlib %s, GMP %s\n",
            curl_version_info(CURLVERSION_NOW)->version, pcre2, zlibVersion(),
            gmp_version);
}

/* Read all of stdin into a NUL-terminated buffer (NULL on failure). */
static char *read_stdin(void)
{
    size_t len = 0, cap = 0;
    char *buf = NULL;

    do {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *bigger = realloc(buf, cap);
            if (!bigger) {
                free(buf);
                return NULL;
            }
            buf = bigger;
        }
        len += fread(buf + len, 1, cap - len - 1, stdin);
    } while (!feof(stdin) && !ferror(stdin));
    if (ferror(stdin)) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

/* Run a file (path != NULL) or source text in a fresh VM.  Exit status 1
 * when an exception escapes, as the reference does. */
static int run_script(const quest_cli *cli, const char *path,
                      const char *name, const char *src)
{
    qvm_options opts;
    quest_vm_options(cli, &opts);
    opts.serve = quest_serve_app;
    qvm *vm = vm_new(&opts);
    if (!vm) {
        fputs("quest: cannot create the VM (out of memory)\n", stderr);
        return 1;
    }
    qval r = path ? vm_run_file(vm, path) : vm_run_string(vm, name, src);
    int status = 0;
    if (IS_EXC(r)) {
        vm_report_exc(vm, stderr);
        status = 1;
    }
    vm_free(vm);
    return status;
}

/* `quest < script.q`: no REPL when nobody is typing. */
static int run_stdin(const quest_cli *cli)
{
    char *src = read_stdin();
    if (!src) {
        perror("quest: reading stdin");
        return 1;
    }
    int status = run_script(cli, NULL, "<stdin>", src);
    free(src);
    return status;
}

static int run_command(const quest_cli *cli)
{
    switch (cli->command) {
    case QUEST_CMD_HELP:
        quest_cli_help(cli->help_topic, stdout);
        return 0;
    case QUEST_CMD_VERSION:
        print_version(stdout);
        return 0;
    case QUEST_CMD_RUN:
        return run_script(cli, cli->script, NULL, NULL);
    case QUEST_CMD_EVAL:
        return run_script(cli, NULL, "<-e>", cli->script);
    case QUEST_CMD_TEST:
        return quest_test_main(cli);
    case QUEST_CMD_SERVE:
        return quest_serve_main(cli);
    case QUEST_CMD_REPL:
        return isatty(STDIN_FILENO) ? quest_repl_main(cli) : run_stdin(cli);
    }
    return 2;
}

int main(int argc, char **argv)
{
    quest_cli cli;
    if (!quest_cli_parse(&cli, argc, argv, stderr))
        return 2;
    if (!quest_settings_export_env(stderr)) {
        quest_cli_free(&cli);
        return 1;
    }
    int status = run_command(&cli);
    quest_cli_free(&cli);
    return status;
}
