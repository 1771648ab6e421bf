/* SPDX-License-Identifier: MIT */
/* tests/unit/cli_fx.h - calling cli_parse_run() from tests. */
#ifndef TESTS_CLI_FX_H
#define TESTS_CLI_FX_H

#include "vmm/cli.h"

/* A readable file to stand for the guest image (cli_parse_run opens it). */
#define CLI_FX_GUEST "/proc/self/exe"

/*
 * cli_parse_run() over the @argc strings that follow (at most 15); @err
 * (256 bytes) is cleared first.
 */
int cli_fx_parse_run(struct vm_config *cfg, char *err, int argc, ...);

#endif
