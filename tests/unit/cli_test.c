/* cli_test.c — the command-line parser (config/cli.c). */
#include <stdio.h>

#include "config/cli.h"
#include "tap.h"

#define ARGV(...) ((char *[]){"quest", __VA_ARGS__, NULL})
#define ARGC(argv) ((int)(sizeof(argv) / sizeof(argv[0])) - 1)

/* Parse, sending usage errors to a scratch stream so they don't mix with TAP. */
static bool parse(quest_cli *cli, int argc, char **argv)
{
    FILE *err = tmpfile();
    bool r = quest_cli_parse(cli, argc, argv, err ? err : stderr);
    if (err)
        fclose(err);
    return r;
}

#define PARSE(cli, ...) parse((cli), ARGC(ARGV(__VA_ARGS__)), ARGV(__VA_ARGS__))

static void test_modes(void)
{
    quest_cli c;
    char *none[] = {"quest", NULL};

    ok(parse(&c, 1, none) && c.command == QUEST_CMD_REPL, "no arguments: REPL");
    ok(PARSE(&c, "--version") && c.command == QUEST_CMD_VERSION, "--version");
    ok(PARSE(&c, "-v") && c.command == QUEST_CMD_VERSION, "-v");
    ok(PARSE(&c, "--help") && c.command == QUEST_CMD_HELP && !c.help_topic, "--help");
    ok(!PARSE(&c, "--nope"), "unknown option is an error");
}

static void test_run(void)
{
    quest_cli c;

    ok(PARSE(&c, "app.q", "--port", "9"), "script with arguments");
    is_int(c.command, QUEST_CMD_RUN, "command is run");
    is_str(c.script, "app.q", "script path");
    is_int(c.script_argc, 3, "sys.argv has the script and its arguments");
    is_str(c.script_argv[0], "app.q", "sys.argv[0] is the script");
    is_str(c.script_argv[1], "--port", "script options are not ours");
    quest_cli_free(&c);

    ok(PARSE(&c, "-e", "puts(1)", "x"), "-e CODE ARG");
    is_int(c.command, QUEST_CMD_EVAL, "command is eval");
    is_str(c.script, "puts(1)", "code");
    is_int(c.script_argc, 2, "sys.argv is [-e, x]");
    is_str(c.script_argv[0], "-e", "sys.argv[0] is -e");
    is_str(c.script_argv[1], "x", "sys.argv[1]");
    quest_cli_free(&c);

    ok(!PARSE(&c, "-e"), "-e without code is an error");
}

static void test_test(void)
{
    quest_cli c;

    ok(PARSE(&c, "test", "tests/quest", "--tag", "slow", "--skip-tag=db",
             "--no-color", "-v", "--cap=no", "a_test.q"), "test with options");
    is_int(c.command, QUEST_CMD_TEST, "command is test");
    is_int(c.n_test_paths, 2, "two paths");
    is_str(c.test_paths[1], "a_test.q", "paths after options");
    is_int(c.n_tags, 1, "one tag");
    is_str(c.tags[0], "slow", "--tag VALUE");
    is_str(c.skip_tags[0], "db", "--skip-tag=VALUE");
    ok(c.no_color && c.verbose, "--no-color and -v");
    is_str(c.capture, "no", "--cap");
    quest_cli_free(&c);

    ok(PARSE(&c, "test", "--help") && c.command == QUEST_CMD_HELP, "test --help");
    is_str(c.help_topic, "test", "help topic");
    quest_cli_free(&c);

    ok(!PARSE(&c, "test", "--cap=maybe"), "bad --cap mode");
    ok(!PARSE(&c, "test", "--tag"), "--tag without a value");
    ok(!PARSE(&c, "test", "--bogus"), "unknown test option");
}

static void test_serve(void)
{
    quest_cli c;

    ok(PARSE(&c, "serve", "app.q", "--host", "0.0.0.0", "--port=8080",
             "--workers", "4", "--config", "q.toml"), "serve with options");
    is_int(c.command, QUEST_CMD_SERVE, "command is serve");
    is_str(c.script, "app.q", "app");
    is_str(c.host, "0.0.0.0", "--host");
    is_int(c.port, 8080, "--port");
    is_int(c.workers, 4, "--workers");
    is_str(c.config_path, "q.toml", "--config");
    quest_cli_free(&c);

    ok(PARSE(&c, "serve", "app.q") && c.port == 0 && !c.host && c.workers == 0,
       "unset options stay unset");
    quest_cli_free(&c);

    ok(!PARSE(&c, "serve"), "serve without an app");
    ok(!PARSE(&c, "serve", "a.q", "b.q"), "serve with two apps");
    ok(!PARSE(&c, "serve", "a.q", "--port", "0"), "port 0");
    ok(!PARSE(&c, "serve", "a.q", "--port", "65536"), "port too large");
    ok(!PARSE(&c, "serve", "a.q", "--port", "80x"), "port with junk");
    ok(!PARSE(&c, "serve", "a.q", "--workers", "0"), "zero workers");
}

int main(void)
{
    test_modes();
    test_run();
    test_test();
    test_serve();
    return done_testing();
}
