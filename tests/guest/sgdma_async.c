// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_async: queued transfers. Many in flight, each queue's on its own
 * channel and queues on channels in turn (the driver's trace shows which
 * were used and how many were busy at once), every completion delivered
 * once with its data right, through read(), the reap ioctl, epoll and an
 * eventfd; many submitted in one call; a buffer in flight cannot be
 * freed; a stalled transfer times out; close, kill -9 and fork with
 * transfers in flight leave nothing pinned and nothing broken.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "sgdma_queue.h"

#define NSLOT	64

/*
 * Write NSLOT slots to the card, read them back into another buffer, all
 * queued, collecting with @how: 0 reap, 1 read, 2 epoll + read.
 */
static bool roundtrip(int how)
{
	size_t len = SLOT * NSLOT;
	unsigned char *a = backed(len), *b = backed(len);
	bool seen[2 * NSLOT] = { false };
	uint32_t ha = 0, hb = 0, crcs[NSLOT];
	int q = -1, ep = -1, left, err = 0;
	struct trace_channels tc;
	bool ok = a && b;

	if (!ok)
		return false;
	fill_random(a, len);
	for (int i = 0; i < NSLOT; i++)
		crcs[i] = sgdma_crc32c(0, a + i * SLOT, SLOT);
	ok &= EXPECT(reg(a, len, 0, &ha) == 0 && reg(b, len, 0, &hb) == 0);
	q = sgdma_bufq_create(dev, 2 * NSLOT, SGDMA_QUEUE_CLOEXEC, -1);
	ok &= EXPECT(q >= 0);
	if (how == 2) {
		struct epoll_event ev = { .events = EPOLLIN };

		ep = epoll_create1(0);
		ok &= EXPECT(ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, q, &ev) ==
			     0);
	}
	if (!ok)
		return false;
	ok &= EXPECT(trace_sgdma(true));
	for (int i = 0; i < NSLOT && ok; i++)
		ok &= EXPECT(sub(q, SGDMA_OP_H2C, SGDMA_XFER_CRC, 0,
				 16 * MiB + i * SLOT, ha, i * SLOT, 0, 0, SLOT,
				 i) == 0);
	left = NSLOT;
	for (int phase = 0; phase < 2 && ok; phase++) {
		while (left > 0 && ok) {
			struct sgdma_completion c[16];
			int n;

			if (how == 0) {
				n = sgdma_bufq_reap(q, c, 16, SGDMA_REAP_WAIT);
			} else {
				if (how == 2) {
					struct epoll_event ev;

					ok &= EXPECT(epoll_wait(ep, &ev, 1,
								10000) == 1);
				}
				n = read(q, c, sizeof(c));
				n = n < 0 ? -errno : n / (int)sizeof(c[0]);
			}
			ok &= EXPECT(n > 0);
			for (int i = 0; i < n && ok; i++) {
				uint64_t ud = c[i].user_data;

				ok &= EXPECT(ud < 2 * NSLOT && !seen[ud]);
				ok &= EXPECT(c[i].status == 0 &&
					     c[i].bytes == SLOT);
				if (!ok) {
					ktap_diag("completion %llu: %d",
						  (unsigned long long)ud,
						  c[i].status);
					break;
				}
				seen[ud] = true;
				if (ud < NSLOT) {
					ok &= EXPECT(c[i].crc == crcs[ud]);
					/* Written: read it back. */
					err = sub(q, SGDMA_OP_C2H, 0, 0,
						  16 * MiB + ud * SLOT, 0, 0,
						  hb, ud * SLOT, SLOT,
						  NSLOT + ud);
					ok &= EXPECT(err == 0);
					left++;
				}
				left--;
			}
		}
	}
	ok &= EXPECT(same(b, a, len));
	/* Naming no channel, they all ran on the queue's own. */
	ok &= EXPECT(trace_channel_stats(info.minor, &tc));
	ktap_diag("%d channels used by one queue", tc.used);
	ok &= EXPECT(tc.used == 1);
	ok &= EXPECT(trace_sgdma(false));
	/* Nothing in flight, nothing waiting: a read returns at once. */
	ok &= EXPECT(read(q, crcs, sizeof(struct sgdma_completion)) == 0);
	ok &= EXPECT(unreg(ha) == 0 && unreg(hb) == 0);
	close(q);
	if (ep >= 0)
		close(ep);
	munmap(a, len);
	munmap(b, len);
	return ok;
}

