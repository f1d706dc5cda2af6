// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_data: data moved through every path and direction arrives byte for
 * byte, with the device's CRC32C matching one computed here: sizes from 1
 * byte to 64 MiB, unaligned starts and ends, page crossings, iovec arrays
 * up to the limit, untouched (unbacked) buffers, card memory edges.
 */
#define _GNU_SOURCE
#include "sgdma_test.h"

struct path {
	const char *name;
	uint32_t flags;
};

static const struct path paths[] = {
	{ "copy", SGDMA_XFER_COPY },
	{ "pinned", SGDMA_XFER_PINNED },
	{ "auto", 0 },
};

/* Whether the driver must accept these buffers on this path. */
static bool accepts(uint32_t flags, const void *a, const void *b, size_t len)
{
	uint32_t al = info.seg_align;

	if (!(flags & SGDMA_XFER_PINNED))
		return true;
	if (!(info.caps & SGDMA_CAP_PINNED))
		return false;
	return aligned_to((uintptr_t)a, al) && aligned_to(len, al) &&
	       (!b || aligned_to((uintptr_t)b, al));
}

/* e is the errno of a transfer that must succeed, or fail with EINVAL. */
static bool outcome(int e, bool accept, const char *what)
{
	if (accept ? e == 0 : e == EINVAL)
		return true;
	ktap_diag("%s: got %s, expected %s", what, e ? strerror(e) : "success",
		  accept ? "success" : "EINVAL");
	return false;
}

/*
 * H2C from a buffer at @smis, C2H back into one at @dmis, H2H from the
 * first into a third: contents, CRCs and guard bytes checked.
 */
static bool roundtrip(uint32_t flags, size_t len, size_t smis, size_t dmis,
		      uint64_t off)
{
	struct gbuf s = { 0 }, d = { 0 }, d2 = { 0 };
	uint32_t want, crc;
	bool ok = true, acc;
	int e;

	if (!gbuf_alloc(&s, len, smis) || !gbuf_alloc(&d, len, dmis) ||
	    !gbuf_alloc(&d2, len, dmis)) {
		ok = false;
		goto out;
	}
	fill_random(s.p, len);
	want = sgdma_crc32c(0, s.p, len);

	acc = accepts(flags, s.p, NULL, len);
	crc = ~want;
	e = h2c(off, s.p, len, flags | SGDMA_XFER_CRC, &crc);
	ok &= outcome(e, acc, "H2C");
	if (acc && !e)
		ok &= EXPECT(crc == want);
	if (!acc) {
		/* Put the data there another way for the C2H below. */
		ok &= EXPECT(h2c(off, s.p, len, SGDMA_XFER_COPY, NULL) == 0);
	}

	acc = accepts(flags, d.p, NULL, len);
	crc = ~want;
	e = c2h(off, d.p, len, flags | SGDMA_XFER_CRC, &crc);
	ok &= outcome(e, acc, "C2H");
	if (acc && !e) {
		ok &= EXPECT(crc == want);
		ok &= EXPECT(same(s.p, d.p, len));
	}

	acc = accepts(flags, s.p, d2.p, len);
	crc = ~want;
	e = h2h(d2.p, s.p, len, flags | SGDMA_XFER_CRC, &crc);
	ok &= outcome(e, acc, "H2H");
	if (acc && !e) {
		ok &= EXPECT(crc == want);
		ok &= EXPECT(same(s.p, d2.p, len));
	}
	ok &= EXPECT(gbuf_guards_ok(&s) && gbuf_guards_ok(&d) &&
		     gbuf_guards_ok(&d2));
out:
	if (!ok)
		ktap_diag("... len %zu, src +%zu, dst +%zu, card offset %llu",
			  len, smis, dmis, (unsigned long long)off);
	gbuf_free(&s);
	gbuf_free(&d);
	gbuf_free(&d2);
	return ok;
}

static const size_t sizes[] = {
	1, 2, 3, 8, 63, 511, 512, 4095, 4096, 4097, 12289, 65535, 65536,
	65537, 131077, MiB + 4099, 3 * MiB + 1,
};

static bool test_sizes(const struct path *p)
{
	bool ok = true;

	for (size_t i = 0; i < ARRAY_LEN(sizes) && ok; i++) {
		size_t len = sizes[i];
		uint64_t end = info.card_size - len;

		ok &= roundtrip(p->flags, len, 0, 0, 0);
		ok &= roundtrip(p->flags, len, 1, 3, 1);
		ok &= roundtrip(p->flags, len, 4093, 4095, 4095);
		ok &= roundtrip(p->flags, len, 5, 0, end);
		ok &= roundtrip(p->flags, len, 0, 4096 - 7, end - 1);
	}
	return ok;
}

