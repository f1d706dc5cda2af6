/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * User memory whose page faults stall until the test answers them
 * (userfaultfd, missing-page mode), and a transfer run on it in a thread
 * of its own: what a user page fault that takes forever does to the
 * driver. Faults taken by the kernel (copy_from_user, GUP) wait too: the
 * userfaultfd is made without UFFD_USER_MODE_ONLY, which root may do.
 */
#ifndef SGDMA_UFFD_H
#define SGDMA_UFFD_H

#include <linux/userfaultfd.h>
#include <poll.h>
#include <stdatomic.h>
#include <sys/syscall.h>

#include "sgdma_test.h"

/* @len bytes at @p, registered: the first touch waits for uffd_answer(). */
struct uffd_region {
	int uffd;
	unsigned char *p;
	size_t len;
	unsigned char *data;	/* what uffd_answer() fills the pages with */
};

static inline void uffd_region_free(struct uffd_region *r)
{
	/* Closing the userfaultfd lets a fault still waiting go on. */
	if (r->uffd >= 0)
		close(r->uffd);
	if (r->p)
		munmap(r->p, r->len);
	free(r->data);
	*r = (struct uffd_region){ .uffd = -1 };
}

static inline bool uffd_region_new(struct uffd_region *r, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	*r = (struct uffd_region){ .len = len };
	r->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (r->uffd < 0) {
		ktap_diag("userfaultfd: %s", strerror(errno));
		return false;
	}
	r->p = unbacked(len);
	r->data = malloc(len);
	if (!r->p || !r->data) {
		uffd_region_free(r);
		return false;
	}
	fill_random(r->data, len);
	reg.range.start = (uintptr_t)r->p;
	reg.range.len = len;
	if (ioctl(r->uffd, UFFDIO_API, &api) ||
	    ioctl(r->uffd, UFFDIO_REGISTER, &reg)) {
		ktap_diag("UFFDIO_API/REGISTER: %s", strerror(errno));
		uffd_region_free(r);
		return false;
	}
	return true;
}

/* Waits up to @secs for a fault in the region; false if none came. */
static inline bool uffd_wait_fault(struct uffd_region *r, double secs)
{
	struct pollfd pfd = { .fd = r->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&pfd, 1, (int)(secs * 1000)) != 1 ||
	    read(r->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
		ktap_diag("no page fault in the userfaultfd region within %.0f s",
			  secs);
		return false;
	}
	if (msg.event != UFFD_EVENT_PAGEFAULT ||
	    msg.arg.pagefault.address < (uintptr_t)r->p ||
	    msg.arg.pagefault.address >= (uintptr_t)r->p + r->len) {
		ktap_diag("unexpected userfaultfd event %u at %#llx", msg.event,
			  (unsigned long long)msg.arg.pagefault.address);
		return false;
	}
	return true;
}

/* Fills every missing page of the region with @data: faults end. */
static inline bool uffd_answer(struct uffd_region *r)
{
	if (r->uffd < 0)
		return false;
	for (size_t off = 0; off < r->len; off += PAGE) {
		struct uffdio_copy c = { .dst = (uintptr_t)r->p + off,
					 .src = (uintptr_t)r->data + off,
					 .len = PAGE };

		if (ioctl(r->uffd, UFFDIO_COPY, &c) && errno != EEXIST) {
			ktap_diag("UFFDIO_COPY at %zu: %s", off,
				  strerror(errno));
			return false;
		}
	}
	return true;
}

/* Waits up to @secs for @flag; false if it stayed clear. */
static inline bool wait_flag(atomic_bool *flag, double secs)
{
	double end = now() + secs;

	while (!atomic_load(flag) && now() < end)
		usleep(10000);
	return atomic_load(flag);
}

/* ---- a call on the region, in a thread of its own ---- */

enum uffd_call {
	UFFD_XFER,	/* SGDMA_IOC_XFER, one iovec over the region */
	UFFD_WRITE,	/* pwrite(2) of the region to card memory */
	UFFD_REGISTER,	/* SGDMA_IOC_BUF_REGISTER of the region */
	UFFD_IOCTL_ARG,	/* ioctl @cmd whose argument structure is the
			 * region's first bytes (as @r->data has them) */
};

struct uffd_caller {
	pthread_t thread;
	enum uffd_call call;
	int fd;
	uint16_t op;		/* UFFD_XFER: SGDMA_OP_H2C or SGDMA_OP_C2H */
	uint32_t flags;		/* UFFD_XFER: SGDMA_XFER_* */
	unsigned int chan;	/* with SGDMA_XFER_CHANNEL */
	uint64_t card_off;
	unsigned long cmd;	/* UFFD_IOCTL_ARG */
	struct uffd_region *r;
	int err;		/* 0 or the errno of the call */
	atomic_bool done;
};

static inline void *uffd_caller_run(void *arg)
{
	struct uffd_caller *c = arg;
	struct sgdma_buf_reg br = { .size = sizeof(br),
				    .addr = (uintptr_t)c->r->p,
				    .len = c->r->len };
	ssize_t n;

	switch (c->call) {
	case UFFD_XFER:
		c->err = xfer_single_on(c->fd, c->op, c->flags, c->chan,
					c->card_off, c->r->p, c->r->len);
		break;
	case UFFD_WRITE:
		n = pwrite(c->fd, c->r->p, c->r->len, c->card_off);
		c->err = n < 0 ? errno : n != (ssize_t)c->r->len ? EIO : 0;
		break;
	case UFFD_IOCTL_ARG:
		c->err = ioctl(c->fd, c->cmd, c->r->p) ? errno : 0;
		break;
	default:
		c->err = ioctl(c->fd, SGDMA_IOC_BUF_REGISTER, &br) ? errno : 0;
		if (!c->err) {
			struct sgdma_buf_free bf = { .size = sizeof(bf),
						     .handle = br.handle };

			ioctl(c->fd, SGDMA_IOC_BUF_FREE, &bf);
		}
		break;
	}
	atomic_store(&c->done, true);
	return NULL;
}

/*
 * Starts @c on its region and waits until it stalls in the region's
 * first fault; false if it never got there.
 */
static inline bool uffd_caller_start(struct uffd_caller *c)
{
	c->err = -1;
	atomic_store(&c->done, false);
	if (pthread_create(&c->thread, NULL, uffd_caller_run, c)) {
		c->thread = 0;
		return false;
	}
	return uffd_wait_fault(c->r, 10) && EXPECT(!atomic_load(&c->done));
}

/*
 * Answers the fault and joins the caller: false if it does not return
 * within @secs (it is then interrupted, then left to the region's close).
 */
static inline bool uffd_caller_finish(struct uffd_caller *c, double secs)
{
	bool ok = uffd_answer(c->r);

	if (!c->thread)
		return false;
	if (!wait_flag(&c->done, secs)) {
		ktap_diag("the stalled call did not return within %.0f s of its fault's answer",
			  secs);
		ok = false;
		pthread_kill(c->thread, SIGUSR1);
		if (!wait_flag(&c->done, secs))
			return false;	/* never joined: it is stuck */
	}
	pthread_join(c->thread, NULL);
	c->thread = 0;
	return ok;
}

#endif /* SGDMA_UFFD_H */
