// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_adversarial: user space attacking the driver. Each case expects an
 * exact outcome and leaves nothing pinned (RUN checks the pin counters):
 *
 *  - NULL with zero length, which the ABI allows ("len 0 is allowed and
 *    skipped", "a zero total length succeeds");
 *  - buffers that end (or start) right at an inaccessible page, on every
 *    path and direction: the driver may not touch one byte outside the
 *    requested range, and a readable fence around the buffer must keep
 *    its pattern;
 *  - a pinned buffer whose tail is PROT_NONE or unmapped: EFAULT, and
 *    every page pinned before the short pin released;
 *  - time of check, time of use: a second thread rewrites the iovec array,
 *    the lengths, the iovec count and the struct size while XFER runs; the
 *    kernel must act on one snapshot of them;
 *  - a buffer unmapped, remapped or protected while its transfer runs:
 *    it completes with all its bytes moved, or fails with EFAULT;
 *  - fork while a pinned transfer is in flight (on the function with link
 *    latency, so that nearly every fork is): the device's data must end
 *    in the parent's pages, never in the child's copy;
 *  - SIGKILL in the middle of a transfer, stalled or running, proven
 *    mid-transfer by the driver's trace;
 *  - thousands of open/close cycles, some under load;
 *  - ioctl fuzzers from a fixed seed: INFO and XFER, and the buffer and
 *    queue ioctls with live handles and queues to aim at.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "sgdma_test.h"

#define FENCE_BYTE	0xa5
#define FAULT_STALL	2
#define SLOW_LATENCY	0.015	/* s; the root port's function has 20 ms */

static const struct {
	const char *name;
	uint32_t flags;
} modes[] = {
	{ "copy", SGDMA_XFER_COPY },
	{ "pinned", SGDMA_XFER_PINNED },
	{ "auto", 0 },
};

/* ---- small helpers ---- */

/* Arm a FAULT_INJECT on channel @chan of sgdma0. */
static bool arm(unsigned int chan, unsigned int mode, unsigned int n)
{
	char s[32];

	snprintf(s, sizeof(s), "%u %#x\n", chan, mode | n << 8);
	return write_str("/sys/kernel/debug/sgdma/sgdma0/fault_inject", s);
}

/* Whether the pinned path takes @p/@len as they are (seg_align). */
static bool pinnable(const void *p, size_t len)
{
	return aligned_to((uintptr_t)p | len, info.seg_align);
}

/* ---- fenced buffers ---- */

/*
 * @len bytes that end exactly at a PROT_NONE page (@none_after) or start
 * exactly after one; on the other side, a readable fence of FENCE_BYTE up
 * to the next page boundary and one page more.
 */
struct fence {
	unsigned char *map;
	size_t maplen;
	unsigned char *p;
	size_t len;
	bool none_after;
};

static bool fence_alloc(struct fence *f, size_t len, bool none_after)
{
	size_t pages = (len + PAGE - 1) / PAGE;

	f->maplen = (pages + 2) * PAGE;
	f->map = mmap(NULL, f->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->map == MAP_FAILED) {
		f->map = NULL;
		return false;
	}
	f->len = len;
	f->none_after = none_after;
	if (none_after) {
		f->p = f->map + (pages + 1) * PAGE - len;
		memset(f->map, FENCE_BYTE, f->p - f->map);
		return mprotect(f->map + (pages + 1) * PAGE, PAGE,
				PROT_NONE) == 0;
	}
	f->p = f->map + PAGE;
	memset(f->p + len, FENCE_BYTE, f->map + f->maplen - (f->p + len));
	return mprotect(f->map, PAGE, PROT_NONE) == 0;
}

static bool fence_intact(const struct fence *f)
{
	const unsigned char *a, *b;

	if (f->none_after) {
		a = f->map;
		b = f->p;
	} else {
		a = f->p + f->len;
		b = f->map + f->maplen;
	}
	for (const unsigned char *q = a; q < b; q++)
		if (*q != FENCE_BYTE) {
			ktap_diag("fence byte changed %td bytes %s the buffer",
				  f->none_after ? f->p - q : q - (f->p + f->len),
				  f->none_after ? "before" : "after");
			return false;
		}
	return true;
}

static void fence_free(struct fence *f)
{
	if (f->map)
		munmap(f->map, f->maplen);
	f->map = NULL;
}

/* ---- NULL with zero length ---- */

static void *volatile null_ptr;

static bool test_null_zero_length(void)
{
	struct sgdma_iovec null0 = { 0, 0 }, v[3];
	unsigned char *buf = unbacked(PAGE), *back = unbacked(PAGE);
	struct sgdma_xfer x;
	bool ok = true;

	if (!EXPECT(buf && back))
		return false;
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		uint32_t fl = modes[m].flags | SGDMA_XFER_CRC;

		/* One empty iovec: nothing to move, success. */
		for (uint16_t op = SGDMA_OP_H2C; op <= SGDMA_OP_H2H; op++) {
			x = (struct sgdma_xfer){ .flags = fl, .op = op };
			if (op != SGDMA_OP_C2H) {
				x.src_iov = (uintptr_t)&null0;
				x.src_iovcnt = 1;
			}
			if (op != SGDMA_OP_H2C) {
				x.dst_iov = (uintptr_t)&null0;
				x.dst_iovcnt = 1;
			}
			x.bytes = x.crc = x.path = 0xdead;
			ok &= EXPECT(xfer_raw(&x) == 0);
			ok &= EXPECT(x.bytes == 0 && x.crc == 0 &&
				     x.path == SGDMA_PATH_NONE);
		}
		/* Empty iovecs around a real one are skipped. */
		fill_random(buf, 128);
		v[0] = null0;
		v[1] = (struct sgdma_iovec){ (uintptr_t)buf, 128 };
		v[2] = null0;
		x = (struct sgdma_xfer){ .flags = fl, .op = SGDMA_OP_H2C,
					 .card_offset = 4096,
					 .src_iov = (uintptr_t)v,
					 .src_iovcnt = 3 };
		ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.bytes == 128) &&
		      EXPECT(x.crc == sgdma_crc32c(0, buf, 128));
		v[1].base = (uintptr_t)back;
		x = (struct sgdma_xfer){ .flags = fl, .op = SGDMA_OP_C2H,
					 .card_offset = 4096,
					 .dst_iov = (uintptr_t)v,
					 .dst_iovcnt = 3 };
		ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.bytes == 128);
		ok &= EXPECT(same(buf, back, 128));
	}
	/* read(2) and write(2) of nothing, at NULL. */
	ok &= EXPECT(pread(fd, NULL, 0, 0) == 0);
	ok &= EXPECT(pwrite(fd, NULL, 0, 0) == 0);
	ok &= EXPECT(read(fd, NULL, 0) == 0);
	ok &= EXPECT(write(fd, NULL, 0) == 0);
	/* ...but not one byte (through a variable: the compiler knows). */
	ok &= EXPECT(pread(fd, null_ptr, 1, 0) < 0 && errno == EFAULT);
	ok &= EXPECT(pwrite(fd, null_ptr, 1, 0) < 0 && errno == EFAULT);
	munmap(buf, PAGE);
	munmap(back, PAGE);
	return ok;
}

/* ---- guard pages ---- */

static const size_t guard_lens[] = {
	1, 63, 64, 4095, 4096, 4160, 65536 + 64, 131072 + 4096 + 64,
	300 * KiB, 2 * MiB + 192, 5 * MiB,
};

