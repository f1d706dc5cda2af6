/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the guest test programs: the device under test, guarded
 * buffers, random data, and the pinned-page balance every case ends with.
 */
#ifndef SGDMA_TEST_H
#define SGDMA_TEST_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "libsgdma.h"

#define KiB		1024UL
#define MiB		(1024UL * KiB)
#define PAGE		4096UL
#define GUARD		PAGE
#define GUARD_BYTE	0xa5
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

static struct sgdma_dev *dev;
static int fd;
static struct sgdma_info info;

/* Opens /dev/sgdma<index> into dev/fd/info; false (with a diag) if not. */
static inline bool t_open(unsigned int index)
{
	int ret = sgdma_open_index(index, &dev);

	if (ret) {
		ktap_diag("cannot open sgdma%u: %s", index,
			  sgdma_strerror(ret));
		return false;
	}
	fd = sgdma_fd(dev);
	ret = sgdma_get_info(dev, &info);
	if (ret) {
		ktap_diag("INFO: %s", sgdma_strerror(ret));
		return false;
	}
	ktap_diag("sgdma%u: %u channels, card %llu KiB, dma_bits %u, max_seg %u, boundary %#llx, max_segs %u, align %u, max_desc %u, copy_chunk %u, pin_chunk %u, threshold %u, irq %u",
		  index, info.channels,
		  (unsigned long long)info.card_size / 1024, info.dma_bits,
		  info.max_seg_size, (unsigned long long)info.seg_boundary,
		  info.max_segments, info.seg_align, info.max_desc_len,
		  info.copy_chunk, info.pin_chunk, info.copy_threshold,
		  info.irq_mode);
	return true;
}

/* Reports every planned case failed (@name) and ends; the exit status. */
static inline int t_fail_all(const char *name)
{
	for (int i = 0; i < ktap_planned; i++)
		ktap_result(false, name);
	return ktap_finish();
}

/* ---- sysfs, debugfs and time ---- */

/* Writes @val to the sysfs or debugfs file @path; false if it fails. */
static inline bool write_str(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	bool ok;

	if (!f)
		return false;
	ok = fputs(val, f) >= 0;
	return (fclose(f) == 0) && ok;
}

/* Sets the sgdma module's timeout_ms parameter. */
static inline bool set_timeout_ms(unsigned int ms)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%u\n", ms);
	return write_str("/sys/module/sgdma/parameters/timeout_ms", buf);
}

/* Binds (@bind) or unbinds PCI function @bdf to or from the sgdma driver. */
static inline bool pci_bind(const char *bdf, bool bind)
{
	return write_str(bind ? "/sys/bus/pci/drivers/sgdma/bind" :
				"/sys/bus/pci/drivers/sgdma/unbind", bdf);
}

/* CLOCK_MONOTONIC in seconds. */
static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- what this boot has: detected, never taken from the harness ---- */

/* The PCI path of sgdma<index>: "/sys/devices/pci0000:00/.../BDF". */
static inline bool pci_path(unsigned int index, char *path, size_t len)
{
	char link[64], real[PATH_MAX];

	snprintf(link, sizeof(link), "/sys/class/sgdma/sgdma%u/device", index);
	if (!realpath(link, real) || strlen(real) >= len)
		return false;
	strcpy(path, real);
	return true;
}

/*
 * The sgdma function behind a PCIe root port (the one the harness makes
 * hot-pluggable and slow, with link latency): its index, its PCI address
 * in @bdf; -1 if there is none.
 */
static inline int root_port_index(char *bdf, size_t len)
{
	for (unsigned int i = 0; i < 64; i++) {
		char path[PATH_MAX];
		int depth = 0;

		if (!pci_path(i, path, sizeof(path)))
			continue;
		for (char *p = path; (p = strstr(p, "/0000:")); p++)
			depth++;
		if (depth >= 2) {
			snprintf(bdf, len, "%s", basename(path));
			return i;
		}
	}
	return -1;
}

/* Whether PCI function @bdf sits in a hot-plug slot (pciehp's slots). */
static inline bool in_hotplug_slot(const char *bdf)
{
	DIR *d = opendir("/sys/bus/pci/slots");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char path[PATH_MAX], addr[64] = "";
		FILE *f;

		snprintf(path, sizeof(path), "/sys/bus/pci/slots/%s/address",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		/* "0000:01:00": the function's address without ".F". */
		if (fgets(addr, sizeof(addr), f)) {
			addr[strcspn(addr, "\n")] = 0;
			found = *addr && !strncmp(bdf, addr, strlen(addr)) &&
				bdf[strlen(addr)] == '.';
		}
		fclose(f);
	}
	if (d)
		closedir(d);
	return found;
}

/*
 * Whether an IOMMU translates PCI function @bdf's DMA: it has an IOMMU
 * group whose default domain translates ("DMA" or "DMA-FQ", not
 * "identity").
 */
