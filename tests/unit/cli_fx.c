// SPDX-License-Identifier: MIT
/* tests/unit/cli_fx.c - see cli_fx.h. */
#include <stdarg.h>

#include "cli_fx.h"

int cli_fx_parse_run(struct vm_config *cfg, char *err, int argc, ...)
{
	char *argv[16];
	va_list ap;

	if (argc < 0 || argc > 15)
		return -1;
	va_start(ap, argc);
	for (int i = 0; i < argc; i++)
		argv[i] = va_arg(ap, char *);
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return cli_parse_run(argc, argv, cfg, err, 256);
}
