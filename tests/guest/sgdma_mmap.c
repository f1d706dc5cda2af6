// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_mmap: card memory and coherent buffers in user space. What the CPU
 * writes through a mapping the device moves, and the other way round;
 * every bad mapping is refused; a coherent buffer is mapped the way the DMA
 * layer maps it, outlives its handle and its file while mapped, and only
 * then is its memory (and its charge) given back; removal of the device
 * revokes its mappings.
 */
#define _GNU_SOURCE
#include <setjmp.h>

#include "sgdma_zc.h"

static void *map_at(uint64_t off, size_t len, int flags, int *err)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd,
		       (off_t)off);

	*err = p == MAP_FAILED ? errno : 0;
	return p == MAP_FAILED ? NULL : p;
}

/* CPU stores through the mapping, DMA reads them; and back. */
static bool test_card_rw(void)
{
	size_t len = MiB + 5 * PAGE;
	uint64_t off = 3 * MiB;
	unsigned char *buf = malloc(len), *got = malloc(len);
	volatile unsigned char *m;
	bool ok = buf && got;
	int err;

	m = map_at(off, len, MAP_SHARED, &err);
	ok &= EXPECT(m != NULL);
	if (!ok)
		return false;
	fill_random(buf, len);
	memcpy((void *)m, buf, len);
	ok &= EXPECT(c2h(off, got, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(got, buf, len));
	fill_random(buf, len);
	ok &= EXPECT(h2c(off, buf, len, 0, NULL) == 0);
	memcpy(got, (void *)m, len);
	ok &= EXPECT(same(got, buf, len));
	/* Single bytes and words, where write-combining must not reorder
	 * what one CPU reads back. */
	m[7] = 0x11;
	*(volatile uint32_t *)(m + 64) = 0xdeadbeef;
	ok &= EXPECT(m[7] == 0x11 && *(volatile uint32_t *)(m + 64) ==
		     0xdeadbeef);
	ok &= EXPECT(pread(fd, got, 128, (off_t)off) == 128);
	ok &= EXPECT(got[7] == 0x11 && !memcmp(got + 64,
					       (uint32_t[]){ 0xdeadbeef }, 4));
	munmap((void *)m, len);

	/* The last page of card memory. */
	m = map_at(info.card_map_size - PAGE, PAGE, MAP_SHARED, &err);
	ok &= EXPECT(m != NULL);
	if (m) {
		m[PAGE - 1] = 0x42;
		ok &= EXPECT(pread(fd, got, 1, (off_t)info.card_size - 1) ==
			     1 && got[0] == 0x42);
		munmap((void *)m, PAGE);
	}
	free(buf);
	free(got);
	return ok;
}

static bool test_card_misuse(void)
{
	bool ok = EXPECT(info.card_map_size == info.card_size);
	uint64_t end = info.card_map_size;
	void *p;
	int err;

	p = map_at(0, end + PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(end, PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(end - PAGE, 2 * PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(0, PAGE, MAP_PRIVATE, &err);
	ok &= EXPECT(!p && err == EINVAL);
	/* Between card memory and the first buffer region. */
	p = map_at(1ULL << 31, PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	/* Beyond the last handle. */
	p = map_at(SGDMA_MMAP_BUF_OFFSET(SGDMA_MAX_BUFS + 1), PAGE,
		   MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	/* A mapping cannot grow past what was checked. */
	p = map_at(0, PAGE, MAP_SHARED, &err);
	ok &= EXPECT(p != NULL);
	if (p) {
		ok &= EXPECT(mremap(p, PAGE, 2 * PAGE, 0) == MAP_FAILED);
		munmap(p, PAGE);
	}
	return ok;
}

/* DMA between coherent buffers, registered buffers and card memory. */
static bool test_coherent_rw(void)
{
	size_t len = 768 * KiB;
	unsigned char *a, *b, *u = backed(len), *want = malloc(len);
	uint32_t ha = 0, hb = 0, hu = 0, crc = 0;
	uint64_t oa = 0, ob = 0;
	bool ok = u && want;
	int err;

	ok &= EXPECT(-sgdma_buf_alloc(dev, len, &ha, &oa) == 0);
	ok &= EXPECT(-sgdma_buf_alloc(dev, len - 100, &hb, &ob) == 0);
	ok &= EXPECT(oa == SGDMA_MMAP_BUF_OFFSET(ha));
	ok &= EXPECT(reg(u, len, 0, &hu) == 0);
	if (!ok)
		return false;
	a = map_at(oa, len, MAP_SHARED, &err);
	b = map_at(ob, len, MAP_SHARED, &err);
	ok &= EXPECT(a && b);
	if (!ok)
		return false;
	/* Fresh buffers are zeroed. */
	for (size_t i = 0; i < len; i++)
		ok &= a[i] == 0;
	ok &= EXPECT(ok);

	fill_random(a, len);
	memcpy(want, a, len);
	ok &= EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CRC, 8 * MiB, ha, 0, 0, 0,
			len, &crc) == 0);
	ok &= EXPECT(crc == sgdma_crc32c(0, want, len));
	ok &= EXPECT(bx_c2h(8 * MiB, hb, 0, len) == 0);
	ok &= EXPECT(same(b, want, len));
	/* coherent -> registered -> coherent */
	memset(a, 0, len);
	ok &= EXPECT(bx(SGDMA_OP_H2H, 0, 0, hb, 0, hu, 0, len, NULL) == 0);
	ok &= EXPECT(same(u, want, len));
	ok &= EXPECT(bx(SGDMA_OP_H2H, 0, 0, hu, 0, ha, 0, len, NULL) == 0);
	ok &= EXPECT(same(a, want, len));

	munmap(a, len);
	munmap(b, len);
	ok &= EXPECT(unreg(ha) == 0 && unreg(hb) == 0 && unreg(hu) == 0);
	munmap(u, len);
	free(want);
	return ok;
}

static bool test_coherent_misuse(void)
{
	size_t len = 64 * KiB;
	unsigned char *u = backed(len);
	uint32_t h = 0, hu = 0;
	uint64_t off = 0;
	bool ok = u != NULL;
	void *p;
	int err;

	ok &= EXPECT(-sgdma_buf_alloc(dev, len, &h, &off) == 0);
	ok &= EXPECT(reg(u, len, 0, &hu) == 0);
	if (!ok)
		return false;
	p = map_at(off, len + PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(off + len, PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(off, len, MAP_PRIVATE, &err);
	ok &= EXPECT(!p && err == EINVAL);
	/* A registered buffer has nothing to map; a free handle neither. */
	p = map_at(SGDMA_MMAP_BUF_OFFSET(hu), PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == EINVAL);
	p = map_at(SGDMA_MMAP_BUF_OFFSET(h + 9), PAGE, MAP_SHARED, &err);
	ok &= EXPECT(!p && err == ENOENT);
	/* The second half alone is fine. */
	p = map_at(off + len / 2, len / 2, MAP_SHARED, &err);
	ok &= EXPECT(p != NULL);
	if (p)
		munmap(p, len / 2);
	ok &= EXPECT(-sgdma_buf_alloc(dev, 0, &h, NULL) == EINVAL);
	ok &= EXPECT(-sgdma_buf_alloc(dev, SGDMA_BUF_MAX_LEN + 1, &h, NULL) ==
		     EINVAL);
	ok &= EXPECT(unreg(h) == 0 && unreg(hu) == 0);
	munmap(u, len);
	return ok;
}

/*
 * A coherent buffer lives while mapped, after its handle and its file are
 * gone: its contents survive memory pressure on coherent allocations, and
 * the charge stays until the last mapping goes.
 */
static bool test_coherent_lifetime(void)
{
	size_t len = 256 * KiB, nfill = 0;
	long pin0 = vm_pin_kib();
	unsigned char *m1, *m2, *want = malloc(len);
	uint32_t h = 0, hs[32];
	uint64_t off = 0;
	bool ok = want != NULL;
	int err;

	ok &= EXPECT(-sgdma_buf_alloc(dev, len, &h, &off) == 0);
	if (!ok)
		return false;
	m1 = map_at(off, len, MAP_SHARED, &err);
	m2 = map_at(off, len, MAP_SHARED, &err);
	ok &= EXPECT(m1 && m2);
	if (!ok)
		return false;
	fill_random(want, len);
	memcpy(m1, want, len);
	/* Both mappings see the same memory (and have it mapped). */
	ok &= EXPECT(same(m2, want, len));
	ok &= EXPECT(unreg(h) == 0);
	munmap(m1, len);
	/* The file goes too: only m2 holds the buffer now. */
	sgdma_close(dev);
	dev = NULL;
	ok &= EXPECT(vm_pin_kib() == pin0 + (long)(len / KiB));
	ok &= EXPECT(t_open(0));
	/* Take what the allocator would hand out again, and scribble. */
	for (nfill = 0; nfill < ARRAY_LEN(hs); nfill++) {
		unsigned char *p;

		if (sgdma_buf_alloc(dev, len, &hs[nfill], &off))
			break;
		p = map_at(off, len, MAP_SHARED, &err);
		if (!p)
			break;
		memset(p, 0xee, len);
		munmap(p, len);
	}
	ok &= EXPECT(nfill > 0);
	ok &= EXPECT(same(m2, want, len));
	for (size_t i = 0; i < nfill; i++)
		ok &= EXPECT(unreg(hs[i]) == 0);
	munmap(m2, len);
	ok &= EXPECT(vm_pin_kib() == pin0);
	free(want);
	return ok;
}

/* A forked child shares coherent mappings (MAP_SHARED) safely. */
static bool test_coherent_fork(void)
{
	size_t len = 64 * KiB;
	unsigned char *m;
	uint32_t h = 0;
	uint64_t off = 0;
	bool ok = EXPECT(-sgdma_buf_alloc(dev, len, &h, &off) == 0);
	pid_t pid;
	int err;

	m = map_at(off, len, MAP_SHARED, &err);
	ok &= EXPECT(m != NULL);
	if (!ok)
		return false;
	memset(m, 1, len);
	pid = fork();
	if (!pid) {
		memset(m, 2, len / 2);
		/* The child may not map its parent's buffer anew. */
		_exit(map_at(off, len, MAP_SHARED, &err) == NULL &&
		      err == EACCES ? 0 : 1);
	}
	ok &= EXPECT(child_ok(pid));
	ok &= EXPECT(m[0] == 2 && m[len - 1] == 1);
	ok &= EXPECT(bx_h2c(0, h, 0, len) == 0);
	munmap(m, len);
	ok &= EXPECT(unreg(h) == 0);
	return ok;
}

/* The PCI address of sgdma<index> in @bdf. */
static bool fn_bdf(unsigned int index, char *bdf, size_t len)
{
	char path[PATH_MAX];

	if (!pci_path(index, path, sizeof(path)))
		return false;
	snprintf(bdf, len, "%s", basename(path));
	return true;
}

/*
 * A coherent buffer is mapped by the DMA layer (dma_mmap_coherent()), with
 * the page protections it gives the buffer, populated at once: without an
 * IOMMU by remap_pfn_range() (smaps "io pf": VM_IO, VM_PFNMAP), behind one
 * by vm_map_pages() of the IOMMU's page array ("mm": VM_MIXEDMAP, no
 * VM_PFNMAP); never expanded ("de"), never dumped ("dd"). A mapping the
 * driver fills page by page at fault (vmf_insert_pfn(): VM_PFNMAP without
 * VM_IO, whatever the DMA layer) fails. The mapping cannot grow; a mapping
 * that starts inside the buffer shows the bytes at that offset, both ways.
 */
static bool test_coherent_dma_mapping(void)
{
	size_t len = 64 * KiB, half = len / 2;
	unsigned char *m, *h2, *want = malloc(len), *got = malloc(len);
	char flags[256] = "", bdf[64];
	uint32_t h = 0;
	uint64_t off = 0;
	bool ok = want && got, iommu;
	void *p;
	int err;

	ok &= EXPECT(fn_bdf(0, bdf, sizeof(bdf)));
	ok &= EXPECT(-sgdma_buf_alloc(dev, len, &h, &off) == 0);
	if (!ok)
		return false;
	m = map_at(off, len, MAP_SHARED, &err);
	h2 = map_at(off + half, half, MAP_SHARED, &err);
	ok &= EXPECT(m && h2);
	if (!ok)
		return false;
	iommu = iommu_translates(bdf);
	vma_flags(m, flags, sizeof(flags));
	ktap_diag("coherent buffer mapped %s an IOMMU:%s",
		  iommu ? "behind" : "without", flags);
	ok &= EXPECT(has_vma_flag(flags, "sh") &&
		     has_vma_flag(flags, "dd") && has_vma_flag(flags, "de"));
	if (iommu)
		ok &= EXPECT(has_vma_flag(flags, "mm") &&
			     !has_vma_flag(flags, "pf"));
	else
		ok &= EXPECT(has_vma_flag(flags, "io") &&
			     has_vma_flag(flags, "pf"));

	p = mremap(m, len, 2 * len, MREMAP_MAYMOVE);
	ok &= EXPECT(p == MAP_FAILED && errno == EFAULT);

	/* CPU stores through the second mapping, H2C from that offset. */
	fill_random(want, len);
	memcpy(h2, want + half, half);
	ok &= EXPECT(bx_h2c(0, h, half, half) == 0);
	ok &= EXPECT(c2h(0, got, half, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(got, want + half, half));
	ok &= EXPECT(same(m + half, want + half, half));
	/* C2H into the buffer, CPU loads through both mappings. */
	ok &= EXPECT(h2c(MiB, want, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(bx_c2h(MiB, h, 0, len) == 0);
	ok &= EXPECT(same(m, want, len));
	ok &= EXPECT(same(h2, want + half, half));

	munmap(m, len);
	munmap(h2, half);
	ok &= EXPECT(unreg(h) == 0);
	free(want);
	free(got);
	return ok;
}

static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Whether a load from @p (a store if @store) raises SIGBUS. */
static bool access_sigbus(volatile unsigned char *p, bool store)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	volatile bool bus = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		bus = true;
	else if (store)
		*p = 0x5a;
	else
		(void)*p;
	sigaction(SIGBUS, &old, NULL);
	return bus;
}

/*
 * Removal (unbind) revokes the mappings of coherent buffers before it frees
 * them: loads and stores afterwards raise SIGBUS instead of reaching freed
 * memory, a new mapping fails with ENODEV, munmap and close are fine and
 * the charge goes with the buffer. On sgdma1, bound again afterwards.
 */
static bool test_coherent_revoked(void)
{
	size_t len = 128 * KiB, half = len / 2;
	long pin0 = vm_pin_kib();
	unsigned char *m, *h2;
	char bdf[64];
	uint32_t h = 0;
	uint64_t off = 0;
	bool ok = true;
	int err;

	sgdma_close(dev);
	dev = NULL;
	if (!EXPECT(fn_bdf(1, bdf, sizeof(bdf)) && t_open(1)))
		return false;
	ok &= EXPECT(-sgdma_buf_alloc(dev, len, &h, &off) == 0);
	m = map_at(off, len, MAP_SHARED, &err);
	h2 = map_at(off + half, half, MAP_SHARED, &err);
	ok &= EXPECT(m && h2);
	if (!ok)
		return false;
	memset(m, 0x77, len);
	ok &= EXPECT(h2[0] == 0x77);
	ok &= EXPECT(vm_pin_kib() == pin0 + (long)(len / KiB));

	ktap_diag("unbinding %s with the buffer mapped", bdf);
	ok &= EXPECT(pci_bind(bdf, false));
	ok &= EXPECT(access_sigbus(m, false));
	ok &= EXPECT(access_sigbus(m + len - 1, true));
	ok &= EXPECT(access_sigbus(h2, false));
	ok &= EXPECT(!map_at(off, len, MAP_SHARED, &err) && err == ENODEV);
	ok &= EXPECT(vm_pin_kib() == pin0);
	ok &= EXPECT(munmap(m, len) == 0 && munmap(h2, half) == 0);
	sgdma_close(dev);
	dev = NULL;

	ok &= EXPECT(pci_bind(bdf, true));
	ok &= dev_works(1);
	ok &= EXPECT(t_open(0));
	return ok;
}

int main(void)
{
	ktap_plan(8);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS) ||
	    !(info.caps & SGDMA_CAP_MMAP_CARD)) {
		ktap_diag("no device, buffers or card mapping");
		return t_fail_all("setup");
	}
	RUN(test_card_rw(), "card_mmap_data");
	RUN(test_card_misuse(), "card_mmap_misuse");
	RUN(test_coherent_rw(), "coherent_data");
	RUN(test_coherent_misuse(), "coherent_mmap_misuse");
	RUN(test_coherent_lifetime(), "coherent_outlives_handle_and_file");
	RUN(test_coherent_fork(), "coherent_fork");
	RUN(test_coherent_dma_mapping(), "coherent_dma_layer_mapping");
	RUN(test_coherent_revoked(), "coherent_revoked_at_removal");
	sgdma_close(dev);
	return ktap_finish();
}
