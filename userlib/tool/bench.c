// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The measuring engine of "sgdma bench": workers, each on its own card
 * range with its own buffers and queue, released together by a barrier
 * for each repetition. See bench.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_worker {
	struct bench_cell *cell;
	pthread_t thread;
	unsigned char *src, *dst;
	uint64_t card_off;
	struct sgdma_queue *q;
	int bufq;		/* the driver's queue (buffer paths), or -1 */
	uint32_t sh, dh;	/* buffer handles (buffer paths), 0: none */
	struct sgdma_iovec siov, diov;
	int err;
	/* Queues: slots not in flight in free[], each one's submission time */
	unsigned int *free, nr_free;
	uint64_t *start_ns;
	struct sgdma_buf_xfer *batch;	/* submissions of the driver's queue */
	/* Latencies recorded while record is set */
	bool record;
	struct bench_lat_samples lat;
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Records a transfer submitted at @start and done at @end, if @w records. */
static int lat_record(struct bench_worker *w, uint64_t start, uint64_t end)
{
	return w->record ? bench_lat_add(&w->lat, (double)(end - start) / 1e3)
			 : 0;
}

/* A queue slot for a submission at this instant. */
static unsigned int slot_take(struct bench_worker *w)
{
	unsigned int slot = w->free[--w->nr_free];

	w->start_ns[slot] = now_ns();
	return slot;
}

/* Gives @slot back after its completion, reaped at @end. */
static int slot_done(struct bench_worker *w, uint64_t slot, uint64_t end)
{
	w->free[w->nr_free++] = (unsigned int)slot;
	return lat_record(w, w->start_ns[slot], end);
}

static uint32_t bench_flags(int path)
{
	switch (path) {
	case BP_COPY:
		return SGDMA_XFER_COPY;
	case BP_PINNED:
		return SGDMA_XFER_PINNED;
	default:
		return 0;
	}
}

static void bench_xfer_init(struct bench_cell *c, struct bench_worker *w,
			    struct sgdma_xfer *x)
{
	memset(x, 0, sizeof(*x));
	x->flags = bench_flags(c->path) | c->flags;
	x->op = c->dir == BD_H2C ? SGDMA_OP_H2C :
		c->dir == BD_C2H ? SGDMA_OP_C2H : SGDMA_OP_H2H;
	w->siov = (struct sgdma_iovec){ (uintptr_t)w->src, c->size };
	w->diov = (struct sgdma_iovec){ (uintptr_t)w->dst, c->size };
	if (c->dir != BD_C2H) {
		x->src_iov = (uintptr_t)&w->siov;
		x->src_iovcnt = 1;
	}
	if (c->dir != BD_H2C) {
		x->dst_iov = (uintptr_t)&w->diov;
		x->dst_iovcnt = 1;
	}
	if (c->dir != BD_H2H)
		x->card_offset = w->card_off;
}

static void bench_buf_xfer_init(struct bench_cell *c, struct bench_worker *w,
				struct sgdma_buf_xfer *x)
{
	memset(x, 0, sizeof(*x));
	x->flags = c->flags;
	x->op = c->dir == BD_H2C ? SGDMA_OP_H2C :
		c->dir == BD_C2H ? SGDMA_OP_C2H : SGDMA_OP_H2H;
	x->src_handle = c->dir != BD_C2H ? w->sh : 0;
	x->dst_handle = c->dir != BD_H2C ? w->dh : 0;
	x->card_offset = c->dir != BD_H2H ? w->card_off : 0;
	x->len = c->size;
}

/* @n transfers on the buffers of the driver, through its queue at qd > 1. */
static int bench_run_bufs(struct bench_cell *c, struct bench_worker *w,
			  uint64_t n)
{
	uint64_t submitted = 0, completed = 0, reaped;
	struct sgdma_completion cqe[16];
	struct sgdma_buf_xfer x;
	int ret, err;

	bench_buf_xfer_init(c, w, &x);
	if (w->bufq < 0) {
		for (uint64_t i = 0; i < n; i++) {
			uint64_t start = now_ns();

			ret = sgdma_buf_xfer(c->dev, &x);
			if (!ret)
				ret = lat_record(w, start, now_ns());
			if (ret)
				return ret;
		}
		return 0;
	}
	while (completed < n) {
		unsigned int k = 0;

		/* Every free slot in one system call, as io_uring would. */
		while (submitted + k < n && submitted + k - completed < c->qd) {
			w->batch[k] = x;
			w->batch[k++].user_data = slot_take(w);
		}
		/* A short count: the next one failed; its errno comes next. */
		for (unsigned int i = 0; i < k; i += (unsigned int)ret) {
			ret = sgdma_bufq_submit_batch(w->bufq, w->batch + i,
						      k - i);
			if (ret < 0)
				return ret;
		}
		submitted += k;
		ret = sgdma_bufq_reap(w->bufq, cqe, ARRAY_LEN(cqe),
				      SGDMA_REAP_WAIT);
		if (ret < 0)
			return ret;
		if (!ret)
			return -EIO;	/* in flight, yet nothing to wait for */
		reaped = now_ns();
		for (int i = 0; i < ret; i++) {
			err = cqe[i].status ? cqe[i].status :
			      slot_done(w, cqe[i].user_data, reaped);
			if (err)
				return err;
		}
		completed += ret;
	}
	return 0;
}

/*
 * Gives worker @w the buffers of its path: its own memory registered once,
 * or coherent buffers of the driver mapped in place of its own.
 */
static int bench_bufs_setup(struct bench_cell *c, struct bench_worker *w)
{
	void *p;
	int ret;

	if (c->path == BP_REGISTERED) {
		ret = sgdma_buf_register(c->dev, w->src, c->size,
					 SGDMA_BUF_READONLY, &w->sh);
		return ret ? ret : sgdma_buf_register(c->dev, w->dst, c->size,
						      0, &w->dh);
	}
	ret = sgdma_buf_alloc(c->dev, c->size, &w->sh, NULL);
	if (!ret)
		ret = sgdma_buf_mmap(c->dev, w->sh, c->size, &p);
	if (ret)
		return ret;
	memcpy(p, w->src, c->size);
	buf_free(w->src, c->size);
	w->src = p;
	ret = sgdma_buf_alloc(c->dev, c->size, &w->dh, NULL);
	if (!ret)
		ret = sgdma_buf_mmap(c->dev, w->dh, c->size, &p);
	if (ret)
		return ret;
	buf_free(w->dst, c->size);
	w->dst = p;
	return 0;
}

/* @n transfers of one worker, one at a time or @qd in flight. */
static int bench_run(struct bench_cell *c, struct bench_worker *w, uint64_t n)
{
	uint64_t submitted = 0, completed = 0, start, reaped;
	struct sgdma_cqe cqe[16];
	struct sgdma_xfer x;
	ssize_t r;
	int ret, err;

	if (BP_BUFS >> c->path & 1)
		return bench_run_bufs(c, w, n);
	if (c->path == BP_NODE) {
		for (uint64_t i = 0; i < n; i++) {
			start = now_ns();
			r = c->dir == BD_H2C ?
			    sgdma_pwrite(c->dev, w->src, c->size, w->card_off) :
			    sgdma_pread(c->dev, w->dst, c->size, w->card_off);
			if (r < 0)
				return (int)r;
			if ((uint64_t)r != c->size)
				return -EIO;
			ret = lat_record(w, start, now_ns());
			if (ret)
				return ret;
		}
		return 0;
	}
	bench_xfer_init(c, w, &x);
	if (!w->q) {
		for (uint64_t i = 0; i < n; i++) {
			start = now_ns();
			ret = sgdma_xfer(c->dev, &x);
			if (!ret)
				ret = lat_record(w, start, now_ns());
			if (ret)
				return ret;
		}
		return 0;
	}
	while (completed < n) {
		while (submitted < n && submitted - completed < c->qd) {
			ret = sgdma_queue_submit(w->q, &x, slot_take(w));
			if (ret)
				return ret;
			submitted++;
		}
		ret = sgdma_queue_reap(w->q, cqe, ARRAY_LEN(cqe), 1, -1);
		if (ret < 0)
			return ret;
		reaped = now_ns();
		for (int i = 0; i < ret; i++) {
			err = cqe[i].res ? cqe[i].res :
			      slot_done(w, cqe[i].user_data, reaped);
			if (err)
				return err;
		}
		completed += ret;
	}
	return 0;
}

static void *bench_thread(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_cell *c = w->cell;

	for (unsigned int r = 0; r < c->rounds; r++) {
		w->record = c->lat && r >= c->warmup;
		pthread_barrier_wait(&c->barrier);
		if (!w->err)
			w->err = bench_run(c, w, c->iters);
		pthread_barrier_wait(&c->barrier);
	}
	return NULL;
}

void progress_show(struct progress *p, unsigned int rep,
		   unsigned int reps)
{
	char line[200], label[140];

	if (!p->on)
		return;
	snprintf(label, sizeof(label), "%s rep %u/%u", p->label, rep, reps);
	fprintf(stderr, "\r\033[K%s",
		cli_progress_line(line, sizeof(line), p->cell, p->cells, 30,
				  label));
	fflush(stderr);
}

void progress_clear(struct progress *p)
{
	if (p->on) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/* Calibrates transfers per repetition on worker 0, alone, at qd 1. */
static int bench_calibrate(struct bench_cell *c, double rep_time,
			   uint64_t *iters)
{
	struct timespec a, b;
	uint64_t n = 1;
	int64_t ns;
	int ret;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = bench_run(c, &c->w[0], n);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ret)
			return ret;
		ns = cli_ns_between(&a, &b);
		if (ns >= rep_time * 2.5e8 || n >= (1ULL << 30))
			break;
		n *= 2;
	}
	*iters = (uint64_t)((double)n * rep_time * 1e9 / (ns > 0 ? ns : 1));
	if (!*iters)
		*iters = 1;
	return 0;
}

