// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_pitfalls: DMA driver defects a code review found (issue 14, points
 * 4 and 8-10), each a case that fails on a driver with the defect:
 *   - a failed C2H into a registered buffer must leave the bytes the device
 *     never wrote as the CPU left them (stale bounce contents must not come
 *     back; visible where mappings bounce);
 *   - automatic mode must fall back to the copy path for memory that
 *     cannot be pinned (a coherent buffer this driver mapped, VM_PFNMAP);
 *   - a read-only registration must see CPU writes made after it (before
 *     6.2 a read-only long-term pin keeps the zero page or the page-cache
 *     page that a later write copies away from);
 *   - a function-level reset through sysfs with the driver bound leaves
 *     every channel working without a timeout;
 *   - that reset is an FLR (issue 15): every sgdma function lists "flr"
 *     first in reset_method, and a reset allowed nothing but FLR works;
 *   - an extensible structure larger than a page is refused with E2BIG;
 *   - QUEUE_REAP whose count cannot be written loses no completion;
 *   - card memory, which user space maps, is claimed by the driver.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "sgdma_sysfs.h"
#include "sgdma_zc.h"

#define FAULT_DMA_ERROR	1
#define FAULT_CHAN	1

/* A buffer transfer on channel @chan; 0 or an errno value. */
static int bx_on(unsigned int chan, uint16_t op, uint64_t card, uint32_t sh,
		 uint32_t dh, uint64_t len)
{
	struct sgdma_buf_xfer x = {
		.flags = SGDMA_XFER_CHANNEL, .op = op, .channel = chan,
		.card_offset = card, .src_handle = sh, .dst_handle = dh,
		.len = len,
	};

	return -sgdma_buf_xfer(dev, &x);
}

/*
 * Point 8. The buffer is registered holding 0x11, so a bounce slot holds
 * 0x11 too; the CPU then writes 0x22. A C2H whose first host access fails
 * writes nothing: the buffer must still read 0x22 everywhere.
 */
static bool test_failed_c2h_keeps_cpu_bytes(void)
{
	size_t len = 256 * KiB;
	unsigned char *p = backed(len), *want = malloc(len);
	uint32_t h = 0;
	bool ok = EXPECT(p && want);

	if (!ok)
		return false;
	memset(p, 0x11, len);
	ok &= EXPECT(reg(p, len, 0, &h) == 0);
	memset(p, 0x22, len);
	memcpy(want, p, len);
	ok &= EXPECT(arm_fault(FAULT_CHAN, FAULT_DMA_ERROR, 1));
	ok &= EXPECT(bx_on(FAULT_CHAN, SGDMA_OP_C2H, 0, 0, h, len) == EIO);
	ok &= EXPECT(same(p, want, len));
	/* The channel and the buffer work again. */
	ok &= EXPECT(bx_on(FAULT_CHAN, SGDMA_OP_C2H, 0, 0, h, len) == 0);
	ok &= EXPECT(unreg(h) == 0);
	munmap(p, len);
	free(want);
	return ok;
}

/*
 * Point 9. A coherent buffer mapped by this driver without an IOMMU is
 * VM_PFNMAP: it cannot be pinned, yet automatic mode must move it (through
 * the copy path) in both directions and host to host, at a size that picks
 * pinning.
 */