/* One transfer on a fenced buffer; @want is the expected errno. */
static bool guarded(uint16_t op, const struct fence *f, uint32_t flags,
		    uint64_t off, const unsigned char *card, unsigned char *tmp)
{
	int want = 0;

	if ((flags & SGDMA_XFER_PINNED) && !pinnable(f->p, f->len))
		want = EINVAL;
	if (op == SGDMA_OP_C2H) {
		int e = xfer_single(op, flags, 0, off, f->p, f->len);

		if (!EXPECT(e == want))
			return false;
		return want || EXPECT(same(f->p, card, f->len));
	}
	/* H2C from the fenced buffer, checked through a plain one. */
	fill_random(f->p, f->len);
	if (!EXPECT(xfer_single(op, flags, 0, off, f->p, f->len) == want))
		return false;
	if (want)
		return true;
	return EXPECT(c2h(off, tmp, f->len, SGDMA_XFER_COPY, NULL) == 0) &&
	       EXPECT(same(f->p, tmp, f->len));
}

static bool test_guard_pages(void)
{
	size_t max = 5 * MiB;
	unsigned char *card = unbacked(max), *tmp = unbacked(max);
	bool ok = true;

	if (!EXPECT(card && tmp))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(guard_lens); i++) {
		size_t len = guard_lens[i];

		for (int side = 0; side < 2; side++) {
			struct fence f, g;

			if (!EXPECT(fence_alloc(&f, len, side == 0)) ||
			    !EXPECT(fence_alloc(&g, len, side != 0)))
				return false;
			for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
				uint32_t fl = modes[m].flags;
				bool ok1 = true;

				fill_random(card, len);
				ok1 &= EXPECT(h2c(0, card, len, SGDMA_XFER_COPY,
						  NULL) == 0);
				ok1 &= guarded(SGDMA_OP_C2H, &f, fl, 0, card,
					       tmp);
				ok1 &= guarded(SGDMA_OP_H2C, &f, fl, 0, card,
					       tmp);
				/* H2H between two fenced buffers. */
				fill_random(f.p, len);
				if (!(fl & SGDMA_XFER_PINNED) ||
				    (pinnable(f.p, len) && pinnable(g.p, len))) {
					ok1 &= EXPECT(h2h(g.p, f.p, len, fl,
							  NULL) == 0);
					ok1 &= EXPECT(same(f.p, g.p, len));
				}
				ok1 &= EXPECT(fence_intact(&f));
				ok1 &= EXPECT(fence_intact(&g));
				if (!ok1)
					ktap_diag("%s, %zu bytes, %s", modes[m].name,
						  len, side ? "PROT_NONE before" :
						  "PROT_NONE after");
				ok &= ok1;
			}
			/* read(2)/write(2) at the fence too. */
			fill_random(card, len);
			ok &= EXPECT(pwrite(fd, card, len, 0) == (ssize_t)len);
			ok &= EXPECT(pread(fd, f.p, len, 0) == (ssize_t)len);
			ok &= EXPECT(same(f.p, card, len));
			ok &= EXPECT(pwrite(fd, f.p, len, 8) == (ssize_t)len);
			ok &= EXPECT(fence_intact(&f));
			fence_free(&f);
			fence_free(&g);
		}
	}
	munmap(card, max);
	munmap(tmp, max);
	return ok;
}

/* ---- a pinned buffer that runs into an inaccessible page ---- */

/*
 * @pages pages, the last of them PROT_NONE (@unmap false) or unmapped: a
 * pinned transfer over all of them pins the accessible ones, then comes
 * up short.
 */
static unsigned char *short_buf(size_t pages, bool unmap)
{
	unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *tail;

	if (p == MAP_FAILED)
		return NULL;
	fill_random(p, (pages - 1) * PAGE);
	tail = p + (pages - 1) * PAGE;
	if (unmap ? munmap(tail, PAGE) : mprotect(tail, PAGE, PROT_NONE)) {
		munmap(p, pages * PAGE);
		return NULL;
	}
	return p;
}

/*
 * A pinned transfer whose pages cannot all be pinned fails with EFAULT and
 * releases every page it did pin: the buffer's tail PROT_NONE or unmapped,
 * as the only iovec or after a good one, in both directions. Each attempt
 * is checked on its own (the case's pin balance would only say that one
 * leaked).
 */
static bool test_short_pin(void)
{
	const size_t pages = 3, len = pages * PAGE;
	unsigned char *good = unbacked(len);
	bool ok = EXPECT(good != NULL);

	for (int unmap = 0; ok && unmap < 2; unmap++) {
		for (uint16_t op = SGDMA_OP_H2C; op <= SGDMA_OP_C2H; op++) {
			for (int lead = 0; lead < 2; lead++) {
				unsigned char *bad = short_buf(pages, unmap);
				struct sgdma_iovec v[2] = {
					{ (uintptr_t)good, PAGE },
					{ (uintptr_t)bad, len },
				};
				struct sgdma_xfer x = {
					.flags = SGDMA_XFER_PINNED, .op = op,
				};
				struct pins before;
				int e;

				if (!EXPECT(bad != NULL))
					return false;
				if (op == SGDMA_OP_H2C) {
					x.src_iov = (uintptr_t)(v + !lead);
					x.src_iovcnt = 1 + lead;
				} else {
					x.dst_iov = (uintptr_t)(v + !lead);
					x.dst_iovcnt = 1 + lead;
				}
				pins_snapshot(&before);
				e = xfer_raw(&x);
				if (!EXPECT(e == EFAULT) ||
				    !EXPECT(pins_balanced(&before))) {
					ktap_diag("%s, tail %s, %s: errno %d",
						  op == SGDMA_OP_H2C ? "H2C" : "C2H",
						  unmap ? "unmapped" : "PROT_NONE",
						  lead ? "after a good iovec" :
						  "only iovec", e);
					ok = false;
				}
				munmap(bad, len);
			}
		}
	}
	munmap(good, len);
	return ok;
}

/* ---- time of check, time of use ---- */

#define FLIP_L1		(8 * KiB)
#define FLIP_L2		(300 * KiB)
#define FLIP_CARD	(8 * MiB)
#define MARK		0x3c

static struct {
	struct sgdma_xfer x;
	uint64_t tail;		/* beyond the struct, for a bigger size */
} flip_arg;
static struct sgdma_iovec flip_iov[2];
static struct fence flip_a, flip_b;
static atomic_bool flip_stop;
static unsigned char *flip_kernel = (unsigned char *)0xffff888000000000ULL;

/*
 * Rewrites the arguments of the XFER running in the main thread. Mixed
 * (@arg NULL): bases, lengths, the iovec count and the struct size, so
 * that any outcome may be legitimate but must be consistent. Lengths only
 * (@arg non-NULL): the one race where every outcome must be a success,
 * flipped as fast as possible to hit a window between two fetches.
 */
static void *flipper(void *arg)
{
	volatile struct sgdma_iovec *v = flip_iov;
	volatile struct sgdma_xfer *x = &flip_arg.x;
	volatile uint64_t *tail = &flip_arg.tail;
	uint64_t s = 0x1234567;

	if (arg) {
		while (!atomic_load_explicit(&flip_stop, memory_order_relaxed))
			v[0].len ^= FLIP_L1 ^ FLIP_L2;
		return NULL;
	}
	while (!atomic_load(&flip_stop)) {
		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		switch (s % 8) {
		case 0:
		case 1:
			v[0].base = (uintptr_t)(s & 8 ? flip_a.p : flip_b.p);
			break;
		case 2:
		case 3:
			v[0].len = s & 16 ? FLIP_L1 : FLIP_L2;
			break;
		case 4:
			/* A second entry: empty, or a kernel address. */
			x->dst_iovcnt = s & 32 ? 2 : 1;
			v[1].base = s & 64 ? (uintptr_t)flip_kernel : 0;
			v[1].len = s & 64 ? 16 : 0;
			break;
		case 5:
			/* Bigger than the kernel knows: the tail must be 0. */
			x->size = s & 32 ? sizeof(flip_arg) :
					   sizeof(struct sgdma_xfer);
			*tail = s & 64;
			break;
		case 6:
			x->size = s & 32 ? 4 : sizeof(struct sgdma_xfer);
			break;
		default:
			sched_yield();
			break;
		}
	}
	return NULL;
}

