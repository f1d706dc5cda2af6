// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Host tests of the sgdma tool's device-independent parts (sgdma-cli.c)
 * and of the libsgdma calls that need no device. Prints TAP: one line per
 * case, with the failed expectations as diagnostics before it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench-lat.h"
#include "libsgdma.h"
#include "sgdma-cli.h"

static int n_cases, n_failed;
static bool case_ok;

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			printf("# %s:%d: failed: %s\n", __FILE__,	\
			       __LINE__, #cond);			\
			case_ok = false;				\
		}							\
	} while (0)

static void run(void (*fn)(void), const char *name)
{
	case_ok = true;
	fn();
	n_cases++;
	if (!case_ok)
		n_failed++;
	printf("%sok %d %s\n", case_ok ? "" : "not ", n_cases, name);
	fflush(stdout);
}

/* Prints @s as TAP diagnostics, one "# " line per line. */
static void diag_text(const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");

		printf("#   %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
}

static uint64_t size_of(const char *s)
{
	uint64_t v = 12345;

	return cli_parse_size(s, &v) ? UINT64_MAX - 1 : v;
}

static void t_parse_size(void)
{
	uint64_t v;

	CHECK(size_of("0") == 0);
	CHECK(size_of("4096") == 4096);
	CHECK(size_of("0x1000") == 4096);
	CHECK(size_of("4k") == 4096);
	CHECK(size_of("4K") == 4096);
	CHECK(size_of("4KiB") == 4096);
	CHECK(size_of("3M") == 3 * 1048576);
	CHECK(size_of("1GiB") == 1073741824);
	CHECK(size_of("2T") == 2ULL << 40);
	CHECK(size_of("18446744073709551615") == UINT64_MAX);
	CHECK(cli_parse_size("18446744073709551616", &v) == -ERANGE);
	CHECK(cli_parse_size("16777216T", &v) == -ERANGE);
	CHECK(cli_parse_size("16777215T", &v) == 0);
	CHECK(cli_parse_size("", &v) == -EINVAL);
	CHECK(cli_parse_size("-1", &v) == -EINVAL);
	CHECK(cli_parse_size(" 1", &v) == -EINVAL);
	CHECK(cli_parse_size("1x", &v) == -EINVAL);
	CHECK(cli_parse_size("1kB", &v) == -EINVAL);
	CHECK(cli_parse_size("1.5M", &v) == -EINVAL);
	CHECK(cli_parse_size("k", &v) == -EINVAL);
	CHECK(cli_parse_size(NULL, &v) == -EINVAL);
}

static void t_parse_uint(void)
{
	unsigned long v = 0;

	CHECK(cli_parse_uint("8", 1, 64, &v) == 0 && v == 8);
	CHECK(cli_parse_uint("0", 1, 64, &v) == -ERANGE);
	CHECK(cli_parse_uint("65", 1, 64, &v) == -ERANGE);
	CHECK(cli_parse_uint("99999999999999999999999", 1, 64, &v) == -ERANGE);
	CHECK(cli_parse_uint("-3", 0, 64, &v) == -EINVAL);
	CHECK(cli_parse_uint("3x", 0, 64, &v) == -EINVAL);
	CHECK(cli_parse_uint("0x10", 0, 64, &v) == -EINVAL);
}

static void t_size_list(void)
{
	uint64_t s[8];

	CHECK(cli_parse_size_list("4k", s, 8) == 1 && s[0] == 4096);
	CHECK(cli_parse_size_list("512,4k,1M", s, 8) == 3 && s[0] == 512 &&
	      s[1] == 4096 && s[2] == 1048576);
	CHECK(cli_parse_size_list("4k..32k", s, 8) == 4 && s[0] == 4096 &&
	      s[3] == 32768);
	/* The range ends at the last doubling not beyond its end. */
	CHECK(cli_parse_size_list("3..20", s, 8) == 3 && s[2] == 12);
	CHECK(cli_parse_size_list("1,4k..8k,1M", s, 8) == 4 && s[3] == 1048576);
	CHECK(cli_parse_size_list("1..256", s, 8) == -E2BIG);
	CHECK(cli_parse_size_list("8k..4k", s, 8) == -ERANGE);
	CHECK(cli_parse_size_list("0", s, 8) == -ERANGE);
	CHECK(cli_parse_size_list("0..4", s, 8) == -ERANGE);
	CHECK(cli_parse_size_list("", s, 8) == -EINVAL);
	CHECK(cli_parse_size_list("4k,,8k", s, 8) == -EINVAL);
	CHECK(cli_parse_size_list("4k,", s, 8) == -EINVAL);
	CHECK(cli_parse_size_list(",4k", s, 8) == -EINVAL);
	CHECK(cli_parse_size_list("4q", s, 8) == -EINVAL);
	CHECK(cli_parse_size_list("4k..", s, 8) == -EINVAL);
}

static void t_names(void)
{
	static const char *const names[] = { "copy", "pinned", "auto" };
	unsigned int m;

	CHECK(cli_parse_names("copy", names, 3, &m) == 0 && m == 1);
	CHECK(cli_parse_names("auto,copy", names, 3, &m) == 0 && m == 5);
	CHECK(cli_parse_names("PINNED", names, 3, &m) == 0 && m == 2);
	CHECK(cli_parse_names("all", names, 3, &m) == 0 && m == 7);
	CHECK(cli_parse_names("cop", names, 3, &m) == -EINVAL);
	CHECK(cli_parse_names("copyx", names, 3, &m) == -EINVAL);
	CHECK(cli_parse_names("copy,", names, 3, &m) == -EINVAL);
	CHECK(cli_parse_names("", names, 3, &m) == -EINVAL);
}

static void t_patterns(void)
{
	unsigned char a[100], b[100];
	struct cli_pattern p;

	CHECK(cli_parse_pattern("zero", &p) == 0 && p.kind == PAT_BYTE &&
	      p.byte == 0);
	CHECK(cli_parse_pattern("ones", &p) == 0 && p.byte == 0xff);
	CHECK(cli_parse_pattern("0x5a", &p) == 0 && p.kind == PAT_BYTE &&
	      p.byte == 0x5a);
	CHECK(cli_parse_pattern("0x100", &p) == -EINVAL);
	CHECK(cli_parse_pattern("1k", &p) == -EINVAL);
	CHECK(cli_parse_pattern("random:7", &p) == 0 && p.seed == 7);
	CHECK(cli_parse_pattern("random:", &p) == -EINVAL);
	CHECK(cli_parse_pattern("bogus", &p) == -EINVAL);

	/* incr: word n at byte 4n, little-endian. */
	cli_parse_pattern("incr", &p);
	cli_pattern_fill(&p, a, 12, 4096);
	CHECK(a[0] == 0x00 && a[1] == 0x04 && a[2] == 0 && a[3] == 0);
	CHECK(a[4] == 0x01 && a[5] == 0x04);
	cli_pattern_fill(&p, a, 3, 4097);
	CHECK(a[0] == 0x04 && a[1] == 0 && a[2] == 0);

	/* Filled in pieces equals filled at once, for every kind. */
	static const char *const kinds[] = { "incr", "random:99", "0x33" };

	for (size_t k = 0; k < 3; k++) {
		cli_parse_pattern(kinds[k], &p);
		cli_pattern_fill(&p, a, sizeof(a), 1000);
		cli_pattern_fill(&p, b, 13, 1000);
		cli_pattern_fill(&p, b + 13, 50, 1013);
		cli_pattern_fill(&p, b + 63, 37, 1063);
		CHECK(!memcmp(a, b, sizeof(a)));
	}
	/* Different seeds, different data; the same seed, the same. */
	cli_parse_pattern("random:1", &p);
	cli_pattern_fill(&p, a, sizeof(a), 0);
	cli_parse_pattern("random:2", &p);
	cli_pattern_fill(&p, b, sizeof(b), 0);
	CHECK(memcmp(a, b, sizeof(a)));
	cli_parse_pattern("random", &p);
	cli_pattern_fill(&p, b, sizeof(b), 0);
	CHECK(!memcmp(a, b, sizeof(a)));
}

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9 * (fabs(a) + fabs(b) + 1);
}

