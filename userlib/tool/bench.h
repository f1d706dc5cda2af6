/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The measuring engine of "sgdma bench" (bench.c): one cell, a path,
 * direction and size, run on its threads and timed; cmd-bench.c chooses
 * the cells and prints their rows.
 */
#ifndef SGDMA_TOOL_BENCH_H
#define SGDMA_TOOL_BENCH_H

#include <pthread.h>

#include "bench-lat.h"
#include "tool.h"

#define MAX_SIZES	64

enum { BP_COPY, BP_PINNED, BP_AUTO, BP_NODE, BP_REGISTERED, BP_COHERENT,
       BP_NR };
enum { BD_H2C, BD_C2H, BD_H2H, BD_NR };
/* Paths of buffers the driver holds: registered once, or its own. */
#define BP_BUFS		(1u << BP_REGISTERED | 1u << BP_COHERENT)

struct bench_opts {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	unsigned int paths, dirs;
	unsigned long threads, qd, reps, warmup, iters;
	double rep_time;
	uint64_t off;
	bool verify;
	int progress;		/* -1: if stderr is a terminal */
	enum cli_format fmt;
	const char *lat_path;	/* --latency: where latency rows go, or NULL */
	bool poll;		/* --poll: SGDMA_XFER_POLL on every transfer */
};

struct bench_worker;

struct bench_cell {
	struct sgdma_dev *dev;
	int path, dir;
	uint64_t size;
	unsigned int qd;
	bool lat;		/* record latencies in the timed repetitions */
	uint32_t flags;		/* SGDMA_XFER_* added to every transfer's */
	uint64_t iters;
	unsigned int rounds, warmup;
	pthread_barrier_t barrier;
	struct bench_worker *w;
	unsigned int nw;
};

/* The progress bar on stderr: cell @cell of @cells, @label. */
struct progress {
	bool on;
	unsigned int cell, cells;
	char label[96];
};

void progress_show(struct progress *p, unsigned int rep, unsigned int reps);
void progress_clear(struct progress *p);

/*
 * Measures cell @c (dev, path, dir, size, qd and lat set) with @o's
 * threads, repetitions and checks into @row, and with c->lat the
 * latencies into @per_xfer, showing progress on @pg. 0, -EILSEQ when --verify
 * found the data changed, or another -errno. A transfer's latency runs from
 * its submission (the call, or the queue's submit) to its completion as the
 * caller sees it (the call's return, or the reap that collected it).
 */
int bench_cell(struct bench_cell *c, const struct bench_opts *o,
	       struct cli_bench_row *row, struct bench_lat *per_xfer,
	       struct progress *pg);

#endif /* SGDMA_TOOL_BENCH_H */