/*
 * Queues are given the device's channels in turn: as many queues as
 * channels (up to 4), their transfers naming none, use that many channels
 * (each queue's submitted whole, 4 MiB of work for the device, before the
 * next queue's; how many were busy at once is reported, not judged: a
 * slow guest may submit the next queue's after the last one finished).
 */
static bool test_queues_spread(void)
{
	enum { PER_Q = 4, MAXQ = 4, BIG = 1 * MiB };
	unsigned int k = info.channels < MAXQ ? info.channels : MAXQ;
	size_t len = (size_t)MAXQ * PER_Q * BIG;
	unsigned char *a = backed(len);
	int q[MAXQ] = { -1, -1, -1, -1 };
	struct trace_channels tc;
	struct got g[MAXQ][PER_Q * MAXQ] = { { { false } } };
	uint32_t ha = 0;
	bool ok = a;

	if (!ok)
		return false;
	fill_random(a, len);
	ok &= EXPECT(reg(a, len, 0, &ha) == 0);
	for (unsigned int i = 0; i < k && ok; i++) {
		q[i] = sgdma_bufq_create(dev, PER_Q, 0, -1);
		ok &= EXPECT(q[i] >= 0);
	}
	ok = ok && EXPECT(trace_sgdma(true));
	for (unsigned int i = 0; i < k * PER_Q && ok; i++)
		ok &= EXPECT(sub(q[i / PER_Q], SGDMA_OP_H2C, 0, 0,
				 16 * MiB + i * BIG, ha, i * BIG, 0, 0, BIG,
				 i) == 0);
	for (unsigned int i = 0; i < k && ok; i++) {
		ok &= reap_n(q[i], g[i], k * PER_Q, PER_Q, 15);
		for (unsigned int j = i * PER_Q; j < (i + 1) * PER_Q && ok; j++)
			ok &= EXPECT(g[i][j].seen && g[i][j].status == 0 &&
				     g[i][j].bytes == BIG);
	}
	ok &= EXPECT(trace_channel_stats(info.minor, &tc));
	ktap_diag("%u queues used %d channels, at most %d busy at once", k,
		  tc.used, tc.most_busy);
	ok &= EXPECT(tc.used == (int)k);
	ok &= EXPECT(trace_sgdma(false));
	for (unsigned int i = 0; i < k; i++)
		if (q[i] >= 0)
			close(q[i]);
	ok &= EXPECT(unreg(ha) == 0);
	munmap(a, len);
	return ok;
}

