/* SPDX-License-Identifier: MIT */
/*
 * vmm/stat_fields.h - a device's counters listed once, as a table of
 * {name, offset} over its stats struct of uint64_t fields, and written from
 * that table both as "prefix_name value" lines (--stats) and as a JSON
 * object (the control API's stat). The table's order is the output order.
 */
#ifndef VMM_STAT_FIELDS_H
#define VMM_STAT_FIELDS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

struct mm_buf;

/* A field only in the text (the API never listed it). */
#define STAT_FIELD_TEXT_ONLY 0x1u

struct stat_field {
	const char *name;
	size_t offset; /* of a uint64_t in the stats struct */
	unsigned flags;
};

struct stat_table {
	const struct stat_field *fields;
	size_t nr;
};

/* @member of @type, printed under its own name. */
#define STAT_FIELD(type, member)                                               \
	{                                                                      \
#member, offsetof(type, member), 0                             \
	}
/* @member of @type, printed as @name. */
#define STAT_FIELD_AS(name, type, member)                                      \
	{                                                                      \
		name, offsetof(type, member), 0                                \
	}
/* @member of @type, under its own name, in the text only. */
#define STAT_FIELD_TEXT(type, member)                                          \
	{                                                                      \
#member, offsetof(type, member), STAT_FIELD_TEXT_ONLY          \
	}
#define STAT_TABLE(fields)                                                     \
	{                                                                      \
		fields, sizeof(fields) / sizeof((fields)[0])                   \
	}

/**
 * stat_fields_format() - append one "@prefix<name> value" line per field of
 * @t, read from @stats, to @b.
 */
void stat_fields_format(struct mm_buf *b, const char *prefix,
			const struct stat_table *t, const void *stats);

/** stat_fields_print() - stat_fields_format(), written to @out. */
void stat_fields_print(FILE *out, const char *prefix,
		       const struct stat_table *t, const void *stats);

/**
 * stat_fields_json_set() - set each field of @t but the text-only ones,
 * read from @stats, in @obj as an integer, in table order.
 * Return: 0 or -ENOMEM.
 */
int stat_fields_json_set(json_t *obj, const struct stat_table *t,
			 const void *stats);

/**
 * stat_fields_json() - a new object of the fields of @t
 * (stat_fields_json_set()).
 * Return: the object, or NULL when out of memory.
 */
json_t *stat_fields_json(const struct stat_table *t, const void *stats);

#endif /* VMM_STAT_FIELDS_H */
