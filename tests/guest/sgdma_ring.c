// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_ring: full rings (issue 16), the engine posting queued requests
 * itself. A queue keeps up to 32 descriptors in flight on one channel; a
 * ring wraps several times while full; a few hundred mixed
 * submissions (every direction, 512 B to 5 MiB, odd offsets, CRCs, every
 * channel) each complete once with their data; pieces past the first 8
 * list sets are cut where their short lists fill; a failed submission spares
 * those queued behind it; busy queues do not starve a synchronous
 * transfer; unbinding sgdma1 under full queues delivers every completion
 * (0 or -ENODEV) and leaves nothing pinned.
 */
#define _GNU_SOURCE
#include "sgdma_queue.h"

#define FAULT_DMA_ERROR	1

#define SMALL		(4 * KiB)

/* Two buffers registered on sgdma0 and a queue, for one channel's ring. */
struct held {
	unsigned char *a, *b;	/* source (random bytes) and destination */
	size_t len;
	uint32_t ha, hb;
	int q;
	unsigned int chan;
};

/*
 * Maps @h's two buffers of @len bytes, fills @h->a with random bytes,
 * registers both, creates a queue of @n slots and has the device hold
 * the first descriptor on @chan (LATE), so that what is queued next
 * waits behind it with the ring full. False if a step failed; what was
 * set up stays in @h for held_end().
 */
static bool held_begin(struct held *h, size_t len, unsigned int n,
		       unsigned int chan)
{
	bool ok;

	*h = (struct held){ .len = len, .q = -1, .chan = chan,
			    .a = backed(len), .b = backed(len) };
	if (!h->a || !h->b)
		return false;
	fill_random(h->a, len);
	ok = EXPECT(reg(h->a, len, 0, &h->ha) == 0 &&
		    reg(h->b, len, 0, &h->hb) == 0);
	h->q = sgdma_bufq_create(dev, n, 0, -1);
	ok &= EXPECT(h->q >= 0);
	return ok && EXPECT(arm_fault(chan, FAULT_LATE, HOLD_MS));
}

/* Disarms @h's channel, closes its queue, frees and unmaps its buffers. */
static bool held_end(struct held *h)
{
	bool ok = EXPECT(arm_fault(h->chan, 0, 0));

	if (h->q >= 0)
		close(h->q);
	ok &= EXPECT(unreg(h->ha) == 0 && unreg(h->hb) == 0);
	munmap(h->a, h->len);
	munmap(h->b, h->len);
	return ok;
}

/*
 * Waits until the device started the descriptor LATE holds on @chan (its
 * FAULT_INJECT reads 0 again): from then on, HOLD_MS until it completes.
 */
static bool held_started(unsigned int chan)
{
	double end = now() + HOLD_MS / 1000.0;

	while (fault_register(chan) != 0) {
		if (now() >= end) {
			ktap_diag("channel %u: LATE never fired", chan);
			return false;
		}
		usleep(1000);
	}
	return true;
}

/*
 * 32 transfers of 4 KiB to one channel; the rest are submitted once the
 * device holds the first (LATE). The engine, waiting for the first with
 * room in the ring, must post them as they come: up to 32 descriptors in
 * flight (fewer only on a ring with fewer slots) while the first is still
 * held, nothing collected yet. An engine that posts more only once its
 * oldest completed, or that runs one request at a time, has one.
 */
static bool test_fills_ring(void)
{
	enum { N = 32 };
	unsigned int chan = info.channels - 1;
	struct got g[N] = { { false } };
	struct pollfd p;
	struct held h;
	double end;
	long most;
	bool ok;

	/* Nothing in flight yet: the peak counted is this case's. */
	ok = EXPECT(write_str("/sys/class/sgdma/sgdma0/inflight_max", "0\n"));
	ok &= held_begin(&h, N * SMALL, N, chan);
	ok = ok && EXPECT(sub(h.q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL, chan, 0,
			      h.ha, 0, h.hb, 0, SMALL, 0) == 0) &&
	     held_started(chan);
	if (!ok) {
		held_end(&h);
		return false;
	}
	/* Half the hold for the rest to be posted: far more than needed. */
	end = now() + HOLD_MS / 2000.0;
	for (int i = 1; i < N && ok; i++)
		ok &= EXPECT(sub(h.q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL, chan, 0,
				 h.ha, i * SMALL, h.hb, i * SMALL, SMALL,
				 i) == 0);
	while ((most = dev_stat(0, "inflight_max")) < full_ring() &&
	       now() < end)
		usleep(1000);
	p = (struct pollfd){ .fd = h.q, .events = POLLIN };
	ktap_diag("channel %u: %ld descriptors in flight behind the held one, %ld wanted",
		  chan, most, full_ring());
	ok &= EXPECT(most >= full_ring());
	/* Still held: the peak was behind it, not after it. */
	ok &= EXPECT(poll(&p, 1, 0) == 0);
	ok &= reap_all(h.q, g, N, 15);
	for (int i = 0; i < N && ok; i++)
		ok &= EXPECT(g[i].status == 0 && g[i].bytes == SMALL);
	ok &= EXPECT(same(h.b, h.a, h.len));
	ok &= held_end(&h);
	return ok;
}

