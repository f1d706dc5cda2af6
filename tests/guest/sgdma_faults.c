// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_faults: the device's injected faults (spec section 7) and signals
 * end a transfer with the documented errno, leave nothing pinned, and the
 * channel works again afterwards.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "sgdma_test.h"

#define FAULT_DMA_ERROR		1
#define FAULT_STALL		2
#define FAULT_DROP_IRQ		3
#define FAULT_DUP_IRQ		4
#define FAULT_BAD_COUNT		5
#define CHAN			1	/* the channel the faults are armed on */
#define LEN			(256 * KiB)

static unsigned char *src, *dst;
/* Bytes each transfer moves (LEN but in lost_irq_counted()). */
static size_t xfer_len = LEN;

/*
 * Arms FAULT_INJECT of channel CHAN of sgdma<index> through the driver's
 * debugfs door (resource0 is the driver's).
 */
static bool arm_on(unsigned int index, unsigned int mode, unsigned int n)
{
	char path[96], val[32];

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/sgdma/sgdma%u/fault_inject", index);
	snprintf(val, sizeof(val), "%u %#x\n", CHAN, mode | n << 8);
	return write_str(path, val);
}

static bool arm(unsigned int mode, unsigned int n)
{
	return arm_on(0, mode, n);
}

/* One transfer on CHAN of the device open as @f: H2C from src, or C2H. */
static int on_chan_of(int f, uint16_t op, uint32_t flags)
{
	struct sgdma_iovec v = { (uintptr_t)(op == SGDMA_OP_H2C ? src : dst),
				 xfer_len };
	struct sgdma_xfer x = { .size = sizeof(x),
				.flags = flags | SGDMA_XFER_CHANNEL,
				.op = op, .channel = CHAN,
				.card_offset = 3 * MiB };

	if (op == SGDMA_OP_H2C) {
		x.src_iov = (uintptr_t)&v;
		x.src_iovcnt = 1;
	} else {
		x.dst_iov = (uintptr_t)&v;
		x.dst_iovcnt = 1;
	}
	return ioctl(f, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
}

static int on_chan(uint16_t op, uint32_t flags)
{
	return on_chan_of(fd, op, flags);
}

/* The channel moves data correctly again. */
static bool recovered(uint32_t flags)
{
	bool ok = true;

	fill_random(src, LEN);
	memset(dst, 0, LEN);
	ok &= EXPECT(on_chan(SGDMA_OP_H2C, flags) == 0);
	ok &= EXPECT(on_chan(SGDMA_OP_C2H, flags) == 0);
	ok &= EXPECT(same(src, dst, LEN));
	return ok;
}

static const uint32_t modes[] = { SGDMA_XFER_COPY, SGDMA_XFER_PINNED };

static bool test_dma_error(void)
{
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		for (uint16_t op = SGDMA_OP_H2C; op <= SGDMA_OP_C2H; op++) {
			long errors = dev_stat(0, "errors");

			ok &= EXPECT(arm(FAULT_DMA_ERROR, 1));
			ok &= EXPECT(on_chan(op, modes[m]) == EIO);
			ok &= EXPECT(dev_stat(0, "errors") == errors + 1);
			ok &= recovered(modes[m]);
		}
	}
	return ok;
}

static bool test_bad_count(void)
{
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		ok &= EXPECT(arm(FAULT_BAD_COUNT, 1));
		ok &= EXPECT(on_chan(SGDMA_OP_C2H, modes[m]) == EIO);
		ok &= recovered(modes[m]);
	}
	return ok;
}

static bool test_stall_timeout(void)
{
	bool ok = EXPECT(set_timeout_ms(300));

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		long timeouts = dev_stat(0, "timeouts");
		double t = now();

		ok &= EXPECT(arm(FAULT_STALL, 1));
		ok &= EXPECT(on_chan(SGDMA_OP_C2H, modes[m]) == ETIMEDOUT);
		t = now() - t;
		ok &= EXPECT(t >= 0.25 && t < 5);
		ok &= EXPECT(dev_stat(0, "timeouts") == timeouts + 1);
		ok &= recovered(modes[m]);
	}
	return ok;
}

/*
 * A dropped interrupt: the transfer still completes with its data, found
 * when the wait times out, and the driver counts exactly one lost
 * interrupt. The driver counts one only when its waiter slept through the
 * timeout (a completion posted before the wait began needs no interrupt),
 * so this runs on the function with link latency, whose completions come
 * 20 ms after the doorbell at the earliest: its waiter always sleeps.
 * The transfer is one descriptor: with several in flight (the pinned
 * path's pipeline), the next completion's interrupt reaps the one whose
 * interrupt was dropped, as it should.
 */
