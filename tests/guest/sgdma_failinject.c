// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_failinject: transfers under the kernel's own fault injection
 * (Documentation/fault-injection/fault-injection.rst), aimed at this
 * process only: failslab, fail_page_alloc and fail_usercopy.
 *
 * Sweeps: for each kind of transfer, /proc/thread-self/fail-nth makes the
 * 1st, 2nd, ... fault point the transfer reaches fail (allocations, page
 * faults of the user buffers, user copies), until a transfer reaches no
 * more. Each injected failure must end the call with a clean errno
 * (ENOMEM or EFAULT), or be absorbed with the data still right; nothing
 * may stay pinned; and the same transfer must work right after.
 *
 * Random: each of the three, with probability and interval, aimed at this
 * process by /proc/self/make-it-fail, over many transfers; same rules,
 * and the injection must really have failed some of them.
 *
 * What is never failed: the kernel's own bookkeeping, which would switch
 * a detector off rather than fail the call. failslab fails only kmalloc
 * caches (cache-filter; the kernel marks them with slub_debug=A,kmalloc-*
 * on its command line), so not DMA-API debugging's radix tree, IOVAs or
 * kmemleak's objects. A failed page for the radix tree's slab would still
 * turn DMA-API debugging off, so where the transfer maps user pages
 * DMA_FROM_DEVICE itself (pinned C2H, H2H) pages are failed only before
 * that: the first page the call allocates, which faults the unbacked
 * destination in, fails.
 *
 * Leaks of the failure paths show in the kmemleak scan that ends a run on
 * the debug kernel. Kernels without fault injection skip every case.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "sgdma_test.h"

#define DBG		"/sys/kernel/debug"
#define LEN		(3 * PAGE)	/* two iovecs: 2 pages + 1 page */
#define MAX_POINTS	1000		/* a sweep ends long before */
#define RANDOM_XFERS	40

/* ---- fault injection controls ---- */

static bool put(const char *path, const char *val)
{
	int f = open(path, O_WRONLY);
	ssize_t n;

	if (f < 0)
		return false;
	n = write(f, val, strlen(val));
	close(f);
	return n == (ssize_t)strlen(val);
}

static bool attr_set(const char *attr, const char *file, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), DBG "/%s/%s", attr, file);
	if (put(path, val))
		return true;
	ktap_diag("cannot write '%s' to %s: %s", val, path, strerror(errno));
	return false;
}

static const char *const attrs[] = {
	"failslab", "fail_page_alloc", "fail_usercopy"
};

/* The kmalloc caches carry the failslab mark (slub_debug=A,kmalloc-*). */
static bool kmalloc_marked(void)
{
	char buf[8] = "";
	int f = open("/sys/kernel/slab/kmalloc-64/failslab", O_RDONLY);

	if (f >= 0) {
		if (read(f, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(f);
	}
	if (buf[0] == '1')
		return true;
	ktap_diag("kmalloc-64 has no failslab mark: boot with slub_debug=A,kmalloc-*");
	return false;
}

/*
 * Every fault point may fire, in this task only, and only when asked:
 * probability 0 until a random case raises it; fail-nth works regardless.
 * GFP_KERNEL allocations and order-0 pages are fair game (the defaults
 * spare them), and so are user pages (__GFP_HIGHMEM). Failures are logged
 * without a stack trace (a trace in the log fails the boot), and all of
 * them (no rate limit).
 */
static bool fi_setup(void)
{
	bool ok = kmalloc_marked();

	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		ok &= attr_set(attrs[i], "probability", "0");
		ok &= attr_set(attrs[i], "interval", "1");
		ok &= attr_set(attrs[i], "times", "-1");
		ok &= attr_set(attrs[i], "space", "0");
		ok &= attr_set(attrs[i], "verbose", "1");
		/* every failure logged: the harness excuses the kernel's
		 * allocation-failure reports that follow one, and only those
		 */
		ok &= attr_set(attrs[i], "verbose_ratelimit_burst", "1000000");
		ok &= attr_set(attrs[i], "task-filter", "Y");
	}
	ok &= attr_set("failslab", "ignore-gfp-wait", "N");
	ok &= attr_set("failslab", "cache-filter", "Y");
	ok &= attr_set("fail_page_alloc", "ignore-gfp-wait", "N");
	ok &= attr_set("fail_page_alloc", "ignore-gfp-highmem", "N");
	ok &= attr_set("fail_page_alloc", "min-order", "0");
	return ok;
}

/* Back to the kernel's defaults, so nothing after us is affected. */
static void fi_restore(void)
{
	for (size_t i = 0; i < ARRAY_LEN(attrs); i++) {
		attr_set(attrs[i], "probability", "0");
		attr_set(attrs[i], "verbose", "2");
		attr_set(attrs[i], "verbose_ratelimit_burst", "10");
		attr_set(attrs[i], "task-filter", "N");
	}
	attr_set("failslab", "ignore-gfp-wait", "Y");
	attr_set("failslab", "cache-filter", "N");
	attr_set("fail_page_alloc", "ignore-gfp-wait", "Y");
	attr_set("fail_page_alloc", "ignore-gfp-highmem", "Y");
	attr_set("fail_page_alloc", "min-order", "1");
}

static int nth_fd = -1;

static bool nth_arm(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, len, 0) == len;
}