/*
 * Small transfers of 512 B to 4 KiB at odd offsets, all on one channel:
 * more than four times the 64 slots of its ring, the device holding the
 * first (LATE) so that the ring is full from the start; the queue keeps
 * it full as it wraps. Every completion once, every byte where it belongs.
 */
static bool test_ring_wraps(void)
{
	enum { N = 4 * 64 + 35, HOST = 2 * MiB };
	unsigned int chan = info.channels - 1;
	uint64_t soff[N], doff[N], slen[N], used = 0;
	struct got *g = calloc(N, sizeof(*g));
	struct held h;
	bool ok = g;

	if (!ok || !held_begin(&h, HOST, N, chan)) {
		free(g);
		return false;
	}
	for (int i = 0; i < N && ok; i++) {
		slen[i] = al_up(512 + rnd() % (SMALL - 511));
		doff[i] = al_up(used + rnd() % 64);
		soff[i] = al_down(rnd() % (HOST - slen[i]));
		used = doff[i] + slen[i];
		ok &= EXPECT(used <= HOST);
		ok &= EXPECT(sub(h.q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL, chan, 0,
				 h.ha, soff[i], h.hb, doff[i], slen[i],
				 i) == 0);
	}
	ok &= reap_all(h.q, g, N, 20);
	for (int i = 0; i < N && ok; i++) {
		ok &= EXPECT(g[i].status == 0 && g[i].bytes == slen[i]);
		ok &= EXPECT(same(h.b + doff[i], h.a + soff[i], slen[i]));
		if (!ok)
			ktap_diag("submission %d: status %d, %llu bytes", i,
				  g[i].status, (unsigned long long)g[i].bytes);
	}
	ok &= held_end(&h);
	free(g);
	return ok;
}

/*
 * Memory whose pages are scattered: each faulted in between two of another
 * mapping, which then goes, so that without an IOMMU no two of its pages
 * are likely to be contiguous and each is a segment of its own.
 */
static void *scattered(size_t len)
{
	unsigned char *p = unbacked(len), *q = unbacked(len);

	if (!p || !q) {
		if (p)
			munmap(p, len);
		if (q)
			munmap(q, len);
		return NULL;
	}
	/* Small pages, where the kernel has huge ones at all. */
	madvise(p, len, MADV_NOHUGEPAGE);
	madvise(q, len, MADV_NOHUGEPAGE);
	for (size_t off = 0; off < len; off += 4096) {
		p[off] = 0;
		q[off] = 0;
	}
	munmap(q, len);
	return p;
}

/*
 * 16 H2H transfers of 512 KiB between buffers of scattered pages, in one
 * batch on the queue's channel: the pieces posted past the first 8 list
 * sets, whose lists hold 64 entries, are cut where their lists fill, and
 * every byte arrives. A driver that fills a short list past its room
 * writes the source's entries over the destination's, or the next set's,
 * in flight.
 */