/* An eventfd counts completions; poll says when the queue is full. */
static bool test_eventfd_and_full(void)
{
	size_t len = 16 * SLOT;
	unsigned char *a = backed(len);
	struct sgdma_completion c[8];
	uint32_t ha = 0;
	uint64_t cnt = 0, total = 0;
	int efd = eventfd(0, 0), q;
	struct pollfd p;
	bool ok = a && efd >= 0;

	ok &= EXPECT(reg(a, len, 0, &ha) == 0);
	q = sgdma_bufq_create(dev, 4, SGDMA_QUEUE_NONBLOCK, efd);
	ok &= EXPECT(q >= 0);
	if (!ok)
		return false;
	/* Nonblocking, nothing in flight: nothing to read, no error. */
	ok &= EXPECT(read(q, c, sizeof(c)) == 0);
	for (int i = 0; i < 4; i++)
		ok &= EXPECT(sub(q, SGDMA_OP_H2C, 0, 0, i * SLOT, ha, i * SLOT,
				 0, 0, SLOT, i) == 0);
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, 0, 0, 0, ha, 0, 0, 0, SLOT, 9) ==
		     EAGAIN);
	p = (struct pollfd){ .fd = q, .events = POLLOUT };
	ok &= EXPECT(poll(&p, 1, 0) == 0);
	while (total < 4 && ok) {
		ok &= EXPECT(read(efd, &cnt, 8) == 8);
		total += cnt;
	}
	/* All complete, none collected: still full. */
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, 0, 0, 0, ha, 0, 0, 0, SLOT, 9) ==
		     EAGAIN);
	p = (struct pollfd){ .fd = q, .events = POLLIN | POLLOUT };
	ok &= EXPECT(poll(&p, 1, 0) == 1 && p.revents == POLLIN);
	ok &= EXPECT(read(q, c, sizeof(c[0]) - 1) == -1 && errno == EINVAL);
	ok &= EXPECT(sgdma_bufq_reap(q, c, 0, 0) == -EINVAL);
	ok &= EXPECT(sgdma_bufq_reap(q, c, 8, 0x10) == -EINVAL);
	ok &= EXPECT(read(q, c, sizeof(c)) == 4 * (ssize_t)sizeof(c[0]));
	p = (struct pollfd){ .fd = q, .events = POLLIN | POLLOUT };
	ok &= EXPECT(poll(&p, 1, 0) == 1 && p.revents == POLLOUT);
	/* A bad submission fails at once and takes no room. */
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, 0, 0, 0, ha + 5, 0, 0, 0, SLOT, 9) ==
		     ENOENT);
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, 0, 0, 0, ha, len, 0, 0, SLOT, 9) ==
		     EINVAL);
	ok &= EXPECT(sub(q, SGDMA_OP_C2H, 0, 0, 0, ha, 0, 0, 0, SLOT, 9) ==
		     EINVAL);
	ok &= EXPECT(sgdma_bufq_create(dev, 0, 0, -1) == -EINVAL);
	ok &= EXPECT(sgdma_bufq_create(dev, SGDMA_QUEUE_MAX_DEPTH + 1, 0,
					-1) == -EINVAL);
	ok &= EXPECT(sgdma_bufq_create(dev, 4, 0x8, -1) == -EINVAL);
	ok &= EXPECT(sgdma_bufq_create(dev, 4, 0, fd) == -EINVAL);
	ok &= EXPECT(sgdma_bufq_create(dev, 4, 0, 1000) == -EBADF);
	/* The node's ioctls are not the queue's, and the other way round. */
	ok &= EXPECT(ioctl(q, SGDMA_IOC_INFO, &info) == -1 && errno == ENOTTY);
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_QUEUE_REAP, c) == -1 &&
		     errno == ENOTTY);
	close(q);
	close(efd);
	ok &= EXPECT(unreg(ha) == 0);
	munmap(a, len);
	return ok;
}

/*
 * A stalled transfer holds its buffer: freeing it fails with -EBUSY until
 * the transfer times out, and it times out rather than hanging.
 */
static bool test_busy_and_timeout(void)
{
	size_t len = SLOT;
	unsigned char *a = backed(len);
	struct sgdma_completion c;
	uint32_t ha = 0;
	int q;
	bool ok = a != NULL;

	ok &= EXPECT(set_timeout_ms(500));
	ok &= EXPECT(reg(a, len, 0, &ha) == 0);
	q = sgdma_bufq_create(dev, 8, 0, -1);
	ok &= EXPECT(q >= 0);
	ok &= EXPECT(arm_fault(0, 2, 1));	/* STALL the next transfer */
	if (!ok)
		return false;
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, 0, 0, ha, 0, 0,
			 0, len, 77) == 0);
	ok &= EXPECT(unreg(ha) == EBUSY);
	ok &= EXPECT(sgdma_bufq_reap(q, &c, 1, SGDMA_REAP_WAIT) == 1);
	ok &= EXPECT(c.user_data == 77 && c.status == -ETIMEDOUT);
	ok &= EXPECT(unreg(ha) == 0);
	/* The channel recovered. */
	ok &= EXPECT(reg(a, len, 0, &ha) == 0);
	ok &= EXPECT(sub(q, SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, 0, 0, ha, 0, 0,
			 0, len, 78) == 0);
	ok &= EXPECT(sgdma_bufq_reap(q, &c, 1, SGDMA_REAP_WAIT) == 1);
	ok &= EXPECT(c.user_data == 78 && c.status == 0);
	ok &= EXPECT(unreg(ha) == 0);
	close(q);
	ok &= EXPECT(set_timeout_ms(5000));
	munmap(a, len);
	return ok;
}

