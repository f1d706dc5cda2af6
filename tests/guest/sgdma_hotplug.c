// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_hotplug: devices going away under load.
 *
 *  - the driver is unbound and bound again through sysfs, three times,
 *    while threads keep transferring on the device: every transfer either
 *    completes or ends with ENODEV, and the device works after each bind;
 *  - surprise removal: the host removes (QMP device_del) the function
 *    behind the PCIe root port while threads transfer on it and one
 *    transfer is stalled in the device; all of them end with ENODEV within
 *    seconds, nothing stays pinned, and the other devices still pass a
 *    data test; two more (copy and pinned path) wait in a user page fault
 *    (userfaultfd) that is answered only after the removal, which must not
 *    wait for them: they end with ENODEV once answered;
 *  - after all of it, the module unloads and loads again.
 *
 * The harness names the hot-pluggable device on the kernel command line
 * (sgdma_hotplug=ID, an environment variable here); the request for its
 * removal goes to the host on the result port as
 * "# sgdma-request: device_del ID".
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "sgdma_uffd.h"

#define FAULT_STALL	2
#define XLEN		MiB

/* ---- load: threads transferring until told to stop ---- */

struct loader {
	pthread_t thread;
	unsigned int index;
	unsigned int n;
	bool reopen;		/* reopen the node after ENODEV */
	atomic_bool *stop;
	unsigned int done, enodev;
	int bad;		/* an errno other than ENODEV, or 0 */
	atomic_bool finished;
};