/* After a successful XFER: one buffer got the data, exactly. */
static bool one_snapshot(const unsigned char *card, uint64_t bytes)
{
	struct fence *got = NULL, *other = NULL;

	if (bytes != FLIP_L1 && bytes != FLIP_L2) {
		ktap_diag("moved %llu bytes, not %lu or %lu",
			  (unsigned long long)bytes, FLIP_L1, FLIP_L2);
		return false;
	}
	if (!memcmp(flip_a.p, card, 64)) {
		got = &flip_a;
		other = &flip_b;
	} else if (!memcmp(flip_b.p, card, 64)) {
		got = &flip_b;
		other = &flip_a;
	} else {
		ktap_diag("neither buffer starts with the card's data");
		return false;
	}
	if (!same(got->p, card, bytes))
		return false;
	for (size_t i = bytes; i < FLIP_L2; i++)
		if (got->p[i] != MARK) {
			ktap_diag("byte %zu past the %llu moved changed", i,
				  (unsigned long long)bytes);
			return false;
		}
	for (size_t i = 0; i < FLIP_L2; i++)
		if (other->p[i] != MARK) {
			ktap_diag("the other buffer changed at byte %zu", i);
			return false;
		}
	return true;
}

static bool test_toctou_iovecs(void)
{
	unsigned char *card = unbacked(FLIP_L2);
	unsigned int iters = 150;
	bool ok = true;

	if (!EXPECT(card) || !EXPECT(fence_alloc(&flip_a, FLIP_L2, true)) ||
	    !EXPECT(fence_alloc(&flip_b, FLIP_L2, true)))
		return false;
	fill_random(card, FLIP_L2);
	ok &= EXPECT(h2c(FLIP_CARD, card, FLIP_L2, SGDMA_XFER_COPY, NULL) == 0);

	for (size_t r = 0; r < 2 * ARRAY_LEN(modes); r++) {
		unsigned int outcome[4] = { 0 };	/* ok EFAULT EINVAL E2BIG */
		size_t m = r % ARRAY_LEN(modes);
		bool lengths_only = r >= ARRAY_LEN(modes), phase_ok = true;
		pthread_t t;

		flip_iov[0] = (struct sgdma_iovec){ (uintptr_t)flip_a.p,
						    FLIP_L1 };
		flip_iov[1] = (struct sgdma_iovec){ 0, 0 };
		flip_arg.x = (struct sgdma_xfer){
			.size = sizeof(struct sgdma_xfer),
			.flags = modes[m].flags, .op = SGDMA_OP_C2H,
			.card_offset = FLIP_CARD,
			.dst_iov = (uintptr_t)flip_iov, .dst_iovcnt = 1 };
		flip_arg.tail = 0;
		atomic_store(&flip_stop, false);
		pthread_create(&t, NULL, flipper, lengths_only ? &t : NULL);
		for (unsigned int i = 0; i < iters && phase_ok; i++) {
			int e;

			memset(flip_a.p, MARK, FLIP_L2);
			memset(flip_b.p, MARK, FLIP_L2);
			flip_arg.x.bytes = 0;
			e = ioctl(fd, SGDMA_IOC_XFER, &flip_arg) < 0 ? errno : 0;
			switch (e) {
			case 0:
				outcome[0]++;
				phase_ok &= one_snapshot(card,
							 flip_arg.x.bytes);
				break;
			case EFAULT:
				outcome[1]++;
				break;
			case EINVAL:
				outcome[2]++;
				break;
			case E2BIG:
				outcome[3]++;
				break;
			default:
				ktap_diag("unexpected errno %d (%s)", e,
					  strerror(e));
				phase_ok = false;
			}
		}
		atomic_store(&flip_stop, true);
		pthread_join(t, NULL);
		ok &= phase_ok;
		ok &= EXPECT(fence_intact(&flip_a) && fence_intact(&flip_b));
		ktap_diag("%s, %s: %u ok, %u EFAULT, %u EINVAL, %u E2BIG",
			  modes[m].name, lengths_only ? "lengths" : "mixed",
			  outcome[0], outcome[1], outcome[2], outcome[3]);
		if (lengths_only)
			/* Either length is valid: nothing may fail. */
			ok &= EXPECT(outcome[0] == iters);
		else
			/* The race was run, not avoided: mixed outcomes. */
			ok &= EXPECT((outcome[0] > 0) + (outcome[1] > 0) +
				     (outcome[2] > 0) + (outcome[3] > 0) >= 2);
	}
	fence_free(&flip_a);
	fence_free(&flip_b);
	munmap(card, FLIP_L2);
	return ok;
}

/* ---- unmapped, remapped or protected while in flight ---- */

#define UNMAP_LEN	(16 * MiB)

struct unmapper {
	unsigned char *p;
	size_t len;
	unsigned int delay_us;
	int how;		/* 0 munmap, 1 remap, 2 PROT_NONE, 3 PROT_READ */
};

