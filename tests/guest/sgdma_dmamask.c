// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_dmamask: memory beyond a function's DMA reach. For every sgdma
 * function whose dma_bits do not cover the top of RAM, first prove that
 * the test's buffers lie above what the device can address (their page
 * frames, from /proc/self/pagemap), then move data through them on every
 * path: copy, pinned (both ways), automatic, registered buffers and
 * coherent buffers, which must themselves lie within reach. A driver whose
 * DMA mask is wider than the device hands it bus addresses it cannot
 * issue; the device refuses them (ADDR_RANGE) and the transfer fails.
 * Where all RAM is within every function's reach, every case skips:
 * needs=high-memory.
 */
#define _GNU_SOURCE
#include <dirent.h>

#include "sgdma_zc.h"

#define XFER_LEN	MiB
#define POOL_LEN	(2 * XFER_LEN)	/* source, then destination */
#define SCAN_CHUNK	(64 * MiB)
#define SCAN_RESERVE_KIB (256 * 1024)	/* MemAvailable the search leaves */
#define COHERENT_BUFS	4
#define MAX_FNS		16

struct fn {
	unsigned int minor;
	unsigned int dma_bits;
	uint64_t reach;		/* first byte the function cannot address */
	char bdf[64];
};

static struct fn fns[MAX_FNS];
static int nfns;
static uint64_t ram_top;	/* one past the last byte of System RAM */
/* POOL_LEN bytes whose every page lies beyond every function's reach. */
static unsigned char *pool;

/* ---- where memory lies ---- */

/* The end of the highest "System RAM" range of /proc/iomem (root only). */
static uint64_t find_ram_top(void)
{
	unsigned long long start, end;
	char line[256], name[64];
	uint64_t top = 0;
	FILE *f = fopen("/proc/iomem", "r");

	while (f && fgets(line, sizeof(line), f))
		if (line[0] != ' ' &&
		    sscanf(line, "%llx-%llx : %63[^\n]", &start, &end,
			   name) == 3 &&
		    !strcmp(name, "System RAM") && end + 1 > top)
			top = end + 1;
	if (f)
		fclose(f);
	return top;
}

/*
 * Pages of [@p, @p + @len) whose frame lies at or above @limit, or -1 if
 * pagemap cannot tell (a page not present, frames hidden).
 */
static long pages_beyond(const void *p, size_t len, uint64_t limit)
{
	size_t first = (uintptr_t)p / PAGE, n = len / PAGE;
	uint64_t entry;
	long beyond = 0;
	int pm = open("/proc/self/pagemap", O_RDONLY);

	if (pm < 0)
		return -1;
	for (size_t i = 0; i < n && beyond >= 0; i++) {
		uint64_t pfn;

		if (pread(pm, &entry, sizeof(entry),
			  (off_t)((first + i) * sizeof(entry))) !=
		    sizeof(entry) || !(entry >> 63))
			beyond = -1;
		pfn = entry & ((1ULL << 55) - 1);
		if (beyond >= 0 && !pfn)
			beyond = -1;
		if (beyond >= 0 && pfn * PAGE >= limit)
			beyond++;
	}
	close(pm);
	return beyond;
}

static long mem_available_kib(void)
{
	char line[128];
	long kib = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "MemAvailable:", 13))
			kib = atol(line + 13);
	if (f)
		fclose(f);
	return kib;
}

/*
 * Fill the pool with pages at or above @floor: touch fresh memory a chunk
 * at a time, move each page that lies high enough into the pool (mremap
 * moves the page, not its contents), and give the rest back. Bounded by
 * the memory available.
 */