static bool test_short_lists(void)
{
	enum { N = 16, LEN = 512 * KiB };
	size_t len = (size_t)N * LEN;
	unsigned char *a = scattered(len), *b = scattered(len);
	struct sgdma_buf_xfer x[N];
	struct got g[N] = { { false } };
	uint32_t ha = 0, hb = 0;
	long most;
	int q = -1;
	bool ok = a && b;

	if (ok) {
		fill_random(a, len);
		ok &= EXPECT(reg(a, len, 0, &ha) == 0 &&
			     reg(b, len, 0, &hb) == 0);
		q = sgdma_bufq_create(dev, N, 0, -1);
		ok &= EXPECT(q >= 0);
		ok &= EXPECT(write_str("/sys/class/sgdma/sgdma0/inflight_max",
				       "0\n"));
	}
	for (int i = 0; i < N; i++)
		x[i] = (struct sgdma_buf_xfer){
			.op = SGDMA_OP_H2H, .src_handle = ha,
			.src_offset = (uint64_t)i * LEN, .dst_handle = hb,
			.dst_offset = (uint64_t)i * LEN, .len = LEN,
			.user_data = i,
		};
	ok = ok && EXPECT(sgdma_bufq_submit_batch(q, x, N) == N) &&
	     reap_all(q, g, N, 20);
	for (int i = 0; i < N && ok; i++)
		ok &= EXPECT(g[i].status == 0 && g[i].bytes == LEN);
	most = dev_stat(0, "inflight_max");
	ktap_diag("%ld descriptors in flight at most", most);
	ok = ok && EXPECT(same(b, a, len));
	if (q >= 0)
		close(q);
	if (ha)
		ok &= EXPECT(unreg(ha) == 0);
	if (hb)
		ok &= EXPECT(unreg(hb) == 0);
	if (a)
		munmap(a, len);
	if (b)
		munmap(b, len);
	return ok;
}

/*
 * Mixed submissions: every direction, 512 B to 5 MiB, odd offsets, CRC
 * on every fourth, spread over every channel and "any channel". Sources
 * are ranges of @a, whose copy sits on the card at MIX_CARD_R for C2H;
 * destinations are disjoint ranges of @b (C2H, H2H) or of the card below
 * MIX_CARD_W (H2C). When a destination is full the batch so far is
 * reaped and checked. 36 MiB registered in all: swiotlb=force and the
 * dma-mask cell bounce registered buffers through a 64 MiB pool.
 */
#define MIX_N		320
#define MIX_SRC		(8 * MiB)
#define MIX_DST		(16 * MiB)
#define MIX_CARD_W	(12 * MiB)
#define MIX_CARD_R	(32 * MiB)

struct mix {
	uint16_t op;
	uint32_t flags;
	uint32_t chan;
	uint64_t src;		/* offset in @a of the bytes it moves */
	uint64_t dst;		/* offset in @b, or on the card (H2C) */
	uint64_t card;
	uint64_t len;
};

/* About as many lengths from each power of two, 512 B to 5 MiB. */
static uint64_t mix_len(void)
{
	uint64_t base = 512ULL << (rnd() % 14);
	uint64_t len = base + rnd() % base;

	return al_up(len < 5 * MiB ? len : 5 * MiB);
}

/* Picks submission @i; false if its destination does not fit any more. */
static bool mix_pick(struct mix *x, unsigned int i, uint64_t *dused,
		     uint64_t *cused)
{
	static const uint16_t ops[] = { SGDMA_OP_H2C, SGDMA_OP_C2H,
					SGDMA_OP_H2H };
	uint64_t *used, limit, gap = al_up(rnd() % 64);

	x->op = ops[i % 3];
	x->len = mix_len();
	x->src = al_down(rnd() % (MIX_SRC - x->len));
	/* Every fourth: each direction gets some (i % 3 picks it). */
	x->flags = i % 4 == 1 ? SGDMA_XFER_CRC : 0;
	x->chan = i % (info.channels + 1);
	if (x->chan < info.channels)
		x->flags |= SGDMA_XFER_CHANNEL;
	else
		x->chan = 0;
	used = x->op == SGDMA_OP_H2C ? cused : dused;
	limit = x->op == SGDMA_OP_H2C ? MIX_CARD_W : MIX_DST;
	if (*used + gap + x->len > limit)
		return false;
	x->dst = *used + gap;
	*used = x->dst + x->len;
	x->card = x->op == SGDMA_OP_H2C ? x->dst :
		  x->op == SGDMA_OP_C2H ? MIX_CARD_R + x->src : 0;
	return true;
}

static int mix_submit(int q, const struct mix *x, uint32_t ha, uint32_t hb,
		      unsigned int i)
{
	return sub(q, x->op, x->flags, x->chan, x->card,
		   x->op == SGDMA_OP_C2H ? 0 : ha,
		   x->op == SGDMA_OP_C2H ? 0 : x->src,
		   x->op == SGDMA_OP_H2C ? 0 : hb,
		   x->op == SGDMA_OP_H2C ? 0 : x->dst, x->len, i);
}