static void *unmapper(void *arg)
{
	struct unmapper *u = arg;

	usleep(u->delay_us);
	switch (u->how) {
	case 0:
		munmap(u->p, u->len);
		break;
	case 1:
		mmap(u->p, u->len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 2:
		mprotect(u->p, u->len, PROT_NONE);
		break;
	default:
		mprotect(u->p, u->len, PROT_READ);
		break;
	}
	return NULL;
}

/*
 * Each of @len bytes of card memory at @off is @byte, or 0 where @zeros
 * may be.
 */
static bool card_holds(uint64_t off, size_t len, unsigned char byte,
		       bool zeros)
{
	unsigned char *b = unbacked(len);
	bool ok;

	if (!EXPECT(b))
		return false;
	ok = EXPECT(c2h(off, b, len, SGDMA_XFER_COPY, NULL) == 0);
	for (size_t k = 0; k < len && ok; k++)
		if (b[k] != byte && (b[k] || !zeros)) {
			ktap_diag("card byte %zu: %#x, not %#x%s", k, b[k],
				  byte, zeros ? " or 0" : "");
			ok = false;
		}
	munmap(b, len);
	return ok;
}

static bool test_unmap_in_flight(void)
{
	static const char *const hows[] = { "munmap", "remap", "PROT_NONE",
					    "PROT_READ" };
	unsigned char *card = unbacked(UNMAP_LEN);
	unsigned int outcome[2] = { 0 };
	bool ok = true;

	if (!EXPECT(card))
		return false;
	fill_random(card, UNMAP_LEN);
	ok &= EXPECT(h2c(0, card, UNMAP_LEN, SGDMA_XFER_PINNED, NULL) == 0);

	for (unsigned int i = 0; i < 24; i++) {
		uint32_t fl = modes[i % 3].flags;
		uint16_t op = (i / 3) % 2 ? SGDMA_OP_H2C : SGDMA_OP_C2H;
		/* Guard pages on both sides, readable and patterned. */
		unsigned char *m = mmap(NULL, UNMAP_LEN + 2 * PAGE,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		struct unmapper u = { m + PAGE, UNMAP_LEN, rnd() % 20000,
				      (i / 6) % 4 };
		pthread_t t;
		int e;

		if (!EXPECT(m != MAP_FAILED))
			return false;
		memset(m, FENCE_BYTE, PAGE);
		memset(m + PAGE + UNMAP_LEN, FENCE_BYTE, PAGE);
		if (op == SGDMA_OP_H2C)
			memset(u.p, 0x77, UNMAP_LEN);
		pthread_create(&t, NULL, unmapper, &u);
		/* H2C goes elsewhere: card offset 0 keeps the C2H data. */
		e = xfer_single(op, fl, 0, op == SGDMA_OP_H2C ? 32 * MiB : 0, u.p,
				UNMAP_LEN);
		pthread_join(t, NULL);
		if (e == 0)
			outcome[0]++;
		else if (e == EFAULT)
			outcome[1]++;
		else
			ok &= EXPECT(e == 0 || e == EFAULT);
		/* Reading a buffer that stays readable cannot fail. */
		if (op == SGDMA_OP_H2C && u.how == 3)
			ok &= EXPECT(e == 0);
		/*
		 * A transfer that succeeded moved all of its bytes: an H2C
		 * put the buffer's bytes on the card (zeros too, from pages
		 * a remap put in its place), a C2H into a buffer made
		 * read-only under it put the card's bytes there.
		 */
		if (e == 0 && op == SGDMA_OP_H2C)
			ok &= EXPECT(card_holds(32 * MiB, UNMAP_LEN, 0x77,
						u.how == 1));
		if (e == 0 && op == SGDMA_OP_C2H && u.how == 3)
			ok &= EXPECT(same(u.p, card, UNMAP_LEN));
		for (size_t k = 0; k < PAGE; k++)
			if (m[k] != FENCE_BYTE ||
			    m[PAGE + UNMAP_LEN + k] != FENCE_BYTE) {
				ktap_diag("%s %s: guard page changed",
					  modes[i % 3].name, hows[u.how]);
				ok = false;
				break;
			}
		/*
		 * A C2H into a buffer remapped under it: each byte of the
		 * new mapping is 0 or the card's byte at that offset.
		 */
		if (op == SGDMA_OP_C2H && u.how == 1)
			for (size_t k = 0; k < UNMAP_LEN; k++)
				if (u.p[k] && u.p[k] != card[k]) {
					ktap_diag("remapped byte %zu: %#x", k,
						  u.p[k]);
					ok = false;
					break;
				}
		munmap(m, UNMAP_LEN + 2 * PAGE);
	}
	ktap_diag("%u completed, %u EFAULT", outcome[0], outcome[1]);
	/* The race was run, not avoided: some buffer went away in time. */
	ok &= EXPECT(outcome[1] > 0);

	/* Deterministic: a stalled pinned transfer whose buffer goes away. */
	if (EXPECT(set_timeout_ms(1500)) && EXPECT(arm(2, FAULT_STALL, 1))) {
		unsigned char *b = unbacked(4 * MiB);
		struct unmapper u = { b, 4 * MiB, 300000, 0 };
		struct sgdma_iovec v = { (uintptr_t)b, 4 * MiB };
		struct sgdma_xfer x = { .flags = SGDMA_XFER_PINNED |
					SGDMA_XFER_CHANNEL, .channel = 2,
					.op = SGDMA_OP_C2H,
					.dst_iov = (uintptr_t)&v,
					.dst_iovcnt = 1 };
		pthread_t t;

		pthread_create(&t, NULL, unmapper, &u);
		ok &= EXPECT(xfer_raw(&x) == ETIMEDOUT);
		pthread_join(t, NULL);
		ok &= EXPECT(set_timeout_ms(5000));
		/* The channel works again. */
		b = unbacked(4 * MiB);
		v.base = (uintptr_t)b;
		ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(same(b, card, 4 * MiB));
		munmap(b, 4 * MiB);
	}
	munmap(card, UNMAP_LEN);
	return ok;
}

/* ---- fork while a transfer is in flight ---- */

/*
 * The device behind the PCIe root port: the harness gives it 20 ms of
 * link latency, so its transfers are surely in flight when we fork. No
 * other device will do: this fails (-1) without it, or if its transfers
 * turn out not to be slow.
 */
static int slow_fd(void)
{
	char bdf[64], node[32], b[64];
	int index = root_port_index(bdf, sizeof(bdf)), f;
	double t;

	if (index < 0) {
		ktap_diag("no sgdma function behind a root port");
		return -1;
	}
	snprintf(node, sizeof(node), "/dev/sgdma%d", index);
	f = open(node, O_RDWR);
	t = now();
	if (f < 0 || pread(f, b, sizeof(b), 0) != sizeof(b)) {
		ktap_diag("%s: %s", node, strerror(errno));
		return -1;
	}
	t = now() - t;
	ktap_diag("forking around transfers on %s (%s): one takes %.1f ms",
		  node, bdf, t * 1000);
	if (t < SLOW_LATENCY) {
		close(f);
		return -1;
	}
	return f;
}

#define FORK_PAGES	1024
#define FORK_CARD	(24 * MiB)

struct fork_xfer {
	struct sgdma_iovec v[FORK_PAGES];
	int fd;
	uint32_t flags;
	atomic_int state;	/* 0 not started, 1 in the ioctl, 2 done */
	int err;
};

static void *fork_xfer(void *arg)
{
	struct fork_xfer *t = arg;
	struct sgdma_xfer x = { .flags = t->flags, .op = SGDMA_OP_C2H,
				.card_offset = FORK_CARD,
				.dst_iov = (uintptr_t)t->v,
				.dst_iovcnt = FORK_PAGES };

	atomic_store(&t->state, 1);
	x.size = sizeof(x);
	t->err = ioctl(t->fd, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
	atomic_store(&t->state, 2);
	return NULL;
}

/* The child: its copy of the buffer holds only what it wrote itself. */
static int fork_child(unsigned char *b, int ready, int go)
{
	char c = 0;

	memset(b, 'C', FORK_PAGES * PAGE);
	if (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1)
		return 2;
	for (size_t i = 0; i < FORK_PAGES * PAGE; i++)
		if (b[i] != 'C')
			return 1;
	return 0;
}

static bool test_fork_in_flight(void)
{
	size_t half = PAGE / 2, len = FORK_PAGES * half;
	unsigned char *card = unbacked(len);
	unsigned int in_flight = 0;
	int sfd = slow_fd();
	bool ok = true;

	if (!EXPECT(card && sfd >= 0))
		return false;
	for (unsigned int i = 0; i < 8 && ok; i++) {
		static struct fork_xfer t;
		unsigned char *b = unbacked(FORK_PAGES * PAGE);
		int ready[2], go[2], status;
		bool was_in_flight;
		pthread_t th;
		pid_t pid;
		char c = 0;

		if (!EXPECT(b && pipe(ready) == 0 && pipe(go) == 0))
			return false;
		fill_random(card, len);
		ok &= EXPECT(pwrite(sfd, card, len, FORK_CARD) == (ssize_t)len);
		t.fd = sfd;
		/* Present and exclusive to the parent before the pin. */
		memset(b, 'P', FORK_PAGES * PAGE);
		for (unsigned int k = 0; k < FORK_PAGES; k++)
			t.v[k] = (struct sgdma_iovec){
				(uintptr_t)(b + k * PAGE), half };
		t.flags = i % 3 == 2 ? SGDMA_XFER_COPY : SGDMA_XFER_PINNED;
		atomic_store(&t.state, 0);
		pthread_create(&th, NULL, fork_xfer, &t);
		while (!atomic_load(&t.state))
			;
		usleep(rnd() % 1500);
		was_in_flight = atomic_load(&t.state) == 1;
		pid = fork();
		if (pid == 0)
			_exit(fork_child(b, ready[1], go[0]));
		in_flight += was_in_flight && atomic_load(&t.state) == 1;
		/* The parent writes the other half of every page (COW). */
		for (unsigned int k = 0; k < FORK_PAGES; k++)
			memset(b + k * PAGE + half, 'Q', half);
		pthread_join(th, NULL);
		ok &= EXPECT(t.err == 0);
		for (unsigned int k = 0; k < FORK_PAGES && ok; k++) {
			ok &= same(b + k * PAGE, card + k * half, half);
			for (size_t j = half; j < PAGE && ok; j++)
				ok &= EXPECT(b[k * PAGE + j] == 'Q');
		}
		ok &= EXPECT(read(ready[0], &c, 1) == 1);
		ok &= EXPECT(write(go[1], &c, 1) == 1);
		ok &= EXPECT(waitpid(pid, &status, 0) == pid);
		if (!EXPECT(WIFEXITED(status) && !WEXITSTATUS(status)))
			ktap_diag("iteration %u: the child's copy changed (%#x)",
				  i, status);
		ok &= WIFEXITED(status) && !WEXITSTATUS(status);
		close(ready[0]);
		close(ready[1]);
		close(go[0]);
		close(go[1]);
		munmap(b, FORK_PAGES * PAGE);
	}
	ktap_diag("%u of 8 forks while the transfer was in flight", in_flight);
	/* With 20 ms of latency per transfer, nearly every fork is. */
	ok &= EXPECT(in_flight >= 6);
	close(sfd);
	munmap(card, len);
	return ok;
}

/* ---- SIGKILL mid-transfer ---- */

/* The child: transfers on /dev/sgdma@node until it is killed. */
static void kill_child(int node, unsigned int chan, uint32_t flags)
{
	char path[32];
	unsigned char *b = unbacked(32 * MiB);
	struct sgdma_iovec v = { (uintptr_t)b, 32 * MiB };
	struct sgdma_xfer x = { .size = sizeof(x),
				.flags = flags | SGDMA_XFER_CHANNEL,
				.channel = chan, .op = SGDMA_OP_C2H,
				.dst_iov = (uintptr_t)&v, .dst_iovcnt = 1 };
	int f;

	snprintf(path, sizeof(path), "/dev/sgdma%d", node);
	f = open(path, O_RDWR);
	for (;;)
		ioctl(f, SGDMA_IOC_XFER, &x);
}

/* The first line of /proc/@pid/@file, or "". */
static void proc_line(pid_t pid, const char *file, char *buf, size_t len)
{
	char path[64];
	FILE *p;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	p = fopen(path, "r");
	buf[0] = 0;
	if (p && !fgets(buf, len, p))
		buf[0] = 0;
	if (p)
		fclose(p);
}

/*
 * Whether task @pid sleeps inside SGDMA_IOC_XFER waiting for the device:
 * /proc/PID/syscall shows ioctl(fd, SGDMA_IOC_XFER, ...) (it does only
 * while the task is blocked) and /proc/PID/wchan the driver's wait for a
 * descriptor (sgdma_chan_wait, or sgdma_chan_run where it is inlined), not
 * the wait for the channel itself.
 */
static bool asleep_in_xfer(pid_t pid)
{
	char sys[256], wchan[128];
	unsigned long nr, f, req;

	proc_line(pid, "syscall", sys, sizeof(sys));
	proc_line(pid, "wchan", wchan, sizeof(wchan));
	return sscanf(sys, "%lu %lx %lx", &nr, &f, &req) == 3 &&
	       nr == SYS_ioctl && req == (unsigned long)SGDMA_IOC_XFER &&
	       (strstr(wchan, "sgdma_chan_wait") ||
		strstr(wchan, "sgdma_chan_run"));
}

/*
 * A child transferring on channel @chan is killed after @delay_us, at the
 * first moment it is seen waiting for the device. Into @eintr: how many of
 * its descriptors the driver's trace shows ended by the signal (sgdma_error,
 * err -EINTR): one when the kill landed in the wait, none when it landed
 * as that descriptor completed (the next piece then sees the signal before
 * it is submitted), never more.
 */
static bool killed(int node, unsigned int chan, uint32_t flags,
		   unsigned int delay_us, int *eintr)
{
	char where[32];
	bool waiting = false, ok;
	int status;
	pid_t pid;

	if (!EXPECT(trace_sgdma(true)))
		return false;
	pid = fork();
	if (pid == 0)
		kill_child(node, chan, flags);
	usleep(delay_us);
	for (int i = 0; i < 5000 && !(waiting = asleep_in_xfer(pid)); i++)
		usleep(1000);
	kill(pid, SIGKILL);
	ok = EXPECT(waitpid(pid, &status, 0) == pid) &&
	     EXPECT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	snprintf(where, sizeof(where), "sgdma%d ch=%u ", node, chan);
	*eintr = trace_count(where, "err=-4 ");
	ok &= EXPECT(waiting) && EXPECT(*eintr == 0 || *eintr == 1);
	return EXPECT(trace_sgdma(false)) && ok;
}

/* Channel @chan of /dev/sgdma@node moves data correctly. */
static bool chan_works_on(int node, unsigned int chan, uint32_t flags)
{
	unsigned char *a = unbacked(MiB), *b = unbacked(MiB);
	char path[32];
	bool ok;
	int f;

	snprintf(path, sizeof(path), "/dev/sgdma%d", node);
	f = open(path, O_RDWR);
	fill_random(a, MiB);
	ok = EXPECT(f >= 0) &&
	     EXPECT(xfer_single_on(f, SGDMA_OP_H2C, flags | SGDMA_XFER_CHANNEL,
				   chan, 0, a, MiB) == 0) &&
	     EXPECT(xfer_single_on(f, SGDMA_OP_C2H, flags | SGDMA_XFER_CHANNEL,
				   chan, 0, b, MiB) == 0) &&
	     EXPECT(same(a, b, MiB));
	if (f >= 0)
		close(f);
	munmap(a, MiB);
	munmap(b, MiB);
	return ok;
}

/* Channel @chan moves data correctly. */
static bool chan_works(unsigned int chan, uint32_t flags)
{
	unsigned char *a = unbacked(MiB), *b = unbacked(MiB);
	struct sgdma_iovec va = { (uintptr_t)a, MiB }, vb = { (uintptr_t)b, MiB };
	struct sgdma_xfer x = { .flags = flags | SGDMA_XFER_CHANNEL,
				.channel = chan, .op = SGDMA_OP_H2H,
				.src_iov = (uintptr_t)&va, .src_iovcnt = 1,
				.dst_iov = (uintptr_t)&vb, .dst_iovcnt = 1 };
	bool ok;

	fill_random(a, MiB);
	ok = EXPECT(xfer_raw(&x) == 0) && EXPECT(same(a, b, MiB));
	munmap(a, MiB);
	munmap(b, MiB);
	return ok;
}

static bool test_kill9(void)
{
	bool ok = EXPECT(set_timeout_ms(20000));
	int eintr, in_wait = 0, slow;
	unsigned int i;
	char bdf[64];

	/* Stalled: the child sleeps in the wait when it dies. */
	for (size_t m = 0; m < 2; m++) {
		ok &= EXPECT(arm(3, FAULT_STALL, 1));
		ok &= killed(0, 3, modes[m].flags, 500000, &eintr) &&
		      EXPECT(eintr == 1);
		ok &= chan_works(3, modes[m].flags);
	}
	/*
	 * Running: killed at random points of 32 MiB transfers until three
	 * kills have ended a descriptor in flight, on the function with link
	 * latency: each completion comes 20 ms after its doorbell at the
	 * earliest, so the transfer sleeps in its wait most of the time even
	 * where the driver's CPU work outweighs the device's (the pinned
	 * path's pipeline under swiotlb=force). A kill racing a completion
	 * ends none, so count tries, not a ratio.
	 */
	slow = root_port_index(bdf, sizeof(bdf));
	ok &= EXPECT(slow >= 0);
	for (i = 0; i < 24 && ok && in_wait < 3; i++) {
		ok &= killed(slow, i % 4, modes[i % 3].flags,
			     20000 + rnd() % 200000, &eintr);
		in_wait += eintr;
		ok &= chan_works_on(slow, i % 4, modes[i % 3].flags);
	}
	ktap_diag("%d of %u kills of running transfers ended a descriptor in flight",
		  in_wait, i);
	ok &= EXPECT(in_wait >= 3);
	ok &= EXPECT(set_timeout_ms(5000));
	return ok;
}

/* ---- open/close cycles ---- */

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	while (d && readdir(d))
		n++;
	if (d)
		closedir(d);
	return n;
}

static void *open_close_worker(void *arg)
{
	unsigned char b[4096];
	long ok = 1;

	(void)arg;
	for (int i = 0; i < 300; i++) {
		int f = open("/dev/sgdma1", O_RDWR);
		struct sgdma_iovec v = { (uintptr_t)b, sizeof(b) };
		struct sgdma_xfer x = { .size = sizeof(x), .op = SGDMA_OP_C2H,
					.dst_iov = (uintptr_t)&v,
					.dst_iovcnt = 1 };

		if (f < 0 || ioctl(f, SGDMA_IOC_XFER, &x) || close(f))
			ok = 0;
	}
	return (void *)ok;
}

static bool test_open_close(void)
{
	int fds = open_fds();
	bool ok = true;
	pthread_t t[4];

	for (int i = 0; i < 3000 && ok; i++) {
		int f = open("/dev/sgdma0", O_RDWR);

		ok &= EXPECT(f >= 0) && EXPECT(close(f) == 0);
	}
	for (int i = 0; i < 1000 && ok; i++) {
		struct sgdma_info inf = { .size = sizeof(inf) };
		int f = open("/dev/sgdma0", O_RDWR);

		ok &= EXPECT(f >= 0) &&
		      EXPECT(ioctl(f, SGDMA_IOC_INFO, &inf) == 0) &&
		      EXPECT(close(f) == 0);
	}
	/* Under load: four threads open, transfer and close at once. */
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, open_close_worker, NULL);
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(t[i], &r);
		ok &= EXPECT(r == (void *)1);
	}
	ok &= EXPECT(open_fds() == fds);
	return ok;
}

