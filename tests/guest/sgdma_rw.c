// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_rw: read(2), write(2), pread(2), pwrite(2), readv(2), writev(2)
 * and lseek(2) on the device node move card memory through the copy path,
 * so dd and cat work; the end of card memory behaves like a file's.
 */
#define _GNU_SOURCE
#include <sys/uio.h>

#include "sgdma_test.h"

static bool test_pwrite_pread(void)
{
	static const size_t lens[] = { 1, 7, 4096, 4099, 200000, 3 * MiB + 5 };
	unsigned char *a = malloc(4 * MiB), *b = malloc(4 * MiB);
	bool ok = true;

	if (!EXPECT(a && b))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
		off_t off = (off_t)(i * 1234567 % (info.card_size - lens[i]));

		fill_random(a, lens[i]);
		memset(b, 0, lens[i]);
		ok &= EXPECT(pwrite(fd, a, lens[i], off) == (ssize_t)lens[i]);
		ok &= EXPECT(pread(fd, b + 1, lens[i], off) == (ssize_t)lens[i]);
		ok &= EXPECT(same(a, b + 1, lens[i]));
		/* The data is the same through XFER. */
		ok &= EXPECT(c2h(off, b, lens[i], 0, NULL) == 0);
		ok &= EXPECT(same(a, b, lens[i]));
	}
	free(a);
	free(b);
	return ok;
}

static bool test_position(void)
{
	unsigned char a[100], b[100];
	bool ok = true;

	fill_random(a, sizeof(a));
	ok &= EXPECT(lseek(fd, 5000, SEEK_SET) == 5000);
	ok &= EXPECT(write(fd, a, 60) == 60);
	ok &= EXPECT(lseek(fd, 0, SEEK_CUR) == 5060);
	ok &= EXPECT(write(fd, a + 60, 40) == 40);
	ok &= EXPECT(lseek(fd, -100, SEEK_CUR) == 5000);
	ok &= EXPECT(read(fd, b, 100) == 100) && EXPECT(same(a, b, 100));
	ok &= EXPECT(lseek(fd, 0, SEEK_END) == (off_t)info.card_size);
	ok &= EXPECT(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL);
	ok &= EXPECT(lseek(fd, (off_t)info.card_size + 1, SEEK_SET) < 0 &&
		     errno == EINVAL);
	return ok;
}

static bool test_vectors(void)
{
	unsigned char a[3000], b[3000];
	struct iovec w[3] = { { a, 1 }, { a + 1, 2047 }, { a + 2048, 952 } };
	struct iovec r[2] = { { b, 1501 }, { b + 1501, 1499 } };
	bool ok = true;

	fill_random(a, sizeof(a));
	ok &= EXPECT(pwritev(fd, w, 3, 777) == 3000);
	ok &= EXPECT(preadv(fd, r, 2, 777) == 3000);
	ok &= EXPECT(same(a, b, sizeof(a)));
	return ok;
}

static bool test_end_of_card(void)
{
	off_t end = (off_t)info.card_size;
	unsigned char a[64], b[64];
	bool ok = true;

	fill_random(a, sizeof(a));
	ok &= EXPECT(pread(fd, b, 64, end) == 0);
	ok &= EXPECT(pread(fd, b, 64, end + 4096) == 0);
	ok &= EXPECT(pwrite(fd, a, 64, end) < 0 && errno == ENOSPC);
	/* Short at the end, as a file. */
	ok &= EXPECT(pwrite(fd, a, 64, end - 10) == 10);
	ok &= EXPECT(pread(fd, b, 64, end - 10) == 10);
	ok &= EXPECT(same(a, b, 10));
	ok &= EXPECT(pread(fd, b, 0, 0) == 0);
	ok &= EXPECT(pwrite(fd, a, 0, 0) == 0);
	return ok;
}

static bool test_bad_buffers(void)
{
	unsigned char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok = true;

	if (!EXPECT(m != MAP_FAILED))
		return false;
	memset(m, 1, PAGE);
	mprotect(m + PAGE, PAGE, PROT_NONE);
	ok &= EXPECT(pread(fd, m + PAGE, 16, 0) < 0 && errno == EFAULT);
	ok &= EXPECT(pwrite(fd, m + PAGE, 16, 0) < 0 && errno == EFAULT);
	ok &= EXPECT(pread(fd, (void *)(uintptr_t)-4096L, 16, 0) < 0 &&
		     errno == EFAULT);
	mprotect(m, PAGE, PROT_READ);
	ok &= EXPECT(pread(fd, m, 16, 0) < 0 && errno == EFAULT);
	munmap(m, 2 * PAGE);
	return ok;
}

/* dd and cat, as a user would run them. */
static bool test_dd_cat(void)
{
	const char *in = "/tmp/sgdma_rw.in", *out = "/tmp/sgdma_rw.out";
	unsigned char *a = malloc(300000), *b = malloc(300000);
	bool ok = true;
	FILE *f;

	if (!EXPECT(a && b))
		return false;
	fill_random(a, 300000);
	f = fopen(in, "w");
	ok &= EXPECT(f && fwrite(a, 1, 300000, f) == 300000);
	if (f)
		fclose(f);
	ok &= EXPECT(system("dd if=/tmp/sgdma_rw.in of=/dev/sgdma0 bs=4096 "
			    "seek=3 conv=notrunc 2>/dev/null") == 0);
	ok &= EXPECT(system("dd if=/dev/sgdma0 of=/tmp/sgdma_rw.out bs=1000 "
			    "skip=12288 iflag=skip_bytes count=300 "
			    "2>/dev/null") == 0);
	f = fopen(out, "r");
	ok &= EXPECT(f && fread(b, 1, 300000, f) == 300000);
	if (f)
		fclose(f);
	ok &= EXPECT(same(a, b, 300000));
	/* cat reads the whole card and stops at its end. */
	f = popen("cat /dev/sgdma0 | wc -c", "r");
	if (EXPECT(f)) {
		unsigned long long n = 0;

		ok &= EXPECT(fscanf(f, "%llu", &n) == 1);
		ok &= EXPECT(n == info.card_size);
		pclose(f);
	}
	unlink(in);
	unlink(out);
	free(a);
	free(b);
	return ok;
}

int main(void)
{
	ktap_plan(6);
	if (!t_open(0))
		return t_fail_all("open");
	RUN(test_pwrite_pread(), "pwrite_pread");
	RUN(test_position(), "read_write_lseek");
	RUN(test_vectors(), "preadv_pwritev");
	RUN(test_end_of_card(), "end_of_card");
	RUN(test_bad_buffers(), "bad_buffers");
	RUN(test_dd_cat(), "dd_cat");
	sgdma_close(dev);
	return ktap_finish();
}