static inline bool iommu_translates(const char *bdf)
{
	char path[PATH_MAX], type[32] = "";
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/iommu_group/type", bdf);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(type, sizeof(type), f))
		type[0] = 0;
	fclose(f);
	return !strncmp(type, "DMA", 3);
}

/* ---- the kernel's trace of the driver (tracepoints sgdma:*) ---- */

#define TRACING		"/sys/kernel/debug/tracing"

/* Empties the trace and turns the sgdma events on (@on) or off. */
static inline bool trace_sgdma(bool on)
{
	return write_str(TRACING "/events/sgdma/enable", on ? "1\n" : "0\n") &&
	       (!on || write_str(TRACING "/trace", ""));
}

/* Lines of the trace containing both @a and @b (@b may be NULL). */
static inline int trace_count(const char *a, const char *b)
{
	FILE *f = fopen(TRACING "/trace", "r");
	char line[512];
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, a) && (!b || strstr(line, b));
	fclose(f);
	return n;
}

/* What the trace shows of the channels of one sgdma device. */
struct trace_channels {
	int used;	/* channels a descriptor was posted on */
	int most_busy;	/* most with a transfer in flight at once */
};

/*
 * Read the trace of sgdma<minor> in time order: a channel is busy from an
 * sgdma_submit to its sgdma_complete or sgdma_error. False when the trace
 * cannot be read.
 */
static inline bool trace_channel_stats(unsigned int minor,
				       struct trace_channels *tc)
{
	FILE *f = fopen(TRACING "/trace", "r");
	bool used[64] = { false }, busy[64] = { false };
	char line[512], dev[32];
	int n = 0;

	*tc = (struct trace_channels){ 0 };
	if (!f)
		return false;
	snprintf(dev, sizeof(dev), "sgdma%u ch=", minor);
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, dev);
		bool submit = strstr(line, "sgdma_submit:");
		unsigned int ch;

		if (!p || (!submit && !strstr(line, "sgdma_complete:") &&
			   !strstr(line, "sgdma_error:")))
			continue;
		ch = strtoul(p + strlen(dev), NULL, 10);
		if (ch >= ARRAY_LEN(busy))
			continue;
		if (submit && !used[ch]) {
			used[ch] = true;
			tc->used++;
		}
		if (busy[ch] == submit)
			continue;
		busy[ch] = submit;
		n += submit ? 1 : -1;
		if (n > tc->most_busy)
			tc->most_busy = n;
	}
	fclose(f);
	return true;
}

/* ---- random data ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

/* A handler that only interrupts: install it without SA_RESTART. */
static inline void on_signal(int sig)
{
	(void)sig;
}

/* killer(): a thread that sends SIGUSR1 to @target after @delay_ms. */
struct killer {
	pthread_t target;
	unsigned int delay_ms;
};

static inline void *killer(void *arg)
{
	struct killer *k = arg;

	usleep(k->delay_ms * 1000);
	pthread_kill(k->target, SIGUSR1);
	return NULL;
}

static inline uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

static inline void fill_random(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t v = rnd();

		memcpy(p + i, &v, 8);
	}
	for (; i < len; i++)
		p[i] = (unsigned char)rnd();
}

/* ---- guarded buffers ---- */

/*
 * @len bytes at @p, @misalign bytes into a fresh anonymous mapping that is
 * never touched except for the guard bytes around the buffer, so the
 * buffer's own pages start unbacked (unless they share a page with a
 * guard byte).
 */
struct gbuf {
	unsigned char *map;
	size_t maplen;
	unsigned char *p;
	size_t len;
	size_t misalign;
};

static inline bool gbuf_alloc(struct gbuf *b, size_t len, size_t misalign)
{
	b->maplen = GUARD + misalign + len + GUARD + PAGE;
	b->maplen = (b->maplen + PAGE - 1) & ~(PAGE - 1);
	b->map = mmap(NULL, b->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		ktap_diag("mmap %zu: %s", b->maplen, strerror(errno));
		b->map = NULL;
		return false;
	}
	b->misalign = misalign;
	b->len = len;
	b->p = b->map + GUARD + misalign;
	memset(b->p - 64, GUARD_BYTE, 64);
	memset(b->p + len, GUARD_BYTE, 64);
	return true;
}

static inline bool gbuf_guards_ok(const struct gbuf *b)
{
	for (int i = 1; i <= 64; i++)
		if (b->p[-i] != GUARD_BYTE) {
			ktap_diag("guard byte %d before the buffer changed", i);
			return false;
		}
	for (int i = 0; i < 64; i++)
		if (b->p[b->len + i] != GUARD_BYTE) {
			ktap_diag("guard byte %d after the buffer changed", i);
			return false;
		}
	return true;
}

