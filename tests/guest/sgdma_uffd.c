// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_uffd: a user page fault that does not complete must not hold the
 * device (issue 14 point 5). A transfer's user memory is a userfaultfd
 * region whose faults the test answers only when it has seen the rest of
 * the system go on without them:
 *
 *  - stall_*: the copy and pinned paths, H2C and C2H, stalled in their
 *    fault on channel 0: a transfer on that same channel and one on
 *    channel 1 (other files) complete, the node opens and closes, closing
 *    the stalled caller's file returns; once answered, the stalled
 *    transfer completes with the right data;
 *  - unbind_*: a transfer (copy, pinned), a write(2), an XFER whose
 *    argument structure faults, and a buffer registration stalled in their
 *    fault, and a queue submission whose entry faults (a batch's entries
 *    are copied in the same way): unbinding the device completes within
 *    10 s, its other open file fails with ENODEV and closes at once, the
 *    other device works, and once answered the stalled call ends with
 *    ENODEV; the device binds again and works. The registration's pin
 *    waits for the userfaultfd from Linux 6.3 on; before, a long-term pin
 *    that meets one fails at once (no FAULT_FLAG_ALLOW_RETRY, and a stack
 *    trace with CONFIG_DEBUG_VM), so there the registration's argument
 *    structure is what faults.
 *
 * A driver that touches user memory under its device or channel locks
 * fails each case by a bounded wait (the transfer on the same channel,
 * the unbind), after which the fault is answered so that the guest goes
 * on. The host's removal of a device (QMP device_del) with a stalled
 * fault is sgdma_hotplug's.
 */
#define _GNU_SOURCE
#include <sys/utsname.h>

#include "sgdma_uffd.h"

#define COPY_LEN	(16 * KiB)	/* one copy path piece */
#define PIN_LEN		(256 * KiB)	/* many pinned pages */
#define SIDE_LEN	(64 * KiB)
#define BOUND_S		10		/* what any wait here may take */
#define SIDE_FLAGS	(SGDMA_XFER_COPY | SGDMA_XFER_CHANNEL)

/* ---- a round trip on one channel, in a thread of its own ---- */

struct side_xfer {
	pthread_t thread;
	unsigned int index;
	unsigned int chan;
	uint64_t off;
	int err;
	bool data_ok;
	atomic_bool done;
};

/* Random bytes out to the card and back, through a file of its own. */
static void *side_run(void *arg)
{
	struct side_xfer *s = arg;
	unsigned char *out = malloc(SIDE_LEN), *in = malloc(SIDE_LEN);
	char node[32];
	int f;

	snprintf(node, sizeof(node), "/dev/sgdma%u", s->index);
	f = open(node, O_RDWR);
	if (f < 0 || !out || !in) {
		s->err = f < 0 ? errno : ENOMEM;
	} else {
		for (size_t i = 0; i < SIDE_LEN; i++)
			out[i] = (unsigned char)(i * 7 + s->chan + 1);
		s->err = xfer_single_on(f, SGDMA_OP_H2C, SIDE_FLAGS, s->chan,
					s->off, out, SIDE_LEN);
		if (!s->err)
			s->err = xfer_single_on(f, SGDMA_OP_C2H, SIDE_FLAGS,
						s->chan, s->off, in, SIDE_LEN);
		s->data_ok = !s->err && !memcmp(out, in, SIDE_LEN);
	}
	if (f >= 0)
		close(f);
	free(out);
	free(in);
	atomic_store(&s->done, true);
	return NULL;
}

static void side_start(struct side_xfer *s, unsigned int index,
		       unsigned int chan, uint64_t off)
{
	*s = (struct side_xfer){ .index = index, .chan = chan, .off = off,
				 .err = -1 };
	if (pthread_create(&s->thread, NULL, side_run, s)) {
		s->thread = 0;
		atomic_store(&s->done, true);
	}
}