static bool pool_build(uint64_t floor)
{
	size_t want = POOL_LEN / PAGE, found = 0, scanned = 0;
	unsigned char *chunks[256];
	int nchunks = 0;

	pool = mmap(NULL, POOL_LEN, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (pool == MAP_FAILED) {
		pool = NULL;
		return false;
	}
	while (found < want && nchunks < (int)ARRAY_LEN(chunks) &&
	       mem_available_kib() > SCAN_RESERVE_KIB) {
		unsigned char *c = unbacked(SCAN_CHUNK);

		if (!c)
			break;
		chunks[nchunks++] = c;
		madvise(c, SCAN_CHUNK, MADV_NOHUGEPAGE);
		for (size_t off = 0; off < SCAN_CHUNK; off += PAGE)
			c[off] = 1;
		scanned += SCAN_CHUNK;
		for (size_t off = 0; off < SCAN_CHUNK && found < want;
		     off += PAGE) {
			if (pages_beyond(c + off, PAGE, floor) != 1)
				continue;
			if (mremap(c + off, PAGE, PAGE,
				   MREMAP_MAYMOVE | MREMAP_FIXED,
				   pool + found * PAGE) == MAP_FAILED)
				break;
			found++;
		}
	}
	for (int i = 0; i < nchunks; i++)
		munmap(chunks[i], SCAN_CHUNK);
	ktap_diag("%zu of %zu pages at or above %#llx after touching %zu MiB",
		  found, want, (unsigned long long)floor, scanned / MiB);
	if (found < want) {
		munmap(pool, POOL_LEN);
		pool = NULL;
	}
	return pool;
}

/* The functions RAM extends beyond, into fns[]. */
static void find_functions(void)
{
	for (unsigned int minor = 0; minor < 64 && nfns < MAX_FNS; minor++) {
		struct fn *f = &fns[nfns];
		char path[128], link[64];
		struct sgdma_dev *d;
		struct sgdma_info in;
		ssize_t n;
		int err;

		if (sgdma_open_index(minor, &d))
			continue;
		err = sgdma_get_info(d, &in);
		sgdma_close(d);
		if (err || in.dma_bits >= 64 || ram_top <= 1ULL << in.dma_bits)
			continue;
		snprintf(path, sizeof(path), "/sys/class/sgdma/sgdma%u/device",
			 minor);
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		snprintf(f->bdf, sizeof(f->bdf), "%s",
			 strrchr(link, '/') ? strrchr(link, '/') + 1 : link);
		f->minor = minor;
		f->dma_bits = in.dma_bits;
		f->reach = 1ULL << in.dma_bits;
		ktap_diag("sgdma%u (%s): %u-bit DMA, RAM up to %#llx",
			  minor, f->bdf, f->dma_bits,
			  (unsigned long long)ram_top);
		nfns++;
	}
}

/*
 * sgdma PCI functions (device ID 0x5347) the driver is not bound to: a
 * function whose probe failed (its mask refused, its rings unusable)
 * would otherwise just be missing from the functions tested here.
 */
static int unbound_functions(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int unbound = 0;

	while (d && (e = readdir(d))) {
		char path[300], id[16] = "", link[128] = "";
		int f;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 e->d_name);
		f = open(path, O_RDONLY);
		if (f < 0)
			continue;
		if (read(f, id, sizeof(id) - 1) <= 0)
			id[0] = '\0';
		close(f);
		if (strncmp(id, "0x5347", 6))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver",
			 e->d_name);
		if (readlink(path, link, sizeof(link) - 1) < 0 ||
		    strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link,
			   "sgdma")) {
			ktap_diag("%s: no sgdma driver bound", e->d_name);
			unbound++;
		}
	}
	if (d)
		closedir(d);
	return unbound;
}

/* ---- transfers ---- */

static unsigned char *src_buf(void)
{
	return pool;
}

static unsigned char *dst_buf(void)
{
	return pool + XFER_LEN;
}

/* Both pool buffers still lie wholly beyond @f's reach. */
static bool pool_beyond(const struct fn *f)
{
	return EXPECT(pool) &&
	       EXPECT(pages_beyond(pool, POOL_LEN, f->reach) ==
		      (long)(POOL_LEN / PAGE));
}

/*
 * One XFER of @len bytes between card offset 0 and @buf (H2C or C2H) with
 * @flags; true if it took @path and the device's CRC is *@crc (H2C: set
 * it from @buf first).
 */