static inline void gbuf_free(struct gbuf *b)
{
	if (b->map)
		munmap(b->map, b->maplen);
	b->map = NULL;
}

/* Fresh, never-touched anonymous memory. */
static inline void *unbacked(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline bool same(const void *a, const void *b, size_t len)
{
	const unsigned char *x = a, *y = b;

	if (!memcmp(a, b, len))
		return true;
	for (size_t i = 0; i < len; i++)
		if (x[i] != y[i]) {
			ktap_diag("data differs at byte %zu of %zu: %#x != %#x",
				  i, len, x[i], y[i]);
			break;
		}
	return false;
}

/* ---- pinned-page balance ---- */

struct pins {
	long long acquired;
	long long released;
	long long locked_kb;	/* VmLck of this process */
	long long pinned_kb;	/* VmPin of this process */
};

static inline long long vmstat(const char *name)
{
	char line[128];
	size_t n = strlen(name);
	long long val = -1;
	FILE *f;

	/* Fold the per-CPU deltas so the counters are exact. */
	f = fopen("/proc/sys/vm/stat_refresh", "w");
	if (f) {
		fputs("1\n", f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ' ')
			val = atoll(line + n + 1);
	fclose(f);
	return val;
}

/* A "Name:   N kB" line of /proc/self/status, or -1. */
static inline long long self_status_kb(const char *name)
{
	char line[128];
	size_t n = strlen(name);
	long long val = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			val = atoll(line + n + 1);
	fclose(f);
	return val;
}

static inline void pins_snapshot(struct pins *p)
{
	p->acquired = vmstat("nr_foll_pin_acquired");
	p->released = vmstat("nr_foll_pin_released");
	p->locked_kb = self_status_kb("VmLck");
	p->pinned_kb = self_status_kb("VmPin");
}

/* The number in file @path (sysfs, debugfs), or -1. */
static inline long file_long(const char *path)
{
	char buf[64] = "";
	long val = -1;
	int f = open(path, O_RDONLY);

	if (f >= 0) {
		if (read(f, buf, sizeof(buf) - 1) > 0)
			val = strtol(buf, NULL, 0);
		close(f);
	}
	return val;
}

static inline long sysfs_long(const char *fmt, unsigned int index)
{
	char path[128];

	snprintf(path, sizeof(path), fmt, index);
	return file_long(path);
}

static inline long dev_stat(unsigned int index, const char *name)
{
	char fmt[128];

	snprintf(fmt, sizeof(fmt), "/sys/class/sgdma/sgdma%%u/%s", name);
	return sysfs_long(fmt, index);
}

/*
 * FAULT_INJECT of @chan of sgdma<@index>, as the driver's debugfs reads
 * it (a timed fault reads 0 once it fired), or -1.
 */
static inline long fault_register_on(unsigned int index, unsigned int chan)
{
	char path[96];
	unsigned int c;
	long val = -1, v;
	FILE *f;

	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/sgdma/sgdma%u/fault_inject", index);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%u %li", &c, &v) == 2)
		if (c == chan)
			val = v;
	fclose(f);
	return val;
}

/*
 * Every pin since @before was released, the process' locked and pinned
 * memory is back where it was, and the driver holds no pinned page.
 */
static inline bool pins_balanced(const struct pins *before)
{
	struct pins now;
	bool ok = true;

	pins_snapshot(&now);
	if (now.acquired < 0 || now.released < 0) {
		ktap_diag("no nr_foll_pin_* in /proc/vmstat");
		return false;
	}
	if (now.acquired - now.released != before->acquired - before->released) {
		ktap_diag("pins: %lld acquired, %lld released since the case began",
			  now.acquired - before->acquired,
			  now.released - before->released);
		ok = false;
	}
	/* Memory the case locked or pinned against its limits is back. */
	if (now.locked_kb != before->locked_kb ||
	    now.pinned_kb != before->pinned_kb) {
		ktap_diag("locked-vm %lld -> %lld kB, pinned-vm %lld -> %lld kB",
			  before->locked_kb, now.locked_kb, before->pinned_kb,
			  now.pinned_kb);
		ok = false;
	}
	for (unsigned int i = 0; i < 64; i++) {
		long pinned = dev_stat(i, "pages_pinned");

		if (pinned < 0)
			break;
		if (pinned) {
			ktap_diag("sgdma%u holds %ld pinned pages", i, pinned);
			ok = false;
		}
	}
	return ok;
}

/* Runs one case and reports it, failing it if pins do not balance. */
#define RUN(fn, name)							\
	do {								\
		struct pins before_;					\
		bool ok_;						\
									\
		pins_snapshot(&before_);				\
		ok_ = (fn);						\
		ok_ &= EXPECT(pins_balanced(&before_));			\
		ktap_result(ok_, (name));				\
	} while (0)

/* ---- transfers ---- */

