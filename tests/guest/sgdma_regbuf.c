// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_regbuf: registered buffers. Data and CRC through handles, transfers
 * split into many descriptors and segments, every misuse refused, the
 * RLIMIT_MEMLOCK charge, release at free, close and exit, and a child that
 * inherits the file but not the rights to its parent's pins.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "sgdma_zc.h"

#define BIG	(6 * MiB + 3 * PAGE)

/* Data round trip: buffer -> card -> buffer, and buffer -> buffer. */
static bool test_roundtrip(void)
{
	size_t len = BIG, off = 2 * info.seg_align;
	unsigned char *a = backed(len + 2 * PAGE), *b = backed(len + 2 * PAGE);
	unsigned char *c = backed(len + 2 * PAGE);
	uint32_t ha = 0, hb = 0, hc = 0, crc = 0, crc2 = 0, crc3 = 0, want;
	long pin0 = vm_pin_kib(), pin1;
	bool ok = a && b && c;

	if (!ok)
		return false;
	fill_random(a, len + 2 * PAGE);
	/* Start inside a page: the table's first entry is partial. */
	ok &= EXPECT(reg(a + PAGE + info.seg_align, len, 0, &ha) == 0);
	ok &= EXPECT(reg(b, len + 2 * PAGE, 0, &hb) == 0);
	ok &= EXPECT(reg(c, len, 0, &hc) == 0);
	pin1 = vm_pin_kib();
	ok &= EXPECT(pin1 - pin0 >= (long)(3 * len / 1024));
	ok &= EXPECT(dev_stat(0, "pages_pinned") >= (long)(3 * len / PAGE));

	want = sgdma_crc32c(0, a + PAGE + info.seg_align + off, len - off);
	ok &= EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CRC, 4096, ha, off, 0, 0,
			len - off, &crc) == 0);
	ok &= EXPECT(crc == want);
	ok &= EXPECT(bx(SGDMA_OP_C2H, SGDMA_XFER_CRC, 4096, 0, 0, hb, PAGE,
			len - off, &crc2) == 0);
	ok &= EXPECT(crc2 == want);
	ok &= EXPECT(same(b + PAGE, a + PAGE + info.seg_align + off,
			  len - off));
	/* Bytes outside the range are untouched. */
	for (size_t i = 0; i < PAGE; i++)
		ok &= b[i] == 0;
	ok &= EXPECT(b[PAGE + len - off] == 0);
	/* Host to host, across the three buffers. */
	ok &= EXPECT(bx(SGDMA_OP_H2H, SGDMA_XFER_CRC, 0, hb, PAGE, hc, 0,
			len - off, &crc3) == 0);
	ok &= EXPECT(crc3 == want);
	ok &= EXPECT(same(c, a + PAGE + info.seg_align + off, len - off));

	/* CPU writes after registration reach the device. */
	fill_random(c, len);
	ok &= EXPECT(bx_h2c(0, hc, 0, len) == 0);
	ok &= EXPECT(c2h(0, b, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(b, c, len));

	ok &= EXPECT(unreg(ha) == 0 && unreg(hb) == 0 && unreg(hc) == 0);
	ok &= EXPECT(vm_pin_kib() == pin0);
	munmap(a, len + 2 * PAGE);
	munmap(b, len + 2 * PAGE);
	munmap(c, len + 2 * PAGE);
	return ok;
}

/* Many small pieces at random offsets, each its own transfer. */
static bool test_offsets(void)
{
	size_t len = 512 * KiB;
	unsigned char *a = backed(len), *b = backed(len);
	uint32_t ha = 0, hb = 0;
	bool ok = a && b;

	if (!ok)
		return false;
	fill_random(a, len);
	ok &= EXPECT(reg(a, len, SGDMA_BUF_READONLY, &ha) == 0);
	ok &= EXPECT(reg(b, len, 0, &hb) == 0);
	for (int i = 0; i < 64 && ok; i++) {
		size_t n = al_up(rnd() % (64 * KiB) + 1);
		size_t o = (rnd() % (len - n)) / info.seg_align *
			   info.seg_align;
		uint64_t card = rnd() % (info.card_size - n);

		ok &= EXPECT(bx_h2c(card, ha, o, n) == 0);
		ok &= EXPECT(bx_c2h(card, hb, o, n) == 0);
		ok &= EXPECT(same(b + o, a + o, n));
	}
	ok &= EXPECT(unreg(ha) == 0 && unreg(hb) == 0);
	munmap(a, len);
	munmap(b, len);
	return ok;
}