static bool xfer_via(uint16_t op, uint32_t flags, uint32_t path, void *buf,
		     size_t len, uint32_t *crc)
{
	struct sgdma_iovec iov = { .base = (uintptr_t)buf, .len = len };
	struct sgdma_xfer x = {
		.flags = flags | SGDMA_XFER_CRC, .op = op,
	};
	int err;

	if (op == SGDMA_OP_H2C) {
		x.src_iov = (uintptr_t)&iov;
		x.src_iovcnt = 1;
		*crc = sgdma_crc32c(0, buf, len);
	} else {
		x.dst_iov = (uintptr_t)&iov;
		x.dst_iovcnt = 1;
	}
	err = xfer_raw(&x);
	if (err) {
		ktap_diag("%s of %zu bytes (flags %#x): %s",
			  op == SGDMA_OP_H2C ? "H2C" : "C2H", len, flags,
			  strerror(err));
		return false;
	}
	return EXPECT(x.path == path) && EXPECT(x.bytes == len) &&
	       EXPECT(x.crc == *crc);
}

/* H2C from the high source and C2H into the high destination, on @path. */
static bool round_trip(uint32_t flags, uint32_t path)
{
	uint32_t crc;
	bool ok;

	fill_random(src_buf(), XFER_LEN);
	memset(dst_buf(), 0, XFER_LEN);
	ok = xfer_via(SGDMA_OP_H2C, flags, path, src_buf(), XFER_LEN, &crc);
	ok = ok && xfer_via(SGDMA_OP_C2H, flags, path, dst_buf(), XFER_LEN,
			    &crc);
	return ok && EXPECT(same(dst_buf(), src_buf(), XFER_LEN));
}

/* ---- cases, each run on one function (open as dev) ---- */

static bool test_beyond_reach(const struct fn *f)
{
	return pool_beyond(f);
}

static bool test_copy_path(const struct fn *f)
{
	return pool_beyond(f) &&
	       round_trip(SGDMA_XFER_COPY, SGDMA_PATH_COPY);
}

/* Pinned H2C from high pages, read back on the copy path. */
static bool test_pinned_h2c(const struct fn *f)
{
	unsigned char *back = malloc(XFER_LEN);
	uint32_t crc;
	bool ok = EXPECT(back) && pool_beyond(f);

	if (ok) {
		fill_random(src_buf(), XFER_LEN);
		ok = xfer_via(SGDMA_OP_H2C, SGDMA_XFER_PINNED,
			      SGDMA_PATH_PINNED, src_buf(), XFER_LEN, &crc);
		ok = ok && xfer_via(SGDMA_OP_C2H, SGDMA_XFER_COPY,
				    SGDMA_PATH_COPY, back, XFER_LEN, &crc);
		ok = ok && EXPECT(same(back, src_buf(), XFER_LEN));
	}
	free(back);
	return ok;
}

/* Card memory written on the copy path, pinned C2H into high pages. */
static bool test_pinned_c2h(const struct fn *f)
{
	unsigned char *data = malloc(XFER_LEN);
	uint32_t crc;
	bool ok = EXPECT(data) && pool_beyond(f);

	if (ok) {
		fill_random(data, XFER_LEN);
		memset(dst_buf(), 0, XFER_LEN);
		ok = xfer_via(SGDMA_OP_H2C, SGDMA_XFER_COPY, SGDMA_PATH_COPY,
			      data, XFER_LEN, &crc);
		ok = ok && xfer_via(SGDMA_OP_C2H, SGDMA_XFER_PINNED,
				    SGDMA_PATH_PINNED, dst_buf(), XFER_LEN,
				    &crc);
		ok = ok && EXPECT(same(dst_buf(), data, XFER_LEN));
	}
	free(data);
	return ok;
}

/* Neither COPY nor PINNED: the driver's choice, by the threshold. */
static bool test_automatic(const struct fn *f)
{
	uint32_t path = XFER_LEN >= info.copy_threshold ? SGDMA_PATH_PINNED :
							   SGDMA_PATH_COPY;

	ktap_diag("%zu bytes, threshold %u: the %s path expected", XFER_LEN,
		  info.copy_threshold,
		  path == SGDMA_PATH_PINNED ? "pinned" : "copy");
	return pool_beyond(f) && round_trip(0, path);
}

