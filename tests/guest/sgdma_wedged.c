// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_wedged: a channel that cannot be stopped at all (issue 14 point
 * 2). It ignores RESET and the PCI core's reset of the function while a
 * LATE transfer times out: the driver escalates, finds it still running,
 * and leaks the transfer's pages on purpose (pinned and mapped for good,
 * counted in pages_leaked, logged once) instead of handing memory the
 * device may still write back to the kernel. Once the channel obeys again
 * the driver stops it and it works.
 *
 * Not in the debug lane: the leaked mappings are still there when the
 * module is unloaded, which DMA-API debugging reports, as it should.
 */
#include "sgdma_late.h"

/* Pieces the pinned path keeps in flight (SGDMA_PIN_DEPTH in the driver). */
#define PIN_DEPTH		4

static bool test_stuck_for_good_leaks(void)
{
	unsigned char *buf = unbacked(LEN);
	long escalations = late_stat("escalations");
	long leaked = late_stat("pages_leaked");
	long long acquired = vmstat("nr_foll_pin_acquired");
	long long released = vmstat("nr_foll_pin_released");
	double t0 = 0;
	long pages;
	bool ok = EXPECT(buf) && EXPECT(set_timeout_ms(TIMEOUT_MS));

	if (!ok)
		return false;
	memset(buf, SENTINEL, LEN);
	ok &= EXPECT(late_stuck_c2h(buf, 2500, true, &t0) == ETIMEDOUT);
	pages = late_stat("pages_leaked") - leaked;
	ktap_diag("escalations %ld -> %ld, pages leaked %ld -> %ld, %.3f s",
		  escalations, late_stat("escalations"), leaked,
		  late_stat("pages_leaked"), now() - t0);
	ok &= EXPECT(late_stat("escalations") == escalations + 1);
	/*
	 * The pages of the descriptors in flight: the pinned path keeps up
	 * to PIN_DEPTH chunks in flight (driver/sgdma_pin.c), all of them
	 * behind the stuck one.
	 */
	ok &= EXPECT(pages == (long)((LEN < PIN_DEPTH * info.pin_chunk ? LEN :
				      PIN_DEPTH * info.pin_chunk) / PAGE));
	/* Leaked pins are the only pins not released. */
	ok &= EXPECT((vmstat("nr_foll_pin_acquired") - acquired) -
		     (vmstat("nr_foll_pin_released") - released) == pages);
	ok &= EXPECT(late_stat("pages_pinned") == 0);
	/* Past the stuck window and the late completion: it stops now. */
	sleep_until(t0 + 3.0);
	munmap(buf, LEN);
	return ok && late_all_channels_work();
}

int main(void)
{
	ktap_plan(1);
	if (!late_setup())
		return t_fail_all("setup");
	/* Pins are checked against the leak in the case itself. */
	ktap_result(test_stuck_for_good_leaks(), "stuck_for_good_leaks");
	set_timeout_ms(5000);
	sgdma_close(dev);
	return ktap_finish();
}