/* Submit a lot, then close everything without collecting anything. */
static bool fill_queue(int q, uint32_t ha, uint32_t hb, int n)
{
	bool ok = true;

	for (int i = 0; i < n && ok; i++)
		ok &= EXPECT(sub(q, i % 2 ? SGDMA_OP_C2H : SGDMA_OP_H2C, 0, 0,
				 (i % 16) * MiB, i % 2 ? 0 : ha, 0,
				 i % 2 ? hb : 0, 0, MiB, i) == 0);
	return ok;
}

static bool test_close_in_flight(void)
{
	unsigned char *a = backed(MiB), *b = backed(MiB);
	uint32_t ha = 0, hb = 0;
	long pin0 = vm_pin_kib(), ran;
	int q;
	bool ok = a && b;

	ok &= EXPECT(reg(a, MiB, 0, &ha) == 0 && reg(b, MiB, 0, &hb) == 0);
	q = sgdma_bufq_create(dev, 256, 0, -1);
	ok &= EXPECT(q >= 0);
	/* The first on each channel held: every ring is full at close. */
	for (unsigned int ch = 0; ch < info.channels && ok; ch++)
		ok &= EXPECT(arm_fault(ch, FAULT_LATE, HOLD_MS));
	if (!ok)
		return false;
	ran = dev_stat(0, "transfers");
	ok &= fill_queue(q, ha, hb, 64);
	/* The node first: the queue keeps the buffers alive. */
	sgdma_close(dev);
	dev = NULL;
	ok &= EXPECT(vm_pin_kib() > pin0);
	close(q);
	/*
	 * What was not on the device when the queue closed was cancelled
	 * untouched: at most a ring's worth of descriptors ran per channel.
	 */
	ran = dev_stat(0, "transfers") - ran;
	ktap_diag("%ld descriptors ran for 64 transfers queued, %ld at most",
		  ran, (long)info.channels * full_ring());
	ok &= EXPECT(ran <= (long)info.channels * full_ring());
	ok &= EXPECT(vm_pin_kib() == pin0);
	ok &= EXPECT(dev_stat(0, "pages_pinned") == 0);
	for (unsigned int ch = 0; ch < info.channels; ch++)
		ok &= EXPECT(arm_fault(ch, 0, 0));
	ok &= EXPECT(t_open(0));
	munmap(a, MiB);
	munmap(b, MiB);
	return ok;
}

/* kill -9 with transfers in flight, one of them stalled on the device. */
static bool test_kill(void)
{
	int pfd[2];
	bool ok = EXPECT(pipe(pfd) == 0);
	pid_t pid;
	char c;

	ok &= EXPECT(set_timeout_ms(1000));
	if (!ok)
		return false;
	pid = fork();
	if (!pid) {
		unsigned char *a = backed(MiB), *b = backed(MiB);
		uint32_t ha = 0, hb = 0;
		int q;

		/* Its own file: what it holds goes when it dies. */
		if (sgdma_open_index(0, &dev))
			_exit(1);
		if (!a || !b || reg(a, MiB, 0, &ha) || reg(b, MiB, 0, &hb))
			_exit(1);
		q = sgdma_bufq_create(dev, 512, 0, -1);
		if (q < 0 || !arm_fault(1, 2, 1))
			_exit(2);
		if (sub(q, SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, 1, 0, ha, 0, 0,
			0, MiB, 999))
			_exit(3);
		if (!fill_queue(q, ha, hb, 200))
			_exit(4);
		if (write(pfd[1], "x", 1) != 1)
			_exit(5);
		pause();
		_exit(6);
	}
	ok &= EXPECT(read(pfd[0], &c, 1) == 1);
	kill(pid, SIGKILL);
	ok &= EXPECT(waitpid(pid, NULL, 0) == pid);
	ok &= EXPECT(dev_stat(0, "pages_pinned") == 0);
	/* The stalled transfer may have been cancelled before it started. */
	ok &= EXPECT(arm_fault(1, 0, 0));
	ok &= EXPECT(set_timeout_ms(5000));
	close(pfd[0]);
	close(pfd[1]);
	return ok;
}

