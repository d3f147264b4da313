/* settings_env.h — .settings.toml's [os.environ] table, exported when quest
 * starts (config/settings_env.c). */
#ifndef QUEST_SETTINGS_ENV_H
#define QUEST_SETTINGS_ENV_H

#include <stdbool.h>
#include <stdio.h>

/* Read ./.settings.toml, if there is one, and setenv() each string value of
 * its [os.environ] table (other values are ignored).  Call it once, before
 * any thread starts.  False after printing why the file could not be read
 * or parsed to err: quest then exits, as the reference does. */
bool quest_settings_export_env(FILE *err);

#endif
