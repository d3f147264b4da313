/* serve.c — `quest serve`.  The HTTP server is issue #6; until it lands the
 * command says so plainly instead of pretending to serve. */
#include <stdio.h>

#include "config/cli.h"

int quest_serve_main(const quest_cli *cli)
{
    fprintf(stderr, "quest serve %s: the HTTP server is not built yet (issue #6); "
                    "run the app as a script with `quest %s`\n",
            cli->script ? cli->script : "", cli->script ? cli->script : "app.q");
    return 2;
}
