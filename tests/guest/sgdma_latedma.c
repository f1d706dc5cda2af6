// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_latedma: no DMA after the driver gave up on a transfer (issue 14
 * point 2). The device holds a C2H in flight past the driver's timeout
 * (or a signal) and then writes its data unless the channel was stopped
 * meanwhile; the driver must have stopped it, verified that, and only
 * then unmapped and unpinned the pages. A driver that releases first lets
 * the late write land: in the caller's buffer after the error returned
 * (seen here), through an unmapped IOVA (a DMAR fault nobody announced:
 * the judge fails the boot) or into freed pages (page poisoning in the
 * debug lane). Then the channel ignores RESET: the driver must escalate
 * (bus mastering off, a reset of the function) before it releases.
 */
#include "sgdma_late.h"

/* A LATE transfer times out; nothing lands, then or after LATE_MS. */
static bool test_late_after_timeout(void)
{
	unsigned char *buf = unbacked(LEN);
	long escalations = late_stat("escalations");
	double t0;
	bool ok = EXPECT(buf) && EXPECT(set_timeout_ms(TIMEOUT_MS));

	if (!ok)
		return false;
	memset(buf, SENTINEL, LEN);
	ok &= EXPECT(late_arm(FAULT_LATE, LATE_MS));
	t0 = now();
	ok &= EXPECT(late_c2h(buf) == ETIMEDOUT);
	ok &= untouched(buf, "when the error returned");
	sleep_until(t0 + LATE_MS / 1000.0 + 1);
	ok &= untouched(buf, "after the device's late completion time");
	/* A channel that obeys RESET needs no escalation. */
	ok &= EXPECT(late_stat("escalations") == escalations);
	munmap(buf, LEN);
	return ok && late_all_channels_work();
}

/*
 * The caller frees its buffer as soon as the error returns, and the pages
 * go back to the kernel: a late write would land in whatever they hold
 * next. The debug kernel poisons freed pages and checks the poison when
 * it hands them out again, so the memory is churned after the late time.
 * The channel also ignores RESET for a second, so a driver that takes
 * the RESET for a stop releases the pages under a running transfer.
 */
static bool test_late_into_freed_pages(void)
{
	unsigned char *buf = unbacked(LEN), *churn;
	double t0 = 0;
	bool ok = EXPECT(buf) && EXPECT(set_timeout_ms(TIMEOUT_MS));

	if (!ok)
		return false;
	memset(buf, SENTINEL, LEN);
	ok &= EXPECT(late_stuck_c2h(buf, 1000, false, &t0) == ETIMEDOUT);
	munmap(buf, LEN);
	sleep_until(t0 + LATE_MS / 1000.0 + 1);
	churn = unbacked(64 * MiB);
	if (EXPECT(churn)) {
		memset(churn, 1, 64 * MiB);
		munmap(churn, 64 * MiB);
	}
	return ok && late_all_channels_work();
}

/* A signal ends the LATE transfer; nothing lands, then or later. */
static bool test_late_after_signal(void)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	struct killer k = { pthread_self(), 300 };
	unsigned char *buf = unbacked(LEN);
	bool ok = EXPECT(buf) && EXPECT(set_timeout_ms(20000));
	pthread_t t;
	double t0;

	if (!ok)
		return false;
	sigaction(SIGUSR1, &sa, NULL);
	memset(buf, SENTINEL, LEN);
	ok &= EXPECT(late_arm(FAULT_LATE, LATE_MS));
	t0 = now();
	pthread_create(&t, NULL, killer, &k);
	ok &= EXPECT(late_c2h(buf) == EINTR);
	pthread_join(t, NULL);
	ok &= EXPECT(now() - t0 < LATE_MS / 1000.0);
	ok &= untouched(buf, "when the error returned");
	sleep_until(t0 + LATE_MS / 1000.0 + 1);
	ok &= untouched(buf, "after the device's late completion time");
	munmap(buf, LEN);
	return ok && EXPECT(set_timeout_ms(TIMEOUT_MS)) &&
	       late_all_channels_work();
}

/*
 * The channel ignores RESET for a second while the LATE transfer times
 * out: the driver escalates (bus mastering off, the function reset
 * through the PCI core), which stops it; nothing is leaked, nothing
 * lands, and every channel works again afterwards.
 */
static bool test_stuck_reset_escalates(void)
{
	unsigned char *buf = unbacked(LEN);
	long escalations = late_stat("escalations");
	long leaked = late_stat("pages_leaked");
	double t0 = 0;
	bool ok = EXPECT(buf) && EXPECT(set_timeout_ms(TIMEOUT_MS));

	if (!ok)
		return false;
	memset(buf, SENTINEL, LEN);
	ok &= EXPECT(late_stuck_c2h(buf, 1000, false, &t0) == ETIMEDOUT);
	ok &= untouched(buf, "when the error returned");
	ktap_diag("escalations %ld -> %ld, pages leaked %ld -> %ld, %.3f s",
		  escalations, late_stat("escalations"), leaked,
		  late_stat("pages_leaked"), now() - t0);
	ok &= EXPECT(late_stat("escalations") == escalations + 1);
	ok &= EXPECT(late_stat("pages_leaked") == leaked);
	sleep_until(t0 + LATE_MS / 1000.0 + 1);
	ok &= untouched(buf, "after the device's late completion time");
	munmap(buf, LEN);
	return ok && late_all_channels_work();
}

int main(void)
{
	ktap_plan(4);
	if (!late_setup())
		return t_fail_all("setup");
	RUN(test_late_after_timeout(), "late_after_timeout");
	RUN(test_late_into_freed_pages(), "late_into_freed_pages");
	RUN(test_late_after_signal(), "late_after_signal");
	RUN(test_stuck_reset_escalates(), "stuck_reset_escalates");
	set_timeout_ms(5000);
	sgdma_close(dev);
	return ktap_finish();
}
