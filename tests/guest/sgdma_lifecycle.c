// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_lifecycle: unbinding a device with open files and transfers in
 * flight stops them with ENODEV and leaves nothing pinned; the device binds
 * again; the module unloads after use and reloads with each interrupt mode
 * (INTx, MSI, MSI-X), in which transfers and errors still work.
 *
 * Leaves the module loaded with its defaults, as it found it.
 */
#define _GNU_SOURCE
#include <libgen.h>
#include <pthread.h>
#include <time.h>

#include "sgdma_test.h"

static bool arm(unsigned int index, unsigned int chan, unsigned int val)
{
	char path[64], s[32];

	snprintf(path, sizeof(path), "/sys/kernel/debug/sgdma/sgdma%u/fault_inject",
		 index);
	snprintf(s, sizeof(s), "%u %#x\n", chan, val);
	return write_str(path, s);
}

static bool bdf_of(unsigned int index, char *bdf, size_t len)
{
	char path[64], target[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/class/sgdma/sgdma%u/device", index);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	snprintf(bdf, len, "%s", basename(target));
	return true;
}

struct inflight {
	int fd;
	unsigned int chan;
	uint32_t flags;
	unsigned char *buf;
	int err;
};

static void *run_stalled(void *arg)
{
	struct inflight *t = arg;
	struct sgdma_iovec v = { (uintptr_t)t->buf, MiB };
	struct sgdma_xfer x = { .size = sizeof(x),
				.flags = t->flags | SGDMA_XFER_CHANNEL,
				.op = SGDMA_OP_C2H, .channel = t->chan,
				.dst_iov = (uintptr_t)&v, .dst_iovcnt = 1 };

	t->err = ioctl(t->fd, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
	return NULL;
}

static bool test_unbind_in_flight(void)
{
	struct inflight t[2];
	pthread_t th[2];
	char bdf[64];
	unsigned char x[16];
	struct sgdma_info inf = { .size = sizeof(inf) };
	int fd1, fd2;
	bool ok = true;
	double start;

	if (!EXPECT(bdf_of(1, bdf, sizeof(bdf))))
		return false;
	fd1 = open("/dev/sgdma1", O_RDWR);
	fd2 = open("/dev/sgdma1", O_RDWR);
	if (!EXPECT(fd1 >= 0 && fd2 >= 0))
		return false;
	ok &= EXPECT(set_timeout_ms(30000));
	/* Stall the next transfer of channels 0 and 1. */
	ok &= EXPECT(arm(1, 0, 2) && arm(1, 1, 2));
	t[0] = (struct inflight){ fd1, 0, SGDMA_XFER_PINNED, unbacked(MiB), -1 };
	t[1] = (struct inflight){ fd2, 1, SGDMA_XFER_COPY, unbacked(MiB), -1 };
	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, run_stalled, &t[i]);
	usleep(500 * 1000);

	start = now();
	ok &= EXPECT(pci_bind(bdf, false));
	for (int i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		ok &= EXPECT(t[i].err == ENODEV);
		munmap(t[i].buf, MiB);
	}
	ktap_diag("unbind took %.2f s", now() - start);
	ok &= EXPECT(now() - start < 10);

	/* Every later call on the open files fails. */
	ok &= EXPECT(ioctl(fd1, SGDMA_IOC_INFO, &inf) < 0 && errno == ENODEV);
	ok &= EXPECT(pread(fd1, x, sizeof(x), 0) < 0 && errno == ENODEV);
	ok &= EXPECT(pwrite(fd2, x, sizeof(x), 0) < 0 && errno == ENODEV);
	ok &= EXPECT(access("/dev/sgdma1", F_OK) < 0);
	close(fd1);
	close(fd2);

	ok &= EXPECT(set_timeout_ms(5000));
	ok &= EXPECT(pci_bind(bdf, true));
	ok &= dev_works(1);
	return ok;
}

static bool test_reload_irq_modes(void)
{
	static const struct { int mode; const char *name; } modes[] = {
		{ 1, "intx" }, { 2, "msi" }, { 0, "msix" },
	};
	char cmd[64], path[64], got[16];
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(modes); m++) {
		FILE *f;

		ok &= EXPECT(system("rmmod sgdma") == 0);
		ok &= EXPECT(access("/dev/sgdma0", F_OK) < 0);
		snprintf(cmd, sizeof(cmd), "modprobe sgdma irq_mode=%d",
			 modes[m].mode);
		ok &= EXPECT(system(cmd) == 0);
		for (unsigned int i = 0; i < 2; i++) {
			snprintf(path, sizeof(path),
				 "/sys/class/sgdma/sgdma%u/irq_mode", i);
			f = fopen(path, "r");
			got[0] = '\0';
			if (f) {
				if (!fgets(got, sizeof(got), f))
					got[0] = '\0';
				fclose(f);
			}
			got[strcspn(got, "\n")] = '\0';
			ok &= EXPECT(!strcmp(got, modes[m].name));
			ok &= dev_works(i);
		}
		/* The error interrupt reaches the waiter in this mode too. */
		if (EXPECT(t_open(0))) {
			unsigned char b[4096];

			ok &= EXPECT(arm(0, 0, 1));
			ok &= EXPECT(dev_stat(0, "errors") == 0);
			struct sgdma_iovec v = { (uintptr_t)b, sizeof(b) };
			struct sgdma_xfer x = { .flags = SGDMA_XFER_CHANNEL,
						.op = SGDMA_OP_C2H,
						.dst_iov = (uintptr_t)&v,
						.dst_iovcnt = 1 };

			ok &= EXPECT(xfer_raw(&x) == EIO);
			ok &= EXPECT(dev_stat(0, "errors") == 1);
			ok &= EXPECT(xfer_raw(&x) == 0);
			sgdma_close(dev);
		}
		ktap_diag("%s: %s", modes[m].name, ok ? "ok" : "failed");
	}
	return ok;
}

int main(void)
{
	ktap_plan(2);
	RUN(test_unbind_in_flight(), "unbind_with_transfers_in_flight");
	RUN(test_reload_irq_modes(), "reload_with_each_irq_mode");
	return ktap_finish();
}