static void t_stats(void)
{
	const double v[] = { 5, 1, 4, 2, 3 };
	const double w[] = { 10, 2 };
	const double one[] = { 7 };
	struct cli_stats s;

	cli_stats(v, 5, &s);
	CHECK(near(s.median, 3) && near(s.min, 1) && near(s.max, 5));
	CHECK(near(s.mean, 3) && near(s.stddev, sqrt(2.5)));
	CHECK(v[0] == 5);	/* input untouched */
	cli_stats(w, 2, &s);
	CHECK(near(s.median, 6) && near(s.stddev, sqrt(32)));
	cli_stats(one, 1, &s);
	CHECK(near(s.median, 7) && s.stddev == 0);
}

static void t_timing(void)
{
	/* Long runs: hours, and a second's worth of nanoseconds borrowed. */
	struct timespec a = { 100, 900000000 }, b = { 100 + 3 * 86400, 100 };

	CHECK(cli_ns_between(&a, &b) == 3LL * 86400 * 1000000000 - 899999900);
	CHECK(cli_ns_between(&b, &a) == -(3LL * 86400 * 1000000000 - 899999900));
	/* 1 TiB in 1000 s is 1099.5 MB/s: no 32-bit overflow anywhere. */
	CHECK(near(cli_mbps(1ULL << 40, 1000LL * 1000000000), 1099.511627776));
	CHECK(near(cli_mbps(1000000, 1000000), 1000));
	CHECK(cli_mbps(1, 0) == 0);
}

