/* The daemon's usage line and --help text. */
#ifndef AZR_DAEMON_HELP_H
#define AZR_DAEMON_HELP_H

#include "platform.h"

#define PROG "azrelay-proxy"

void azr_help_usage(FILE *f);
void azr_help_print(FILE *f);

#endif