static bool test_registered(const struct fn *f)
{
	uint32_t hs = 0, hd = 0, crc = 0, want;
	bool ok = pool_beyond(f);

	if (!ok)
		return false;
	fill_random(src_buf(), XFER_LEN);
	memset(dst_buf(), 0, XFER_LEN);
	want = sgdma_crc32c(0, src_buf(), XFER_LEN);
	ok &= EXPECT(reg(src_buf(), XFER_LEN, 0, &hs) == 0);
	ok &= EXPECT(reg(dst_buf(), XFER_LEN, 0, &hd) == 0);
	ok = ok && EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CRC, 0, hs, 0, 0, 0,
			     XFER_LEN, &crc) == 0) && EXPECT(crc == want);
	ok = ok && EXPECT(bx(SGDMA_OP_C2H, SGDMA_XFER_CRC, 0, 0, 0, hd, 0,
			     XFER_LEN, &crc) == 0) && EXPECT(crc == want);
	ok = ok && EXPECT(same(dst_buf(), src_buf(), XFER_LEN));
	/* Host to host: the device reads and writes high pages at once. */
	memset(dst_buf(), 0, XFER_LEN);
	ok = ok && EXPECT(bx(SGDMA_OP_H2H, SGDMA_XFER_CRC, 0, hs, 0, hd, 0,
			     XFER_LEN, &crc) == 0) && EXPECT(crc == want);
	ok = ok && EXPECT(same(dst_buf(), src_buf(), XFER_LEN));
	if (hs)
		ok &= EXPECT(unreg(hs) == 0);
	if (hd)
		ok &= EXPECT(unreg(hd) == 0);
	return ok;
}

struct coherent {
	uint32_t handle;
	unsigned char *map;
};

static bool coherent_get(struct coherent *c)
{
	void *map = NULL;

	c->map = NULL;
	if (!EXPECT(sgdma_buf_alloc(dev, XFER_LEN, &c->handle, NULL) == 0))
		return false;
	if (!EXPECT(sgdma_buf_mmap(dev, c->handle, XFER_LEN, &map) == 0)) {
		unreg(c->handle);
		return false;
	}
	c->map = map;
	return true;
}

static bool coherent_put(struct coherent *c)
{
	if (!c->map)
		return true;
	munmap(c->map, XFER_LEN);
	c->map = NULL;
	return EXPECT(unreg(c->handle) == 0);
}

/*
 * dma_alloc_coherent() honours the coherent mask: every coherent buffer
 * lies within reach. pagemap cannot show where (its page walk skips the
 * VM_PFNMAP mapping) and the driver reports no bus address, so the device
 * proves it: it refuses any address beyond its width (ADDR_RANGE), and
 * here it reads and writes every byte of four buffers.
 */
static bool test_coherent_within_reach(const struct fn *f)
{
	struct coherent c[COHERENT_BUFS];
	uint32_t crc = 0, want;
	bool ok = true;
	int n = 0;

	(void)f;
	for (; n < COHERENT_BUFS && ok; n++) {
		ok = coherent_get(&c[n]);
		if (!ok)
			break;
		fill_random(c[n].map, XFER_LEN);
		want = sgdma_crc32c(0, c[n].map, XFER_LEN);
		ok = EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CRC, 0, c[n].handle, 0,
			       0, 0, XFER_LEN, &crc) == 0) &&
		     EXPECT(crc == want);
		memset(c[n].map, 0, XFER_LEN);
		ok = ok && EXPECT(bx(SGDMA_OP_C2H, SGDMA_XFER_CRC, 0, 0, 0,
				     c[n].handle, 0, XFER_LEN, &crc) == 0) &&
		     EXPECT(crc == want) &&
		     EXPECT(sgdma_crc32c(0, c[n].map, XFER_LEN) == want);
		if (!ok)
			ktap_diag("coherent buffer %d", n);
	}
	while (n-- > 0)
		ok &= coherent_put(&c[n]);
	return ok;
}