static const struct cli_bench_row row1 = {
	.path = "copy", .direction = "h2c", .size = 4096, .threads = 2,
	.qd = 4, .reps = 5, .iters = 100,
	.mbps = { .median = 123.4567, .min = 100, .max = 150.5, .mean = 125,
		  .stddev = 12.25 },
	.lat_us = 33.125, .verified = true,
};

static char *render(enum cli_format fmt, int rows)
{
	struct cli_out o;
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	cli_bench_begin(&o, f, fmt);
	for (int i = 0; i < rows; i++)
		cli_bench_row(&o, &row1);
	cli_bench_end(&o);
	fclose(f);
	return buf;
}

static void t_csv(void)
{
	char *s = render(FMT_CSV, 2);

	CHECK(!strcmp(s,
		"path,direction,size,threads,qd,reps,iters,median_MBps,min_MBps,max_MBps,mean_MBps,stddev_MBps,median_lat_us,verified\n"
		"copy,h2c,4096,2,4,5,100,123.457,100.000,150.500,125.000,12.250,33.125,1\n"
		"copy,h2c,4096,2,4,5,100,123.457,100.000,150.500,125.000,12.250,33.125,1\n"));
	if (!case_ok)
		diag_text(s);
	free(s);
}

/*
 * The latency samples of "sgdma bench --latency" and tests/bench: growth
 * past the first allocation, the quantiles' ranks, and the row's bytes.
 */
static void t_bench_lat(void)
{
	struct bench_lat_samples s = { 0 };
	struct bench_lat l;
	char *out = NULL;
	size_t len;
	FILE *f;
	int err = 0;

	for (int i = 10000; i > 0 && !err; i--)
		err = bench_lat_add(&s, i * 0.3);
	CHECK(!err && s.n == 10000 && s.cap >= s.n);
	CHECK(s.us[0] == 10000 * 0.3 && s.us[9999] == 0.3);
	l = bench_lat_summary(s.us, s.n);
	CHECK(s.us[0] == 0.3 && s.us[9999] == 10000 * 0.3);	/* sorted */
	CHECK(l.ops == 10000 && l.median == 5001 * 0.3);
	CHECK(l.p90 == 9001 * 0.3 && l.p99 == 9901 * 0.3);
	CHECK(l.max == 10000 * 0.3);
	f = open_memstream(&out, &len);
	CHECK(f);
	if (f) {
		fprintf(f, "%s\n", BENCH_LAT_HEADER);
		bench_lat_print(f, "odirect", "c2h", 4096, 4, &l);
		fclose(f);
		CHECK(!strcmp(out,
			"path,direction,size,qd,ops,median_us,p90_us,p99_us,max_us\n"
			"odirect,c2h,4096,4,10000,1500.3,2700.3,2970.3,3000.0\n"));
		if (!case_ok)
			diag_text(out);
		free(out);
	}
	bench_lat_free(&s);
	CHECK(!s.us && !s.n && !s.cap);
	l = bench_lat_summary(s.us, 0);
	CHECK(!l.ops && !l.median && !l.p90 && !l.p99 && !l.max);
}