/* Reaps submissions [@first, @end) and checks them; @s gets the card. */
static bool mix_check(int q, const struct mix *m, struct got *g,
		      unsigned int first, unsigned int end,
		      const unsigned char *a, const unsigned char *b,
		      unsigned char *s, uint32_t hs, uint64_t cused)
{
	bool ok = reap_n(q, g, MIX_N, end - first, 30);

	/* What the H2C transfers wrote, in one read. */
	if (ok && cused)
		ok &= EXPECT(bx_c2h(0, hs, 0, al_up(cused)) == 0);
	for (unsigned int i = first; i < end && ok; i++) {
		const struct mix *x = &m[i];
		const unsigned char *out = x->op == SGDMA_OP_H2C ? s : b;

		ok &= EXPECT(g[i].seen && g[i].status == 0 &&
			     g[i].bytes == x->len);
		if (ok && x->flags & SGDMA_XFER_CRC)
			ok &= EXPECT(g[i].crc ==
				     sgdma_crc32c(0, a + x->src, x->len));
		ok &= ok && EXPECT(same(out + x->dst, a + x->src, x->len));
		if (!ok)
			ktap_diag("submission %u: op %u, %llu bytes from %#llx to %#llx, card %#llx, channel %u%s: status %d, %llu bytes",
				  i, x->op, (unsigned long long)x->len,
				  (unsigned long long)x->src,
				  (unsigned long long)x->dst,
				  (unsigned long long)x->card, x->chan,
				  x->flags & SGDMA_XFER_CHANNEL ? "" : " (any)",
				  g[i].status, (unsigned long long)g[i].bytes);
	}
	return ok;
}

static bool test_mixed(void)
{
	unsigned char *a = backed(MIX_SRC), *b = backed(MIX_DST);
	unsigned char *s = backed(MIX_CARD_W);
	struct mix *m = calloc(MIX_N, sizeof(*m));
	struct got *g = calloc(MIX_N, sizeof(*g));
	uint64_t dused = 0, cused = 0, bytes = 0;
	unsigned int first = 0, batches = 0;
	uint32_t ha = 0, hb = 0, hs = 0;
	double t = now();
	int q = -1;
	bool ok = a && b && s && m && g;

	ok &= EXPECT(info.card_size >= MIX_CARD_R + MIX_SRC);
	if (!ok)
		return false;
	fill_random(a, MIX_SRC);
	ok &= EXPECT(reg(a, MIX_SRC, 0, &ha) == 0 &&
		     reg(b, MIX_DST, 0, &hb) == 0 &&
		     reg(s, MIX_CARD_W, 0, &hs) == 0);
	/* The card's copy of the source, which C2H reads. */
	ok &= EXPECT(bx_h2c(MIX_CARD_R, ha, 0, MIX_SRC) == 0);
	q = sgdma_bufq_create(dev, MIX_N, 0, -1);
	ok &= EXPECT(q >= 0);
	for (unsigned int i = 0; i <= MIX_N && ok; i++) {
		bool fits = i < MIX_N && mix_pick(&m[i], i, &dused, &cused);

		if (!fits) {
			ok &= mix_check(q, m, g, first, i, a, b, s, hs, cused);
			batches++;
			first = i;
			dused = cused = 0;
			if (i == MIX_N || !ok)
				break;
			/* Each fits alone: its gap is at most 64 bytes. */
			ok &= EXPECT(mix_pick(&m[i], i, &dused, &cused));
		}
		bytes += m[i].len;
		ok &= EXPECT(mix_submit(q, &m[i], ha, hb, i) == 0);
	}
	ktap_diag("%u submissions, %llu MiB in %u batches, %.1f s", first,
		  (unsigned long long)bytes / MiB, batches, now() - t);
	ok &= EXPECT(first == MIX_N);
	if (q >= 0)
		close(q);
	ok &= EXPECT(unreg(ha) == 0 && unreg(hb) == 0 && unreg(hs) == 0);
	free(m);
	free(g);
	munmap(a, MIX_SRC);
	munmap(b, MIX_DST);
	munmap(s, MIX_CARD_W);
	return ok;
}

