// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_zc_stress: several processes of several threads, every path mixed
 * (iovec copy and pinned, registered buffers, coherent buffers, queued
 * transfers, card mappings), a few thousand transfers with their data
 * checked, and at the end the pin counters and each process's pinned
 * memory back where they started.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "sgdma_zc.h"

#define PROCS		3
#define THREADS		3
#define ROUNDS		180
#define REGION		(512 * KiB)	/* card memory per thread */
#define MAXLEN		(96 * KiB)

struct worker {
	unsigned int id;
	uint64_t card;
	uint64_t seed;
	unsigned int xfers;
	bool coherent;
	bool ok;
};

static uint64_t wrnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Run @x on queue @q and wait for its completion. */
static int queued(struct worker *w, int q, struct sgdma_buf_xfer *x)
{
	struct sgdma_completion c;
	int ret;

	x->user_data = w->id;
	ret = -sgdma_bufq_submit(q, x);
	if (ret)
		return ret;
	if (sgdma_bufq_reap(q, &c, 1, SGDMA_REAP_WAIT) != 1)
		return EIO;
	return c.user_data == w->id ? -c.status : EIO;
}

/* Write @len bytes of @src (registered as @hs) to the card one way. */
static int put_card(struct worker *w, int q, unsigned int way,
		    unsigned char *src, uint32_t hs, uint64_t off, size_t len)
{
	switch (way) {
	case 0:
		return h2c(off, src, len, SGDMA_XFER_COPY, NULL);
	case 1:
		/* The pinned path cannot pin a mapping of a coherent buffer. */
		return h2c(off, src, len, w->coherent ||
			   !(info.caps & SGDMA_CAP_PINNED) ? 0 :
			   SGDMA_XFER_PINNED, NULL);
	case 2:
		return bx_h2c(off, hs, 0, len);
	default: {
		struct sgdma_buf_xfer x = {
			.op = SGDMA_OP_H2C, .card_offset = off,
			.src_handle = hs, .len = len,
		};

		return queued(w, q, &x);
	}
	}
}

/* Read it back another way. */
static int get_card(struct worker *w, int q, unsigned int way,
		    unsigned char *dst, uint32_t hd, uint64_t off, size_t len,
		    volatile unsigned char *card_map)
{
	switch (way) {
	case 0:
		return c2h(off, dst, len, SGDMA_XFER_COPY, NULL);
	case 1:
		return c2h(off, dst, len, w->coherent ||
			   !(info.caps & SGDMA_CAP_PINNED) ? 0 :
			   SGDMA_XFER_PINNED, NULL);
	case 2:
		return bx_c2h(off, hd, 0, len);
	case 3:
		if (!card_map)
			return bx_c2h(off, hd, 0, len);
		for (size_t i = 0; i < len; i++)
			dst[i] = card_map[off + i];
		return 0;
	default: {
		struct sgdma_buf_xfer x = {
			.op = SGDMA_OP_C2H, .card_offset = off,
			.dst_handle = hd, .len = len,
		};

		return queued(w, q, &x);
	}
	}
}

static volatile unsigned char *card_map;