/* ---- ioctl fuzzer ---- */

#define FUZZ_SEED	0x5eed5eedULL
#define FUZZ_ITERS	4000
#define ARENA		(256 * KiB)

static unsigned char *arena;		/* RW, between two PROT_NONE pages */
static unsigned char *arena_ro;		/* a read-only page */

/* A user address the fuzzer may aim at: never our own heap or stack. */
static uint64_t fuzz_addr(void)
{
	switch (rnd() % 8) {
	case 0:
		return 0;
	case 1:
		return 0xffff888000000000ULL + (rnd() % MiB);
	case 2:
		return (uintptr_t)(arena - PAGE) + rnd() % PAGE;	/* none */
	case 3:
		return (uintptr_t)arena_ro + rnd() % PAGE;
	case 4:
		return 0x0000700000000000ULL + (rnd() & 0xffff000);
	default:
		return (uintptr_t)arena + rnd() % ARENA;
	}
}

static uint64_t fuzz_len(void)
{
	switch (rnd() % 6) {
	case 0:
		return 0;
	case 1:
		return rnd();
	case 2:
		return 1ULL << (rnd() % 64);
	default:
		return rnd() % (64 * KiB);
	}
}

/* What a fuzzer's calls returned, each errno among those allowed. */
struct tally {
	const int *allowed;
	size_t n;
	unsigned int counts[16];
};