/*
 * One submission fails (DMA_ERROR on its first data access, armed while
 * the device holds it with LATE) while eleven more wait behind it on its
 * channel, posted to the ring or not: it alone ends with -EIO, every
 * other one moves its data.
 */
static bool test_failure_spares_others(void)
{
	enum { N = 12 };
	unsigned int chan = 1 % info.channels;
	struct got g[N] = { { false } };
	struct held h;
	int failed = 0;
	bool ok = held_begin(&h, N * SLOT, N, chan);

	if (!ok)
		return false;
	for (int i = 0; i < N && ok; i++)
		ok &= EXPECT(sub(h.q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL, chan, 0,
				 h.ha, i * SLOT, h.hb, i * SLOT, SLOT, i) == 0);
	ok = ok && held_started(chan) &&
	     EXPECT(arm_fault(chan, FAULT_DMA_ERROR, 1));
	ok &= reap_all(h.q, g, N, 15);
	for (int i = 0; i < N && ok; i++) {
		if (g[i].status) {
			ktap_diag("submission %d failed: %d", i, g[i].status);
			ok &= EXPECT(g[i].status == -EIO && !g[i].bytes);
			failed++;
			continue;
		}
		ok &= EXPECT(g[i].bytes == SLOT);
		ok &= EXPECT(same(h.b + i * SLOT, h.a + i * SLOT, SLOT));
	}
	ok &= EXPECT(failed == 1);
	ok &= held_end(&h);
	return ok;
}

/*
 * A thread that keeps 128 transfers of 256 KiB (H2H, the same bytes over
 * and over) queued on every channel of sgdma0, 32 MiB a channel, so that
 * no channel's queue runs dry while a synchronous caller waits, until
 * told to stop, or for CHURN_MAX_S at most: a caller it starves then gets
 * through late, and fails, rather than never.
 */
struct churn {
	pthread_t thread;
	int q;
	uint32_t ha, hb;
	unsigned int slots;
	double until;
	atomic_bool stop;
	atomic_ulong done;
	atomic_ulong on[64];	/* completed, by channel */
	int bad;		/* a failed status, or 0 */
};

#define CHURN_PER_CHAN	128
#define CHURN_LEN	(256 * KiB)
#define CHURN_MAX_S	10
#define SYNC_ROUNDS	8	/* synchronous pairs per channel */

static int churn_sub(struct churn *c, unsigned int k)
{
	unsigned int ch = k % info.channels;

	return sub(c->q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL, ch, 0, c->ha,
		   ch * CHURN_LEN, c->hb, ch * CHURN_LEN, CHURN_LEN, k);
}

static void *churn(void *arg)
{
	struct churn *c = arg;
	unsigned int inflight = 0;

	for (unsigned int k = 0; k < c->slots && !c->bad; k++)
		c->bad = churn_sub(c, k) ? EIO : 0;
	inflight = c->bad ? 0 : c->slots;
	while (inflight) {
		struct sgdma_completion cq[16];
		int n = sgdma_bufq_reap(c->q, cq, ARRAY_LEN(cq),
					SGDMA_REAP_WAIT);

		if (n <= 0) {
			c->bad = n ? -n : EPIPE;
			break;
		}
		inflight -= n;
		atomic_fetch_add(&c->done, n);
		for (int i = 0; i < n; i++) {
			atomic_fetch_add(&c->on[cq[i].user_data %
						info.channels], 1);
			if (cq[i].status && !c->bad)
				c->bad = -cq[i].status;
			if (atomic_load(&c->stop) || c->bad || now() > c->until)
				continue;
			if (churn_sub(c, cq[i].user_data))
				c->bad = EIO;
			else
				inflight++;
		}
	}
	return NULL;
}

/*
 * Synchronous transfers on each channel in turn complete, with their
 * data, well within the transfer timeout while a queue keeps every
 * channel's ring busy: the queues may not keep a channel to themselves.
 * An engine that holds its channel for as long as it has requests keeps
 * the caller waiting until the thread gives up (CHURN_MAX_S).
 */