/* Every malformed request gets its errno, and none moves anything. */
static bool test_misuse(void)
{
	size_t len = 64 * KiB;
	unsigned char *a = backed(len), *ro;
	uint32_t h = 0, hro = 0, h2 = 0;
	struct sgdma_buf_xfer x;
	bool ok = a != NULL;
	int err;

	ro = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ok &= EXPECT(ro != MAP_FAILED);
	if (!ok)
		return false;
	ok &= EXPECT(reg(a, len, 0, &h) == 0);

	/* Registration. */
	ok &= EXPECT(reg(a, 0, 0, &h2) == EINVAL);
	ok &= EXPECT(reg(a, len, 0x80, &h2) == EINVAL);
	ok &= EXPECT(reg(a, SGDMA_BUF_MAX_LEN + 1, 0, &h2) == EINVAL);
	err = reg((void *)(uintptr_t)-PAGE, len, 0, &h2);
	ok &= EXPECT(err == EINVAL || err == EFAULT);
	ok &= EXPECT(reg((void *)0x10000, len, 0, &h2) == EFAULT);
	ok &= EXPECT(reg(ro, len, 0, &h2) == EFAULT);
	if (info.seg_align > 1)
		ok &= EXPECT(reg(a + 1, len - 1, 0, &h2) == EINVAL);
	ok &= EXPECT(reg(ro, len, SGDMA_BUF_READONLY, &hro) == 0);

	/* Handles. */
	ok &= EXPECT(bx_h2c(0, 0, 0, 64) == EINVAL);
	ok &= EXPECT(bx_h2c(0, SGDMA_MAX_BUFS + 1, 0, 64) == ENOENT);
	ok &= EXPECT(bx_h2c(0, 0xffffffffu, 0, 64) == ENOENT);
	ok &= EXPECT(bx_h2c(0, 0x80000001u, 0, 64) == ENOENT);
	ok &= EXPECT(bx_c2h(0, h + 7, 0, 64) == ENOENT);
	ok &= EXPECT(unreg(0) == ENOENT && unreg(SGDMA_MAX_BUFS + 1) == ENOENT);

	/* Ranges and fields. */
	ok &= EXPECT(bx_h2c(0, h, 0, len + info.seg_align) == EINVAL);
	ok &= EXPECT(bx_h2c(0, h, len, info.seg_align) == EINVAL);
	ok &= EXPECT(bx_h2c(0, h, UINT64_MAX - 63, 64) == EINVAL);
	ok &= EXPECT(bx_h2c(info.card_size - 64, h, 0, 128) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2C, 0, 0, h, 0, h, 0, 64, NULL) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_C2H, 0, 0, h, 0, h, 0, 64, NULL) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2H, 0, 64, h, 0, h, 0, 64, NULL) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2H, 0, 0, h, 0, 0, 0, 64, NULL) == EINVAL);
	ok &= EXPECT(bx(9, 0, 0, h, 0, 0, 0, 64, NULL) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_COPY, 0, h, 0, 0, 0, 64,
			NULL) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2C, SGDMA_XFER_CHANNEL, 0, h, 0, 0, 0, 64,
			NULL) == 0);
	ok &= EXPECT(bx(SGDMA_OP_H2C, 0, 0, h, 0, 0, 0, 64, NULL) == 0);
	x = (struct sgdma_buf_xfer){ .op = SGDMA_OP_H2C, .src_handle = h,
				     .len = 64, .channel = info.channels,
				     .flags = SGDMA_XFER_CHANNEL };
	ok &= EXPECT(sgdma_buf_xfer(dev, &x) == -EINVAL);
	x = (struct sgdma_buf_xfer){ .op = SGDMA_OP_H2C, .src_handle = h,
				     .len = 64, .__pad = 1 };
	ok &= EXPECT(sgdma_buf_xfer(dev, &x) == -EINVAL);
	if (info.seg_align > 1) {
		ok &= EXPECT(bx_h2c(0, h, 1, info.seg_align) == EINVAL);
		ok &= EXPECT(bx_h2c(0, h, 0, info.seg_align + 1) == EINVAL);
	}
	/* Zero length: valid, moves nothing. */
	ok &= EXPECT(bx_h2c(info.card_size, h, 0, 0) == 0);

	/* A read-only buffer is a source, never a destination. */
	ok &= EXPECT(bx_h2c(0, hro, 0, len) == 0);
	ok &= EXPECT(bx_c2h(0, hro, 0, 64) == EINVAL);
	ok &= EXPECT(bx(SGDMA_OP_H2H, 0, 0, h, 0, hro, 0, 64, NULL) == EINVAL);

	/* A freed handle is gone, and freeing it again fails. */
	ok &= EXPECT(unreg(hro) == 0);
	ok &= EXPECT(bx_h2c(0, hro, 0, 64) == ENOENT);
	ok &= EXPECT(unreg(hro) == ENOENT);
	ok &= EXPECT(unreg(h) == 0);
	munmap(a, len);
	munmap(ro, len);
	return ok;
}