static bool tally_add(struct tally *t, int e, unsigned int i, unsigned int cmd)
{
	for (size_t k = 0; k < t->n; k++)
		if (e == t->allowed[k]) {
			t->counts[k]++;
			return true;
		}
	ktap_diag("iteration %u: cmd %#x: unexpected %s", i, cmd, strerror(e));
	return false;
}

static void tally_print(const struct tally *t, const char *what)
{
	char line[256];
	int len = 0;

	for (size_t k = 0; k < t->n && len < (int)sizeof(line); k++)
		len += snprintf(line + len, sizeof(line) - len, " %s %u",
				t->allowed[k] ? strerrorname_np(t->allowed[k]) :
				"ok", t->counts[k]);
	ktap_diag("%s, seed %#llx:%s", what, FUZZ_SEED, line);
}

/*
 * INFO and XFER with any direction and size bits, numbers that no sgdma
 * ioctl uses (0x30-0x3f), and other types. Numbers 2-8 create and free
 * resources; test_fuzz_abi3() fuzzes them with state to aim at.
 */
static unsigned int fuzz_cmd(void)
{
	unsigned int dir = rnd() % 4, nr = rnd() % 2, size = rnd() % 0x4000;

	if (rnd() % 16 == 0) {
		unsigned int cmd = (unsigned int)rnd();

		if (_IOC_TYPE(cmd) == SGDMA_IOC_MAGIC)
			cmd ^= 1 << _IOC_TYPESHIFT;
		return cmd;
	}
	if (rnd() % 8 == 0)
		nr = 0x30 + rnd() % 16;
	if (rnd() % 2)
		dir = _IOC_READ | _IOC_WRITE;
	return _IOC(dir, SGDMA_IOC_MAGIC, nr, size);
}

/* The arena: ARENA bytes between two PROT_NONE pages, then arena_ro. */
static bool arena_map(void)
{
	unsigned char *m = mmap(NULL, ARENA + 3 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!EXPECT(m != MAP_FAILED))
		return false;
	arena = m + PAGE;
	arena_ro = arena + ARENA + PAGE;
	mprotect(m, PAGE, PROT_NONE);
	mprotect(arena + ARENA, PAGE, PROT_NONE);
	memset(arena_ro, 0x5a, PAGE);
	mprotect(arena_ro, PAGE, PROT_READ);
	return true;
}

/* The read-only page kept its bytes; the arena is gone after. */
static bool arena_unmap(void)
{
	bool ok = true;

	for (size_t j = 0; j < PAGE; j++)
		if (arena_ro[j] != 0x5a) {
			ktap_diag("the read-only page changed");
			ok = false;
			break;
		}
	munmap(arena - PAGE, ARENA + 3 * PAGE);
	return ok;
}

/* Still healthy: every channel moves data on both paths. */
static bool all_channels_work(void)
{
	bool ok = true;

	for (unsigned int c = 0; c < info.channels; c++)
		ok &= chan_works(c, SGDMA_XFER_COPY) &&
		      chan_works(c, SGDMA_XFER_PINNED);
	return ok;
}

