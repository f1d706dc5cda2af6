/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What sgdma_latedma and sgdma_wedged share: a transfer the device holds
 * in flight past the driver's timeout and then completes ("LATE", spec
 * section 7), a channel that ignores requests to stop ("STUCK_RESET"), and
 * the checks that no data lands after the driver returned its error.
 *
 * Everything runs on the function behind the root port: the one whose
 * reset the PCI core can do (a secondary bus reset of its slot), so the
 * driver's escalation has something to escalate to.
 */
#ifndef SGDMA_LATE_H
#define SGDMA_LATE_H

#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>

#include "sgdma_test.h"

#define FAULT_LATE		6
#define FAULT_STUCK_RESET	7
#define FAULT_PCI_RESET_TOO	(1u << 4)	/* STUCK_RESET ignores PCI resets */
#define CHAN			1
#define LEN			(256 * KiB)
#define CARD_OFF		(5 * MiB)
#define SENTINEL		0x5a
#define LATE_MS			1500	/* the device completes this late */
#define TIMEOUT_MS		300	/* the driver gives up after this */

static int late_index;			/* sgdma<late_index>: behind the root port */
static char late_bdf[64];
static unsigned char *pattern;		/* what the card holds at CARD_OFF */

/* FAULT_INJECT of channel CHAN: @mode with @ms (timed modes) or a count. */
static inline bool late_arm(unsigned int mode, unsigned int ms)
{
	char path[96], val[32];

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/sgdma/sgdma%d/fault_inject", late_index);
	snprintf(val, sizeof(val), "%u %#x\n", CHAN, mode | ms << 8);
	return write_str(path, val);
}

static inline long late_stat(const char *name)
{
	return dev_stat(late_index, name);
}

/* Opens the function behind the root port and fills its card window. */
static inline bool late_setup(void)
{
	char path[PATH_MAX];

	late_index = root_port_index(late_bdf, sizeof(late_bdf));
	if (late_index < 0) {
		ktap_diag("no sgdma function behind a root port");
		return false;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method",
		 late_bdf);
	{
		char methods[128] = "";
		FILE *f = fopen(path, "r");

		if (f) {
			if (!fgets(methods, sizeof(methods), f))
				methods[0] = 0;
			fclose(f);
		}
		methods[strcspn(methods, "\n")] = 0;
		ktap_diag("sgdma%d (%s): reset methods \"%s\"", late_index,
			  late_bdf, methods);
	}
	pattern = unbacked(LEN);
	if (!pattern || !t_open(late_index) || !late_arm(0, 0))
		return false;
	fill_random(pattern, LEN);
	return EXPECT(h2c(CARD_OFF, pattern, LEN, SGDMA_XFER_COPY, NULL) == 0);
}

/* C2H of the card window into @buf on CHAN, on the pinned path. */
static inline int late_c2h(void *buf)
{
	struct sgdma_iovec v = { (uintptr_t)buf, LEN };
	struct sgdma_xfer x = { .flags = SGDMA_XFER_PINNED |
					 SGDMA_XFER_CHANNEL,
				.op = SGDMA_OP_C2H, .channel = CHAN,
				.card_offset = CARD_OFF,
				.dst_iov = (uintptr_t)&v, .dst_iovcnt = 1 };

	return xfer_raw(&x);
}

/* Whether @buf still holds only the sentinel: nothing of the card's. */
static inline bool untouched(const unsigned char *buf, const char *when)
{
	for (size_t i = 0; i < LEN; i++)
		if (buf[i] != SENTINEL) {
			ktap_diag("%s: byte %zu of the buffer is %#x: the device wrote it after the driver returned",
				  when, i, buf[i]);
			return false;
		}
	return true;
}

/* Sleeps until @t (now() seconds). */
static inline void sleep_until(double t)
{
	double left = t - now();

	if (left > 0)
		usleep((useconds_t)(left * 1e6));
}

/* Every channel of the function moves data correctly. */
static inline bool late_all_channels_work(void)
{
	unsigned char *a = unbacked(LEN), *b = unbacked(LEN);
	bool ok = EXPECT(a && b);

	for (unsigned int c = 0; ok && c < info.channels; c++) {
		struct sgdma_iovec va = { (uintptr_t)a, LEN };
		struct sgdma_iovec vb = { (uintptr_t)b, LEN };
		struct sgdma_xfer out = { .flags = SGDMA_XFER_PINNED |
						   SGDMA_XFER_CHANNEL,
					  .op = SGDMA_OP_H2C, .channel = c,
					  .card_offset = 7 * MiB,
					  .src_iov = (uintptr_t)&va,
					  .src_iovcnt = 1 };
		struct sgdma_xfer in = out;

		in.op = SGDMA_OP_C2H;
		in.src_iov = 0;
		in.src_iovcnt = 0;
		in.dst_iov = (uintptr_t)&vb;
		in.dst_iovcnt = 1;
		fill_random(a, LEN);
		memset(b, 0, LEN);
		ok &= EXPECT(xfer_raw(&out) == 0);
		ok &= EXPECT(xfer_raw(&in) == 0);
		ok &= EXPECT(same(a, b, LEN));
		if (!ok)
			ktap_diag("channel %u does not work", c);
	}
	if (a)
		munmap(a, LEN);
	if (b)
		munmap(b, LEN);
	return ok;
}

/*
 * A thread that arms STUCK_RESET while the main thread's transfer waits:
 * once LATE fired (the device holds the transfer; FAULT_INJECT reads 0),
 * which must be well before the driver's timeout stops the channel.
 */
struct stuck_arm {
	unsigned int mode;
	unsigned int ms;
	bool ok;
};

static inline void *stuck_arm_thread(void *arg)
{
	double end = now() + TIMEOUT_MS / 2000.0;
	struct stuck_arm *s = arg;

	while (fault_register_on(late_index, CHAN) != 0) {
		if (now() >= end) {
			ktap_diag("LATE did not fire within %d ms", TIMEOUT_MS / 2);
			s->ok = false;
			return NULL;
		}
		usleep(1000);
	}
	s->ok = late_arm(s->mode, s->ms);
	return NULL;
}

/*
 * A LATE transfer that times out while a stuck channel ignores the
 * driver's RESET for @stuck_ms (and PCI resets too with @pci_too): returns
 * the transfer's errno; @t0 is when it started.
 */
static inline int late_stuck_c2h(void *buf, unsigned int stuck_ms,
				 bool pci_too, double *t0)
{
	struct stuck_arm s = { FAULT_STUCK_RESET |
			       (pci_too ? FAULT_PCI_RESET_TOO : 0),
			       stuck_ms, false };
	pthread_t t;
	int err;

	if (!EXPECT(late_arm(FAULT_LATE, LATE_MS)))
		return -1;
	*t0 = now();
	pthread_create(&t, NULL, stuck_arm_thread, &s);
	err = late_c2h(buf);
	pthread_join(t, NULL);
	if (!EXPECT(s.ok))
		return -1;
	return err;
}

#endif /* SGDMA_LATE_H */
