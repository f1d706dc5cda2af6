/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared measuring loop of the benchmark programs: every program times one
 * operation at a list of sizes and prints one CSV row per size, after a
 * header line (the same columns as "sgdma bench -f csv" has):
 *
 *   path,direction,size,qd,reps,median_MBps,min_MBps,max_MBps,stddev_MBps
 *
 * Each repetition runs the operation until at least min_ms have passed (and
 * at least once), timed with CLOCK_MONOTONIC around the whole batch, so long
 * runs are neither truncated nor mis-timed by per-call clock reads. qd is
 * the operations kept in flight (1 but for sgdma_diobench -q).
 *
 * Per-operation latencies (submission to completion), where a program
 * records them (-L FILE), go to FILE as the rows of "sgdma bench --latency"
 * (bench-lat.h).
 */
#ifndef SGDMA_BENCH_H
#define SGDMA_BENCH_H

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench-lat.h"
#include "libsgdma.h"

#define BENCH_MAX_SIZES	32
#define BENCH_MAX_REPS	64
#define BENCH_MAX_DEPTH	256

struct bench_opts {
	size_t sizes[BENCH_MAX_SIZES];
	unsigned int nr_sizes;
	size_t depths[BENCH_MAX_SIZES];	/* -q: queue depths to measure */
	unsigned int nr_depths;
	unsigned int qd;		/* the depth being measured, 0: 1 */
	unsigned int reps;
	unsigned int min_ms;
	const char *label;	/* the CSV rows' path */
	const char *lat_path;	/* -L: where latency rows go, or NULL */
};

/* One call of the measured operation; returns 0 or a negative errno. */
typedef int (*bench_fn)(void *ctx, size_t len);

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * "4k,64k,1m,64m" into @v (at most BENCH_MAX_SIZES, each 1 to @max):
 * numbers with optional k/m suffix (powers of 1024). Sets *@n.
 */
static inline int bench_parse_list(size_t *v, unsigned int *n,
				   const char *arg, unsigned long long max)
{
	const char *p = arg;

	*n = 0;
	while (*p) {
		char *end;
		unsigned long long x = strtoull(p, &end, 0);

		if (end == p || *n == BENCH_MAX_SIZES)
			return -EINVAL;
		if (*end == 'k' || *end == 'K')
			x <<= 10, end++;
		else if (*end == 'm' || *end == 'M')
			x <<= 20, end++;
		if (!x || x > max || (*end && *end != ','))
			return -EINVAL;
		v[(*n)++] = x;
		p = *end ? end + 1 : end;
	}
	return *n ? 0 : -EINVAL;
}

static inline int bench_parse_sizes(struct bench_opts *o, const char *arg)
{
	return bench_parse_list(o->sizes, &o->nr_sizes, arg, 1ull << 30);
}

static inline size_t bench_max_size(const struct bench_opts *o)
{
	size_t max = 0;

	for (unsigned int i = 0; i < o->nr_sizes; i++)
		if (o->sizes[i] > max)
			max = o->sizes[i];
	return max;
}

/*
 * Prints the row of size @len, direction @dir from the MB/s of each
 * repetition (@mbps, sorted here), after the header if it is the first.
 */
static inline void bench_print_row(const struct bench_opts *o,
				   const char *dir, size_t len, double *mbps)
{
	static int header_done;
	double sum = 0, var = 0;
	unsigned int r;

	if (!header_done++)
		printf("path,direction,size,qd,reps,median_MBps,min_MBps,max_MBps,stddev_MBps\n");
	for (r = 0; r < o->reps; r++)
		sum += mbps[r];
	for (r = 0; r < o->reps; r++)
		var += (mbps[r] - sum / o->reps) * (mbps[r] - sum / o->reps);
	qsort(mbps, o->reps, sizeof(mbps[0]), bench_cmp_double);
	printf("%s,%s,%zu,%u,%u,%.1f,%.1f,%.1f,%.1f\n", o->label, dir, len,
	       o->qd ? o->qd : 1, o->reps,
	       o->reps % 2 ? mbps[o->reps / 2] :
	       (mbps[o->reps / 2 - 1] + mbps[o->reps / 2]) / 2,
	       mbps[0], mbps[o->reps - 1], sqrt(var / o->reps));
	fflush(stdout);
}