static bool test_fuzz(void)
{
	static const int allowed[] = { 0, EINVAL, EFAULT, E2BIG, ENOTTY };
	struct tally t = { .allowed = allowed, .n = ARRAY_LEN(allowed) };
	uint64_t saved_rng = rng_state;
	bool ok = true;

	if (!arena_map())
		return false;
	rng_state = FUZZ_SEED;

	for (unsigned int i = 0; i < FUZZ_ITERS && ok; i++) {
		unsigned int cmd = fuzz_cmd();
		unsigned char *argp = arena + (rnd() % (ARENA - 4096));
		struct sgdma_xfer x = { 0 };
		struct sgdma_iovec *iov;
		uint64_t arg;
		size_t k;
		int e;

		/* A structure shaped like an XFER, with fuzzed fields. */
		x.size = rnd() % 4 ? sizeof(x) : (uint32_t)fuzz_len();
		x.flags = rnd() % 2 ? rnd() % 16 : (uint32_t)rnd();
		x.op = rnd() % 2 ? rnd() % 4 : (uint16_t)rnd();
		x.__reserved = rnd() % 8 ? 0 : (uint16_t)rnd();
		x.channel = rnd() % 2 ? rnd() % 5 : (uint32_t)rnd();
		x.card_offset = rnd() % 2 ? rnd() % (128 * MiB) : rnd();
		for (int side = 0; side < 2; side++) {
			uint32_t n = rnd() % 3 ? rnd() % 5 : (uint32_t)rnd();
			uint64_t where = fuzz_addr();

			if (rnd() % 3 && n && n < 64) {
				/* A real array of fuzzed iovecs in the arena. */
				iov = (struct sgdma_iovec *)(arena + ARENA / 2 +
					side * (ARENA / 4));
				for (uint32_t j = 0; j < n; j++)
					iov[j] = (struct sgdma_iovec){
						fuzz_addr(), fuzz_len() };
				where = (uintptr_t)iov;
			}
			if (side) {
				x.dst_iov = rnd() % 4 ? where : 0;
				x.dst_iovcnt = n;
			} else {
				x.src_iov = rnd() % 4 ? where : 0;
				x.src_iovcnt = n;
			}
		}
		memcpy(argp, &x, sizeof(x));
		/* Flip a few bytes of it, and of what follows. */
		for (k = rnd() % 4; k; k--)
			argp[rnd() % (sizeof(x) + 16)] = (unsigned char)rnd();
		arg = rnd() % 16 ? (uintptr_t)argp : fuzz_addr();

		e = ioctl(fd, cmd, (void *)(uintptr_t)arg) < 0 ? errno : 0;
		ok &= tally_add(&t, e, i, cmd);
	}
	tally_print(&t, "INFO and XFER");
	ok &= arena_unmap();
	rng_state = saved_rng;
	return ok && all_channels_work();
}

/* ---- ioctl fuzzer, ABI 3: buffers and queues ---- */

#define FUZZ3_ITERS	3000
#define FUZZ3_POOL	8

/*
 * State that makes fuzzed calls reach past the handle lookup: live handles
 * (registered and coherent buffers), a queue with room, an eventfd. All of
 * it on a node of its own, so that whatever the fuzzer leaves behind goes
 * with the node's last reference.
 */
struct fuzz3 {
	int node;
	int queue;
	int efd;
	uint32_t handles[FUZZ3_POOL];
	unsigned int nhandles;
};

union fuzz3_arg {
	struct sgdma_buf_reg reg;
	struct sgdma_buf_alloc alloc;
	struct sgdma_buf_free free;
	struct sgdma_buf_xfer xfer;
	struct sgdma_queue_create qc;
	struct sgdma_queue_reap reap;
};

static uint32_t fuzz_size(size_t size)
{
	return rnd() % 4 ? size : (uint32_t)fuzz_len();
}

static uint32_t fuzz_flags(void)
{
	return rnd() % 4 ? rnd() % 4 : (uint32_t)rnd();
}

static uint32_t fuzz_pad(void)
{
	return rnd() % 8 ? 0 : (uint32_t)rnd();
}

static uint32_t fuzz_handle(const struct fuzz3 *z)
{
	if (z->nhandles && rnd() % 4)
		return z->handles[rnd() % z->nhandles];
	return rnd() % 2 ? rnd() % (SGDMA_MAX_BUFS + 2) : (uint32_t)rnd();
}

/* Mostly inside a small buffer, now and then anywhere. */
static uint64_t fuzz_offset(void)
{
	return rnd() % 4 ? rnd() % (64 * KiB) : rnd();
}

/*
 * A buffer transfer that could run (ops, handles, offsets and lengths as
 * the ABI wants them, aligned for the strictest device), then now and then
 * a field or two made wrong.
 */
static void fuzz3_xfer(const struct fuzz3 *z, struct sgdma_buf_xfer *x)
{
	static const uint16_t ops[] = { SGDMA_OP_H2C, SGDMA_OP_C2H,
					SGDMA_OP_H2H };
	uint16_t op = ops[rnd() % 3];
	uint32_t src = op == SGDMA_OP_C2H ? 0 : fuzz_handle(z);
	uint32_t dst = op == SGDMA_OP_H2C ? 0 : fuzz_handle(z);

	*x = (struct sgdma_buf_xfer){
		.size = sizeof(*x),
		.flags = rnd() % 2 ? SGDMA_XFER_CRC : 0,
		.op = op,
		.card_offset = op == SGDMA_OP_H2H ? 0 : rnd() % 1024 * 64,
		.src_handle = src,
		.dst_handle = dst,
		.src_offset = src ? rnd() % 64 * 64 : 0,
		.dst_offset = dst ? rnd() % 64 * 64 : 0,
		.len = (1 + rnd() % 64) * 64,
		.user_data = rnd(),
	};
	for (unsigned int k = rnd() % 2 ? 0 : 1 + rnd() % 2; k; k--) {
		switch (rnd() % 10) {
		case 0:
			x->size = fuzz_size(sizeof(*x));
			break;
		case 1:
			x->flags = fuzz_flags() << 1 | SGDMA_XFER_CHANNEL;
			x->channel = rnd() % 2 ? rnd() % 5 : (uint32_t)rnd();
			break;
		case 2:
			x->op = (uint16_t)rnd();
			x->__reserved = (uint16_t)fuzz_pad();
			break;
		case 3:
			x->card_offset = fuzz_offset();
			break;
		case 4:
			x->src_handle = fuzz_handle(z);
			break;
		case 5:
			x->dst_handle = fuzz_handle(z);
			break;
		case 6:
			x->src_offset = fuzz_offset();
			x->dst_offset = fuzz_offset();
			break;
		case 7:
			x->len = fuzz_len();
			break;
		default:
			x->bytes = fuzz_pad();
			x->crc = fuzz_pad();
			x->__pad = fuzz_pad();
		}
	}
}

/*
 * One fuzzed argument for ioctl number @nr in @a; returns its size. The
 * lengths of coherent buffers stay small but for a rare valid large one,
 * so that the guest's memory is never the limit.
 */
static size_t fuzz3_fill(const struct fuzz3 *z, unsigned int nr,
			 union fuzz3_arg *a)
{
	memset(a, 0, sizeof(*a));
	switch (nr) {
	case 2:
		a->reg = (struct sgdma_buf_reg){
			fuzz_size(sizeof(a->reg)), fuzz_flags(),
			rnd() % 2 ? (uintptr_t)arena + rnd() % (ARENA / PAGE) *
			PAGE : fuzz_addr(),
			rnd() % 2 ? (1 + rnd() % 16) * PAGE : fuzz_len(),
			fuzz_pad(), fuzz_pad() };
		return sizeof(a->reg);
	case 3:
		a->alloc = (struct sgdma_buf_alloc){
			fuzz_size(sizeof(a->alloc)), fuzz_flags() & ~3,
			rnd() % 8 ? rnd() % (128 * KiB) : fuzz_len(),
			fuzz_pad(), fuzz_pad(), fuzz_pad() };
		return sizeof(a->alloc);
	case 4:
		a->free = (struct sgdma_buf_free){
			fuzz_size(sizeof(a->free)), fuzz_flags() & ~3,
			fuzz_handle(z), fuzz_pad() };
		return sizeof(a->free);
	case 5:
	case 7:
		fuzz3_xfer(z, &a->xfer);
		return sizeof(a->xfer);
	case 6:
		a->qc = (struct sgdma_queue_create){
			fuzz_size(sizeof(a->qc)), fuzz_flags(),
			rnd() % 4 ? rnd() % 9 : (uint32_t)rnd(),
			rnd() % 2 ? -1 : rnd() % 2 ? z->efd :
			rnd() % 2 ? z->node : (int32_t)rnd(),
			(int32_t)fuzz_pad(), fuzz_pad() };
		return sizeof(a->qc);
	default:
		a->reap = (struct sgdma_queue_reap){
			fuzz_size(sizeof(a->reap)), fuzz_flags(),
			rnd() % 2 ? (uintptr_t)(arena + ARENA / 2) :
			fuzz_addr(),
			rnd() % 4 ? rnd() % 16 : (uint32_t)rnd(),
			fuzz_pad() };
		return sizeof(a->reap);
	}
}