static void t_json(void)
{
	char *s = render(FMT_JSON, 2);

	CHECK(s[0] == '[' && !strcmp(s + strlen(s) - 4, "}\n]\n"));
	CHECK(strstr(s, "{\"path\": \"copy\", \"direction\": \"h2c\", \"size\": 4096, \"threads\": 2, \"qd\": 4, \"reps\": 5, \"iters\": 100, \"median_MBps\": 123.457, \"min_MBps\": 100.000, \"max_MBps\": 150.500, \"mean_MBps\": 125.000, \"stddev_MBps\": 12.250, \"median_lat_us\": 33.125, \"verified\": true}"));
	/* Two objects, separated by exactly one comma. */
	CHECK(strstr(s, "},\n  {") && !strstr(strstr(s, "},") + 2, "},"));
	free(s);
	s = render(FMT_JSON, 0);
	CHECK(!strcmp(s, "[]\n"));
	free(s);
}

static void t_json_valid(void)
{
	char *s = render(FMT_JSON, 3);
	char cmd[] = "python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		     "sys.exit(not (len(d) == 3 and d[2][\"median_MBps\"] == 123.457 "
		     "and d[0][\"verified\"] is True))' ";
	char path[] = "/tmp/sgdma-test-cli-XXXXXX";
	char full[512];
	int fd = mkstemp(path);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK(write(fd, s, strlen(s)) == (ssize_t)strlen(s));
	close(fd);
	snprintf(full, sizeof(full), "%s%s", cmd, path);
	CHECK(system(full) == 0);
	unlink(path);
	free(s);
}

static void t_table(void)
{
	char *s = render(FMT_TABLE, 1);
	char *nl = strchr(s, '\n');

	CHECK(!strncmp(s, "path", 4) && nl);
	CHECK(nl && !strcmp(nl + 1,
		"copy    h2c        4096   2   4    5      100      123.5      100.0      150.5      12.2      33.12\n"));
	if (!case_ok)
		diag_text(s);
	free(s);
}

static void t_formats(void)
{
	enum cli_format f = FMT_TABLE;

	CHECK(cli_parse_format("csv", &f) == 0 && f == FMT_CSV);
	CHECK(cli_parse_format("json", &f) == 0 && f == FMT_JSON);
	CHECK(cli_parse_format("table", &f) == 0 && f == FMT_TABLE);
	CHECK(cli_parse_format("CSV", &f) == -EINVAL);
	CHECK(cli_parse_format("xml", &f) == -EINVAL);
}

static void t_progress(void)
{
	char b[80];

	CHECK(!strcmp(cli_progress_line(b, sizeof(b), 3, 10, 10, "copy"),
		      "[###.......] 3/10 copy"));
	CHECK(!strcmp(cli_progress_line(b, sizeof(b), 10, 10, 4, NULL),
		      "[####] 10/10 "));
	CHECK(!strcmp(cli_progress_line(b, sizeof(b), 0, 0, 2, "x"),
		      "[##] 0/0 x"));
	CHECK(!strcmp(cli_progress_line(b, 6, 1, 2, 10, "x"), "[####"));
	CHECK(!strcmp(cli_progress_line(b, 1, 1, 2, 10, "x"), ""));
}

static void t_exit_codes(void)
{
	CHECK(cli_exit_code(0) == 0);
	CHECK(cli_exit_code(-EIO) == EXIT_FAIL);
	CHECK(cli_exit_code(-EINVAL) == EXIT_FAIL);
	CHECK(cli_exit_code(-ENOENT) == EXIT_NODEV);
	CHECK(cli_exit_code(-ENODEV) == EXIT_NODEV);
	CHECK(cli_exit_code(-EACCES) == EXIT_PERM);
	CHECK(cli_exit_code(-EPERM) == EXIT_PERM);
	CHECK(EXIT_USAGE == 2 && EXIT_MISMATCH == 5);
}

static void t_crc32c(void)
{
	/* The CRC-32C check value, and the iSCSI (RFC 3720) test vectors. */
	unsigned char z[32] = { 0 }, ff[32], inc[32], big[4096 + 3];

	memset(ff, 0xff, sizeof(ff));
	for (int i = 0; i < 32; i++)
		inc[i] = i;
	CHECK(sgdma_crc32c(0, "123456789", 9) == 0xe3069283);
	CHECK(sgdma_crc32c(0, z, 32) == 0x8a9136aa);
	CHECK(sgdma_crc32c(0, ff, 32) == 0x62a8ab43);
	CHECK(sgdma_crc32c(0, inc, 32) == 0x46dd794e);
	CHECK(sgdma_crc32c(0, "", 0) == 0);
	/* Pieces in order, at every alignment, equal the whole. */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7 + 3);
	for (size_t cut = 0; cut < 17; cut++)
		CHECK(sgdma_crc32c(sgdma_crc32c(0, big + 1, cut), big + 1 + cut,
				   sizeof(big) - 1 - cut) ==
		      sgdma_crc32c(0, big + 1, sizeof(big) - 1));
}

static void t_strerror(void)
{
	CHECK(strstr(sgdma_strerror(-ENOENT), "module"));
	CHECK(strstr(sgdma_strerror(-EACCES), "permission denied"));
	CHECK(strstr(sgdma_strerror(-EINVAL), "out of range"));
	CHECK(!strcmp(sgdma_strerror(-ENOMEM), strerror(ENOMEM)));
	CHECK(sgdma_strerror(5) != NULL);
	CHECK(sgdma_strerror(-99999) != NULL);
	CHECK(!strcmp(sgdma_strerror(0), "success"));
}

/* Whether every byte of [@p, @p + @len) is mapped (mincore on each page). */
static bool mapped(const void *p, size_t len)
{
	unsigned char vec[1];
	long page = sysconf(_SC_PAGESIZE);

	for (size_t off = 0; off < len; off += page)
		if (mincore((char *)p + off, 1, vec) && errno == ENOMEM)
			return false;
	return true;
}

static void t_mem_alloc(void)
{
	static const size_t sizes[] = { 1, 4096, 5000, (2 << 20) - 1,
					2 << 20, (2 << 20) + 1, 9 << 20 };
	size_t huge = SGDMA_MEM_HUGE_ALIGN;
	void *p;

	CHECK(sgdma_mem_alloc(0, &p) == -EINVAL);
	CHECK(sgdma_mem_alloc(SIZE_MAX - 4096, &p) == -EINVAL);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t len = sizes[i];
		unsigned char *b;

		if (sgdma_mem_alloc(len, &p)) {
			CHECK(!"sgdma_mem_alloc failed");
			continue;
		}
		b = p;
		CHECK((uintptr_t)b % 4096 == 0);
		CHECK(len < huge || (uintptr_t)b % huge == 0);
		CHECK(b[0] == 0 && b[len - 1] == 0);
		memset(b, 0xa5, len);
		CHECK(mapped(b, len));
		sgdma_mem_free(p, len);
		CHECK(!mapped(b, 1));
	}
	sgdma_mem_free(NULL, 0);
}

static void t_open_errors(void)
{
	struct sgdma_dev *dev = (struct sgdma_dev *)&dev;
	char path[] = "/tmp/sgdma-test-node-XXXXXX";
	struct sgdma_info info;
	int fd;

	CHECK(sgdma_open("/nonexistent/sgdma0", &dev) == -ENOENT);
	CHECK(dev == (struct sgdma_dev *)&dev);	/* untouched on failure */
	/* A regular file opens, but is no sgdma device. */
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	CHECK(sgdma_open(path, &dev) == 0);
	if (case_ok) {
		CHECK(sgdma_fd(dev) >= 0);
		CHECK(sgdma_get_info(dev, &info) == -ENOTTY);
		CHECK(sgdma_write_card(dev, 0, path, 1, 0, NULL) == -ENOTTY);
		sgdma_close(dev);
	}
	if (!getuid()) {
		/* Root opens anything: no EACCES to see here. */
	} else {
		chmod(path, 0);
		CHECK(sgdma_open(path, &dev) == -EACCES);
	}
	unlink(path);
	sgdma_close(NULL);
}

/*
 * The queue on a node that is not a device: every request completes with
 * -ENOTTY, through the eventfd, and the bookkeeping holds.
 */
static void t_queue_plumbing(void)
{
	char path[] = "/tmp/sgdma-test-node-XXXXXX";
	struct sgdma_cqe cqe[8];
	struct sgdma_xfer x = { .op = SGDMA_OP_H2C };
	struct sgdma_queue *q = NULL;
	struct sgdma_dev *dev;
	struct pollfd pfd;
	int fd = mkstemp(path), n = 0;

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd);
	CHECK(sgdma_open(path, &dev) == 0);
	unlink(path);
	if (!case_ok)
		return;
	CHECK(sgdma_queue_create(dev, 0, 0, &q) == -EINVAL);
	CHECK(sgdma_queue_create(dev, 257, 0, &q) == -EINVAL);
	CHECK(sgdma_queue_create(dev, 4, 1, &q) == -EINVAL);
	CHECK(sgdma_queue_create(dev, 4, 0, &q) == 0);
	if (!case_ok) {
		sgdma_close(dev);
		return;
	}
	for (int i = 0; i < 4; i++)
		CHECK(sgdma_queue_submit(q, &x, 100 + i) == 0);
	CHECK(sgdma_queue_submit(q, &x, 99) == -EBUSY);
	CHECK(sgdma_queue_pending(q) == 4);
	CHECK(sgdma_queue_reap(q, cqe, 8, 5, 0) == -EINVAL);
	pfd = (struct pollfd){ sgdma_queue_fd(q), POLLIN, 0 };
	CHECK(poll(&pfd, 1, 5000) == 1);
	while (n < 4) {
		int r = sgdma_queue_reap(q, cqe + n, 1, 1, 5000);

		CHECK(r == 1);
		if (r != 1)
			break;
		n++;
	}
	for (int i = 0; i < n; i++) {
		CHECK(cqe[i].res == -ENOTTY);
		CHECK(cqe[i].user_data >= 100 && cqe[i].user_data < 104);
	}
	CHECK(sgdma_queue_pending(q) == 0);
	/* Nothing waits: the fd is quiet, reaping returns at once. */
	CHECK(poll(&pfd, 1, 0) == 0);
	CHECK(sgdma_queue_reap(q, cqe, 8, 0, 0) == 0);
	CHECK(sgdma_queue_reap(q, cqe, 8, 1, 0) == -EINVAL);
	/* Destroy with requests still in flight and unreaped. */
	CHECK(sgdma_queue_submit(q, &x, 1) == 0);
	CHECK(sgdma_queue_submit(q, &x, 2) == 0);
	sgdma_queue_destroy(q);
	sgdma_close(dev);
}

int main(void)
{
	static const struct {
		void (*fn)(void);
		const char *name;
	} cases[] = {
		{ t_parse_size, "parse_size" },
		{ t_parse_uint, "parse_uint" },
		{ t_size_list, "size_list" },
		{ t_names, "name_lists" },
		{ t_patterns, "patterns" },
		{ t_stats, "stats" },
		{ t_timing, "timing_long_runs" },
		{ t_csv, "format_csv" },
		{ t_bench_lat, "bench_latency" },
		{ t_json, "format_json" },
		{ t_json_valid, "format_json_parses" },
		{ t_table, "format_table" },
		{ t_formats, "format_names" },
		{ t_progress, "progress_bar" },
		{ t_exit_codes, "exit_codes" },
		{ t_crc32c, "crc32c" },
		{ t_strerror, "strerror" },
		{ t_mem_alloc, "mem_alloc" },
		{ t_open_errors, "open_errors" },
		{ t_queue_plumbing, "queue_plumbing" },
	};

	printf("TAP version 13\n1..%zu\n", sizeof(cases) / sizeof(cases[0]));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run(cases[i].fn, cases[i].name);
	return n_failed ? 1 : 0;
}