static bool test_sync_not_starved(void)
{
	struct churn c = { .q = -1, .slots = CHURN_PER_CHAN * info.channels,
			   .until = now() + CHURN_MAX_S };
	size_t len = info.channels * CHURN_LEN;
	unsigned char *a = backed(len), *b = backed(len);
	unsigned char *x = backed(SLOT), *y = backed(SLOT);
	unsigned long busy, most = 0;
	double worst = 0;
	bool ok = a && b && x && y;

	if (!ok || !EXPECT(info.channels <= ARRAY_LEN(c.on)))
		return false;
	ok &= EXPECT(reg(a, len, 0, &c.ha) == 0 && reg(b, len, 0, &c.hb) == 0);
	c.q = sgdma_bufq_create(dev, c.slots, 0, -1);
	ok &= EXPECT(c.q >= 0);
	if (!ok || !EXPECT(!pthread_create(&c.thread, NULL, churn, &c)))
		return false;
	usleep(300000);
	busy = atomic_load(&c.done);
	for (unsigned int r = 0; r < SYNC_ROUNDS * info.channels && ok; r++) {
		unsigned int ch = r % info.channels;
		unsigned long passed = atomic_load(&c.on[ch]);
		double t = now(), took;

		fill_random(x, SLOT);
		ok &= EXPECT(xfer_single(SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, ch,
					 ch * SLOT, x, SLOT) == 0);
		ok &= EXPECT(xfer_single(SGDMA_OP_C2H, SGDMA_XFER_CHANNEL, ch,
					 ch * SLOT, y, SLOT) == 0);
		took = now() - t;
		passed = atomic_load(&c.on[ch]) - passed;
		worst = took > worst ? took : worst;
		most = passed > most ? passed : most;
		ok &= EXPECT(same(y, x, SLOT));
		/* Well within the 5 s timeout. */
		ok &= EXPECT(took < 2.0);
	}
	/* The queue was busy all along. */
	busy = atomic_load(&c.done) - busy;
	atomic_store(&c.stop, true);
	pthread_join(c.thread, NULL);
	ktap_diag("sync transfers took up to %.3f s, at most %lu queued ones on their channel went first, %lu in all",
		  worst, most, busy);
	ok &= EXPECT(busy > 0);
	if (c.bad)
		ktap_diag("queued transfers: %s", strerror(c.bad));
	ok &= EXPECT(!c.bad);
	close(c.q);
	ok &= EXPECT(unreg(c.ha) == 0 && unreg(c.hb) == 0);
	munmap(a, len);
	munmap(b, len);
	munmap(x, SLOT);
	munmap(y, SLOT);
	return ok;
}

/* ---- unbind with every ring full ---- */

#define UNBIND_N	96

/* sgdma<index> opened again, for up to 10 s after a bind. */
static struct sgdma_dev *reopen(unsigned int index)
{
	struct sgdma_dev *d = NULL;
	double t = now();

	while (sgdma_open_index(index, &d) && now() - t < 10)
		usleep(20000);
	return d;
}

/*
 * A queue's H2H transfers on every channel of @d, each checked; the queue
 * works on a device bound again.
 */
static bool queue_works(struct sgdma_dev *d, unsigned int channels)
{
	enum { N = 8 };
	size_t len = N * SMALL;
	unsigned char *a = backed(len), *b = backed(len);
	struct got g[N] = { { false } };
	uint32_t ha = 0, hb = 0;
	int q;
	bool ok = a && b;

	if (!ok)
		return false;
	fill_random(a, len);
	ok &= EXPECT(!sgdma_buf_register(d, a, len, 0, &ha) &&
		     !sgdma_buf_register(d, b, len, 0, &hb));
	q = sgdma_bufq_create(d, N, 0, -1);
	ok &= EXPECT(q >= 0);
	for (int i = 0; i < N && ok; i++)
		ok &= EXPECT(sub(q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL,
				 i % channels, 0, ha, i * SMALL, hb,
				 i * SMALL, SMALL, i) == 0);
	ok &= ok && reap_all(q, g, N, 10);
	for (int i = 0; i < N && ok; i++)
		ok &= EXPECT(g[i].status == 0 && g[i].bytes == SMALL);
	ok &= ok && EXPECT(same(b, a, len));
	if (q >= 0)
		close(q);
	ok &= EXPECT(!sgdma_buf_free(d, ha) && !sgdma_buf_free(d, hb));
	munmap(a, len);
	munmap(b, len);
	return ok;
}