/* Prepares data and, for --verify, checks it after the run. */
static int bench_check(struct bench_cell *c, struct bench_worker *w,
		       bool before, bool *ok)
{
	unsigned char *tmp;
	int ret = 0;

	if (before) {
		if (c->dir == BD_C2H) {
			ret = sgdma_write_card(c->dev, w->card_off, w->src,
					       c->size, SGDMA_XFER_COPY, NULL);
			memset(w->dst, 0xa5, c->size);
		} else if (c->dir == BD_H2H) {
			memset(w->dst, 0xa5, c->size);
		}
		return ret;
	}
	switch (c->dir) {
	case BD_H2C:
		tmp = buf_alloc(c->size);
		if (!tmp)
			return -ENOMEM;
		ret = sgdma_read_card(c->dev, w->card_off, tmp, c->size,
				      SGDMA_XFER_COPY, NULL);
		*ok &= !ret && !memcmp(tmp, w->src, c->size);
		buf_free(tmp, c->size);
		break;
	default:
		*ok &= !memcmp(w->dst, w->src, c->size);
		break;
	}
	return ret;
}

/* Every worker's latencies of cell @c into @lat. */
static int bench_lat_merge(struct bench_cell *c, struct bench_lat *lat)
{
	size_t n = 0;
	double *all;

	for (unsigned int i = 0; i < c->nw; i++)
		n += c->w[i].lat.n;
	all = malloc((n ? n : 1) * sizeof(*all));
	if (!all)
		return -ENOMEM;
	n = 0;
	for (unsigned int i = 0; i < c->nw; i++) {
		memcpy(all + n, c->w[i].lat.us, c->w[i].lat.n * sizeof(*all));
		n += c->w[i].lat.n;
	}
	*lat = bench_lat_summary(all, n);
	free(all);
	return 0;
}