static bool test_auto_pfnmap_fallback(void)
{
	size_t len = info.copy_threshold > 256 * KiB ?
		     (info.copy_threshold + PAGE - 1) / PAGE * PAGE :
		     256 * KiB;
	unsigned char *q = backed(len), *c = NULL;
	char flags[256];
	uint32_t h = 0;
	bool ok = EXPECT(q != NULL);

	ok &= EXPECT(sgdma_buf_alloc(dev, len, &h, NULL) == 0);
	ok &= EXPECT(sgdma_buf_mmap(dev, h, len, (void **)&c) == 0);
	if (!ok)
		return false;
	fill_random(c, len);
	ok &= EXPECT(h2c(0, c, len, 0, NULL) == 0);
	ok &= EXPECT(c2h(0, q, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(q, c, len));
	fill_random(q, len);
	ok &= EXPECT(h2c(0, q, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(c2h(0, c, len, 0, NULL) == 0);
	ok &= EXPECT(same(q, c, len));
	fill_random(c, len);
	ok &= EXPECT(h2h(q, c, len, 0, NULL) == 0);
	ok &= EXPECT(same(q, c, len));
	/*
	 * Forced pinning refuses a VM_PFNMAP mapping (the DMA layer's without
	 * an IOMMU). Behind one, the DMA layer maps the IOMMU's pages
	 * (VM_MIXEDMAP), which GUP may pin: then the data must be right.
	 */
	vma_flags(c, flags, sizeof(flags));
	if (has_vma_flag(flags, "pf")) {
		ok &= EXPECT(h2c(0, c, len, SGDMA_XFER_PINNED, NULL) == EFAULT);
	} else {
		int err = h2c(0, c, len, SGDMA_XFER_PINNED, NULL);

		ktap_diag("forced pinning of a coherent mapping (%s): %s",
			  flags, err ? strerror(err) : "pinned");
		ok &= EXPECT(err == EFAULT || err == 0);
		ok &= EXPECT(c2h(0, q, len, SGDMA_XFER_COPY, NULL) == 0);
		ok &= EXPECT(err || same(q, c, len));
	}
	munmap(c, len);
	ok &= EXPECT(unreg(h) == 0);
	munmap(q, len);
	return ok;
}

/* Registers @p READONLY, writes it, and checks that the card gets it. */
static bool readonly_sees_later_writes(unsigned char *p, size_t len)
{
	unsigned char *q = backed(len);
	uint32_t h = 0;
	bool ok = EXPECT(q != NULL);

	ok &= EXPECT(reg(p, len, SGDMA_BUF_READONLY, &h) == 0);
	if (!ok)
		return false;
	fill_random(p, len);
	ok &= EXPECT(bx_h2c(0, h, 0, len) == 0);
	ok &= EXPECT(c2h(0, q, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(q, p, len));
	ok &= EXPECT(unreg(h) == 0);
	munmap(q, len);
	return ok;
}

/*
 * Point 4. Untouched anonymous memory (the zero page) and a private file
 * mapping (the page-cache page), registered read-only, then written.
 */
static bool test_readonly_pin_sees_writes(void)
{
	size_t len = 64 * KiB;
	char path[] = "/tmp/sgdma_pitfalls.XXXXXX";
	unsigned char *anon = unbacked(len), *file = MAP_FAILED;
	bool ok = EXPECT(anon != NULL);
	int f = mkstemp(path);

	ok &= EXPECT(f >= 0);
	if (!ok)
		return false;
	ok &= readonly_sees_later_writes(anon, len);
	munmap(anon, len);

	unlink(path);
	ok &= EXPECT(ftruncate(f, len) == 0);
	file = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, f, 0);
	ok &= EXPECT(file != MAP_FAILED);
	close(f);
	if (file == MAP_FAILED)
		return false;
	/* Read it in, so that the page-cache pages are mapped. */
	for (size_t i = 0; i < len; i += PAGE)
		ok &= EXPECT(file[i] == 0);
	ok &= readonly_sees_later_writes(file, len);
	munmap(file, len);
	return ok;
}

/* A transfer on channel @chan of the open device, automatic path. */
static int on_chan(unsigned int chan, uint16_t op, void *buf, size_t len)
{
	return xfer_single(op, SGDMA_XFER_CHANNEL, chan, chan * len, buf, len);
}

/* A round trip through the card on every channel, @a to @b. */
static bool every_channel_moves_data(unsigned char *a, unsigned char *b,
				     size_t len)
{
	bool ok = true;

	for (unsigned int ch = 0; ch < info.channels; ch++) {
		fill_random(a, len);
		memset(b, 0, len);
		ok &= EXPECT(on_chan(ch, SGDMA_OP_H2C, a, len) == 0);
		ok &= EXPECT(on_chan(ch, SGDMA_OP_C2H, b, len) == 0);
		ok &= EXPECT(same(a, b, len));
	}
	return ok;
}

/* The sgdma function the kernel can reset (it sits alone on its bus). */
static int resettable_index(char *reset, size_t len)
{
	for (unsigned int i = 0; i < 64; i++) {
		char path[PATH_MAX];

		if (!pci_path(i, path, sizeof(path)))
			continue;
		snprintf(reset, len, "%s/reset", path);
		if (!access(reset, W_OK))
			return (int)i;
	}
	return -1;
}

/*
 * Point 10. A reset of the function through sysfs with the driver bound:
 * the driver stops its channels before and restarts them after, so every
 * channel moves data at once, with no timeout on the way.
 */
static bool test_reset_keeps_channels(int index, const char *reset)
{
	size_t len = 64 * KiB;
	unsigned char *a = backed(len), *b = backed(len);
	long timeouts;
	bool ok = EXPECT(a && b);

	sgdma_close(dev);
	ok &= EXPECT(t_open(index));

	if (!ok)
		return false;
	ok &= EXPECT(set_timeout_ms(1000));
	timeouts = dev_stat(index, "timeouts");
	ok &= EXPECT(write_str(reset, "1"));
	ok &= EXPECT(every_channel_moves_data(a, b, len));
	ok &= EXPECT(dev_stat(index, "timeouts") == timeouts);
	/* And once more, after the reset of a busy-free device settled. */
	ok &= EXPECT(write_str(reset, "1"));
	ok &= EXPECT(on_chan(0, SGDMA_OP_H2C, a, len) == 0);
	ok &= EXPECT(dev_stat(index, "timeouts") == timeouts);
	ok &= EXPECT(set_timeout_ms(10000));
	sgdma_close(dev);
	ok &= EXPECT(t_open(0));
	munmap(a, len);
	munmap(b, len);
	return ok;
}

/* Whether the PCI core resets the function at @path with FLR first. */
static bool flr_listed_first(const char *path)
{
	char methods[256];
	bool ok = read_line(methods, sizeof(methods), "%s/reset_method", path) &&
		  !strncmp(methods, "flr", 3) &&
		  (methods[3] == ' ' || methods[3] == '\0');

	if (!ok)
		ktap_diag("%s/reset_method: \"%s\", not \"flr\" first", path,
			  methods);
	return ok;
}

/*
 * Issue 15. The device has an FLR capability, so a sysfs reset of any
 * sgdma function is an FLR: reset_method lists "flr" first. Then, with
 * FLR the only method allowed (a reset that cannot use it fails rather
 * than falling back to a bus reset), sgdma0 is reset through sysfs with
 * the driver bound, and every channel moves data at once.
 */
static bool test_reset_is_flr(void)
{
	char path[PATH_MAX], file[PATH_MAX + 16];
	size_t len = 64 * KiB;
	unsigned char *a = backed(len), *b = backed(len);
	unsigned int functions = 0;
	long timeouts;
	bool ok = EXPECT(a && b);

	for (unsigned int i = 0; i < 64; i++) {
		if (!pci_path(i, path, sizeof(path)))
			continue;
		functions++;
		ok &= EXPECT(flr_listed_first(path));
	}
	ok &= EXPECT(functions > 0 && pci_path(0, path, sizeof(path)));
	snprintf(file, sizeof(file), "%s/reset_method", path);
	if (!ok || !EXPECT(write_str(file, "flr"))) {
		munmap(a, len);
		munmap(b, len);
		return false;
	}
	ok &= EXPECT(set_timeout_ms(1000));
	timeouts = dev_stat(0, "timeouts");
	snprintf(file, sizeof(file), "%s/reset", path);
	ok &= EXPECT(write_str(file, "1"));
	snprintf(file, sizeof(file), "%s/reset_method", path);
	ok &= EXPECT(write_str(file, "default"));
	ok &= EXPECT(flr_listed_first(path));
	ok &= EXPECT(every_channel_moves_data(a, b, len));
	ok &= EXPECT(dev_stat(0, "timeouts") == timeouts);
	ok &= EXPECT(set_timeout_ms(10000));
	munmap(a, len);
	munmap(b, len);
	return ok;
}

/* Point 10. Sizes beyond a page are refused, as clone3 and openat2 do. */
static bool test_struct_size_capped(void)
{
	size_t big = 2 * PAGE;
	unsigned char *p = backed(big);
	struct sgdma_info *in = (struct sgdma_info *)p;
	bool ok = EXPECT(p != NULL);

	if (!ok)
		return false;
	in->size = PAGE;
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_INFO, p) == 0);
	memset(p, 0, big);
	in->size = PAGE + 8;
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_INFO, p) < 0 && errno == E2BIG);
	memset(p, 0, big);
	in->size = UINT32_MAX;
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_INFO, p) < 0 && errno == E2BIG);
	munmap(p, big);
	return ok;
}

