/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-operation latencies of the benchmarks, for "sgdma bench --latency"
 * (tool/bench.c) and tests/bench's programs (-L) alike, so that both write
 * the same file: samples appended as they come, then sorted and summarised
 * into one CSV row under BENCH_LAT_HEADER:
 *
 *   path,direction,size,qd,ops,median_us,p90_us,p99_us,max_us
 *
 * Private to this tree: not installed with libsgdma.h.
 */
#ifndef SGDMA_BENCH_LAT_H
#define SGDMA_BENCH_LAT_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define BENCH_LAT_HEADER "path,direction,size,qd,ops,median_us,p90_us,p99_us,max_us"

/* Latencies in microseconds; all zero is empty. */
struct bench_lat_samples {
	double *us;
	size_t n, cap;
};

/* The summary of one row's samples. */
struct bench_lat {
	uint64_t ops;
	double median, p90, p99, max;
};

/* qsort's order of doubles, ascending. */
static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Appends @us to @s, growing it by doubling (amortised O(1): the timed
 * loops call this per operation); 0 or -ENOMEM.
 */
static inline int bench_lat_add(struct bench_lat_samples *s, double us)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4096;
		double *p = realloc(s->us, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->us = p;
		s->cap = cap;
	}
	s->us[s->n++] = us;
	return 0;
}

static inline void bench_lat_free(struct bench_lat_samples *s)
{
	free(s->us);
	*s = (struct bench_lat_samples){ 0 };
}

/* The value below which a fraction @q of the sorted @v[@n] lie. */
static inline double bench_quantile(const double *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);

	return n ? v[i < n ? i : n - 1] : 0;
}

/* Sorts @us[@n] and summarises it (all zero when @n is 0). */
static inline struct bench_lat bench_lat_summary(double *us, size_t n)
{
	if (n)
		qsort(us, n, sizeof(*us), bench_cmp_double);
	return (struct bench_lat){
		.ops = n, .median = bench_quantile(us, n, 0.5),
		.p90 = bench_quantile(us, n, 0.9),
		.p99 = bench_quantile(us, n, 0.99),
		.max = n ? us[n - 1] : 0,
	};
}

/* @l as a row under BENCH_LAT_HEADER to @f, flushed (runs may be cut). */
static inline void bench_lat_print(FILE *f, const char *path, const char *dir,
				   uint64_t size, unsigned int qd,
				   const struct bench_lat *l)
{
	fprintf(f, "%s,%s,%" PRIu64 ",%u,%" PRIu64 ",%.1f,%.1f,%.1f,%.1f\n",
		path, dir, size, qd, l->ops, l->median, l->p90, l->p99,
		l->max);
	fflush(f);
}

#endif /* SGDMA_BENCH_LAT_H */