/* Whether it completed right within the bound; joins it in any case. */
static bool side_finish(struct side_xfer *s, double secs)
{
	bool ok = wait_flag(&s->done, secs);

	if (!ok) {
		ktap_diag("a transfer on channel %u waited %.0f s for the stalled fault",
			  s->chan, secs);
		return false;	/* joined by side_reap() */
	}
	if (s->thread)
		pthread_join(s->thread, NULL);
	s->thread = 0;
	if (s->err || !s->data_ok)
		ktap_diag("channel %u: %s, data %s", s->chan,
			  s->err ? strerror(s->err) : "ok",
			  s->data_ok ? "right" : "wrong");
	return EXPECT(!s->err && s->data_ok);
}

/* After the fault's answer: a transfer that waited for it must end too. */
static void side_reap(struct side_xfer *s)
{
	if (!s->thread)
		return;
	if (!wait_flag(&s->done, BOUND_S)) {
		pthread_kill(s->thread, SIGUSR1);
		if (!wait_flag(&s->done, BOUND_S))
			return;
	}
	pthread_join(s->thread, NULL);
	s->thread = 0;
}

/* ---- stalled, no removal ---- */

static bool test_stall(uint16_t op, uint32_t path)
{
	size_t len = path == SGDMA_XFER_PINNED ? PIN_LEN : COPY_LEN;
	struct uffd_region r;
	struct uffd_caller c;
	struct side_xfer side[2] = { { .thread = 0 }, { .thread = 0 } };
	unsigned char *want = NULL, *got = NULL;
	double t;
	bool ok = true, stalled;
	int fa, f;

	if (!EXPECT(t_open(0)) || !EXPECT(info.channels >= 2) ||
	    !EXPECT(info.card_size >= 2 * MiB))
		return false;
	want = malloc(len);
	got = malloc(len);
	fa = open("/dev/sgdma0", O_RDWR);
	if (!EXPECT(want && got && fa >= 0) || !uffd_region_new(&r, len)) {
		free(want);
		free(got);
		sgdma_close(dev);
		return false;
	}
	/* C2H: the card's bytes, to land over what the fault fills in. */
	fill_random(want, len);
	if (op == SGDMA_OP_C2H)
		ok &= EXPECT(h2c(0, want, len, SGDMA_XFER_COPY, NULL) == 0);
	else
		memcpy(want, r.data, len);

	c = (struct uffd_caller){ .call = UFFD_XFER, .fd = fa, .op = op,
				  .flags = path | SGDMA_XFER_CHANNEL,
				  .chan = 0, .r = &r };
	stalled = EXPECT(uffd_caller_start(&c));
	if (stalled) {
		/* The stalled caller's channel, and another, still work. */
		side_start(&side[0], 0, 0, info.card_size / 2);
		side_start(&side[1], 0, 1, info.card_size / 2 + SIDE_LEN);
		ok &= side_finish(&side[0], BOUND_S);
		ok &= side_finish(&side[1], BOUND_S);

		t = now();
		f = open("/dev/sgdma0", O_RDWR);
		ok &= EXPECT(f >= 0 && close(f) == 0);
		/* The stalled call holds its file: closing it returns. */
		ok &= EXPECT(close(fa) == 0);
		fa = -1;
		ktap_diag("open, close and the stalled file's close: %.2f s",
			  now() - t);
		ok &= EXPECT(now() - t < BOUND_S);
		ok &= EXPECT(!atomic_load(&c.done));
	}
	ok &= uffd_caller_finish(&c, BOUND_S) && EXPECT(c.err == 0);
	side_reap(&side[0]);
	side_reap(&side[1]);

	/* Answered, the transfer moved exactly its bytes. */
	if (op == SGDMA_OP_C2H)
		ok &= EXPECT(same(r.p, want, len));
	else
		ok &= EXPECT(c2h(0, got, len, SGDMA_XFER_COPY, NULL) == 0) &&
		      EXPECT(same(got, want, len));
	uffd_region_free(&r);
	if (fa >= 0)
		close(fa);
	free(want);
	free(got);
	sgdma_close(dev);
	return ok && stalled;
}

/* ---- stalled, the device unbound ---- */

struct unbinder {
	pthread_t thread;
	char bdf[64];
	bool ok;
	atomic_bool done;
};

static void *unbind_run(void *arg)
{
	struct unbinder *u = arg;

	u->ok = pci_bind(u->bdf, false);
	atomic_store(&u->done, true);
	return NULL;
}