static void *worker(void *arg)
{
	struct worker *w = arg;
	unsigned char *src = NULL, *dst = NULL;
	uint32_t hs = 0, hd = 0;
	uint64_t mo = 0;
	int q = -1;
	bool coherent = w->coherent = w->id % 2;

	/* Odd threads use coherent buffers, even ones registered memory. */
	if (coherent) {
		w->ok = sgdma_buf_alloc(dev, MAXLEN, &hs, &mo) == 0 &&
			sgdma_buf_mmap(dev, hs, MAXLEN, (void **)&src) == 0 &&
			sgdma_buf_alloc(dev, MAXLEN, &hd, &mo) == 0 &&
			sgdma_buf_mmap(dev, hd, MAXLEN, (void **)&dst) == 0;
	} else {
		src = backed(MAXLEN);
		dst = backed(MAXLEN);
		w->ok = src && dst && reg(src, MAXLEN, 0, &hs) == 0 &&
			reg(dst, MAXLEN, 0, &hd) == 0;
	}
	q = sgdma_bufq_create(dev, 4, 0, -1);
	w->ok &= q >= 0;

	for (int r = 0; r < ROUNDS && w->ok; r++) {
		size_t len = al_up(wrnd(&w->seed) % MAXLEN + 1);
		uint64_t off = w->card + (wrnd(&w->seed) % (REGION - len)) /
			       info.seg_align * info.seg_align;
		unsigned int pw = wrnd(&w->seed) % 4, gw = wrnd(&w->seed) % 5;
		int ret;

		if (len > MAXLEN)
			len = MAXLEN / info.seg_align * info.seg_align;
		fill_random(src, len);
		ret = put_card(w, q, pw, src, hs, off, len);
		if (!ret) {
			memset(dst, 0, len);
			ret = get_card(w, q, gw, dst, hd, off, len, card_map);
		}
		if (ret || memcmp(src, dst, len)) {
			ktap_diag("thread %u round %d: put %u get %u len %zu: %s",
				  w->id, r, pw, gw, len,
				  ret ? strerror(ret) : "data differs");
			w->ok = false;
		}
		w->xfers += 2;
	}
	if (q >= 0)
		close(q);
	if (coherent) {
		if (src)
			munmap(src, MAXLEN);
		if (dst)
			munmap(dst, MAXLEN);
	}
	w->ok &= hs && unreg(hs) == 0;
	w->ok &= hd && unreg(hd) == 0;
	if (!coherent) {
		munmap(src, MAXLEN);
		munmap(dst, MAXLEN);
	}
	return NULL;
}

static int proc_main(unsigned int p)
{
	struct worker w[THREADS];
	pthread_t tid[THREADS];
	long pin0 = vm_pin_kib();
	unsigned int xfers = 0;
	bool ok = true;

	/* Each process its own file: handles never cross. */
	if (sgdma_open_index(0, &dev))
		return 1;
	if (p == 0 && sgdma_card_mmap(dev, 0, info.card_map_size,
				      (void **)&card_map))
		return 2;
	for (unsigned int t = 0; t < THREADS; t++) {
		w[t] = (struct worker){
			.id = p * THREADS + t,
			.card = (uint64_t)(p * THREADS + t) * REGION,
			.seed = 0x1234567ULL * (p * THREADS + t + 1),
		};
		pthread_create(&tid[t], NULL, worker, &w[t]);
	}
	for (unsigned int t = 0; t < THREADS; t++) {
		pthread_join(tid[t], NULL);
		ok &= w[t].ok;
		xfers += w[t].xfers;
	}
	if (card_map)
		munmap((void *)card_map, info.card_map_size);
	sgdma_close(dev);
	if (vm_pin_kib() != pin0) {
		ktap_diag("process %u: VmPin %ld kB, was %ld", p, vm_pin_kib(),
			  pin0);
		ok = false;
	}
	printf("# process %u: %u transfers\n", p, xfers);
	return ok ? 0 : 3;
}

static bool test_stress(void)
{
	pid_t pids[PROCS];
	bool ok = true;

	for (unsigned int p = 0; p < PROCS; p++) {
		pids[p] = fork();
		if (!pids[p])
			_exit(proc_main(p));
	}
	for (unsigned int p = 0; p < PROCS; p++)
		ok &= EXPECT(child_ok(pids[p]));
	ok &= EXPECT(dev_stat(0, "pages_pinned") == 0);
	return ok;
}

int main(void)
{
	ktap_plan(1);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS) ||
	    PROCS * THREADS * REGION > info.card_size) {
		ktap_diag("no device or not enough card memory");
		return t_fail_all("setup");
	}
	RUN(test_stress(), "processes_threads_all_paths");
	sgdma_close(dev);
	return ktap_finish();
}
