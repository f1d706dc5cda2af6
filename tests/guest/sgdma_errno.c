// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_errno: every malformed XFER is refused with its documented errno,
 * leaves nothing pinned and writes nothing back.
 */
#define _GNU_SOURCE
#include "sgdma_test.h"

static unsigned char *buf;	/* 64 KiB, page aligned */
static unsigned char *none;	/* a PROT_NONE page */
static unsigned char *ro;	/* a read-only page */
static const uint32_t mode_flags[] = { SGDMA_XFER_COPY, SGDMA_XFER_PINNED };

static struct sgdma_iovec iov1, iov2;

/* An H2C of 64 bytes from buf to card offset 0: valid as it stands. */
static struct sgdma_xfer valid_h2c(void)
{
	iov1 = (struct sgdma_iovec){ (uintptr_t)buf, 64 };
	return (struct sgdma_xfer){ .size = sizeof(struct sgdma_xfer),
				    .op = SGDMA_OP_H2C,
				    .src_iov = (uintptr_t)&iov1,
				    .src_iovcnt = 1 };
}

static struct sgdma_xfer valid_h2h(void)
{
	iov1 = (struct sgdma_iovec){ (uintptr_t)buf, 64 };
	iov2 = (struct sgdma_iovec){ (uintptr_t)buf + 4096, 64 };
	return (struct sgdma_xfer){ .size = sizeof(struct sgdma_xfer),
				    .op = SGDMA_OP_H2H,
				    .src_iov = (uintptr_t)&iov1, .src_iovcnt = 1,
				    .dst_iov = (uintptr_t)&iov2,
				    .dst_iovcnt = 1 };
}

/* Runs @x as it is (size included); returns errno or 0. */
static int xfer_as_is(struct sgdma_xfer *x)
{
	return ioctl(fd, SGDMA_IOC_XFER, x) < 0 ? errno : 0;
}

/* Expects @x to fail with @err and to come back unchanged. */
static bool refused(struct sgdma_xfer x, int err, const char *what)
{
	struct sgdma_xfer copy = x;
	int e = xfer_as_is(&x);

	if (e == err && !memcmp(&x, &copy, sizeof(x)))
		return true;
	ktap_diag("%s: got %s, expected %s%s", what, e ? strerror(e) : "success",
		  strerror(err), memcmp(&x, &copy, sizeof(x)) ?
		  " (and the structure changed)" : "");
	return false;
}

static bool test_size(void)
{
	unsigned char big[sizeof(struct sgdma_xfer) + 64] = { 0 };
	struct sgdma_xfer x = valid_h2c();
	bool ok = true;

	ok &= EXPECT(xfer_as_is(&x) == 0);
	for (uint32_t size = 0; size < SGDMA_XFER_SIZE_VER0; size += 4) {
		x = valid_h2c();
		x.size = size;
		ok &= refused(x, EINVAL, "short size");
	}
	/* A newer caller: unknown trailing fields must be zero. */
	x = valid_h2c();
	x.size = sizeof(big);
	memcpy(big, &x, sizeof(x));
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, big) == 0);
	big[sizeof(big) - 1] = 1;
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, big) < 0 && errno == E2BIG);
	return ok;
}

static bool test_struct_pointer(void)
{
	bool ok = true;

	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, NULL) < 0 && errno == EFAULT);
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, none) < 0 && errno == EFAULT);
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, (void *)-4096L) < 0 &&
		     errno == EFAULT);
	/* Readable but not writable: the answer cannot be written back. */
	struct sgdma_xfer x = valid_h2c();

	/* main() put a copy of x there before making the page read-only */
	ok &= EXPECT(ioctl(fd, SGDMA_IOC_XFER, ro + 1024) < 0 &&
		     errno == EFAULT);
	/* Wrong direction or no argument: not this ioctl. */
	ok &= EXPECT(ioctl(fd, _IOW(SGDMA_IOC_MAGIC, 0x01, struct sgdma_xfer),
			   &x) < 0 && errno == ENOTTY);
	ok &= EXPECT(ioctl(fd, _IO(SGDMA_IOC_MAGIC, 0x01)) < 0 &&
		     errno == ENOTTY);
	return ok;
}