/*
 * Point 10. QUEUE_REAP's argument is readable but its count cannot be
 * written: the call fails with EFAULT and the completion stays queued.
 */
static bool test_reap_count_fault(void)
{
	size_t len = 64 * KiB;
	unsigned char *p = backed(len);
	struct sgdma_completion c[2] = { 0 };
	struct sgdma_queue_reap *rp = backed(PAGE);
	uint32_t h = 0;
	int q;
	bool ok = EXPECT(p && rp);

	ok &= EXPECT(reg(p, len, 0, &h) == 0);
	q = sgdma_bufq_create(dev, 4, 0, -1);
	ok &= EXPECT(q >= 0);
	if (!ok)
		return false;
	struct sgdma_buf_xfer x = { .op = SGDMA_OP_H2C, .src_handle = h,
				    .len = len, .user_data = 42 };
	ok &= EXPECT(sgdma_bufq_submit(q, &x) == 0);
	*rp = (struct sgdma_queue_reap){ .size = sizeof(*rp),
					 .flags = SGDMA_REAP_WAIT,
					 .entries = (uintptr_t)c, .max = 2 };
	ok &= EXPECT(mprotect(rp, PAGE, PROT_READ) == 0);
	ok &= EXPECT(ioctl(q, SGDMA_IOC_QUEUE_REAP, rp) < 0 &&
		     errno == EFAULT);
	ok &= EXPECT(mprotect(rp, PAGE, PROT_READ | PROT_WRITE) == 0);
	memset(c, 0, sizeof(c));
	ok &= EXPECT(sgdma_bufq_reap(q, c, 2, SGDMA_REAP_WAIT) == 1);
	ok &= EXPECT(c[0].user_data == 42 && c[0].status == 0 &&
		     c[0].bytes == len);
	close(q);
	ok &= EXPECT(unreg(h) == 0);
	munmap(rp, PAGE);
	munmap(p, len);
	return ok;
}