/*
 * After the call under test: did it consume the armed failure? Then
 * disarm. Reading reports the count left before the read's own copy to
 * user space, which is itself a fault point: a read that fails with
 * EFAULT took the failure, so the call did not. Writing 0 disarms; it may
 * take the last failure itself, hence the retry.
 */
static bool nth_disarm(bool *consumed)
{
	char buf[16] = "";
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);
	bool ok = false;

	*consumed = n > 0 && atoi(buf) == 0;
	for (int i = 0; i < 3 && !ok; i++)
		ok = pwrite(nth_fd, "0", 1, 0) == 1;
	return ok;
}

/* /proc/self/make-it-fail; turning it off may itself hit fail_usercopy. */
static bool make_it_fail(bool on)
{
	for (int i = 0; i < 100; i++)
		if (put("/proc/self/make-it-fail", on ? "1" : "0"))
			return true;
	return false;
}

/* ---- the transfers under test ---- */

enum kind { XFER_H2C, XFER_C2H, XFER_H2H, RW_WRITE, RW_READ };

struct scenario {
	const char *name;
	enum kind kind;
	uint32_t flags;
	bool maps_from_device;	/* maps user pages DMA_FROM_DEVICE itself */
};

static const struct scenario scenarios[] = {
	{ "h2c_copy",	XFER_H2C, SGDMA_XFER_COPY, false },
	{ "h2c_pinned",	XFER_H2C, SGDMA_XFER_PINNED, false },
	{ "c2h_copy",	XFER_C2H, SGDMA_XFER_COPY, false },
	{ "c2h_pinned",	XFER_C2H, SGDMA_XFER_PINNED, true },
	{ "h2h_copy",	XFER_H2H, SGDMA_XFER_COPY | SGDMA_XFER_CRC, false },
	{ "h2h_pinned",	XFER_H2H, SGDMA_XFER_PINNED | SGDMA_XFER_CRC, true },
	{ "pwrite",	RW_WRITE, 0, false },
	{ "pread",	RW_READ, 0, false },
};

/* Page allocations take part in fail-nth only where that is safe. */
static bool pages_may_fail(bool on)
{
	return attr_set("fail_page_alloc", "min-order", on ? "0" : "11");
}

static unsigned char *pattern;	/* LEN bytes of random data, touched */
static uint64_t card_off;

/*
 * One attempt: the source is always touched memory, the destination fresh
 * unbacked memory, so the call itself faults its pages in (one more fault
 * point). Returns 0 or an errno; *@moved is what a read or write returned.
 */
struct attempt {
	unsigned char *dst;	/* host destination, or NULL */
	size_t moved;
};

static int prepare(const struct scenario *s, struct attempt *a)
{
	a->dst = NULL;
	a->moved = 0;
	if (s->kind == XFER_C2H || s->kind == XFER_H2H || s->kind == RW_READ) {
		a->dst = unbacked(LEN);
		if (!a->dst)
			return ENOMEM;
	}
	if (s->kind == XFER_C2H || s->kind == RW_READ) {
		/* The card holds the pattern: write it without injection. */
		if (h2c(card_off, pattern, LEN, SGDMA_XFER_COPY, NULL))
			return EIO;
	}
	return 0;
}

/* The call under test, and nothing else: no allocation, no printing. */
static int attempt(const struct scenario *s, struct attempt *a)
{
	struct sgdma_iovec src[2] = {
		{ (uintptr_t)pattern, 2 * PAGE },
		{ (uintptr_t)pattern + 2 * PAGE, PAGE },
	};
	struct sgdma_iovec dst[2] = {
		{ (uintptr_t)a->dst, 2 * PAGE },
		{ (uintptr_t)a->dst + 2 * PAGE, PAGE },
	};
	struct sgdma_xfer x = { .size = sizeof(x), .flags = s->flags };
	ssize_t n;

	switch (s->kind) {
	case RW_WRITE:
		n = pwrite(fd, pattern, LEN, card_off);
		break;
	case RW_READ:
		n = pread(fd, a->dst, LEN, card_off);
		break;
	default:
		x.op = s->kind == XFER_H2C ? SGDMA_OP_H2C :
		       s->kind == XFER_C2H ? SGDMA_OP_C2H : SGDMA_OP_H2H;
		if (x.op != SGDMA_OP_C2H) {
			x.src_iov = (uintptr_t)src;
			x.src_iovcnt = 2;
		}
		if (x.op != SGDMA_OP_H2C) {
			x.dst_iov = (uintptr_t)dst;
			x.dst_iovcnt = 2;
		}
		if (x.op != SGDMA_OP_H2H)
			x.card_offset = card_off;
		if (ioctl(fd, SGDMA_IOC_XFER, &x) < 0)
			return errno;
		a->moved = x.bytes;
		return 0;
	}
	if (n < 0)
		return errno;
	a->moved = n;
	return 0;
}

