// SPDX-License-Identifier: MIT
/* vmm/cli_compact.c - the `vmm compact` client (cli_compact.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "abi/boot.h"
#include "vmm/cli.h"
#include "vmm/cli_api.h"
#include "vmm/cli_compact.h"

const char cli_compact_help[] =
	"usage: vmm compact --api PATH [--zone ZONE] [--order N] [--json]\n"
	"                   [--timeout S]\n"
	"\n"
	"Run compaction in a running VM now (the host page database; in the\n"
	"hosted model the guest's movable blocks move through its migration\n"
	"ring) and print, per zone, what it did: frames scanned by the\n"
	"migrate and free scanners, frames migrated, failed and pending,\n"
	"free blocks of the order before and after, the fragmentation score\n"
	"before and after, and the time taken.\n"
	"\n"
	"options:\n"
	"  --api PATH          the control socket of `vmm run --api PATH`\n"
	"  --zone ZONE         DMA, DMA32, Normal or Movable (default: every\n"
	"                      populated zone)\n"
	"  --order N           stop once a free block of order N (0 .. 10)\n"
	"                      exists (default: compact the whole zone; the\n"
	"                      blocks counted are then order 9, 2 MiB)\n"
	"  --json              print the raw JSON result (docs/api.md)\n"
	"  --timeout S         give up after S seconds (default 5), saying\n"
	"                      whether connecting, sending or waiting for\n"
	"                      the reply timed out; exit status 1\n"
	"  -h, --help          show this help\n"
	"\n"
	"exit status: 0 done; 1 no VMM at PATH, the VMM did not answer within\n"
	"--timeout, or it answered with an error (its code and message are\n"
	"printed); 2 bad arguments\n";

static int cli_compact_error(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cli_compact_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "--name value" or "--name=value" at argv[*i]; NULL if not @name. */
static bool cli_compact_opt(int argc, char **argv, int *i, const char *name,
			    const char **value)
{
	size_t n = strlen(name);
	const char *arg = argv[*i];

	if (strncmp(arg, name, n) != 0 || (arg[n] != '\0' && arg[n] != '='))
		return false;
	if (arg[n] == '=')
		*value = arg + n + 1;
	else
		*value = *i + 1 < argc ? argv[++*i] : NULL;
	return true;
}

static int cli_compact_order(const char *v, int *order, char *err,
			     size_t errlen)
{
	unsigned u;

	if (v && cli_parse_uint(v, 0, 10, &u) == 0) {
		*order = (int)u;
		return 0;
	}
	return cli_compact_error(err, errlen,
				 "--order: '%s' is not an order in 0 .. 10",
				 CLI_Q(v ? v : ""));
}

static int cli_compact_zone(const char *v, const char **zone, char *err,
			    size_t errlen)
{
	static const char *const names[] = {"DMA", "DMA32", "Normal",
					    "Movable"};

	for (size_t i = 0; v && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcasecmp(v, names[i]) == 0) {
			*zone = names[i];
			return 0;
		}
	}
	return cli_compact_error(err, errlen,
				 "--zone: '%s' is not DMA, DMA32, Normal or "
				 "Movable",
				 CLI_Q(v ? v : ""));
}

static int cli_compact_arg(int argc, char **argv, int *i,
			   struct cli_compact_opts *o, char *err, size_t errlen)
{
	const char *v;

	if (strcmp(argv[*i], "--json") == 0) {
		o->json = true;
		return 0;
	}
	if (cli_compact_opt(argc, argv, i, "--api", &v)) {
		if (!v || !*v)
			return cli_compact_error(err, errlen,
						 "--api needs a socket path");
		o->api_path = v;
		return cli_api_check_path(v, err, errlen);
	}
	if (cli_compact_opt(argc, argv, i, "--zone", &v))
		return cli_compact_zone(v, &o->zone, err, errlen);
	if (cli_compact_opt(argc, argv, i, "--order", &v))
		return cli_compact_order(v, &o->order, err, errlen);
	if (cli_compact_opt(argc, argv, i, "--timeout", &v))
		return cli_api_parse_timeout(v, &o->timeout_s, err, errlen);
	if (argv[*i][0] != '-')
		return cli_compact_error(err, errlen,
					 "unexpected argument '%s'",
					 CLI_Q(argv[*i]));
	return cli_compact_error(err, errlen, "unknown option '%s'",
				 CLI_Q(argv[*i]));
}

int cli_compact_parse(int argc, char **argv, struct cli_compact_opts *o,
		      char *err, size_t errlen)
{
	*o = (struct cli_compact_opts){.order = -1,
				       .timeout_s = CLI_API_TIMEOUT_DEFAULT_S};
	for (int i = 1; i < argc; i++) {
		int r;

		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
		r = cli_compact_arg(argc, argv, &i, o, err, errlen);
		if (r < 0)
			return r;
	}
	if (!o->api_path)
		return cli_compact_error(err, errlen,
					 "--api PATH is required (the socket "
					 "of `vmm run --api PATH`)");
	return 0;
}