static void *loader(void *arg)
{
	struct loader *l = arg;
	static const uint32_t fl[] = { SGDMA_XFER_COPY, SGDMA_XFER_PINNED, 0 };
	unsigned char *buf = unbacked(XLEN);
	char node[32];
	int f;

	snprintf(node, sizeof(node), "/dev/sgdma%u", l->index);
	f = open(node, O_RDWR);
	if (f < 0 || !buf) {
		l->bad = f < 0 ? errno : ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; !atomic_load(l->stop); i++) {
		struct sgdma_iovec v = { (uintptr_t)buf, XLEN };
		struct sgdma_xfer x = { .size = sizeof(x),
					.flags = fl[(i + l->n) % 3],
					.op = (i + l->n) % 2 ? SGDMA_OP_H2C :
							       SGDMA_OP_C2H,
					.card_offset = l->n * 4 * MiB };
		int e;

		if (x.op == SGDMA_OP_H2C) {
			x.src_iov = (uintptr_t)&v;
			x.src_iovcnt = 1;
		} else {
			x.dst_iov = (uintptr_t)&v;
			x.dst_iovcnt = 1;
		}
		e = ioctl(f, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
		if (!e) {
			l->done++;
			continue;
		}
		if (e != ENODEV) {
			l->bad = e;
			break;
		}
		l->enodev++;
		if (!l->reopen)
			break;
		/* Wait for the node to come back, then go on. */
		close(f);
		while ((f = open(node, O_RDWR)) < 0 && !atomic_load(l->stop))
			usleep(10000);
	}
out:
	if (f >= 0)
		close(f);
	if (buf)
		munmap(buf, XLEN);
	atomic_store(&l->finished, true);
	return NULL;
}

static void loaders_start(struct loader *l, unsigned int n,
			  unsigned int index, bool reopen, atomic_bool *stop)
{
	atomic_store(stop, false);
	for (unsigned int i = 0; i < n; i++) {
		l[i] = (struct loader){ .index = index, .n = i,
					.reopen = reopen, .stop = stop };
		pthread_create(&l[i].thread, NULL, loader, &l[i]);
	}
}

/* Joins the loaders; false if one saw an errno other than ENODEV. */
static bool loaders_join(struct loader *l, unsigned int n)
{
	bool ok = true;

	for (unsigned int i = 0; i < n; i++) {
		pthread_join(l[i].thread, NULL);
		ktap_diag("thread %u: %u transfers, %u ENODEV%s%s", i,
			  l[i].done, l[i].enodev, l[i].bad ? ", then " : "",
			  l[i].bad ? strerror(l[i].bad) : "");
		ok &= EXPECT(!l[i].bad);
	}
	return ok;
}

/* ---- unbind/bind under load ---- */

static bool test_unbind_under_load(void)
{
	struct loader l[4];
	atomic_bool stop;
	char path[PATH_MAX], bdf[64];
	unsigned int enodev = 0;
	bool ok = true;

	if (!EXPECT(pci_path(1, path, sizeof(path))))
		return false;
	snprintf(bdf, sizeof(bdf), "%s", basename(path));
	loaders_start(l, 4, 1, true, &stop);
	for (int cycle = 0; cycle < 3; cycle++) {
		double t;

		usleep(400000);
		t = now();
		ok &= EXPECT(pci_bind(bdf, false));
		ktap_diag("cycle %d: unbind took %.2f s", cycle, now() - t);
		ok &= EXPECT(now() - t < 10);
		usleep(200000);
		ok &= EXPECT(pci_bind(bdf, true));
	}
	usleep(400000);
	atomic_store(&stop, true);
	ok &= loaders_join(l, 4);
	for (int i = 0; i < 4; i++)
		enodev += l[i].enodev;
	/* The unbinds must have hit transfers, or this proved nothing. */
	ok &= EXPECT(enodev > 0);
	ok &= dev_works(1);
	return ok;
}

/* ---- surprise removal ---- */

static bool test_surprise_removal(void)
{
	const char *id = getenv("sgdma_hotplug");
	char bdf[64], path[PATH_MAX], req[128], node[32];
	struct sgdma_info inf = { .size = sizeof(inf) };
	struct stalled st = { .len = XLEN, .err = -1 };
	struct uffd_region ur[2];
	struct uffd_caller uc[2];
	struct loader l[3];
	atomic_bool stop;
	pthread_t th;
	double t, gone = -1;
	int index;
	bool ok = true, ended = false;

	index = root_port_index(bdf, sizeof(bdf));
	if (!EXPECT(id && index >= 0))
		return false;
	ktap_diag("removing sgdma%d (%s, device %s)", index, bdf, id);
	snprintf(node, sizeof(node), "/dev/sgdma%d", index);
	snprintf(path, sizeof(path), "/sys/kernel/debug/sgdma/sgdma%d/fault_inject",
		 index);
	ok &= EXPECT(set_timeout_ms(60000));
	/*
	 * Two calls waiting in a user fault, answered after the removal;
	 * first, so that they do not wait for a channel instead.
	 */
	for (int i = 0; i < 2; i++) {
		ur[i] = (struct uffd_region){ .uffd = -1 };
		uc[i] = (struct uffd_caller){ .call = UFFD_XFER,
					      .fd = open(node, O_RDWR),
					      .op = SGDMA_OP_H2C,
					      .flags = i ? SGDMA_XFER_PINNED :
							   SGDMA_XFER_COPY,
					      .card_off = (8 + i) * MiB,
					      .r = &ur[i] };
		ok &= EXPECT(uc[i].fd >= 0 && uffd_region_new(&ur[i], 64 * KiB) &&
			     uffd_caller_start(&uc[i]));
	}
	/* One transfer that would never end by itself... */
	ok &= EXPECT(write_str(path, "0 0x102\n"));
	st.fd = open(node, O_RDWR);
	st.buf = unbacked(XLEN);
	if (!EXPECT(st.fd >= 0 && st.buf))
		return false;
	pthread_create(&th, NULL, stalled_c2h, &st);
	/* ...and three threads that keep the other channels busy. */
	loaders_start(l, 3, index, false, &stop);
	usleep(500000);

	snprintf(req, sizeof(req), "device_del %s", id);
	t = now();
	ok &= EXPECT(request_host(req));
	/* The guest's pciehp waits 5 s (attention button) before removal. */
	while (now() - t < 40) {
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
		ended = atomic_load(&st.finished);
		for (int i = 0; i < 3; i++)
			ended &= atomic_load(&l[i].finished);
		if (gone < 0 && access(path, F_OK))
			gone = now() - t;
		if (ended && gone >= 0)
			break;
		usleep(50000);
	}
	ktap_diag("device gone after %.1f s, transfers ended: %s", gone,
		  ended ? "yes" : "no");
	for (int i = 0; i < 2; i++)
		ok &= EXPECT(!atomic_load(&uc[i].done));
	if (!EXPECT(ended && gone >= 0)) {
		/* Show who is stuck where, in the kernel log. */
		write_str("/proc/sysrq-trigger", "w");
		atomic_store(&stop, true);
		for (int i = 0; i < 2; i++)
			uffd_region_free(&ur[i]);
		return false;	/* a hung transfer: the harness will see it */
	}
	/* Answered at last, the calls that waited in a fault end too. */
	for (int i = 0; i < 2; i++) {
		ok &= uffd_caller_finish(&uc[i], 10) &&
		      EXPECT(uc[i].err == ENODEV);
		close(uc[i].fd);
		uffd_region_free(&ur[i]);
	}
	pthread_join(th, NULL);
	ok &= EXPECT(st.err == ENODEV);
	ok &= loaders_join(l, 3);
	for (int i = 0; i < 3; i++)
		ok &= EXPECT(l[i].enodev == 1);

	/* The open file stays, and fails cleanly. */
	ok &= EXPECT(ioctl(st.fd, SGDMA_IOC_INFO, &inf) < 0 && errno == ENODEV);
	ok &= EXPECT(access(node, F_OK) < 0);
	close(st.fd);
	munmap(st.buf, XLEN);
	ok &= EXPECT(set_timeout_ms(5000));
	/* The devices that stayed still move data. */
	ok &= dev_works(0) && dev_works(1);
	return ok;
}

/* An sgdma function behind a root port, in a slot pciehp manages. */
static bool hotplug_function(void)
{
	char bdf[64];

	return root_port_index(bdf, sizeof(bdf)) >= 0 && in_hotplug_slot(bdf);
}

static bool test_module_unload(void)
{
	bool ok = true;

	ok &= EXPECT(system("rmmod sgdma") == 0);
	ok &= EXPECT(access("/sys/module/sgdma", F_OK) < 0);
	ok &= EXPECT(system("modprobe sgdma") == 0);
	ok &= dev_works(0);
	return ok;
}

int main(void)
{
	ktap_plan(3);
	RUN(test_unbind_under_load(), "unbind_bind_under_load");
	if (hotplug_function())
		RUN(test_surprise_removal(), "surprise_removal_in_flight");
	else
		ktap_skip_needs("surprise_removal_in_flight", "hotplug",
				"no sgdma function in a hot-plug slot");
	RUN(test_module_unload(), "module_unload_after_removal");
	return ktap_finish();
}