/* The slots of a queue of depth @qd for worker @w, all free. */
static int bench_slots_init(struct bench_worker *w, unsigned int qd)
{
	w->free = calloc(qd, sizeof(*w->free));
	w->start_ns = calloc(qd, sizeof(*w->start_ns));
	w->batch = calloc(qd, sizeof(*w->batch));
	if (!w->free || !w->start_ns || !w->batch)
		return -ENOMEM;
	for (w->nr_free = 0; w->nr_free < qd; w->nr_free++)
		w->free[w->nr_free] = w->nr_free;
	return 0;
}

int bench_cell(struct bench_cell *c, const struct bench_opts *o,
	       struct cli_bench_row *row, struct bench_lat *per_xfer,
	       struct progress *pg)
{
	unsigned int nw = o->threads, started = 0;
	double *mbps = calloc(o->reps, sizeof(double));
	int64_t *ns = calloc(o->reps, sizeof(int64_t));
	double *lat = calloc(o->reps, sizeof(double));
	struct cli_stats lat_stats;
	bool ok = true;
	int ret = -ENOMEM;

	c->w = calloc(nw, sizeof(*c->w));
	c->nw = nw;
	if (!mbps || !ns || !lat || !c->w)
		goto out;
	for (unsigned int i = 0; i < nw; i++) {
		struct bench_worker *w = &c->w[i];

		w->cell = c;
		w->bufq = -1;
		w->src = buf_alloc(c->size);
		w->dst = buf_alloc(c->size);
		if (!w->src || !w->dst)
			goto out;
		cli_pattern_fill(&data_pattern, w->src, c->size, i * c->size);
		memset(w->dst, 0, c->size);
		w->card_off = o->off + (uint64_t)i * c->size;
		if (c->qd > 1) {
			ret = bench_slots_init(w, c->qd);
			if (ret)
				goto out;
		}
		if (BP_BUFS >> c->path & 1) {
			ret = bench_bufs_setup(c, w);
			if (ret)
				goto out;
			if (c->qd > 1) {
				w->bufq = sgdma_bufq_create(c->dev, c->qd,
							    SGDMA_QUEUE_CLOEXEC,
							    -1);
				ret = w->bufq < 0 ? w->bufq : 0;
				if (ret)
					goto out;
			}
		} else if (c->qd > 1) {
			ret = sgdma_queue_create(c->dev, c->qd, 0, &w->q);
			if (ret)
				goto out;
		}
		if (o->verify) {
			ret = bench_check(c, w, true, &ok);
			if (ret)
				goto out;
		}
	}
	c->iters = o->iters;
	if (!c->iters) {
		ret = bench_calibrate(c, o->rep_time, &c->iters);
		if (ret)
			goto out;
	}
	c->warmup = o->warmup;
	c->rounds = o->warmup + o->reps;
	ret = -pthread_barrier_init(&c->barrier, NULL, nw + 1);
	if (ret)
		goto out;
	for (; started < nw; started++) {
		ret = -pthread_create(&c->w[started].thread, NULL,
				      bench_thread, &c->w[started]);
		if (ret)
			break;
	}
	if (ret) {
		/* Threads that started wait at the barrier forever: give up. */
		msg("bench: cannot start threads: %s", strerror(-ret));
		exit(EXIT_FAIL);
	}
	for (unsigned int r = 0; r < c->rounds; r++) {
		struct timespec a, b;

		progress_show(pg, r < o->warmup ? 0 : r - o->warmup + 1,
			      o->reps);
		pthread_barrier_wait(&c->barrier);
		clock_gettime(CLOCK_MONOTONIC, &a);
		pthread_barrier_wait(&c->barrier);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (r >= o->warmup)
			ns[r - o->warmup] = cli_ns_between(&a, &b);
	}
	for (unsigned int i = 0; i < nw; i++)
		pthread_join(c->w[i].thread, NULL);
	pthread_barrier_destroy(&c->barrier);
	ret = 0;
	for (unsigned int i = 0; i < nw && !ret; i++)
		ret = c->w[i].err;
	if (ret)
		goto out;
	for (unsigned int r = 0; r < o->reps; r++) {
		mbps[r] = cli_mbps(c->size * c->iters * nw, ns[r]);
		lat[r] = ns[r] / 1e3 / c->iters;
	}
	if (o->verify)
		for (unsigned int i = 0; i < nw && !ret; i++)
			ret = bench_check(c, &c->w[i], false, &ok);
	if (!ret && c->lat)
		ret = bench_lat_merge(c, per_xfer);
	if (ret)
		goto out;
	cli_stats(mbps, o->reps, &row->mbps);
	cli_stats(lat, o->reps, &lat_stats);
	row->lat_us = lat_stats.median;
	row->iters = c->iters;
	row->verified = o->verify;
	ret = ok ? 0 : -EILSEQ;
out:
	for (unsigned int i = 0; c->w && i < nw; i++) {
		struct bench_worker *w = &c->w[i];

		sgdma_queue_destroy(w->q);
		if (w->bufq >= 0)
			close(w->bufq);	/* waits for what is in flight */
		if (w->sh)
			sgdma_buf_free(c->dev, w->sh);
		if (w->dh)
			sgdma_buf_free(c->dev, w->dh);
		buf_free(w->src, c->size);
		buf_free(w->dst, c->size);
		free(w->free);
		free(w->start_ns);
		free(w->batch);
		bench_lat_free(&w->lat);
	}
	free(c->w);
	free(mbps);
	free(ns);
	free(lat);
	return ret;
}