/* After a successful attempt: the bytes it claims to have moved are right. */
static bool verify(const struct scenario *s, struct attempt *a)
{
	unsigned char *back;
	bool ok;

	if (a->moved > LEN || (a->moved != LEN && s->kind != RW_WRITE &&
			       s->kind != RW_READ)) {
		ktap_diag("%s moved %zu of %lu bytes", s->name, a->moved, LEN);
		return false;
	}
	if (a->dst)
		return same(a->dst, pattern, a->moved);
	back = malloc(LEN);
	if (!back)
		return false;
	ok = EXPECT(c2h(card_off, back, LEN, SGDMA_XFER_COPY, NULL) == 0) &&
	     same(back, pattern, a->moved);
	free(back);
	return ok;
}

static void finish(struct attempt *a)
{
	if (a->dst)
		munmap(a->dst, LEN);
	a->dst = NULL;
}

/* Before an attempt the card must not already hold what H2C will write. */
static bool scrub_card(void)
{
	static unsigned char zero[LEN];

	return h2c(card_off, zero, LEN, SGDMA_XFER_COPY, NULL) == 0;
}

/* An injected failure's outcome: 0 with the data right, or a clean errno. */
static bool judge(const struct scenario *s, struct attempt *a, int err,
		  unsigned int *nomem, unsigned int *fault,
		  unsigned int *absorbed, const char *where)
{
	if (!err) {
		(*absorbed)++;
		if (verify(s, a))
			return true;
		ktap_diag("%s %s: succeeded with wrong data", s->name, where);
		return false;
	}
	if (err == ENOMEM) {
		(*nomem)++;
		return true;
	}
	if (err == EFAULT) {
		(*fault)++;
		return true;
	}
	ktap_diag("%s %s: failed with %s, not ENOMEM or EFAULT", s->name,
		  where, strerror(err));
	return false;
}

/* The same transfer without injection works, and moves the right data. */
static bool works_again(const struct scenario *s, const char *where)
{
	struct attempt a;
	bool ok;

	if (prepare(s, &a) || (s->kind == XFER_H2C || s->kind == RW_WRITE ?
			       !scrub_card() : false)) {
		ktap_diag("%s %s: cannot set up the check", s->name, where);
		finish(&a);
		return false;
	}
	ok = attempt(s, &a) == 0 && verify(s, &a);
	if (!ok)
		ktap_diag("%s %s: the next transfer failed", s->name, where);
	finish(&a);
	return ok;
}

static bool sweep(const struct scenario *s)
{
	unsigned int nomem = 0, fault = 0, absorbed = 0, n;
	bool ok = pages_may_fail(!s->maps_from_device);

	for (n = 1; n <= MAX_POINTS && ok; n++) {
		struct attempt a;
		bool consumed;
		char where[32];
		int err;

		snprintf(where, sizeof(where), "point %u", n);
		if ((s->kind == XFER_H2C || s->kind == RW_WRITE) &&
		    !scrub_card())
			return false;
		if (prepare(s, &a))
			return EXPECT(false);
		if (!EXPECT(nth_arm(n)))
			return false;
		err = attempt(s, &a);
		if (!EXPECT(nth_disarm(&consumed)))
			return false;
		if (!consumed) {
			/* The transfer got past every point: it must work. */
			ok = EXPECT(err == 0) && verify(s, &a);
			finish(&a);
			break;
		}
		ok = judge(s, &a, err, &nomem, &fault, &absorbed, where);
		finish(&a);
		ok = ok && works_again(s, where);
	}
	pages_may_fail(true);
	ktap_diag("%s: %u fault points%s: %u ENOMEM, %u EFAULT, %u absorbed",
		  s->name, n - 1, s->maps_from_device ? " (no pages)" : "",
		  nomem, fault, absorbed);
	/* The first point is copying the request in: it always exists. */
	return ok && EXPECT(n > 1) && EXPECT(n <= MAX_POINTS);
}

