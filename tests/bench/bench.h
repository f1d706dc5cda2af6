/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared measuring loop of the benchmark programs: every program times one
 * operation at a list of sizes and prints one CSV row per size:
 *
 *   path,direction,size,reps,median_MBps,min_MBps,max_MBps,stddev_MBps
 *
 * Each repetition runs the operation until at least min_ms have passed (and
 * at least once), timed with CLOCK_MONOTONIC around the whole batch, so long
 * runs are neither truncated nor mis-timed by per-call clock reads.
 */
#ifndef SGDMA_BENCH_H
#define SGDMA_BENCH_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_SIZES	32
#define BENCH_MAX_REPS	64

struct bench_opts {
	size_t sizes[BENCH_MAX_SIZES];
	unsigned int nr_sizes;
	unsigned int reps;
	unsigned int min_ms;
};

/* One call of the measured operation; returns 0 or a negative errno. */
typedef int (*bench_fn)(void *ctx, size_t len);

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "4k,64k,1m,64m": sizes with optional k/m suffix (powers of 1024). */
static inline int bench_parse_sizes(struct bench_opts *o, const char *arg)
{
	const char *p = arg;

	o->nr_sizes = 0;
	while (*p) {
		char *end;
		unsigned long long v = strtoull(p, &end, 0);

		if (end == p || o->nr_sizes == BENCH_MAX_SIZES)
			return -EINVAL;
		if (*end == 'k' || *end == 'K')
			v <<= 10, end++;
		else if (*end == 'm' || *end == 'M')
			v <<= 20, end++;
		if (!v || v > (1ull << 30) || (*end && *end != ','))
			return -EINVAL;
		o->sizes[o->nr_sizes++] = v;
		p = *end ? end + 1 : end;
	}
	return o->nr_sizes ? 0 : -EINVAL;
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
 * Measures @fn at every size of @o and prints the rows; returns 0 or the
 * first error of @fn (after printing what was measured before it).
 */
static inline int bench_run(const struct bench_opts *o, const char *path,
			    const char *dir, bench_fn fn, void *ctx)
{
	for (unsigned int s = 0; s < o->nr_sizes; s++) {
		double mbps[BENCH_MAX_REPS], sum = 0, var = 0;
		size_t len = o->sizes[s];
		unsigned int r;
		int ret = fn(ctx, len);	/* warm-up: faults, caches, TLBs */

		if (ret)
			return ret;
		for (r = 0; r < o->reps; r++) {
			uint64_t start = bench_now_ns(), ns, calls = 0;

			do {
				ret = fn(ctx, len);
				if (ret)
					return ret;
				calls++;
				ns = bench_now_ns() - start;
			} while (ns < o->min_ms * 1000000ull);
			mbps[r] = (double)calls * (double)len * 1e3 / (double)ns;
			sum += mbps[r];
		}
		for (r = 0; r < o->reps; r++)
			var += (mbps[r] - sum / o->reps) * (mbps[r] - sum / o->reps);
		qsort(mbps, o->reps, sizeof(mbps[0]), bench_cmp_double);
		printf("%s,%s,%zu,%u,%.1f,%.1f,%.1f,%.1f\n", path, dir, len,
		       o->reps,
		       o->reps % 2 ? mbps[o->reps / 2] :
		       (mbps[o->reps / 2 - 1] + mbps[o->reps / 2]) / 2,
		       mbps[0], mbps[o->reps - 1], sqrt(var / o->reps));
		fflush(stdout);
	}
	return 0;
}

/* Common options: -s SIZES, -r REPS, -t MIN_MS; returns optind or -1. */
static inline int bench_parse_common(struct bench_opts *o, int c,
				     const char *arg)
{
	char *end;
	unsigned long v;

	switch (c) {
	case 's':
		return bench_parse_sizes(o, arg);
	case 'r':
	case 't':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || *end || !v ||
		    (c == 'r' && v > BENCH_MAX_REPS) || v > 600000)
			return -EINVAL;
		if (c == 'r')
			o->reps = v;
		else
			o->min_ms = v;
		return 0;
	}
	return -EINVAL;
}

#endif /* SGDMA_BENCH_H */