/*
 * sgdma1 unbound while a queue has 96 transfers on its channels, the
 * device holding the first on every other channel (LATE): every
 * completion is delivered once, each 0 (its data right) or -ENODEV, and
 * both come; nothing stays pinned once the device is gone; the queue
 * takes no more; bound again, it works.
 */
static bool test_unbind_full(void)
{
	size_t len = UNBIND_N * SLOT;
	unsigned char *a = backed(len), *b = backed(len);
	struct sgdma_info di = { .size = sizeof(di) };
	struct got g[UNBIND_N] = { { false } };
	char path[PATH_MAX], bdf[64];
	struct sgdma_dev *d = NULL;
	uint32_t ha = 0, hb = 0;
	long pin0 = vm_pin_kib();
	int q = -1, gone = 0;
	double t;
	bool ok = a && b;

	if (!ok || !EXPECT(pci_path(1, path, sizeof(path))))
		return false;
	snprintf(bdf, sizeof(bdf), "%s", basename(path));
	fill_random(a, len);
	ok &= EXPECT(!sgdma_open_index(1, &d) && !sgdma_get_info(d, &di));
	ok &= ok && EXPECT(!sgdma_buf_register(d, a, len, 0, &ha) &&
			   !sgdma_buf_register(d, b, len, 0, &hb));
	if (ok)
		q = sgdma_bufq_create(d, UNBIND_N, 0, -1);
	ok &= EXPECT(q >= 0);
	/* Even channels held, odd ones free to finish before the unbind. */
	for (unsigned int ch = 0; ch < di.channels && ok; ch += 2)
		ok &= EXPECT(arm_fault_on(1, ch, FAULT_LATE, 2 * HOLD_MS));
	for (int i = 0; i < UNBIND_N && ok; i++)
		ok &= EXPECT(sub(q, SGDMA_OP_H2H, SGDMA_XFER_CHANNEL,
				 i % di.channels, 0, ha, i * SLOT, hb,
				 i * SLOT, SLOT, i) == 0);
	if (!ok) {
		if (q >= 0)
			close(q);
		sgdma_close(d);
		return false;
	}
	/* Once a free channel completed one, while the others are held. */
	ok &= EXPECT(poll(&(struct pollfd){ .fd = q, .events = POLLIN }, 1,
			  HOLD_MS) == 1);
	t = now();
	ok &= EXPECT(pci_bind(bdf, false));
	ktap_diag("unbind took %.2f s", now() - t);
	ok &= EXPECT(now() - t < 10);

	ok &= reap_all(q, g, UNBIND_N, 15);
	for (int i = 0; i < UNBIND_N && ok; i++) {
		if (g[i].status) {
			ok &= EXPECT(g[i].status == -ENODEV && !g[i].bytes);
			gone++;
			continue;
		}
		ok &= EXPECT(g[i].bytes == SLOT);
		ok &= EXPECT(same(b + i * SLOT, a + i * SLOT, SLOT));
	}
	ktap_diag("%d of %d ended with ENODEV", gone, UNBIND_N);
	/* The unbind must have hit transfers, or this proved nothing. */
	ok &= EXPECT(gone > 0 && gone < UNBIND_N);
	/* Its buffers went with the device, though the file is open. */
	ok &= EXPECT(vm_pin_kib() == pin0);
	ok &= EXPECT(sub(q, SGDMA_OP_H2H, 0, 0, 0, ha, 0, hb, 0, SLOT, 0) ==
		     ENODEV);
	close(q);
	sgdma_close(d);

	ok &= EXPECT(pci_bind(bdf, true));
	d = reopen(1);
	ok &= EXPECT(d != NULL) && queue_works(d, di.channels);
	if (d)
		sgdma_close(d);
	munmap(a, len);
	munmap(b, len);
	return ok;
}

int main(void)
{
	ktap_plan(7);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS)) {
		ktap_diag("no device or no queues");
		return t_fail_all("setup");
	}
	RUN(test_fills_ring(), "queue_fills_ring");
	RUN(test_ring_wraps(), "ring_wraps_full");
	RUN(test_mixed(), "mixed_sizes_all_channels");
	RUN(test_short_lists(), "short_lists_cut_where_full");
	RUN(test_failure_spares_others(), "failure_spares_other_submissions");
	RUN(test_sync_not_starved(), "sync_not_starved_by_busy_queues");
	RUN(test_unbind_full(), "unbind_full_queues");
	sgdma_close(dev);
	return ktap_finish();
}