/* An address for the argument that holds no valid structure. */
static uint64_t fuzz_bad_addr(void)
{
	uint64_t a;

	do
		a = fuzz_addr();
	while (a >= (uintptr_t)arena && a < (uintptr_t)arena + ARENA);
	return a;
}

/* Collect one completion of @queue, waiting for it: false if none came. */
static bool reap_one(int queue)
{
	struct sgdma_completion c;
	struct sgdma_queue_reap r = { sizeof(r), SGDMA_REAP_WAIT,
				      (uintptr_t)&c, 1, 0 };

	return ioctl(queue, SGDMA_IOC_QUEUE_REAP, &r) == 0 && r.count == 1;
}

/* Keep a handle the fuzzer got; a pool that is full loses its oldest. */
static bool fuzz3_keep(struct fuzz3 *z, uint32_t handle)
{
	struct sgdma_buf_free f = { sizeof(f), 0, 0, 0 };
	bool ok = true;

	if (z->nhandles == FUZZ3_POOL) {
		f.handle = z->handles[0];
		/* A queued transfer may still hold it. */
		while (ok && ioctl(z->node, SGDMA_IOC_BUF_FREE, &f) &&
		       EXPECT(errno == EBUSY))
			ok &= EXPECT(reap_one(z->queue));
		memmove(z->handles, z->handles + 1,
			--z->nhandles * sizeof(z->handles[0]));
	}
	z->handles[z->nhandles++] = handle;
	return ok;
}

/* What a successful call created: keep the handle, close the queue. */
static bool fuzz3_after(struct fuzz3 *z, unsigned int nr,
			const unsigned char *argp)
{
	union fuzz3_arg out;

	memcpy(&out, argp, sizeof(out));
	switch (nr) {
	case 2:
		return fuzz3_keep(z, out.reg.handle);
	case 3:
		return fuzz3_keep(z, out.alloc.handle);
	case 4:
		for (unsigned int k = 0; k < z->nhandles; k++)
			if (z->handles[k] == out.free.handle) {
				memmove(z->handles + k, z->handles + k + 1,
					(--z->nhandles - k) *
					sizeof(z->handles[0]));
				break;
			}
		return true;
	case 6:
		return EXPECT(close(out.qc.fd) == 0);
	default:
		return true;
	}
}

/*
 * REGISTER, ALLOC, FREE, BUF_XFER and QUEUE_CREATE on the node, SUBMIT
 * and REAP on a queue, each now and then on the wrong descriptor, with
 * fuzzed sizes, flags, handles, offsets, lengths and padding, and a few
 * flipped bytes. Each call either works or fails with an errno the ABI
 * names; then every handle frees, nothing stays open or pinned, and the
 * device still moves data.
 */
static bool test_fuzz_abi3(void)
{
	/*
	 * Arguments live outside the arena: queued transfers into buffers
	 * registered there write to it at any time, and the fuzzer reads back
	 * what the ioctls returned.
	 */
	static unsigned char argbuf[2 * PAGE];
	static const int allowed[] = { 0, EINVAL, EFAULT, E2BIG, ENOTTY,
				       ENOENT, EACCES, EBUSY, EAGAIN, ENOSPC,
				       ENOMEM, EBADF };
	struct tally t = { .allowed = allowed, .n = ARRAY_LEN(allowed) };
	struct sgdma_queue_create qc = { sizeof(qc), 0, 8, -1, 0, 0 };
	int fds = open_fds();
	struct fuzz3 z = { .efd = eventfd(0, EFD_CLOEXEC) };
	unsigned int worked[7] = { 0 };
	uint64_t saved_rng = rng_state;
	bool ok = true;

	z.node = open("/dev/sgdma0", O_RDWR | O_CLOEXEC);
	if (!EXPECT(z.node >= 0) || !EXPECT(z.efd >= 0) ||
	    !EXPECT(ioctl(z.node, SGDMA_IOC_QUEUE_CREATE, &qc) == 0) ||
	    !arena_map())
		return false;
	z.queue = qc.fd;
	rng_state = FUZZ_SEED;

	for (unsigned int i = 0; i < FUZZ3_ITERS && ok; i++) {
		unsigned int nr = 2 + rnd() % 7;
		bool on_queue = (nr >= 7) != (rnd() % 16 == 0);
		unsigned char *argp = argbuf + rnd() % (sizeof(argbuf) -
						       sizeof(union fuzz3_arg) - 16);
		union fuzz3_arg a;
		size_t size = fuzz3_fill(&z, nr, &a);
		unsigned int cmd = _IOC(nr == 4 || nr == 7 ? _IOC_WRITE :
					_IOC_READ | _IOC_WRITE,
					SGDMA_IOC_MAGIC, nr, size);
		uint64_t arg;
		int e;

		memcpy(argp, &a, size);
		for (size_t k = rnd() % 4 ? 0 : rnd() % 3; k; k--)
			argp[rnd() % (size + 16)] = (unsigned char)rnd();
		arg = rnd() % 32 ? (uintptr_t)argp : fuzz_bad_addr();

		e = ioctl(on_queue ? z.queue : z.node, cmd,
			  (void *)(uintptr_t)arg) < 0 ? errno : 0;
		ok &= tally_add(&t, e, i, cmd);
		if (!e) {
			worked[nr - 2]++;
			ok &= fuzz3_after(&z, nr, argp);
		}
	}
	tally_print(&t, "buffers and queues");
	ktap_diag("worked: REGISTER %u ALLOC %u FREE %u BUF_XFER %u QUEUE_CREATE %u SUBMIT %u REAP %u",
		  worked[0], worked[1], worked[2], worked[3], worked[4],
		  worked[5], worked[6]);

	/* Closing the queue finishes what it started; then all handles free. */
	ok &= EXPECT(close(z.queue) == 0);
	for (unsigned int k = 0; k < z.nhandles; k++) {
		struct sgdma_buf_free f = { sizeof(f), 0, z.handles[k], 0 };

		ok &= EXPECT(ioctl(z.node, SGDMA_IOC_BUF_FREE, &f) == 0);
	}
	ok &= EXPECT(close(z.node) == 0) && EXPECT(close(z.efd) == 0);
	ok &= arena_unmap();
	ok &= EXPECT(open_fds() == fds);
	rng_state = saved_rng;
	return ok && all_channels_work();
}

int main(void)
{
	ktap_plan(10);
	if (!t_open(0))
		return t_fail_all("open");
	RUN(test_null_zero_length(), "null_zero_length");
	RUN(test_guard_pages(), "guard_pages");
	RUN(test_short_pin(), "pinned_short_pin_released");
	RUN(test_toctou_iovecs(), "toctou_iovec_rewrite");
	RUN(test_unmap_in_flight(), "unmap_remap_in_flight");
	RUN(test_fork_in_flight(), "fork_with_pinned_transfer_in_flight");
	RUN(test_kill9(), "sigkill_mid_transfer");
	RUN(test_open_close(), "open_close_cycles");
	RUN(test_fuzz(), "ioctl_fuzz");
	RUN(test_fuzz_abi3(), "ioctl_fuzz_buffers_queues");
	set_timeout_ms(5000);
	sgdma_close(dev);
	return ktap_finish();
}