/*
 * One attribute aimed by make-it-fail, over many transfers: at random
 * (@probability %, every @interval-th eligible point), or with @first the
 * first eligible point of each transfer (probability 100, times 1), and
 * there only. @pinned_dst: the transfers that map user pages
 * DMA_FROM_DEVICE (only those), else the others.
 */
static bool random_case(const char *attr, const char *probability,
			const char *interval, bool first, bool pinned_dst)
{
	unsigned int nomem = 0, fault = 0, absorbed = 0, clean = 0, i, j;
	bool ok = attr_set(attr, "interval", interval) &&
		  attr_set(attr, "probability", first ? "100" : probability);

	for (i = 0, j = 0; i < RANDOM_XFERS && ok; j++) {
		const struct scenario *s = &scenarios[j % ARRAY_LEN(scenarios)];
		struct attempt a;
		char where[48];
		int err;

		if (s->maps_from_device != pinned_dst)
			continue;
		i++;
		if (first && !attr_set(attr, "times", "1"))
			return false;
		snprintf(where, sizeof(where), "random %s #%u", attr, i);
		if ((s->kind == XFER_H2C || s->kind == RW_WRITE) &&
		    !scrub_card())
			ok = false;
		else if (prepare(s, &a))
			ok = EXPECT(false);
		if (!ok)
			break;
		ok = EXPECT(make_it_fail(true));
		err = attempt(s, &a);
		ok &= EXPECT(make_it_fail(false));
		if (!err && verify(s, &a))
			clean++;
		else
			ok &= judge(s, &a, err, &nomem, &fault, &absorbed,
				    where) && works_again(s, where);
		finish(&a);
	}
	attr_set(attr, "probability", "0");
	attr_set(attr, "interval", "1");
	attr_set(attr, "times", "-1");
	if (first)
		ktap_diag("%s, first point of each: %u transfers clean, %u ENOMEM, %u EFAULT",
			  attr, clean, nomem, fault);
	else
		ktap_diag("%s p=%s%% interval %s: %u transfers clean, %u ENOMEM, %u EFAULT",
			  attr, probability, interval, clean, nomem, fault);
	/* An injection that never hit would test nothing. */
	return ok && EXPECT(nomem + fault > 0);
}

static bool have_fault_injection(void)
{
	struct stat st;

	return !stat(DBG "/failslab", &st) && !stat(DBG "/fail_page_alloc", &st) &&
	       !stat(DBG "/fail_usercopy", &st) &&
	       !stat("/proc/thread-self/fail-nth", &st) &&
	       !stat("/proc/self/make-it-fail", &st);
}

static const char *const random_cases[] = {
	"random_failslab", "random_fail_page_alloc", "random_fail_usercopy"
};

static const char *case_name(unsigned int i)
{
	return i < ARRAY_LEN(scenarios) ? scenarios[i].name :
	       random_cases[i - ARRAY_LEN(scenarios)];
}

int main(void)
{
	const unsigned int cases = ARRAY_LEN(scenarios) +
				   ARRAY_LEN(random_cases);
	bool ready;

	ktap_plan(cases);
	if (!have_fault_injection()) {
		for (unsigned int i = 0; i < cases; i++)
			ktap_skip_needs(case_name(i), "fault-injection",
					"no fault injection in this kernel");
		return ktap_finish();
	}
	ready = t_open(0) && (info.caps & SGDMA_CAP_PINNED) && fi_setup();
	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	pattern = unbacked(LEN);
	ready = ready && nth_fd >= 0 && pattern;
	if (!ready) {
		ktap_diag("no device, no pinned path, or no fault injection control");
		for (unsigned int i = 0; i < cases; i++)
			ktap_result(false, case_name(i));
		fi_restore();
		return ktap_finish();
	}
	fill_random(pattern, LEN);
	card_off = info.card_size / 2;

	for (size_t i = 0; i < ARRAY_LEN(scenarios); i++)
		RUN(sweep(&scenarios[i]), scenarios[i].name);
	/*
	 * An interval with a probability below 100 can alias with a fixed
	 * pattern of fault points per transfer and never hit some of them:
	 * intervals go with probability 100 here, where every interval-th
	 * point fails for sure.
	 */
	RUN(random_case("failslab", "30", "1", false, false) &&
	    random_case("failslab", "100", "3", false, true),
	    random_cases[0]);
	RUN(random_case("fail_page_alloc", "30", "1", false, false) &&
	    random_case("fail_page_alloc", "", "1", true, true),
	    random_cases[1]);
	RUN(random_case("fail_usercopy", "20", "1", false, false) &&
	    random_case("fail_usercopy", "100", "4", false, true),
	    random_cases[2]);

	fi_restore();
	return ktap_finish();
}
