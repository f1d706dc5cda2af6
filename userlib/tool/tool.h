/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The core the sgdma tool's commands share. Each command is a file
 * cmd-NAME.c defining a struct command (its help, and a handler that
 * parses its own options with parse_opts()); main.c holds the table of
 * commands. Parsing that needs no device is in ../sgdma-cli.h, where the
 * host tests reach it.
 */
#ifndef SGDMA_TOOL_H
#define SGDMA_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "libsgdma.h"
#include "sgdma-cli.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

struct command {
	const char *name;
	/* argv[0] is the command's name; returns an exit code. */
	int (*run)(int argc, char **argv);
	const char *summary;	/* one line in "sgdma --help" */
	const char *help;	/* "sgdma NAME --help", less the exit codes */
};

extern const struct command info_command, write_command, read_command,
	copy_command, fill_command, verify_command, bench_command,
	selftest_command;

/* Prints command @name's help and the exit codes (main.c). */
void command_help(const char *name, FILE *out);

/* Pieces of the commands' help. */
#define DEV_OPT								\
	"  -d, --device DEV    device node path, or N for /dev/sgdmaN (default 0)\n"

#define SIZE_NOTE							\
	"Sizes and offsets take 0x hex and k/M/G/T (KiB, MiB...) suffixes.\n"

extern const char progname[];
/* -Q: no summaries on stderr. */
extern bool quiet;
/* -d before the command: the default of the command's own -d. */
extern const char *global_device;

/* ---- messages ---- */

/* "sgdma: " and a line on stderr. */
void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a usage error and returns EXIT_USAGE. */
int usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Reports a failed library call and returns its exit code. */
int fail(const char *what, int err);

/* ---- options shared by the commands ---- */

struct common {
	const char *device;
	uint32_t flags;		/* SGDMA_XFER_COPY / _PINNED or 0 */
	bool node;		/* --path node */
	const char *path_name;
	bool own_P;		/* -P is the command's own option */
	uint32_t seg_align;	/* the device's, once open */
};

/*
 * Long options without a short form, of all commands: getopt reports one
 * given an argument it does not take by its value.
 */
enum {
	OPT_CRC = 0x100,
	OPT_WARMUP,
	OPT_VERIFY,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_REP_TIME,
	OPT_ITERS,
	OPT_JSON,
	OPT_POLL,
};

/* -P, --path: sets @c's path; 0 or an exit code. */
int parse_path(const char *cmd, const char *s, struct common *c);
/* An option's size or number, with a usage error naming @opt; 0 or EXIT_USAGE. */
int parse_size_opt(const char *cmd, const char *opt, const char *s,
		   uint64_t *v);
int parse_uint_opt(const char *cmd, const char *opt, const char *s,
		   unsigned long min, unsigned long max, unsigned long *v);

/*
 * Parses the options every command shares plus the command's own; calls
 * @opt for the latter. Returns -1 to go on, else an exit code.
 */
typedef int (*opt_fn)(const char *cmd, int c, const char *arg, void *ctx);
struct option;
int parse_opts(int argc, char **argv, const char *shortopts,
	       const struct option *longopts, struct common *com, opt_fn opt,
	       void *ctx);

/* ---- the device ---- */

/* Opens the device and reads its info; an exit code. */
int open_device(const char *name, struct sgdma_dev **dev,
		struct sgdma_info *info);
/* Checks [off, off + len) lies in card memory; an exit code. */
int check_range(const char *cmd, const struct sgdma_info *info, uint64_t off,
		uint64_t len);
/* Checks @len suits the pinned path, if chosen; an exit code. */
int check_pinned(const char *cmd, const struct common *c, uint64_t len);

/* The data bench and selftest move: pseudo-random, reproducible. */
extern const struct cli_pattern data_pattern;

/* Memory for the pinned and registered paths (see sgdma_mem_alloc). */
void *buf_alloc(size_t len);
void buf_free(void *p, size_t len);

#endif /* SGDMA_TOOL_H */