json_t *cli_compact_request(const struct cli_compact_opts *o)
{
	json_t *r = json_pack("{s:s}", "cmd", "compact");

	if (r && o->zone)
		json_object_set_new(r, "zone", json_string(o->zone));
	if (r && o->order >= 0)
		json_object_set_new(r, "order", json_integer(o->order));
	return r;
}

static json_int_t cli_compact_int(json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

void cli_compact_print(FILE *out, json_t *result)
{
	json_t *zones = json_object_get(result, "zones"), *z;
	size_t i;

	json_array_foreach(zones, i, z)
	{
		fprintf(out,
			"zone %-7s %s: scanned %" JSON_INTEGER_FORMAT
			" (migrate) %" JSON_INTEGER_FORMAT
			" (free), migrated %" JSON_INTEGER_FORMAT
			" failed %" JSON_INTEGER_FORMAT
			" pending %" JSON_INTEGER_FORMAT " frames\n",
			json_string_value(json_object_get(z, "zone")),
			json_string_value(json_object_get(z, "result")),
			cli_compact_int(z, "migrate_scanned"),
			cli_compact_int(z, "free_scanned"),
			cli_compact_int(z, "migrated"),
			cli_compact_int(z, "failed"),
			cli_compact_int(z, "pending"));
		fprintf(out,
			"             order-%" JSON_INTEGER_FORMAT
			" blocks %" JSON_INTEGER_FORMAT
			" -> %" JSON_INTEGER_FORMAT
			", fragmentation score %" JSON_INTEGER_FORMAT
			" -> %" JSON_INTEGER_FORMAT ", %.3f ms\n",
			cli_compact_int(z, "counted_order"),
			cli_compact_int(z, "blocks_before"),
			cli_compact_int(z, "blocks_after"),
			cli_compact_int(z, "score_before"),
			cli_compact_int(z, "score_after"),
			(double)cli_compact_int(z, "time_us") / 1000.0);
	}
	if (cli_compact_int(result, "drained"))
		fprintf(out,
			"page rings: %" JSON_INTEGER_FORMAT
			" free frames taken back first\n",
			cli_compact_int(result, "drained"));
	fprintf(out, "total %.3f ms\n",
		(double)cli_compact_int(result, "time_us") / 1000.0);
}

/* One index row: thousandths as Linux prints them (-1.000 .. 1.000). */
static void cli_compact_print_index(FILE *out, const char *name,
				    const char *zone, json_t *arr)
{
	json_t *v;
	size_t o;

	fprintf(out, "%-14s %-7s", name, zone);
	json_array_foreach(arr, o, v)
	{
		json_int_t t = json_integer_value(v);

		fprintf(out, " %s%lld.%03lld", t < 0 ? "-" : "",
			(long long)(t < 0 ? -t : t) / 1000,
			(long long)(t < 0 ? -t : t) % 1000);
	}
	fputc('\n', out);
}

void cli_compact_print_stat(FILE *out, json_t *compaction)
{
	json_t *vmstat = json_object_get(compaction, "vmstat"), *v, *z;
	const char *key;
	size_t i;

	if (!json_is_object(compaction))
		return;
	fprintf(out, "== compaction ==\n");
	json_object_foreach(vmstat, key, v)
	{
		fprintf(out, "%s %" JSON_INTEGER_FORMAT "\n", key,
			json_integer_value(v));
	}
	json_array_foreach(json_object_get(compaction, "zones"), i, z)
	{
		const char *name =
			json_string_value(json_object_get(z, "name"));

		fprintf(out,
			"fragmentation_score %s %" JSON_INTEGER_FORMAT "\n",
			name,
			json_integer_value(
				json_object_get(z, "fragmentation_score")));
		cli_compact_print_index(out, "unusable_index", name,
					json_object_get(z, "unusable_index"));
		cli_compact_print_index(out, "extfrag_index", name,
					json_object_get(z, "extfrag_index"));
	}
}

int cli_compact_main(int argc, char **argv)
{
	struct cli_compact_opts o;
	json_t *result;
	char err[256];
	int r = cli_compact_parse(argc, argv, &o, err, sizeof(err));

	if (r == 1) {
		fputs(cli_compact_help, stdout);
		return BVM_EXIT_OK;
	}
	if (r < 0) {
		fprintf(stderr, "vmm compact: %s\ntry 'vmm compact --help'\n",
			err);
		return BVM_EXIT_USAGE;
	}
	result = cli_api_request("compact", o.api_path, o.timeout_s,
				 cli_compact_request(&o));
	if (!result)
		return BVM_EXIT_VMM_ERROR;
	if (o.json) {
		json_dumpf(result, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else {
		cli_compact_print(stdout, result);
	}
	json_decref(result);
	return BVM_EXIT_OK;
}