/* The latencies @s (sorted here) as a row to @f. */
static inline void bench_print_lat(FILE *f, const struct bench_opts *o,
				   const char *dir, size_t len,
				   struct bench_lat_samples *s)
{
	struct bench_lat l = bench_lat_summary(s->us, s->n);

	bench_lat_print(f, o->label, dir, len, o->qd ? o->qd : 1, &l);
}

/*
 * Measures @fn at every size of @o and prints the rows (direction @dir);
 * returns 0 or the first error of @fn (after the rows measured before it).
 */
static inline int bench_run(const struct bench_opts *o, const char *dir,
			    bench_fn fn, void *ctx)
{
	for (unsigned int s = 0; s < o->nr_sizes; s++) {
		double mbps[BENCH_MAX_REPS];
		size_t len = o->sizes[s];
		int ret = fn(ctx, len);	/* warm-up: faults, caches, TLBs */

		if (ret)
			return ret;
		for (unsigned int r = 0; r < o->reps; r++) {
			uint64_t start = bench_now_ns(), ns, calls = 0;

			do {
				ret = fn(ctx, len);
				if (ret)
					return ret;
				calls++;
				ns = bench_now_ns() - start;
			} while (ns < o->min_ms * 1000000ull);
			mbps[r] = (double)calls * (double)len * 1e3 / (double)ns;
		}
		bench_print_row(o, dir, len, mbps);
	}
	return 0;
}

/* Options -r, -t of bench_parse_args(). */
static inline int bench_parse_number(unsigned int *v, const char *arg,
				     unsigned long max)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || *end || !n || n > max)
		return -EINVAL;
	*v = n;
	return 0;
}

/*
 * Parses "[-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL] [-q DEPTHS] [-L FILE]
 * OPERANDS" into @o (whose fields hold the defaults) and returns the index
 * of the first operand, or -1 when the program should exit with status
 * *@status (help printed: 0; usage error: 2). -q and -L are for programs
 * that keep operations in flight; the others refuse them.
 */
static inline int bench_parse_args(int argc, char **argv, struct bench_opts *o,
				   const char *operands, int *status)
{
	int c, err = 0;

	*status = 2;
	while (!err && (c = getopt(argc, argv, "s:r:t:l:q:L:h")) != -1) {
		switch (c) {
		case 's':
			err = bench_parse_sizes(o, optarg);
			break;
		case 'q':
			err = bench_parse_list(o->depths, &o->nr_depths, optarg,
					       BENCH_MAX_DEPTH);
			break;
		case 'L':
			o->lat_path = optarg;
			break;
		case 'r':
			err = bench_parse_number(&o->reps, optarg,
						 BENCH_MAX_REPS);
			break;
		case 't':
			err = bench_parse_number(&o->min_ms, optarg, 600000);
			break;
		case 'l':
			o->label = optarg;
			break;
		default:
			err = c == 'h' ? 1 : -EINVAL;
		}
	}
	if (!err)
		return optind;
	fprintf(err > 0 ? stdout : stderr,
		"usage: %s [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL] [-q DEPTHS] [-L FILE]%s%s\n",
		argv[0], *operands ? " " : "", operands);
	if (err > 0)
		*status = 0;
	return -1;
}

/*
 * A buffer filled with @byte (so faulted in), or NULL: the same memory
 * the sgdma tool transfers from, so that every path is measured on
 * buffers placed alike.
 */
static inline void *bench_alloc(size_t len, int byte)
{
	void *p;

	if (sgdma_mem_alloc(len, &p))
		return NULL;
	memset(p, byte, len);
	return p;
}

#endif /* SGDMA_BENCH_H */
