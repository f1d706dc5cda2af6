/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The parts of the sgdma tool that need no device: argument parsing, data
 * patterns, statistics and output formats. Kept apart so the host tests can
 * exercise them directly.
 */
#ifndef SGDMA_CLI_H
#define SGDMA_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Exit codes of the tool; documented in --help and docs/sgdma.1.md. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,		/* the request failed at run time */
	EXIT_USAGE = 2,		/* bad command line, argument out of range */
	EXIT_NODEV = 3,		/* no device node, module not loaded, gone */
	EXIT_PERM = 4,		/* permission denied on the node */
	EXIT_MISMATCH = 5,	/* data or CRC did not verify */
};

/* The exit code for a negative errno from libsgdma. */
int cli_exit_code(int err);

/*
 * A byte count or offset: decimal or 0x hex, with an optional binary
 * suffix k/K/KiB, M/MiB, G/GiB, T/TiB (1024-based). 0, -EINVAL (malformed)
 * or -ERANGE (beyond 2^64 - 1).
 */
int cli_parse_size(const char *s, uint64_t *v);
/* A plain unsigned number in [min, max]: 0, -EINVAL or -ERANGE. */
int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *v);
/*
 * A comma-separated list of sizes; an item "A..B" adds A, 2A, 4A... up to
 * B. Stores at most @max values; returns the count or -EINVAL / -ERANGE
 * (-E2BIG: more than @max). Zero sizes are refused.
 */
int cli_parse_size_list(const char *s, uint64_t *out, int max);
/*
 * A comma-separated list of names out of @names[0..@n): sets bit i of
 * *@mask for each; "all" sets all. Returns 0 or -EINVAL.
 */
int cli_parse_names(const char *s, const char *const *names, int n,
		    unsigned int *mask);

/* ---- data patterns ---- */

enum cli_pattern_kind {
	PAT_BYTE,	/* every byte the same: 0xNN, "zero", "ones" */
	PAT_INCR,	/* little-endian 32-bit word n at byte 4n of the range */
	PAT_RANDOM,	/* pseudo-random, from a seed: "random[:SEED]" */
};

struct cli_pattern {
	enum cli_pattern_kind kind;
	uint8_t byte;
	uint64_t seed;
};

/* Parses a pattern name; 0 or -EINVAL. */
int cli_parse_pattern(const char *s, struct cli_pattern *p);
/*
 * Fills @buf with the pattern's bytes @pos to @pos + @len of a range, so a
 * range filled in pieces equals one filled at once.
 */
void cli_pattern_fill(const struct cli_pattern *p, void *buf, size_t len,
		      uint64_t pos);

/* ---- statistics ---- */

struct cli_stats {
	double median, min, max, mean, stddev;	/* stddev: sample (n - 1) */
};

/* Statistics of @n values (n >= 1); @v is left unchanged. */
void cli_stats(const double *v, size_t n, struct cli_stats *out);
/* Nanoseconds between two CLOCK_MONOTONIC readings, overflow-free. */
int64_t cli_ns_between(const struct timespec *a, const struct timespec *b);
/* MB/s (10^6 bytes per second) of @bytes in @ns; 0 if @ns is 0. */
double cli_mbps(uint64_t bytes, int64_t ns);

/* ---- output ---- */

enum cli_format { FMT_TABLE, FMT_CSV, FMT_JSON };

/* "table", "csv" or "json"; 0 or -EINVAL. */
int cli_parse_format(const char *s, enum cli_format *f);

/* One measured point of "sgdma bench". */
struct cli_bench_row {
	const char *path;
	const char *direction;
	uint64_t size;
	unsigned int threads;
	unsigned int qd;
	unsigned int reps;
	uint64_t iters;		/* transfers per thread and repetition */
	struct cli_stats mbps;	/* over the repetitions */
	double lat_us;		/* median time of one transfer, microseconds */
	bool verified;		/* data checked (with --verify) */
};

struct cli_out {
	FILE *f;
	enum cli_format fmt;
	unsigned int rows;
};

void cli_bench_begin(struct cli_out *o, FILE *f, enum cli_format fmt);
void cli_bench_row(struct cli_out *o, const struct cli_bench_row *r);
void cli_bench_end(struct cli_out *o);

/*
 * A progress line for a terminal, "[#####.....]  3/10 label", @width
 * characters of bar; returns @buf.
 */
char *cli_progress_line(char *buf, size_t size, unsigned int done,
			unsigned int total, unsigned int width,
			const char *label);

#endif /* SGDMA_CLI_H */