/*
 * Handle 0 is never issued and names no buffer, even when handle 1 (the
 * table's first slot) is live: on a fresh file the first registration gets
 * handle 1, and freeing handle 0 must neither succeed nor take it.
 */
static bool test_handle_zero(void)
{
	unsigned char *a = backed(PAGE);
	uint32_t h = 0;
	bool ok = a != NULL;

	sgdma_close(dev);
	dev = NULL;
	ok &= EXPECT(t_open(0));
	if (!ok)
		return false;
	ok &= EXPECT(reg(a, PAGE, 0, &h) == 0) && EXPECT(h == 1);
	ok &= EXPECT(unreg(0) == ENOENT);
	/* Handle 1 is still there, and still its own. */
	ok &= EXPECT(bx_h2c(0, h, 0, PAGE) == 0);
	ok &= EXPECT(unreg(h) == 0);
	ok &= EXPECT(unreg(0) == ENOENT);
	munmap(a, PAGE);
	return ok;
}

/* Handles run out cleanly, and a freed one is not handed out at once. */
/*
 * Fills the handle table with one page registered over and over: read-only,
 * because more than a few writable mappings of one cacheline at a time is
 * what DMA-API debugging rightly reports as a bug.
 */
static bool test_table_full(void)
{
	const uint32_t ro = SGDMA_BUF_READONLY;
	unsigned char *a = backed(PAGE);
	uint32_t hs[SGDMA_MAX_BUFS], h = 0, h1 = 0;
	unsigned int n = 0;
	bool ok = a != NULL;

	if (!ok)
		return false;
	ok &= EXPECT(reg(a, PAGE, 0, &h1) == 0 && unreg(h1) == 0);
	ok &= EXPECT(reg(a, PAGE, 0, &h) == 0 && h != h1);
	ok &= EXPECT(unreg(h) == 0);
	while (n < SGDMA_MAX_BUFS && reg(a, PAGE, ro, &hs[n]) == 0)
		n++;
	ok &= EXPECT(n == SGDMA_MAX_BUFS);
	ok &= EXPECT(reg(a, PAGE, ro, &h) == ENOSPC);
	ok &= EXPECT(unreg(hs[7]) == 0);
	ok &= EXPECT(reg(a, PAGE, ro, &h) == 0 && h == hs[7]);
	for (unsigned int i = 0; i < n; i++)
		ok &= EXPECT(unreg(hs[i]) == 0);
	munmap(a, PAGE);
	return ok;
}