/* 64 MiB into fresh memory and back, the whole card. */
static bool test_64mib(const struct path *p)
{
	size_t len = 64 * MiB;
	unsigned char *s, *d;
	uint32_t want, crc = 0;
	bool ok = true;

	if (info.card_size < len)
		len = info.card_size;
	s = unbacked(len);
	d = unbacked(len);
	if (!EXPECT(s && d))
		return false;
	fill_random(s, len);
	want = sgdma_crc32c(0, s, len);

	ok &= EXPECT(h2c(0, s, len, p->flags | SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == want);
	crc = 0;
	ok &= EXPECT(c2h(0, d, len, p->flags | SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == want) && EXPECT(same(s, d, len));
	munmap(d, len);

	d = unbacked(len);
	crc = 0;
	ok &= EXPECT(d && h2h(d, s, len, p->flags | SGDMA_XFER_CRC,
			      &crc) == 0);
	ok &= EXPECT(crc == want) && EXPECT(same(s, d, len));
	munmap(d, len);
	munmap(s, len);
	return ok;
}

/* An iovec layout over @buf: @n pieces, gaps between, lengths aligned. */
static size_t layout(struct sgdma_iovec *v, unsigned int n, unsigned char *buf,
		     size_t room, size_t maxlen, uint32_t al)
{
	size_t pos = 0, total = 0;

	for (unsigned int i = 0; i < n; i++) {
		size_t len = (rnd() % maxlen) / al * al;
		size_t gap = (rnd() % 97) / al * al;

		if (i % 11 == 5)
			len = 0;	/* empty iovecs are allowed */
		if (pos + gap + len > room)
			gap = len = 0;
		v[i].base = (uintptr_t)(buf + pos + gap);
		v[i].len = len;
		pos += gap + len;
		total += len;
	}
	return total;
}

/* A layout of @n or fewer pieces adding up to exactly @total. */
static unsigned int layout_total(struct sgdma_iovec *v, unsigned int n,
				 unsigned char *buf, size_t total,
				 size_t maxlen, uint32_t al)
{
	size_t pos = 0, left = total;
	unsigned int i;

	for (i = 0; i < n && left; i++) {
		size_t len = (rnd() % maxlen) / al * al;
		size_t gap = (rnd() % 61) / al * al;

		if (len > left || i == n - 1)
			len = left;
		v[i].base = (uintptr_t)(buf + pos + gap);
		v[i].len = len;
		pos += gap + len;
		left -= len;
	}
	return i;
}

static void gather(unsigned char *out, const struct sgdma_iovec *v,
		   unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		memcpy(out, (void *)(uintptr_t)v[i].base, v[i].len);
		out += v[i].len;
	}
}

/* iovec arrays of 1 to the limit, on each side. */
static bool test_iovecs(const struct path *p)
{
	unsigned int n = info.max_iovecs, nd;
	uint32_t al = (p->flags & SGDMA_XFER_PINNED) ? info.seg_align : 1;
	size_t room = 2 * MiB, total;
	struct sgdma_iovec *sv = calloc(n, sizeof(*sv));
	struct sgdma_iovec *dv = calloc(n, sizeof(*dv));
	unsigned char *sbuf = unbacked(room), *dbuf = unbacked(2 * room);
	unsigned char *want = malloc(room), *got = malloc(room);
	struct sgdma_xfer x;
	uint32_t crc;
	bool ok = true;

	if (!EXPECT(sv && dv && sbuf && dbuf && want && got))
		return false;
	if (al > 1)
		ktap_diag("iovecs aligned to %u for the pinned path", al);

	fill_random(sbuf, room);
	total = layout(sv, n, sbuf, room, 1500, al);
	gather(want, sv, n);
	crc = sgdma_crc32c(0, want, total);

	x = (struct sgdma_xfer){ .flags = p->flags | SGDMA_XFER_CRC,
				 .op = SGDMA_OP_H2C, .card_offset = 12345,
				 .src_iov = (uintptr_t)sv, .src_iovcnt = n };
	ok &= EXPECT(xfer_raw(&x) == 0);
	ok &= EXPECT(x.bytes == total) && EXPECT(x.crc == crc);

	nd = layout_total(dv, n, dbuf, total, 2100, al);
	x = (struct sgdma_xfer){ .flags = p->flags | SGDMA_XFER_CRC,
				 .op = SGDMA_OP_C2H, .card_offset = 12345,
				 .dst_iov = (uintptr_t)dv, .dst_iovcnt = nd };
	ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.crc == crc);
	gather(got, dv, nd);
	ok &= EXPECT(same(want, got, total));

	/* Host to host, both sides scattered differently. */
	memset(dbuf, 0, 2 * room);
	nd = layout_total(dv, 7, dbuf, total, total, al);
	x = (struct sgdma_xfer){ .flags = p->flags | SGDMA_XFER_CRC,
				 .op = SGDMA_OP_H2H,
				 .src_iov = (uintptr_t)sv, .src_iovcnt = n,
				 .dst_iov = (uintptr_t)dv, .dst_iovcnt = nd };
	ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.crc == crc);
	gather(got, dv, nd);
	ok &= EXPECT(same(want, got, total));
	ktap_diag("%s: %u and %u iovecs, %zu bytes", p->name, n, nd, total);

	free(sv);
	free(dv);
	free(want);
	free(got);
	munmap(sbuf, room);
	munmap(dbuf, 2 * room);
	return ok;
}

