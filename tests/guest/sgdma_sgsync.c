// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_sgsync: the driver's scatterlists and syncs follow the DMA API
 * (issue 14 points 7 and 10).
 *
 * A transfer on a registered buffer syncs exactly the bytes it moves:
 * bytes the CPU writes elsewhere in the buffer while a C2H into another
 * range is in flight survive it. Under swiotlb=force a driver that synced
 * the whole buffer would copy the bounce buffer's older bytes over them;
 * one that synced a sub-list of a mapped scatterlist is reported by
 * DMA-API debugging (the debug lane), which the harness reads.
 *
 * Pinned and registered transfers on a function with narrow segment
 * limits (the iommu-strict cell's second function: segments of 1536 bytes
 * that may not cross a 4 KiB boundary; the strict cell's: 64 KiB inside
 * 64 KiB) over physically contiguous memory (pagemap), at offsets
 * that put boundaries inside the transfers, move their data. In the debug
 * lane DMA-API debugging checks every mapped entry against the limits the
 * driver declared ("mapping sg segment longer than device claims to
 * support", "... across boundary"), so a scatterlist entry a page long, or
 * one over a boundary, fails the boot. Where no function narrows its
 * limits those cases skip (needs=strict-device).
 *
 * What no case here can show: a partial sync of a mapping that is
 * physically discontiguous (an IOMMU merging pages into one IOVA run).
 * x86 is cache-coherent and iommu-dma bounces only untrusted devices,
 * which it maps entry by entry; only the legality of the calls (DMA-API
 * debugging) is checked.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/mman.h>

#include "sgdma_zc.h"

#define HUGE		(2 * MiB)
/* Anonymous memory searched for contiguous pages, and the run needed. */
#define SCAN		(16 * MiB)
#define MIN_RUN		(16 * PAGE)
#define FILLER		0x5a
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"

/* ---- registered buffers: syncs of exactly the transferred range ---- */

struct late_write {
	unsigned char *dst;
	const unsigned char *src;
	size_t len;
};

/* Writes while the slow function's transfer waits for its data. */
static void *write_late(void *arg)
{
	struct late_write *w = arg;

	usleep(8000);
	memcpy(w->dst, w->src, w->len);
	return NULL;
}

/*
 * @len bytes of anonymous memory faulted in even pages first, then odd
 * ones: neighbours are never physically adjacent, so a scatterlist of it
 * has an entry per page (DMA-API debugging can then see a sync of part
 * of one).
 */
static unsigned char *scattered(size_t len)
{
	unsigned char *p = unbacked(len);

	for (size_t i = 0; p && i < 2 * len; i += 2 * PAGE)
		p[i % len + (i >= len ? PAGE : 0)] = 1;
	return p;
}

/*
 * On the slow function (20 ms before a transfer's data moves): the CPU
 * writes one range of a registered buffer while a C2H into another is in
 * flight, and both keep their bytes.
 */
static bool test_regbuf_sync_range(void)
{
	size_t len = 64 * PAGE, off, n, late_off, late_len;
	unsigned char *buf = scattered(len), *cpu = malloc(len);
	unsigned char *card = malloc(len), *back = malloc(len);
	struct late_write w;
	pthread_t t;
	char bdf[64];
	uint32_t h = 0, hro = 0;
	int slow = root_port_index(bdf, sizeof(bdf));
	bool ok = buf && cpu && card && back;

	if (!EXPECT(ok) || !EXPECT(slow >= 0))
		return false;
	sgdma_close(dev);
	if (!EXPECT(t_open(slow)))
		return false;
	off = PAGE + 3 * info.seg_align;
	n = al_up(5 * PAGE + 7 * info.seg_align);
	fill_random(buf, len);
	ok &= EXPECT(reg(buf, len, 0, &h) == 0);
	/*
	 * The CPU rewrites the buffer after registration, and a part of it
	 * again during the C2H: a sync for the CPU of more than the C2H's
	 * range would bring back older bytes under swiotlb.
	 */
	fill_random(cpu, len);
	memcpy(buf, cpu, len);
	fill_random(card, n);
	ok &= EXPECT(h2c(0, card, n, SGDMA_XFER_COPY, NULL) == 0);
	late_off = off + n + PAGE;
	late_len = len - late_off;
	fill_random(cpu + late_off, late_len);
	w = (struct late_write){ buf + late_off, cpu + late_off, late_len };
	ok &= EXPECT(pthread_create(&t, NULL, write_late, &w) == 0);
	ok &= EXPECT(bx_c2h(0, h, off, n) == 0);
	pthread_join(t, NULL);
	ok &= EXPECT(same(buf + off, card, n));
	ok &= EXPECT(same(buf, cpu, off));
	ok &= EXPECT(same(buf + off + n, cpu + off + n, len - off - n));

	/*
	 * H2Cs of other ranges send what the CPU wrote there, through a
	 * read-only registration of the same memory: DMA-API debugging checks
	 * the syncs of a one-way mapping only, and sees a sync of part of a
	 * scatterlist from its first entry (the buffer's start).
	 */
	ok &= EXPECT(reg(buf, len, SGDMA_BUF_READONLY, &hro) == 0);
	ok &= EXPECT(bx_h2c(0, hro, late_off, n) == 0);
	ok &= EXPECT(c2h(0, back, n, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(back, cpu + late_off, n));
	ok &= EXPECT(bx_h2c(0, hro, 0, n) == 0);
	ok &= EXPECT(c2h(0, back, n, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(back, buf, n));
	ok &= EXPECT(same(buf, cpu, off));
	ok &= EXPECT(unreg(h) == 0 && unreg(hro) == 0);
	munmap(buf, len);
	free(cpu);
	free(card);
	free(back);
	return ok;
}

/* ---- narrow segment limits ---- */

/* The function with the shortest segments, if any narrows its limits. */
static int narrow_function(void)
{
	uint32_t shortest = UINT32_MAX;
	int found = -1;

	for (unsigned int i = 0; i < 64; i++) {
		struct sgdma_info in;
		struct sgdma_dev *d;

		if (sgdma_open_index(i, &d))
			continue;
		if (!sgdma_get_info(d, &in) &&
		    (in.max_seg_size != UINT32_MAX ||
		     in.seg_boundary != UINT64_MAX) &&
		    (found < 0 || in.max_seg_size < shortest)) {
			found = i;
			shortest = in.max_seg_size;
		}
		sgdma_close(d);
	}
	return found;
}

/* Physically contiguous memory for the transfers. */
struct contig {
	unsigned char *map;	/* the mapping, to unmap */
	size_t maplen;
	unsigned char *p;	/* its physically contiguous bytes */
	size_t len;
};

static long hugepages_before = -1;

/* Unmaps what contiguous() mapped and gives back its reservation. */
static void contig_free(struct contig *c)
{
	char buf[32];

	if (c->map)
		munmap(c->map, c->maplen);
	if (hugepages_before >= 0) {
		snprintf(buf, sizeof(buf), "%ld\n", hugepages_before);
		write_str(NR_HUGEPAGES, buf);
	}
}

/* The longest run of physically contiguous pages of @c->map (pagemap). */
static void longest_run(struct contig *c)
{
	int f = open("/proc/self/pagemap", O_RDONLY);
	uint64_t prev = 0, e, pfn;
	size_t run = 0, best = 0;

	for (size_t i = 0; f >= 0 && i < c->maplen / PAGE; i++) {
		off_t at = ((uintptr_t)c->map / PAGE + i) * sizeof(e);

		pfn = 0;
		if (pread(f, &e, sizeof(e), at) == sizeof(e) && (e >> 63))
			pfn = e & ((1ULL << 55) - 1);
		run = pfn && run && pfn == prev + 1 ? run + 1 : !!pfn;
		prev = pfn;
		if (run > best) {
			best = run;
			c->p = c->map + (i + 1 - run) * PAGE;
		}
	}
	if (f >= 0)
		close(f);
	c->len = best * PAGE < HUGE ? best * PAGE : HUGE;
}

/*
 * Physically contiguous memory, so that entries can span pages: a huge
 * page of hugetlbfs (one more reserved for it), else the longest run of
 * contiguous pages in memory faulted in page by page (a transparent huge
 * page where the kernel has them; kernels without either, such as the
 * debug lane's, still hand out ascending pages from split blocks).
 */
static bool contiguous(struct contig *c)
{
	char buf[32];

	*c = (struct contig){ .map = MAP_FAILED };
	hugepages_before = file_long(NR_HUGEPAGES);
	snprintf(buf, sizeof(buf), "%ld\n", hugepages_before + 1);
	if (hugepages_before >= 0 && write_str(NR_HUGEPAGES, buf)) {
		c->maplen = HUGE;
		c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
			      -1, 0);
	}
	if (c->map == MAP_FAILED) {
		c->maplen = SCAN;
		c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c->map == MAP_FAILED) {
			c->map = NULL;
			return false;
		}
		madvise(c->map, c->maplen, MADV_HUGEPAGE);
	}
	for (size_t i = 0; i < c->maplen; i += PAGE)
		c->map[i] = 0;
	longest_run(c);
	ktap_diag("%zu KiB physically contiguous (%s)", c->len / KiB,
		  c->maplen == HUGE ? "a hugetlbfs page" :
		  "the longest run in anonymous memory");
	return EXPECT(c->len >= MIN_RUN);
}

/*
 * Transfers that cross the boundary (and pages) at various offsets: one
 * starting just before a boundary, one a segment long, one inside a
 * segment, each within @half.
 */
struct piece {
	size_t off, len;
};

static unsigned int pieces(struct piece *p, size_t half)
{
	size_t a = info.seg_align, b = (size_t)info.seg_boundary + 1;
	size_t seg = info.max_seg_size / a * a;
	unsigned int n = 0;

	if (!info.seg_boundary || b > half / 4)
		b = half / 4;
	if (seg > half / 4)
		seg = half / 4;
	p[n++] = (struct piece){ b - 3 * a, 3 * b + 5 * a };
	p[n++] = (struct piece){ a, seg + a };
	p[n++] = (struct piece){ seg - a, 2 * seg + 3 * a };
	p[n++] = (struct piece){ b / 2 + a, b + 7 * a };
	p[n++] = (struct piece){ 0, half - b };
	return n;
}

/* @src, @dst: @half bytes each of contiguous memory; pinned or registered. */
static bool run_pieces(unsigned char *src, unsigned char *dst, size_t half,
		       bool regbuf)
{
	struct piece p[8];
	unsigned int n = pieces(p, half);
	uint32_t hs = 0, hd = 0;
	bool ok = true;

	fill_random(src, half);
	if (regbuf) {
		ok &= EXPECT(reg(src, half, SGDMA_BUF_READONLY, &hs) == 0);
		ok &= EXPECT(reg(dst, half, 0, &hd) == 0);
	}
	for (unsigned int i = 0; ok && i < n; i++) {
		size_t doff = p[(i + 1) % n].off, len = p[i].len;

		if (doff + len > half)
			doff = 0;
		ktap_diag("%s: %zu bytes from offset %zu to offset %zu",
			  regbuf ? "registered" : "pinned", len, p[i].off,
			  doff);
		memset(dst, FILLER, half);
		if (regbuf) {
			ok &= EXPECT(bx_h2c(0, hs, p[i].off, len) == 0);
			ok &= EXPECT(bx_c2h(0, hd, doff, len) == 0);
		} else {
			ok &= EXPECT(h2c(0, src + p[i].off, len,
					 SGDMA_XFER_PINNED, NULL) == 0);
			ok &= EXPECT(c2h(0, dst + doff, len,
					 SGDMA_XFER_PINNED, NULL) == 0);
		}
		ok &= EXPECT(same(dst + doff, src + p[i].off, len));
		for (size_t j = 0; ok && j < half; j++)
			if (j < doff || j >= doff + len)
				ok &= EXPECT(dst[j] == FILLER);
	}
	if (regbuf)
		ok &= EXPECT(unreg(hs) == 0 && unreg(hd) == 0);
	return ok;
}

static bool test_narrow(int fn, bool regbuf)
{
	struct contig c;
	bool ok;

	sgdma_close(dev);
	if (!EXPECT(t_open(fn)))
		return false;
	ok = contiguous(&c);
	if (ok) {
		size_t half = c.len / 2 / PAGE * PAGE;

		ok = run_pieces(c.p, c.p + half, half, regbuf);
	}
	contig_free(&c);
	return ok;
}

int main(void)
{
	int fn;

	ktap_plan(3);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS)) {
		ktap_diag("no device or no buffer support");
		return t_fail_all("setup");
	}
	RUN(test_regbuf_sync_range(), "regbuf_syncs_only_its_range");
	fn = narrow_function();
	if (fn >= 0) {
		ktap_diag("sgdma%d narrows its segment limits", fn);
		RUN(test_narrow(fn, false), "pinned_within_segment_limits");
		RUN(test_narrow(fn, true), "regbuf_within_segment_limits");
	} else {
		ktap_skip_needs("pinned_within_segment_limits",
				"strict-device",
				"no function narrows its segment limits");
		ktap_skip_needs("regbuf_within_segment_limits",
				"strict-device",
				"no function narrows its segment limits");
	}
	sgdma_close(dev);
	return ktap_finish();
}