static inline int xfer_raw(struct sgdma_xfer *x)
{
	x->size = sizeof(*x);
	return ioctl(fd, SGDMA_IOC_XFER, x) < 0 ? errno : 0;
}

/*
 * One transfer on open node @f between @buf and card offset @off (H2C or
 * C2H), with @flags (SGDMA_XFER_CHANNEL: on channel @chan); 0 or an errno
 * value.
 */
static inline int xfer_single_on(int f, uint16_t op, uint32_t flags,
				 unsigned int chan, uint64_t off, void *buf,
				 size_t len)
{
	struct sgdma_iovec v = { (uintptr_t)buf, len };
	struct sgdma_xfer x = { .size = sizeof(x), .flags = flags, .op = op,
				.channel = chan, .card_offset = off };

	if (op == SGDMA_OP_H2C) {
		x.src_iov = (uintptr_t)&v;
		x.src_iovcnt = 1;
	} else {
		x.dst_iov = (uintptr_t)&v;
		x.dst_iovcnt = 1;
	}
	return ioctl(f, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
}

/* xfer_single_on() on the node t_open() opened. */
static inline int xfer_single(uint16_t op, uint32_t flags, unsigned int chan,
			      uint64_t off, void *buf, size_t len)
{
	return xfer_single_on(fd, op, flags, chan, off, buf, len);
}

static inline int h2c(uint64_t off, const void *buf, size_t len,
		      uint32_t flags, uint32_t *crc)
{
	return -sgdma_write_card(dev, off, buf, len, flags, crc);
}

static inline int c2h(uint64_t off, void *buf, size_t len, uint32_t flags,
		      uint32_t *crc)
{
	return -sgdma_read_card(dev, off, buf, len, flags, crc);
}

static inline int h2h(void *dst, const void *src, size_t len, uint32_t flags,
		      uint32_t *crc)
{
	return -sgdma_copy(dev, dst, src, len, flags, crc);
}

/*
 * A pinned C2H of @len bytes into @buf on channel 0 of @fd, in a thread
 * (stalled_c2h()), for a test that stalls it in the device (FAULT_INJECT)
 * and then acts while it is in flight: its errno (0 if it worked), how
 * long it took, and when it has finished.
 */
struct stalled {
	int fd;
	unsigned char *buf;
	size_t len;
	int err;
	double took;
	atomic_bool finished;
};

static inline void *stalled_c2h(void *arg)
{
	struct stalled *s = arg;
	struct sgdma_iovec v = { (uintptr_t)s->buf, s->len };
	struct sgdma_xfer x = { .size = sizeof(x),
				.flags = SGDMA_XFER_PINNED | SGDMA_XFER_CHANNEL,
				.channel = 0, .op = SGDMA_OP_C2H,
				.dst_iov = (uintptr_t)&v, .dst_iovcnt = 1 };
	double t = now();

	s->err = ioctl(s->fd, SGDMA_IOC_XFER, &x) < 0 ? errno : 0;
	s->took = now() - t;
	atomic_store(&s->finished, true);
	return NULL;
}

/*
 * Asks the host (the harness) for something a guest cannot do to itself:
 * "device_del ID", "aer_inject ID ERROR" (tests/harness/sgdma_harness.py).
 */
static inline bool request_host(const char *what)
{
	/* The result port; run-tests.sh holds this program's own output. */
	FILE *f = fopen("/dev/ttyS1", "w");

	if (!f)
		return false;
	fprintf(f, "# sgdma-request: %s\n", what);
	return fclose(f) == 0;
}

/*
 * A quick data test of sgdma<index>: 2 MiB out on the pinned path and back
 * on the copy path, with CRCs; leaves dev closed.
 */
static inline bool dev_works(unsigned int index)
{
	unsigned char *a = unbacked(2 * MiB), *b = unbacked(2 * MiB);
	uint32_t crc = 0, want;
	bool ok = true;

	if (!EXPECT(a && b) || !EXPECT(t_open(index)))
		return false;
	fill_random(a, 2 * MiB);
	want = sgdma_crc32c(0, a, 2 * MiB);
	ok &= EXPECT(h2c(0, a, 2 * MiB, SGDMA_XFER_PINNED | SGDMA_XFER_CRC,
			 &crc) == 0) && EXPECT(crc == want);
	ok &= EXPECT(c2h(0, b, 2 * MiB, SGDMA_XFER_COPY | SGDMA_XFER_CRC,
			 &crc) == 0) && EXPECT(crc == want);
	ok &= EXPECT(same(a, b, 2 * MiB));
	sgdma_close(dev);
	munmap(a, 2 * MiB);
	munmap(b, 2 * MiB);
	return ok;
}

static inline bool aligned_to(uintptr_t v, uint32_t align)
{
	return !(v & (align - 1));
}

#endif /* SGDMA_TEST_H */