/* Buffer a, of random bytes, and b, both registered, and a queue. */
struct pair {
	size_t len;
	unsigned char *a, *b;
	uint32_t ha, hb;
	int q;
};

static bool pair_open(struct pair *p, size_t len, uint32_t depth)
{
	*p = (struct pair){ .len = len, .a = backed(len), .b = backed(len),
			    .q = -1 };
	if (!EXPECT(p->a && p->b))
		return false;
	fill_random(p->a, len);
	if (!EXPECT(reg(p->a, len, 0, &p->ha) == 0) ||
	    !EXPECT(reg(p->b, len, 0, &p->hb) == 0))
		return false;
	p->q = sgdma_bufq_create(dev, depth, 0, -1);
	return EXPECT(p->q >= 0);
}

/* Close the queue, then free the buffers: false if one will not go. */
static bool pair_close(struct pair *p)
{
	bool ok = true;

	if (p->q >= 0)
		close(p->q);
	if (p->ha)
		ok &= EXPECT(unreg(p->ha) == 0);
	if (p->hb)
		ok &= EXPECT(unreg(p->hb) == 0);
	if (p->a)
		munmap(p->a, p->len);
	if (p->b)
		munmap(p->b, p->len);
	return ok;
}

/* fork with transfers in flight: the parent gets everything, intact. */
static bool test_fork_in_flight(void)
{
	struct sgdma_completion c[32];
	struct pair p;
	uint32_t ha, hb;
	int q, got = 0;
	bool ok = true;
	pid_t pid;

	if (!pair_open(&p, 32 * SLOT, 64)) {
		pair_close(&p);
		return false;
	}
	q = p.q, ha = p.ha, hb = p.hb;
	for (int i = 0; i < 32 && ok; i++)
		ok &= EXPECT(sub(q, SGDMA_OP_H2H, 0, 0, 0, ha, i * SLOT, hb,
				 i * SLOT, SLOT, i) == 0);
	pid = fork();
	if (!pid) {
		/* The child may not use the parent's buffers, even queued. */
		int r = sub(q, SGDMA_OP_H2H, 0, 0, 0, ha, 0, hb, 0, SLOT, 99);

		close(q);
		_exit(r == EACCES ? 0 : 1);
	}
	while (got < 32 && ok) {
		int n = sgdma_bufq_reap(q, c, 32, SGDMA_REAP_WAIT);

		ok &= EXPECT(n > 0);
		for (int i = 0; i < n; i++) {
			if (c[i].status || c[i].user_data >= 32)
				ktap_diag("completion %llu: status %d",
					  (unsigned long long)c[i].user_data,
					  c[i].status);
			ok &= EXPECT(c[i].status == 0 && c[i].user_data < 32);
		}
		got += n > 0 ? n : 0;
	}
	ok &= EXPECT(child_ok(pid));
	ok &= EXPECT(sgdma_bufq_reap(q, c, 32, SGDMA_REAP_WAIT) == 0);
	ok &= EXPECT(same(p.b, p.a, p.len));
	return pair_close(&p) && ok;
}

/* SGDMA_IOC_QUEUE_SUBMIT_BATCH with @b, raw: the errno, 0 or the count. */
static int batch_ioctl(int q, struct sgdma_queue_batch b)
{
	int r = ioctl(q, SGDMA_IOC_QUEUE_SUBMIT_BATCH, &b);

	return r < 0 ? -errno : r;
}

/*
 * A batch submits its entries as single submissions would, in one call:
 * up to the first that fails (a bad handle, a full queue), which the next
 * call reports; entries follow each other at the stride given; the
 * header is checked before any entry is.
 */
