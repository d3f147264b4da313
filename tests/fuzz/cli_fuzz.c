/* cli_fuzz.c — the command-line parser on arbitrary argument vectors.
 * The input is split at NUL bytes into argv[1..]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/cli.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size + 1);
    char *argv[MAX_ARGS + 2] = {"quest"};
    int argc = 1;
    quest_cli cli;

    if (!copy)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';
    for (char *p = copy; p <= copy + size && argc <= MAX_ARGS; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;

    FILE *devnull = fopen("/dev/null", "w");
    if (devnull && quest_cli_parse(&cli, argc, argv, devnull)) {
        quest_cli_help(cli.help_topic, devnull);
        quest_cli_free(&cli);
    }
    if (devnull)
        fclose(devnull);
    free(copy);
    return 0;
}
