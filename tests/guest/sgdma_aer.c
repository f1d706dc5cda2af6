// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_aer: PCIe errors recovered through AER (issue 14 point 10).
 *
 * The host injects an uncorrectable error at the root port above the slow
 * function (QEMU's pcie_aer_inject_error, asked for on the result port as
 * "# sgdma-request: aer_inject PORT ERROR"; the harness names the port's
 * QEMU id in sgdma_hotplug_port). The guest's AER service reports it and
 * recovers every device below the port through its driver's
 * error_detected, slot_reset and resume:
 *  - a fatal error (DLP): the port's link is reset (a secondary bus reset,
 *    which loses the channels' rings);
 *  - a non-fatal error (POISON_TLP): no reset by the kernel; the driver
 *    asks for one (NEED_RESET) and resets the device itself.
 * Each time a transfer the device stalled is in flight: it must end with
 * EIO once the slot is reset, not at its timeout; the kernel must report
 * the recovery successful; and every channel must move data at once
 * afterwards, with no timeout. A driver that gives up (DISCONNECT) or does
 * not restart its channels fails. The fatal error comes once more after a
 * reset of the function through sysfs: the core's restore of config space
 * after that reset consumes the saved state, so a driver that does not
 * save it again restores nothing at slot_reset (no BARs, no bus master).
 *
 * Each error is announced to the judge first ("# sgdma-expect: aer-error
 * port=..."), which then excuses that port's report of it and nothing
 * else: a failed recovery still fails the boot.
 */
#define _GNU_SOURCE
#include "sgdma_zc.h"
#include "sgdma_sysfs.h"

#define FAULT_STALL	2
#define XLEN		MiB
#define STALL_TIMEOUT_MS 30000
#define RECOVERY_SECONDS 40

static int fn_index;
static char fn_bdf[64], port_bdf[64];

/* Occurrences of @text in the kernel log (what is left of it). */
static int kernel_log_count(const char *text)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	int n, count = 0;
	char *log;

	if (size <= 0 || !(log = malloc(size + 1)))
		return -1;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	log[n > 0 ? n : 0] = '\0';
	for (char *p = log; (p = strstr(p, text)); p += strlen(text))
		count++;
	free(log);
	return count;
}

/* The port's count of errors of @kind ("fatal", "nonfatal") received. */
static long long port_errors(const char *kind)
{
	return read_number("/sys/bus/pci/devices/%s/aer_rootport_total_err_%s",
			   port_bdf, kind);
}

/* Every channel moves data at once: no timeout, no error. */
static bool every_channel_works(void)
{
	size_t len = 64 * KiB;
	unsigned char *a = backed(len), *b = backed(len);
	long timeouts = dev_stat(fn_index, "timeouts");
	long errors = dev_stat(fn_index, "errors");
	bool ok = EXPECT(a && b);

	ok &= EXPECT(set_timeout_ms(2000));
	for (unsigned int ch = 0; ok && ch < info.channels; ch++) {
		fill_random(a, len);
		memset(b, 0, len);
		ok &= EXPECT(xfer_single(SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, ch,
					 ch * len, a, len) == 0);
		ok &= EXPECT(xfer_single(SGDMA_OP_C2H, SGDMA_XFER_CHANNEL, ch,
					 ch * len, b, len) == 0);
		ok &= EXPECT(same(a, b, len));
		if (!ok)
			ktap_diag("channel %u", ch);
	}
	ok &= EXPECT(dev_stat(fn_index, "timeouts") == timeouts);
	ok &= EXPECT(dev_stat(fn_index, "errors") == errors);
	if (a)
		munmap(a, len);
	if (b)
		munmap(b, len);
	return ok;
}

/*
 * Injects @error at the port while a stalled transfer is in flight on
 * channel 0, then checks what the module comment says. With @reset_first,
 * the function is reset through sysfs before: restoring config space after
 * a reset consumes the saved state, which the driver must save again for
 * AER's slot_reset to restore (else the function comes back without its
 * BARs and bus mastering).
 */
static bool recover_from(const char *error, const char *kind,
			 bool reset_first)
{
	const char *port_id = getenv("sgdma_hotplug_port");
	char path[PATH_MAX], req[128];
	struct stalled st = { .len = XLEN, .err = -1 };
	long long before = port_errors(kind);
	int recovered = kernel_log_count("AER: device recovery successful");
	pthread_t th;
	bool ok = true, ended = false;
	double t;

	if (!EXPECT(port_id && before >= 0 && recovered >= 0)) {
		ktap_diag("no AER service on %s (CONFIG_PCIEAER?) or no port id",
			  port_bdf);
		return false;
	}
	if (reset_first) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset",
			 fn_bdf);
		ok &= EXPECT(write_str(path, "1\n"));
	}
	ok &= EXPECT(t_open(fn_index));
	ok &= EXPECT(set_timeout_ms(STALL_TIMEOUT_MS));
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/sgdma/sgdma%d/fault_inject", fn_index);
	ok &= EXPECT(write_str(path, "0 0x102\n"));
	st.fd = fd;
	st.buf = unbacked(XLEN);
	if (!ok || !EXPECT(st.buf))
		return false;
	pthread_create(&th, NULL, stalled_c2h, &st);
	usleep(500000);
	ok &= EXPECT(!atomic_load(&st.finished));

	ktap_diag("%s error at %s (%s), a transfer stalled on sgdma%d",
		  error, port_bdf, port_id, fn_index);
	printf("# sgdma-expect: aer-error port=%s\n", port_bdf);
	fflush(stdout);
	snprintf(req, sizeof(req), "aer_inject %s %s", port_id, error);
	t = now();
	ok &= EXPECT(request_host(req));
	while (now() - t < RECOVERY_SECONDS) {
		ended = atomic_load(&st.finished) &&
			port_errors(kind) > before &&
			kernel_log_count("AER: device recovery") > recovered;
		if (ended)
			break;
		usleep(100000);
	}
	ktap_diag("after %.1f s: %lld %s error(s) received, transfer %s",
		  now() - t, port_errors(kind) - before, kind,
		  atomic_load(&st.finished) ? strerror(st.err) : "in flight");
	pthread_join(th, NULL);
	ok &= EXPECT(ended);
	ok &= EXPECT(port_errors(kind) == before + 1);
	ok &= EXPECT(kernel_log_count("AER: device recovery successful") ==
		     recovered + 1);
	/* Ended by the reset, well before its timeout. */
	ok &= EXPECT(st.err == EIO);
	ok &= EXPECT(st.took * 1000 < STALL_TIMEOUT_MS / 2);

	ok &= every_channel_works();
	munmap(st.buf, XLEN);
	ok &= EXPECT(set_timeout_ms(10000));
	sgdma_close(dev);
	dev = NULL;
	return ok;
}

int main(void)
{
	ktap_plan(3);
	fn_index = root_port_index(fn_bdf, sizeof(fn_bdf));
	if (fn_index >= 0)
		upstream_port(fn_bdf, port_bdf, sizeof(port_bdf));
	if (fn_index < 0 || !*port_bdf) {
		ktap_diag("no sgdma function behind a root port");
		return t_fail_all("setup");
	}
	ktap_diag("sgdma%d (%s) behind %s", fn_index, fn_bdf, port_bdf);
	RUN(recover_from("DLP", "fatal", false), "aer_fatal_recovery");
	RUN(recover_from("POISON_TLP", "nonfatal", false),
	    "aer_nonfatal_recovery");
	/* Only a fatal error resets the link: config space must come back. */
	RUN(recover_from("DLP", "fatal", true),
	    "aer_fatal_recovery_after_function_reset");
	return ktap_finish();
}