static bool test_flags(void)
{
	struct sgdma_xfer x;
	bool ok = true;

	const uint32_t known = SGDMA_XFER_CRC | SGDMA_XFER_COPY |
			       SGDMA_XFER_PINNED | SGDMA_XFER_CHANNEL |
			       SGDMA_XFER_POLL;

	for (int bit = 0; bit < 32; bit++) {
		if (known & (1U << bit))
			continue;
		x = valid_h2c();
		x.flags = 1U << bit;
		ok &= refused(x, EINVAL, "unknown flag");
	}
	x = valid_h2c();
	x.flags = SGDMA_XFER_COPY | SGDMA_XFER_PINNED;
	ok &= refused(x, EINVAL, "COPY|PINNED");
	x = valid_h2c();
	x.__reserved = 1;
	ok &= refused(x, EINVAL, "reserved");
	x.__reserved = 0x8000;
	ok &= refused(x, EINVAL, "reserved");
	return ok;
}

static bool test_op(void)
{
	static const uint16_t bad[] = { 0, 4, 5, 0x100, 0xffff };
	bool ok = true;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct sgdma_xfer x = valid_h2c();

		x.op = bad[i];
		ok &= refused(x, EINVAL, "op");
	}
	return ok;
}

static bool test_channel(void)
{
	static const uint32_t bad[] = { 0, 1, 31, 32, 0x80000000, 0xffffffff };
	struct sgdma_xfer x;
	bool ok = true;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		uint32_t c = bad[i] < 32 ? info.channels + bad[i] : bad[i];

		x = valid_h2c();
		x.flags = SGDMA_XFER_CHANNEL;
		x.channel = c;
		ok &= refused(x, EINVAL, "channel out of range");
	}
	/* A channel number without the flag. */
	x = valid_h2c();
	x.channel = 1;
	ok &= refused(x, EINVAL, "channel without flag");
	/* The last channel is fine. */
	x = valid_h2c();
	x.flags = SGDMA_XFER_CHANNEL;
	x.channel = info.channels - 1;
	ok &= EXPECT(xfer_as_is(&x) == 0);
	return ok;
}

static bool test_sides(void)
{
	struct sgdma_xfer x;
	bool ok = true;

	x = valid_h2c();
	x.dst_iov = (uintptr_t)&iov2;
	ok &= refused(x, EINVAL, "H2C with dst_iov");
	x = valid_h2c();
	x.dst_iovcnt = 1;
	ok &= refused(x, EINVAL, "H2C with dst_iovcnt");
	x = valid_h2c();
	x.src_iovcnt = 0;
	ok &= refused(x, EINVAL, "H2C without source");

	x = valid_h2c();
	x.op = SGDMA_OP_C2H;
	ok &= refused(x, EINVAL, "C2H with src_iov");
	x.dst_iov = x.src_iov;
	x.dst_iovcnt = 1;
	x.src_iov = 0;
	ok &= refused(x, EINVAL, "C2H with src_iovcnt");
	x.src_iovcnt = 0;
	ok &= EXPECT(xfer_as_is(&x) == 0);
	x.dst_iovcnt = 0;
	ok &= refused(x, EINVAL, "C2H without destination");

	x = valid_h2h();
	x.card_offset = 4096;
	ok &= refused(x, EINVAL, "H2H with card offset");
	x = valid_h2h();
	x.dst_iovcnt = 0;
	ok &= refused(x, EINVAL, "H2H without destination");
	x = valid_h2h();
	iov2.len = 65;
	ok &= refused(x, EINVAL, "H2H lengths differ");
	return ok;
}

static bool test_iovcnt(void)
{
	unsigned int n = info.max_iovecs;
	struct sgdma_iovec *v = calloc(n + 1, sizeof(*v));
	struct sgdma_xfer x = valid_h2c();
	bool ok = true;

	if (!EXPECT(v))
		return false;
	for (unsigned int i = 0; i <= n; i++)
		v[i] = (struct sgdma_iovec){ (uintptr_t)buf + i, 1 };
	x.src_iov = (uintptr_t)v;
	x.src_iovcnt = n;
	ok &= EXPECT(xfer_as_is(&x) == 0);
	x.src_iovcnt = n + 1;
	ok &= refused(x, EINVAL, "one iovec too many");
	x.src_iovcnt = 0xffffffff;
	ok &= refused(x, EINVAL, "2^32-1 iovecs");
	free(v);
	return ok;
}