static bool lost_irq_counted(uint32_t flags)
{
	const double timeout = 1.0;
	char bdf[64], node[32];
	int slow = root_port_index(bdf, sizeof(bdf)), f;
	long lost;
	double t;
	bool ok = true;

	if (!EXPECT(slow >= 0))
		return false;	/* every boot has one */
	snprintf(node, sizeof(node), "/dev/sgdma%d", slow);
	f = open(node, O_RDWR);
	if (!EXPECT(f >= 0))
		return false;
	fill_random(src, LEN);
	memset(dst, 0, LEN);
	ok &= EXPECT(set_timeout_ms(timeout * 1000));
	ok &= EXPECT(on_chan_of(f, SGDMA_OP_H2C, flags) == 0);
	lost = dev_stat(slow, "lost_irqs");
	ok &= EXPECT(arm_on(slow, FAULT_DROP_IRQ, 1));
	xfer_len = flags & SGDMA_XFER_PINNED ? info.pin_chunk :
					       info.copy_chunk;
	if (xfer_len > LEN)
		xfer_len = LEN;
	t = now();
	ok &= EXPECT(on_chan_of(f, SGDMA_OP_C2H, flags) == 0);
	t = now() - t;
	ok &= EXPECT(same(src, dst, xfer_len));
	xfer_len = LEN;
	ktap_diag("%s: lost interrupts %ld -> %ld, transfer %.3f s",
		  node, lost, dev_stat(slow, "lost_irqs"), t);
	ok &= EXPECT(dev_stat(slow, "lost_irqs") == lost + 1);
	ok &= EXPECT(t >= 0.9 * timeout);
	close(f);
	return ok;
}

static bool test_lost_and_duplicate_irq(void)
{
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		ok &= lost_irq_counted(modes[m]);
		ok &= EXPECT(set_timeout_ms(300));
		/* The duplicate interrupt of a completion is harmless. */
		ok &= EXPECT(arm(FAULT_DUP_IRQ, 1));
		ok &= recovered(modes[m]);
		ok &= recovered(modes[m]);
	}
	return ok;
}

/* A signal ends a stalled transfer at once with EINTR. */
static bool test_signal(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	bool ok = EXPECT(set_timeout_ms(20000));

	sigaction(SIGUSR1, &sa, NULL);
	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		struct killer k = { pthread_self(), 300 };
		pthread_t t;
		double s = now();

		ok &= EXPECT(arm(FAULT_STALL, 1));
		pthread_create(&t, NULL, killer, &k);
		ok &= EXPECT(on_chan(SGDMA_OP_C2H, modes[m]) == EINTR);
		pthread_join(t, NULL);
		ok &= EXPECT(now() - s < 5);
		ok &= recovered(modes[m]);
	}
	return ok;
}

/* A failing pinned transfer passes every tracepoint of the hot path. */
static bool test_tracepoints(void)
{
	static const char *const events[] = {
		"sgdma_pin:", "sgdma_map:", "sgdma_submit:", "sgdma_complete:",
		"sgdma_error:",
	};
	bool ok = EXPECT(trace_sgdma(true));

	ok &= EXPECT(arm(FAULT_DMA_ERROR, 1));
	ok &= EXPECT(on_chan(SGDMA_OP_C2H, SGDMA_XFER_PINNED) == EIO);
	for (size_t i = 0; i < ARRAY_LEN(events); i++)
		if (trace_count(events[i], NULL) < 1) {
			ktap_diag("no %s event in the trace", events[i]);
			ok = false;
		}
	ok &= EXPECT(trace_sgdma(false));
	return ok && recovered(SGDMA_XFER_PINNED);
}

int main(void)
{
	ktap_plan(6);
	if (!t_open(0) || !arm(0, 0) ||
	    !(src = unbacked(LEN)) || !(dst = unbacked(LEN))) {
		ktap_diag("no device, no fault_inject in debugfs, or no memory");
		return t_fail_all("setup");
	}
	RUN(test_dma_error(), "dma_error_eio");
	RUN(test_bad_count(), "bad_count_eio");
	RUN(test_stall_timeout(), "stall_etimedout");
	RUN(test_lost_and_duplicate_irq(), "lost_and_duplicate_irq");
	RUN(test_signal(), "signal_eintr");
	RUN(test_tracepoints(), "tracepoints");
	set_timeout_ms(5000);
	sgdma_close(dev);
	return ktap_finish();
}
