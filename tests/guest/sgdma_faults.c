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

/* The driver's debugfs door to FAULT_INJECT (resource0 is the driver's). */
static bool arm(unsigned int mode, unsigned int n)
{
	FILE *f = fopen("/sys/kernel/debug/sgdma/sgdma0/fault_inject", "w");

	if (!f)
		return false;
	fprintf(f, "%u %#x\n", CHAN, mode | n << 8);
	return fclose(f) == 0;
}

/* One transfer on CHAN: H2C from src, or C2H into dst. */
static int on_chan(uint16_t op, uint32_t flags)
{
	struct sgdma_iovec v = { (uintptr_t)(op == SGDMA_OP_H2C ? src : dst),
				 LEN };
	struct sgdma_xfer x = { .flags = flags | SGDMA_XFER_CHANNEL,
				.op = op, .channel = CHAN,
				.card_offset = 3 * MiB };

	if (op == SGDMA_OP_H2C) {
		x.src_iov = (uintptr_t)&v;
		x.src_iovcnt = 1;
	} else {
		x.dst_iov = (uintptr_t)&v;
		x.dst_iovcnt = 1;
	}
	return xfer_raw(&x);
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

			arm(FAULT_DMA_ERROR, 1);
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
		arm(FAULT_BAD_COUNT, 1);
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

		arm(FAULT_STALL, 1);
		ok &= EXPECT(on_chan(SGDMA_OP_C2H, modes[m]) == ETIMEDOUT);
		t = now() - t;
		ok &= EXPECT(t >= 0.25 && t < 5);
		ok &= EXPECT(dev_stat(0, "timeouts") == timeouts + 1);
		ok &= recovered(modes[m]);
	}
	return ok;
}

static bool test_lost_and_duplicate_irq(void)
{
	bool ok = EXPECT(set_timeout_ms(300));

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		long lost = dev_stat(0, "lost_irqs");

		fill_random(src, LEN);
		ok &= EXPECT(on_chan(SGDMA_OP_H2C, modes[m]) == 0);
		/* The completion is there; only its interrupt is missing. */
		arm(FAULT_DROP_IRQ, 1);
		ok &= EXPECT(on_chan(SGDMA_OP_C2H, modes[m]) == 0);
		ok &= EXPECT(same(src, dst, LEN));
		/*
		 * Counted only if the waiter slept: a completion posted before
		 * the wait began needs no interrupt at all.
		 */
		ok &= EXPECT(dev_stat(0, "lost_irqs") >= lost);
		ktap_diag("lost interrupts noticed: %ld",
			  dev_stat(0, "lost_irqs") - lost);

		arm(FAULT_DUP_IRQ, 1);
		ok &= recovered(modes[m]);
		ok &= recovered(modes[m]);
	}
	return ok;
}

static void on_signal(int sig)
{
	(void)sig;
}

struct killer {
	pthread_t target;
	unsigned int delay_ms;
};

static void *killer(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_ms * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
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

		arm(FAULT_STALL, 1);
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
	const char *tr = "/sys/kernel/debug/tracing";
	char path[128], line[512];
	bool seen[5] = { false }, ok = true;
	FILE *f;

	snprintf(path, sizeof(path), "%s/events/sgdma/enable", tr);
	if (!EXPECT(write_str(path, "1\n")))
		return false;
	snprintf(path, sizeof(path), "%s/trace", tr);
	ok &= EXPECT(write_str(path, ""));	/* clear */
	ok &= EXPECT(arm(FAULT_DMA_ERROR, 1));
	ok &= EXPECT(on_chan(SGDMA_OP_C2H, SGDMA_XFER_PINNED) == EIO);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		for (size_t i = 0; i < ARRAY_LEN(events); i++)
			if (strstr(line, events[i]))
				seen[i] = true;
	if (f)
		fclose(f);
	for (size_t i = 0; i < ARRAY_LEN(events); i++)
		if (!seen[i]) {
			ktap_diag("no %s event in the trace", events[i]);
			ok = false;
		}
	snprintf(path, sizeof(path), "%s/events/sgdma/enable", tr);
	ok &= EXPECT(write_str(path, "0\n"));
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