static bool test_iov_array_fault(void)
{
	struct sgdma_xfer x = valid_h2c();
	bool ok = true;

	x.src_iov = 0;
	ok &= refused(x, EFAULT, "NULL iovec array");
	x.src_iov = (uintptr_t)none;
	ok &= refused(x, EFAULT, "PROT_NONE iovec array");
	x.src_iov = (uintptr_t)-4096L;
	ok &= refused(x, EFAULT, "kernel iovec array");
	/* Two entries, the second one in the PROT_NONE page. */
	x.src_iov = (uintptr_t)(none - sizeof(iov1));
	x.src_iovcnt = 1;
	ok &= EXPECT(xfer_as_is(&x) == 0);
	x.src_iovcnt = 2;
	ok &= refused(x, EFAULT, "iovec array runs into PROT_NONE");
	return ok;
}

static bool test_lengths(void)
{
	struct sgdma_iovec v[2];
	struct sgdma_xfer x = valid_h2c();
	bool ok = true;

	x.src_iov = (uintptr_t)v;
	x.src_iovcnt = 2;
	/* The sum wraps around 2^64. */
	v[0] = (struct sgdma_iovec){ (uintptr_t)buf, 1ULL << 63 };
	v[1] = (struct sgdma_iovec){ (uintptr_t)buf, 1ULL << 63 };
	ok &= refused(x, EINVAL, "length sum overflows");
	v[0].len = ~0ULL;
	v[1].len = 1;
	ok &= refused(x, EINVAL, "length sum overflows");
	/* Above the documented limit, in one or two pieces. */
	x.src_iovcnt = 1;
	v[0].len = SGDMA_XFER_MAX_LEN + 1;
	ok &= refused(x, EINVAL, "longer than SGDMA_XFER_MAX_LEN");
	x.src_iovcnt = 2;
	v[0].len = SGDMA_XFER_MAX_LEN;
	v[1].len = 1;
	ok &= refused(x, EINVAL, "longer than SGDMA_XFER_MAX_LEN");
	/* An address range that wraps. */
	x.src_iovcnt = 1;
	v[0] = (struct sgdma_iovec){ ~0ULL - 4095, 8192 };
	ok &= refused(x, EINVAL, "address range wraps");
	return ok;
}

static bool test_bad_memory(void)
{
	static const struct { uint64_t base; const char *what; } bad[] = {
		{ 0xffff888000000000ULL, "kernel address" },
		{ 0x0000700000000000ULL, "unmapped address" },
		{ 0, "NULL" },
	};
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(mode_flags); m++) {
		uint32_t flags = mode_flags[m];
		struct sgdma_xfer x;

		for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
			x = valid_h2c();
			x.flags = flags;
			iov1.base = bad[i].base;
			ok &= refused(x, EFAULT, bad[i].what);
		}
		x = valid_h2c();
		x.flags = flags;
		iov1.base = (uintptr_t)none;
		ok &= refused(x, EFAULT, "H2C from PROT_NONE");

		/* Readable pages, then PROT_NONE: a short pin or copy. */
		iov1 = (struct sgdma_iovec){ (uintptr_t)none - 3 * 4096,
					     4 * 4096 };
		ok &= refused(x, EFAULT, "H2C running into PROT_NONE");

		/* The device may not write read-only memory. */
		x = valid_h2c();
		x.flags = flags;
		x.op = SGDMA_OP_C2H;
		x.dst_iov = x.src_iov;
		x.dst_iovcnt = 1;
		x.src_iov = 0;
		x.src_iovcnt = 0;
		iov1.base = (uintptr_t)ro;
		ok &= refused(x, EFAULT, "C2H into read-only memory");
		x = valid_h2h();
		x.flags = flags;
		iov2.base = (uintptr_t)ro;
		ok &= refused(x, EFAULT, "H2H into read-only memory");
		/* The read-only page itself is untouched. */
		for (int i = 0; i < 64; i++)
			ok &= EXPECT(ro[i] == 0x5a);
	}
	return ok;
}