/* Data through coherent buffers, alone and with the high pool. */
static bool test_coherent_data(const struct fn *f)
{
	struct coherent a = { 0 }, b = { 0 };
	uint32_t hs = 0, crc = 0, want;
	bool ok = pool_beyond(f) && coherent_get(&a) && coherent_get(&b);

	if (ok) {
		fill_random(a.map, XFER_LEN);
		want = sgdma_crc32c(0, a.map, XFER_LEN);
		ok = EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CRC, 0, a.handle, 0, 0,
			       0, XFER_LEN, &crc) == 0) && EXPECT(crc == want);
		ok = ok && EXPECT(bx(SGDMA_OP_C2H, SGDMA_XFER_CRC, 0, 0, 0,
				     b.handle, 0, XFER_LEN, &crc) == 0) &&
		     EXPECT(crc == want);
		ok = ok && EXPECT(same(b.map, a.map, XFER_LEN));
	}
	/* A registered high buffer into a coherent one. */
	if (ok) {
		fill_random(src_buf(), XFER_LEN);
		want = sgdma_crc32c(0, src_buf(), XFER_LEN);
		ok = EXPECT(reg(src_buf(), XFER_LEN, 0, &hs) == 0);
		ok = ok && EXPECT(bx(SGDMA_OP_H2H, SGDMA_XFER_CRC, 0, hs, 0,
				     b.handle, 0, XFER_LEN, &crc) == 0) &&
		     EXPECT(crc == want);
		ok = ok && EXPECT(same(b.map, src_buf(), XFER_LEN));
		if (hs)
			ok &= EXPECT(unreg(hs) == 0);
	}
	ok &= coherent_put(&a);
	ok &= coherent_put(&b);
	return ok;
}

/* ---- main ---- */

static const struct {
	const char *name;
	bool (*run)(const struct fn *f);
} cases[] = {
	{ "buffers_beyond_dma_reach", test_beyond_reach },
	{ "copy_path", test_copy_path },
	{ "pinned_h2c", test_pinned_h2c },
	{ "pinned_c2h", test_pinned_c2h },
	{ "automatic_mode", test_automatic },
	{ "registered_buffers", test_registered },
	{ "coherent_within_reach", test_coherent_within_reach },
	{ "coherent_buffers", test_coherent_data },
};

/* Runs @run on every function RAM extends beyond. */
static bool on_each_function(bool (*run)(const struct fn *f))
{
	bool ok = true;

	for (int i = 0; i < nfns; i++) {
		if (!EXPECT(t_open(fns[i].minor))) {
			ok = false;
			continue;
		}
		if (!run(&fns[i])) {
			ktap_diag("failed on sgdma%u (%u-bit DMA)",
				  fns[i].minor, fns[i].dma_bits);
			ok = false;
		}
		sgdma_close(dev);
	}
	return ok;
}

int main(void)
{
	uint64_t floor = 0;
	char why[160];

	ktap_plan(ARRAY_LEN(cases));
	ram_top = find_ram_top();
	ktap_diag("System RAM ends at %#llx", (unsigned long long)ram_top);
	find_functions();
	if (unbound_functions()) {
		for (size_t i = 0; i < ARRAY_LEN(cases); i++)
			ktap_result(false, cases[i].name);
		return ktap_finish();
	}
	if (!nfns) {
		snprintf(why, sizeof(why),
			 "all RAM (up to %#llx) is within every sgdma function's DMA reach",
			 (unsigned long long)ram_top);
		for (size_t i = 0; i < ARRAY_LEN(cases); i++)
			ktap_skip_needs(cases[i].name, "high-memory", why);
		return ktap_finish();
	}
	for (int i = 0; i < nfns; i++)
		if (fns[i].reach > floor)
			floor = fns[i].reach;
	pool_build(floor);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		RUN(on_each_function(cases[i].run), cases[i].name);
	return ktap_finish();
}