/*
 * Point 10. Card memory (BAR2), which user space maps, is claimed by the
 * driver in /proc/iomem, as its registers are.
 */
static bool test_card_bar_claimed(void)
{
	unsigned long long start = 0, end = 0, flags = 0, s, e;
	char path[PATH_MAX], line[256], owner[64];
	bool claimed = false;
	FILE *f;

	if (!EXPECT(pci_path(0, path, sizeof(path))))
		return false;
	strncat(path, "/resource", sizeof(path) - strlen(path) - 1);
	f = fopen(path, "r");
	if (!EXPECT(f))
		return false;
	for (int bar = 0; bar <= 2 && fgets(line, sizeof(line), f); bar++)
		sscanf(line, "%llx %llx %llx", &start, &end, &flags);
	fclose(f);
	if (!EXPECT(start && end > start))
		return false;
	f = fopen("/proc/iomem", "r");
	if (!EXPECT(f))
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %llx-%llx : %63s", &s, &e, owner) == 3 &&
		    s == start && e == end && !strcmp(owner, "sgdma"))
			claimed = true;
	fclose(f);
	if (!claimed)
		ktap_diag("BAR2 %#llx-%#llx has no \"sgdma\" in /proc/iomem",
			  start, end);
	return claimed;
}

int main(void)
{
	char reset[PATH_MAX + 8];
	int index;

	ktap_plan(8);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS)) {
		ktap_diag("no device or no buffer support");
		return t_fail_all("setup");
	}
	RUN(test_failed_c2h_keeps_cpu_bytes(), "failed_c2h_keeps_cpu_bytes");
	RUN(test_auto_pfnmap_fallback(), "auto_pfnmap_falls_back_to_copy");
	RUN(test_readonly_pin_sees_writes(), "readonly_pin_sees_later_writes");
	index = resettable_index(reset, sizeof(reset));
	if (index >= 0) {
		ktap_diag("resetting sgdma%d through %s", index, reset);
		RUN(test_reset_keeps_channels(index, reset),
		    "function_reset_keeps_channels");
	} else {
		ktap_skip_needs("function_reset_keeps_channels", "hotplug",
				"no sgdma function the kernel can reset");
	}
	RUN(test_reset_is_flr(), "function_reset_is_flr");
	RUN(test_struct_size_capped(), "struct_size_capped_e2big");
	RUN(test_reap_count_fault(), "reap_count_fault_keeps_completion");
	RUN(test_card_bar_claimed(), "card_bar_claimed");
	sgdma_close(dev);
	return ktap_finish();
}