/*
 * What stalls: @call (UFFD_XFER: H2C with @flags) on a region of @len
 * bytes; UFFD_IOCTL_ARG: ioctl @cmd whose argument, @arg_len bytes of
 * @arg, is the region's; with @queue, on a queue of the file, the
 * argument a submission that queue_entry_in() makes.
 */
struct unbind_case {
	enum uffd_call call;
	uint32_t flags;
	size_t len;
	unsigned long cmd;
	const void *arg;
	size_t arg_len;
	bool queue;
};

/*
 * A queue of @fd, with an H2C of a buffer registered on @fd as the
 * region's first bytes. Returns the queue's file descriptor, or -1.
 */
static int queue_entry_in(int fd, struct uffd_region *r)
{
	static unsigned char buf[PAGE] __attribute__((aligned(PAGE)));
	struct sgdma_buf_reg br = { .size = sizeof(br),
				    .addr = (uintptr_t)buf,
				    .len = sizeof(buf) };
	struct sgdma_queue_create qc = { .size = sizeof(qc), .depth = 4,
					 .eventfd = -1 };
	struct sgdma_buf_xfer x = { .size = sizeof(x), .op = SGDMA_OP_H2C,
				    .len = sizeof(buf) };

	if (!EXPECT(ioctl(fd, SGDMA_IOC_BUF_REGISTER, &br) == 0) ||
	    !EXPECT(ioctl(fd, SGDMA_IOC_QUEUE_CREATE, &qc) == 0))
		return -1;
	x.src_handle = br.handle;
	memcpy(r->data, &x, sizeof(x));
	return qc.fd;
}

static bool test_unbind(const struct unbind_case *uc)
{
	struct sgdma_info inf = { .size = sizeof(inf) };
	struct unbinder u = { .ok = false };
	struct uffd_region r;
	struct uffd_caller c;
	char path_buf[PATH_MAX];
	bool ok = true, stalled = false, unbound = false;
	int fa, fb, fq = -1;
	double t;

	if (!EXPECT(pci_path(1, path_buf, sizeof(path_buf))))
		return false;
	snprintf(u.bdf, sizeof(u.bdf), "%s", basename(path_buf));
	fa = open("/dev/sgdma1", O_RDWR);
	fb = open("/dev/sgdma1", O_RDWR);
	if (!EXPECT(fa >= 0 && fb >= 0) || !uffd_region_new(&r, uc->len)) {
		close(fa);
		close(fb);
		return false;
	}
	if (uc->arg)
		memcpy(r.data, uc->arg, uc->arg_len);
	if (uc->queue)
		fq = queue_entry_in(fa, &r);
	c = (struct uffd_caller){ .call = uc->call,
				  .fd = uc->queue ? fq : fa,
				  .op = SGDMA_OP_H2C,
				  .flags = uc->flags | SGDMA_XFER_CHANNEL,
				  .cmd = uc->cmd, .r = &r };
	if (!uc->queue || fq >= 0)
		stalled = EXPECT(uffd_caller_start(&c));

	if (stalled) {
		t = now();
		if (!pthread_create(&u.thread, NULL, unbind_run, &u))
			unbound = wait_flag(&u.done, BOUND_S);
		ktap_diag("unbind with the fault pending: %s after %.2f s",
			  unbound ? "done" : "still waiting", now() - t);
		ok &= EXPECT(unbound && u.ok);
	}
	if (unbound) {
		/* The device's other file fails cleanly and closes at once. */
		ok &= EXPECT(ioctl(fb, SGDMA_IOC_INFO, &inf) < 0 &&
			     errno == ENODEV);
		t = now();
		ok &= EXPECT(close(fb) == 0);
		fb = -1;
		ok &= EXPECT(now() - t < BOUND_S);
		ok &= EXPECT(access("/dev/sgdma1", F_OK) < 0);
	}
	/* The other device works meanwhile. */
	ok &= dev_works(0);
	ok &= EXPECT(close(fa) == 0);
	ok &= EXPECT(!atomic_load(&c.done));

	/* Answered at last: the call ends, with the removal's errno. */
	ok &= uffd_caller_finish(&c, BOUND_S);
	if (c.err != ENODEV)
		ktap_diag("the stalled call ended with %s",
			  c.err > 0 ? strerror(c.err) : "success");
	ok &= EXPECT(c.err == ENODEV);
	if (fq >= 0)
		ok &= EXPECT(close(fq) == 0);
	if (u.thread && (unbound || wait_flag(&u.done, 3 * BOUND_S)))
		pthread_join(u.thread, NULL);
	else if (u.thread)
		ktap_diag("unbind still waits after the fault's answer");
	if (fb >= 0)
		close(fb);
	uffd_region_free(&r);

	if (atomic_load(&u.done) && u.ok)
		ok &= EXPECT(pci_bind(u.bdf, true));
	ok &= dev_works(1);
	return ok && stalled;
}