/*
 * Memory never touched: reads as zeros to the device, and takes writes.
 * The C2H lands on card memory filled with a pattern first, so a transfer
 * that left the fresh pages alone (they read as zeros) cannot pass.
 */
static bool test_unbacked(const struct path *p)
{
	size_t len = 5 * MiB + (p->flags & SGDMA_XFER_PINNED ? 0 : 17);
	unsigned char *s = unbacked(len), *d = unbacked(len);
	unsigned char *zero = calloc(1, len), *pattern = malloc(len);
	uint32_t crc = 0, want = sgdma_crc32c(0, zero, len);
	bool ok = true;

	if (!EXPECT(s && d && zero && pattern))
		return false;
	ok &= EXPECT(h2c(4096, s, len, p->flags | SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == want);
	fill_random(pattern, len);
	want = sgdma_crc32c(0, pattern, len);
	ok &= EXPECT(h2c(4096, pattern, len, SGDMA_XFER_COPY, NULL) == 0);
	crc = 0;
	ok &= EXPECT(c2h(4096, d, len, p->flags | SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == want) && EXPECT(same(d, pattern, len));
	munmap(s, len);
	munmap(d, len);
	free(zero);
	free(pattern);
	return ok;
}

/*
 * Small unaligned writes change exactly their bytes of card memory, also
 * at its end (where a padded window cannot extend past it).
 */
static bool test_card_edges(const struct path *p)
{
	const uint64_t bases[] = { 8192, info.card_size - 3 * PAGE };
	const size_t lens[] = { 1, 5, 4097 };
	unsigned char *pat = malloc(3 * PAGE), *got = malloc(3 * PAGE);
	unsigned char *data = malloc(5000);
	bool ok = true;

	if (!EXPECT(pat && got && data))
		return false;
	for (size_t b = 0; b < ARRAY_LEN(bases); b++) {
		for (size_t l = 0; l < ARRAY_LEN(lens); l++) {
			uint64_t base = bases[b];
			size_t len = lens[l];
			size_t at = l == 0 ? 3 * PAGE - 1 : PAGE + 3;
			bool acc;
			int e;

			fill_random(pat, 3 * PAGE);
			fill_random(data, len);
			ok &= EXPECT(pwrite(fd, pat, 3 * PAGE, base) ==
				     (ssize_t)(3 * PAGE));
			acc = accepts(p->flags, data, NULL, len);
			e = h2c(base + at, data, len, p->flags, NULL);
			ok &= outcome(e, acc, "H2C at edge");
			if (!acc)
				continue;
			memcpy(pat + at, data, len);
			ok &= EXPECT(pread(fd, got, 3 * PAGE, base) ==
				     (ssize_t)(3 * PAGE));
			ok &= EXPECT(same(pat, got, 3 * PAGE));
		}
	}
	free(pat);
	free(got);
	free(data);
	return ok;
}

/* The device's CRC32C is the iSCSI one: a known answer. */
static bool test_crc_known_answer(void)
{
	static const char digits[] = "123456789";
	char back[9];
	uint32_t crc = 0;
	bool ok = true;

	ok &= EXPECT(sgdma_crc32c(0, digits, 9) == 0xe3069283);
	ok &= EXPECT(h2c(100, digits, 9, SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == 0xe3069283);
	crc = 0;
	ok &= EXPECT(c2h(100, back, 9, SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == 0xe3069283) && EXPECT(!memcmp(back, digits, 9));
	crc = 0;
	ok &= EXPECT(h2h(back, digits, 9, SGDMA_XFER_CRC, &crc) == 0);
	ok &= EXPECT(crc == 0xe3069283);
	/* Without the flag the driver reports no CRC. */
	crc = 1;
	ok &= EXPECT(h2c(100, digits, 9, 0, &crc) == 0) && EXPECT(crc == 0);
	return ok;
}

/* The path the driver reports is the one asked for, or chosen by size. */
static bool test_path_choice(void)
{
	size_t big = info.copy_threshold + 4096;
	unsigned char *buf = unbacked(big);
	struct sgdma_iovec v = { (uintptr_t)buf, 64 };
	struct sgdma_xfer x = { .op = SGDMA_OP_H2C, .src_iov = (uintptr_t)&v,
				.src_iovcnt = 1 };
	bool ok = true;

	if (!EXPECT(buf))
		return false;
	ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.path == SGDMA_PATH_COPY);
	ok &= EXPECT(x.bytes == 64);
	x.flags = SGDMA_XFER_COPY;
	v.len = big;
	ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.path == SGDMA_PATH_COPY);
	if (info.caps & SGDMA_CAP_PINNED) {
		x.flags = 0;
		ok &= EXPECT(xfer_raw(&x) == 0) &&
		      EXPECT(x.path == SGDMA_PATH_PINNED);
		x.flags = SGDMA_XFER_PINNED;
		v.len = 64 * info.seg_align;
		ok &= EXPECT(xfer_raw(&x) == 0) &&
		      EXPECT(x.path == SGDMA_PATH_PINNED);
	}
	/* Nothing to move: success, no path. */
	v.len = 0;
	x.flags = 0;
	ok &= EXPECT(xfer_raw(&x) == 0) && EXPECT(x.path == SGDMA_PATH_NONE) &&
	      EXPECT(x.bytes == 0);
	munmap(buf, big);
	return ok;
}

/* Each channel, named explicitly, moves data. */
static bool test_each_channel(void)
{
	unsigned char a[300], b[300];
	bool ok = true;

	for (unsigned int c = 0; c < info.channels; c++) {
		struct sgdma_iovec v = { (uintptr_t)a, sizeof(a) };
		struct sgdma_iovec w = { (uintptr_t)b, sizeof(b) };
		struct sgdma_xfer x = { .flags = SGDMA_XFER_CHANNEL,
					.op = SGDMA_OP_H2H, .channel = c,
					.src_iov = (uintptr_t)&v, .src_iovcnt = 1,
					.dst_iov = (uintptr_t)&w,
					.dst_iovcnt = 1 };

		fill_random(a, sizeof(a));
		ok &= EXPECT(xfer_raw(&x) == 0) &&
		      EXPECT(same(a, b, sizeof(a)));
	}
	return ok;
}

/* The sysfs counters follow the transfers. */
static bool test_counters(void)
{
	long t0 = dev_stat(0, "transfers"), b0 = dev_stat(0, "bytes");
	long e0 = dev_stat(0, "errors");
	unsigned char buf[4096];
	bool ok = true;

	fill_random(buf, sizeof(buf));
	ok &= EXPECT(t0 >= 0 && b0 >= 0 && e0 >= 0);
	ok &= EXPECT(h2c(0, buf, sizeof(buf), SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(dev_stat(0, "transfers") == t0 + 1);
	ok &= EXPECT(dev_stat(0, "bytes") == b0 + 4096);
	ok &= EXPECT(dev_stat(0, "errors") == e0);
	return ok;
}

int main(void)
{
	char name[64];

	ktap_plan(4 * ARRAY_LEN(paths) + 4);
	if (!t_open(0))
		return t_fail_all("open");
	for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
		snprintf(name, sizeof(name), "sizes_%s", paths[i].name);
		RUN(test_sizes(&paths[i]), name);
		snprintf(name, sizeof(name), "iovecs_%s", paths[i].name);
		RUN(test_iovecs(&paths[i]), name);
		snprintf(name, sizeof(name), "unbacked_%s", paths[i].name);
		RUN(test_unbacked(&paths[i]), name);
		snprintf(name, sizeof(name), "card_edges_%s", paths[i].name);
		RUN(test_card_edges(&paths[i]), name);
	}
	RUN(test_64mib(&paths[0]), "64mib_copy");
	RUN(test_64mib(&paths[1]), "64mib_pinned");
	RUN(test_crc_known_answer(), "crc_known_answer");
	RUN(test_path_choice() && test_each_channel() && test_counters(),
	    "path_channels_counters");
	sgdma_close(dev);
	return ktap_finish();
}
