// SPDX-License-Identifier: MIT
/* vmm/stat_fields.c - counter tables as text and JSON (stat_fields.h). */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "mm/fmt.h"
#include "vmm/stat_fields.h"

static unsigned long long stat_field_value(const struct stat_field *f,
					   const void *stats)
{
	uint64_t v;

	memcpy(&v, (const char *)stats + f->offset, sizeof(v));
	return (unsigned long long)v;
}

void stat_fields_format(struct mm_buf *b, const char *prefix,
			const struct stat_table *t, const void *stats)
{
	for (size_t i = 0; i < t->nr; i++)
		mm_buf_printf(b, "%s%s %llu\n", prefix, t->fields[i].name,
			      stat_field_value(&t->fields[i], stats));
}

void stat_fields_print(FILE *out, const char *prefix,
		       const struct stat_table *t, const void *stats)
{
	for (size_t i = 0; i < t->nr; i++)
		fprintf(out, "%s%s %llu\n", prefix, t->fields[i].name,
			stat_field_value(&t->fields[i], stats));
}

int stat_fields_json_set(json_t *obj, const struct stat_table *t,
			 const void *stats)
{
	for (size_t i = 0; i < t->nr; i++) {
		const struct stat_field *f = &t->fields[i];

		if (f->flags & STAT_FIELD_TEXT_ONLY)
			continue;
		if (json_object_set_new(
			    obj, f->name,
			    json_integer(
				    (json_int_t)stat_field_value(f, stats))))
			return -ENOMEM;
	}
	return 0;
}

json_t *stat_fields_json(const struct stat_table *t, const void *stats)
{
	json_t *obj = json_object();

	if (obj && stat_fields_json_set(obj, t, stats)) {
		json_decref(obj);
		obj = NULL;
	}
	return obj;
}