/*
 * From 6.3 a long-term pin faults with FAULT_FLAG_ALLOW_RETRY, so it waits
 * for a userfaultfd like any other fault.
 */
static bool longterm_pin_waits(void)
{
	unsigned int major = 0, minor = 0;
	struct utsname u;

	return !uname(&u) && sscanf(u.release, "%u.%u", &major, &minor) == 2 &&
	       (major > 6 || (major == 6 && minor >= 3));
}

int main(void)
{
	static unsigned char payload[PAGE] __attribute__((aligned(PAGE)));
	struct sigaction sa = { .sa_handler = on_signal };
	struct sgdma_iovec pv = { (uintptr_t)payload, sizeof(payload) };
	struct sgdma_xfer xa = { .size = sizeof(xa), .flags = SGDMA_XFER_COPY,
				 .op = SGDMA_OP_H2C, .src_iov = (uintptr_t)&pv,
				 .src_iovcnt = 1 };
	struct sgdma_buf_reg ra = { .size = sizeof(ra),
				    .addr = (uintptr_t)payload,
				    .len = sizeof(payload) };
	const struct unbind_case
		copy = { .call = UFFD_XFER, .flags = SGDMA_XFER_COPY,
			 .len = COPY_LEN },
		pinned = { .call = UFFD_XFER, .flags = SGDMA_XFER_PINNED,
			   .len = PIN_LEN },
		wr = { .call = UFFD_WRITE, .len = PIN_LEN },
		xfer_arg = { .call = UFFD_IOCTL_ARG, .len = PAGE,
			     .cmd = SGDMA_IOC_XFER, .arg = &xa,
			     .arg_len = sizeof(xa) },
		reg_pin = { .call = UFFD_REGISTER, .len = PIN_LEN },
		reg_arg = { .call = UFFD_IOCTL_ARG, .len = PAGE,
			    .cmd = SGDMA_IOC_BUF_REGISTER, .arg = &ra,
			    .arg_len = sizeof(ra) },
		queued = { .call = UFFD_IOCTL_ARG, .len = PAGE,
			   .cmd = SGDMA_IOC_QUEUE_SUBMIT, .queue = true };

	ktap_plan(10);
	/* SIGUSR1 only interrupts a call that never came back. */
	sigaction(SIGUSR1, &sa, NULL);
	RUN(test_stall(SGDMA_OP_H2C, SGDMA_XFER_COPY), "stall_copy_h2c");
	RUN(test_stall(SGDMA_OP_C2H, SGDMA_XFER_COPY), "stall_copy_c2h");
	RUN(test_stall(SGDMA_OP_H2C, SGDMA_XFER_PINNED), "stall_pinned_h2c");
	RUN(test_stall(SGDMA_OP_C2H, SGDMA_XFER_PINNED), "stall_pinned_c2h");
	RUN(test_unbind(&copy), "unbind_copy_h2c");
	RUN(test_unbind(&pinned), "unbind_pinned_h2c");
	RUN(test_unbind(&wr), "unbind_write");
	RUN(test_unbind(&xfer_arg), "unbind_xfer_argument");
	if (longterm_pin_waits())
		RUN(test_unbind(&reg_pin), "unbind_register");
	else
		RUN(test_unbind(&reg_arg), "unbind_register");
	RUN(test_unbind(&queued), "unbind_queue_submit");
	return ktap_finish();
}