static bool test_batch(void)
{
	struct sgdma_buf_xfer x[16];
	struct got g[16] = { { 0 } };
	struct sgdma_completion c;
	struct {
		struct sgdma_buf_xfer x;
		uint64_t tail;	/* a later ABI's field, zero */
	} wide[2] = { 0 };
	struct sgdma_queue_batch bt = {
		.size = sizeof(bt), .entries = (uintptr_t)x, .count = 1,
		.stride = sizeof(x[0]),
	}, bad;
	struct pair p;
	uint32_t ha, hb;
	bool ok = true;
	int q;

	if (!pair_open(&p, 16 * SLOT, 12)) {
		pair_close(&p);
		return false;
	}
	q = p.q, ha = p.ha, hb = p.hb;
	for (int i = 0; i < 16; i++)
		x[i] = (struct sgdma_buf_xfer){
			.size = sizeof(x[0]), .op = SGDMA_OP_H2H,
			.src_handle = ha, .src_offset = i * SLOT,
			.dst_handle = hb, .dst_offset = i * SLOT, .len = SLOT,
			.user_data = i,
		};

	/* The header: nothing is submitted when it is wrong. */
	bad = bt, bad.flags = 1;
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.count = 0;
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.count = SGDMA_QUEUE_MAX_DEPTH + 1;
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.stride = SGDMA_BUF_XFER_SIZE_VER0 - 8;
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.stride = sizeof(x[0]) + 8;	/* not the entry's size */
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.size = SGDMA_QUEUE_BATCH_SIZE_VER0 - 8;
	ok &= EXPECT(batch_ioctl(q, bad) == -EINVAL);
	bad = bt, bad.entries = 0;
	ok &= EXPECT(batch_ioctl(q, bad) == -EFAULT);
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_QUEUE_SUBMIT_BATCH, &bt) == -1 &&
		     errno == ENOTTY);
	ok &= EXPECT(sgdma_bufq_reap(q, &c, 1, 0) == 0);

	/* Entry 5 names no buffer: five start, and it fails on its own. */
	x[5].src_handle = ha + 5;
	ok &= EXPECT(sgdma_bufq_submit_batch(q, x, 16) == 5);
	ok &= EXPECT(sgdma_bufq_submit_batch(q, x + 5, 11) == -ENOENT);
	x[5].src_handle = ha;
	/* Depth 12: seven more fit, the eighth finds the queue full. */
	ok &= EXPECT(sgdma_bufq_submit_batch(q, x + 5, 9) == 7);
	ok &= EXPECT(sgdma_bufq_submit_batch(q, x + 12, 4) == -EAGAIN);
	ok &= EXPECT(reap_n(q, g, 16, 12, 10.0));

	/* Entries longer than this ABI's, zero beyond it, at their stride. */
	for (int i = 0; i < 2; i++) {
		wide[i].x = x[12 + i];
		wide[i].x.size = sizeof(wide[0]);
	}
	bt.entries = (uintptr_t)wide;
	bt.count = 2;
	bt.stride = sizeof(wide[0]);
	ok &= EXPECT(batch_ioctl(q, bt) == 2);
	ok &= EXPECT(sgdma_bufq_submit_batch(q, x + 14, 2) == 2);
	ok &= EXPECT(reap_n(q, g, 16, 4, 10.0));
	ok &= EXPECT(sgdma_bufq_reap(q, &c, 1, 0) == 0);
	for (int i = 0; i < 16 && ok; i++) {
		if (!g[i].seen || g[i].status || g[i].bytes != SLOT)
			ktap_diag("entry %d: seen %d status %d bytes %llu", i,
				  g[i].seen, g[i].status,
				  (unsigned long long)g[i].bytes);
		ok &= EXPECT(g[i].seen && !g[i].status && g[i].bytes == SLOT);
	}
	ok &= EXPECT(same(p.b, p.a, p.len));
	return pair_close(&p) && ok;
}

int main(void)
{
	ktap_plan(10);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS)) {
		ktap_diag("no device or no queues");
		return t_fail_all("setup");
	}
	RUN(roundtrip(0), "queue_reap");
	RUN(roundtrip(1), "queue_read");
	RUN(roundtrip(2), "queue_epoll");
	RUN(test_queues_spread(), "queues_spread_over_channels");
	RUN(test_eventfd_and_full(), "eventfd_poll_full_and_errors");
	RUN(test_busy_and_timeout(), "free_in_flight_busy_and_timeout");
	RUN(test_close_in_flight(), "close_in_flight");
	RUN(test_kill(), "kill9_in_flight");
	RUN(test_fork_in_flight(), "fork_in_flight");
	RUN(test_batch(), "batch_submit");
	sgdma_close(dev);
	return ktap_finish();
}