/* Pinned memory is charged to RLIMIT_MEMLOCK and refused past it. */
static int rlimit_child(void)
{
	struct rlimit rl = { 256 * KiB, 256 * KiB };
	unsigned char *a = backed(MiB);
	uint32_t h1 = 0, h2 = 0, h3 = 0;
	long pin0 = vm_pin_kib();
	bool ok = a && pin0 >= 0;

	ok &= EXPECT(drop_ipc_lock());
	ok &= EXPECT(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
	if (!ok)
		return 1;
	ok &= EXPECT(reg(a, 128 * KiB, 0, &h1) == 0);
	ok &= EXPECT(vm_pin_kib() == pin0 + 128);
	ok &= EXPECT(reg(a + 128 * KiB, 256 * KiB, 0, &h2) == ENOMEM);
	ok &= EXPECT(-sgdma_buf_alloc(dev, 256 * KiB, &h2, NULL) == ENOMEM);
	ok &= EXPECT(vm_pin_kib() == pin0 + 128);
	ok &= EXPECT(reg(a + 128 * KiB, 128 * KiB, 0, &h2) == 0);
	ok &= EXPECT(reg(a, PAGE, 0, &h3) == ENOMEM);
	ok &= EXPECT(unreg(h1) == 0);
	ok &= EXPECT(-sgdma_buf_alloc(dev, 128 * KiB, &h3, NULL) == 0);
	ok &= EXPECT(unreg(h2) == 0 && unreg(h3) == 0);
	ok &= EXPECT(vm_pin_kib() == pin0);
	return ok ? 0 : 1;
}

static bool test_rlimit(void)
{
	pid_t pid = fork();

	if (!pid)
		_exit(rlimit_child());
	return EXPECT(child_ok(pid));
}

/* Close and exit release every registration, with no unregister. */
static bool test_release_on_close(void)
{
	unsigned char *a = backed(4 * MiB);
	long pin0 = vm_pin_kib();
	uint32_t h = 0;
	bool ok = a != NULL;
	pid_t pid;

	if (!ok)
		return false;
	for (int i = 0; i < 4; i++)
		ok &= EXPECT(reg(a + i * MiB, MiB, 0, &h) == 0);
	ok &= EXPECT(vm_pin_kib() >= pin0 + 4096);
	sgdma_close(dev);
	dev = NULL;
	ok &= EXPECT(vm_pin_kib() == pin0);
	ok &= EXPECT(dev_stat(0, "pages_pinned") == 0);
	ok &= EXPECT(t_open(0));

	/* A process that exits with buffers registered on its own file. */
	pid = fork();
	if (!pid) {
		if (sgdma_open_index(0, &dev))
			_exit(1);
		for (int i = 0; i < 4; i++)
			if (reg(a + i * MiB, MiB, 0, &h))
				_exit(2);
		_exit(dev_stat(0, "pages_pinned") >= 1024 ? 0 : 3);
	}
	ok &= EXPECT(child_ok(pid));
	ok &= EXPECT(dev_stat(0, "pages_pinned") == 0);
	munmap(a, 4 * MiB);
	return ok;
}

/*
 * After fork the child shares the file but not the handles: its parent's
 * pages stay the parent's, the device reaches the parent's memory, and the
 * child is refused.
 */
static bool test_fork(void)
{
	size_t len = 256 * KiB;
	unsigned char *a = backed(len), *want = malloc(len), *got = malloc(len);
	int pfd[2];
	uint32_t h = 0;
	bool ok = a && want && got && pipe(pfd) == 0;
	pid_t pid;
	char c;

	if (!ok)
		return false;
	fill_random(a, len);
	ok &= EXPECT(reg(a, len, 0, &h) == 0);
	pid = fork();
	if (!pid) {
		bool cok = true;

		/* The child's copy of the memory: scribble over it. */
		memset(a, 0x5a, len);
		cok &= EXPECT(bx_h2c(0, h, 0, len) == EACCES);
		cok &= EXPECT(bx_c2h(0, h, 0, len) == EACCES);
		cok &= EXPECT(unreg(h) == EACCES);
		cok &= EXPECT(write(pfd[1], "x", 1) == 1);
		_exit(cok ? 0 : 1);
	}
	ok &= EXPECT(read(pfd[0], &c, 1) == 1);
	/* The parent's data, changed after fork, is what the device sees. */
	fill_random(a, len);
	memcpy(want, a, len);
	ok &= EXPECT(bx_h2c(0, h, 0, len) == 0);
	ok &= EXPECT(c2h(0, got, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(same(got, want, len));
	/* And the device writes land in the parent's memory. */
	fill_random(want, len);
	ok &= EXPECT(h2c(0, want, len, SGDMA_XFER_COPY, NULL) == 0);
	ok &= EXPECT(bx_c2h(0, h, 0, len) == 0);
	ok &= EXPECT(same(a, want, len));
	ok &= EXPECT(child_ok(pid));
	ok &= EXPECT(unreg(h) == 0);
	close(pfd[0]);
	close(pfd[1]);
	munmap(a, len);
	free(want);
	free(got);
	return ok;
}

/* Threads share handles of their process. */
struct thr {
	uint32_t h;
	unsigned char *p;
	size_t len;
	uint64_t card;
	bool ok;
};

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	unsigned char *tmp = malloc(t->len);

	t->ok = tmp != NULL;
	for (int i = 0; i < 20 && t->ok; i++) {
		memset(t->p, i + 1, t->len / 2);
		t->ok &= bx_h2c(t->card, t->h, 0, t->len / 2) == 0;
		t->ok &= bx_c2h(t->card, t->h, t->len / 2, t->len / 2) == 0;
		t->ok &= !memcmp(t->p, t->p + t->len / 2, t->len / 2);
	}
	free(tmp);
	return NULL;
}

static bool test_threads(void)
{
	struct thr t[4];
	pthread_t tid[4];
	bool ok = true;

	for (int i = 0; i < 4; i++) {
		t[i].len = 128 * KiB;
		t[i].p = backed(t[i].len);
		t[i].card = (uint64_t)(i + 1) * MiB;
		ok &= EXPECT(t[i].p && reg(t[i].p, t[i].len, 0, &t[i].h) == 0);
	}
	if (!ok)
		return false;
	for (int i = 0; i < 4; i++)
		pthread_create(&tid[i], NULL, thr_main, &t[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		ok &= EXPECT(t[i].ok);
		ok &= EXPECT(unreg(t[i].h) == 0);
		munmap(t[i].p, t[i].len);
	}
	return ok;
}

/*
 * Whether the kernel bounces this device's streaming DMA through swiotlb
 * (swiotlb=force): a registered buffer, mapped for as long as it lives,
 * then occupies bounce slots (2 KiB each).
 */
static bool mappings_bounce(void)
{
	const char *used = "/sys/kernel/debug/swiotlb/io_tlb_used";
	long long before = file_long(used), during = -1;
	unsigned char *p;
	uint32_t h = 0;

	if (before < 0) {
		ktap_diag("no swiotlb (no %s): nothing is bounced", used);
		return false;
	}
	p = backed(MiB);
	if (p && !reg(p, MiB, 0, &h)) {
		during = file_long(used);
		unreg(h);
	}
	if (p)
		munmap(p, MiB);
	ktap_diag("swiotlb slots in use: %lld, with 1 MiB registered %lld",
		  before, during);
	return during - before >= (long long)(MiB / 2048);
}

/*
 * More than the bounce-buffer pool (64 MiB) cannot be mapped: ENOMEM, as
 * documented, not EIO ("the device failed", which it never saw); nothing
 * stays pinned, and a buffer that fits works afterwards.
 */
static bool test_dma_space(void)
{
	size_t big = 80 * MiB, small = MiB;
	unsigned char *p = backed(big), *q = p + small;
	long pin0 = vm_pin_kib();
	uint32_t h = 0, hq = 0;
	bool ok = true;

	if (!EXPECT(p))
		return false;
	ok &= EXPECT(reg(p, big, 0, &h) == ENOMEM);
	ok &= EXPECT(vm_pin_kib() == pin0);
	memset(p, 0x3c, small);
	ok &= EXPECT(reg(p, small, SGDMA_BUF_READONLY, &h) == 0);
	ok &= EXPECT(reg(q, small, 0, &hq) == 0);
	ok &= EXPECT(bx_h2c(0, h, 0, small) == 0);
	ok &= EXPECT(bx_c2h(0, hq, 0, small) == 0);
	ok &= EXPECT(!memcmp(p, q, small));
	ok &= EXPECT(unreg(h) == 0 && unreg(hq) == 0);
	munmap(p, big);
	return ok;
}

int main(void)
{
	ktap_plan(10);
	if (!t_open(0) || !(info.caps & SGDMA_CAP_BUFS)) {
		ktap_diag("no device or no buffer support");
		return t_fail_all("setup");
	}
	RUN(test_roundtrip(), "roundtrip_many_descriptors");
	RUN(test_offsets(), "offsets_and_readonly");
	RUN(test_misuse(), "misuse_errno");
	RUN(test_handle_zero(), "handle_zero_names_no_buffer");
	RUN(test_table_full(), "handle_table_full");
	RUN(test_rlimit(), "rlimit_memlock");
	RUN(test_release_on_close(), "release_on_close_and_exit");
	RUN(test_fork(), "fork_no_inherited_rights");
	RUN(test_threads(), "threads_share_handles");
	if (mappings_bounce())
		RUN(test_dma_space(), "dma_space_exhausted");
	else
		ktap_skip_needs("dma_space_exhausted", "bounce",
				"streaming mappings are not bounced");
	sgdma_close(dev);
	return ktap_finish();
}