static bool test_card_range(void)
{
	static const struct { uint64_t off, len; int err; } cases[] = {
		{ 0, 1, 0 },
		{ ~0ULL, 1, EINVAL },
		{ ~0ULL - 30, 64, EINVAL },
		{ 1ULL << 63, 64, EINVAL },
	};
	uint64_t end = info.card_size;
	bool ok = true;

	for (size_t m = 0; m < ARRAY_LEN(mode_flags); m++) {
		struct sgdma_xfer x = valid_h2c();

		x.flags = mode_flags[m] == SGDMA_XFER_COPY ? SGDMA_XFER_COPY : 0;
		for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
			x.card_offset = cases[i].off;
			iov1.len = cases[i].len;
			if (cases[i].err)
				ok &= refused(x, cases[i].err, "card range");
			else
				ok &= EXPECT(xfer_as_is(&x) == 0);
		}
		x.card_offset = end;
		iov1.len = 1;
		ok &= refused(x, EINVAL, "offset at the end of card memory");
		x.card_offset = end - 1;
		iov1.len = 2;
		ok &= refused(x, EINVAL, "range past the end of card memory");
		x.card_offset = end - 1;
		iov1.len = 1;
		ok &= EXPECT(xfer_as_is(&x) == 0);
		x.op = SGDMA_OP_C2H;
		x.dst_iov = x.src_iov;
		x.dst_iovcnt = 1;
		x.src_iov = 0;
		x.src_iovcnt = 0;
		iov1.len = 2;
		ok &= refused(x, EINVAL, "C2H past the end of card memory");
	}
	return ok;
}

/* The pinned path needs buffers aligned as the device wants them. */
static bool test_pinned_alignment(void)
{
	struct sgdma_xfer x = valid_h2c();
	bool ok = true;

	x.flags = SGDMA_XFER_PINNED;
	iov1 = (struct sgdma_iovec){ (uintptr_t)buf + 1, 64 };
	if (info.seg_align > 1) {
		ok &= refused(x, EINVAL, "pinned, unaligned start");
		iov1 = (struct sgdma_iovec){ (uintptr_t)buf, info.seg_align + 1 };
		ok &= refused(x, EINVAL, "pinned, unaligned length");
		/* Automatic mode takes the copy path instead. */
		x.flags = 0;
		ok &= EXPECT(xfer_as_is(&x) == 0) &&
		      EXPECT(x.path == SGDMA_PATH_COPY);
	} else {
		ok &= EXPECT(xfer_as_is(&x) == 0) &&
		      EXPECT(x.path == SGDMA_PATH_PINNED);
	}
	return ok;
}

int main(void)
{
	ktap_plan(12);
	if (!t_open(0))
		return t_fail_all("open");
	buf = mmap(NULL, 64 * KiB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* Three readable pages, a read-only one, an inaccessible one. */
	ro = mmap(NULL, 5 * PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(ro, 0x33, 3 * PAGE);
	ro += 3 * PAGE;
	none = ro + PAGE;
	memset(buf, 0x11, 64 * KiB);
	memset(ro, 0x5a, PAGE);
	{
		struct sgdma_xfer x = valid_h2c();

		memcpy(ro + 1024, &x, sizeof(x));
		memcpy(none - sizeof(iov1), &iov1, sizeof(iov1));
	}
	mprotect(ro, PAGE, PROT_READ);
	mprotect(none, PAGE, PROT_NONE);

	RUN(test_size(), "xfer_size");
	RUN(test_struct_pointer(), "xfer_struct_pointer");
	RUN(test_flags(), "xfer_flags_reserved");
	RUN(test_op(), "xfer_op");
	RUN(test_channel(), "xfer_channel");
	RUN(test_sides(), "xfer_sides");
	RUN(test_iovcnt(), "xfer_iovcnt");
	RUN(test_iov_array_fault(), "xfer_iov_array_fault");
	RUN(test_lengths(), "xfer_length_overflow");
	RUN(test_bad_memory(), "xfer_bad_user_memory");
	RUN(test_card_range(), "xfer_card_range");
	RUN(test_pinned_alignment(), "xfer_pinned_alignment");
	sgdma_close(dev);
	return ktap_finish();
}
