// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * O_DIRECT read and write bandwidth of a block device by size, from one
 * user buffer: the kernel's most mature pinned scatter-gather path (with
 * an NVMe namespace), the peer the sgdma pinned path is compared with.
 *
 *   sgdma_diobench [-s SIZES] [-r REPS] [-t MIN_MS] [-l LABEL]
 *                  [-q DEPTHS [-L FILE]] DEVICE
 *
 * Prints bench.h's CSV rows with path LABEL (default "odirect"), direction
 * h2c for writes (host memory to the device) and c2h for reads.
 *
 * Without -q: pread/pwrite, one at a time, every I/O at offset 0 of the
 * device, which must hold the largest size.
 *
 * With -q DEPTHS (e.g. 1,4,16,32): io_uring keeps each depth of I/Os in
 * flight, through raw system calls (the guest's initramfs has no
 * liburing); each slot has its own buffer and device range (slot * size),
 * as fio's would. -L FILE receives every row's per-I/O latencies,
 * submission to completion as the program sees them (bench.h).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"

struct uring {
	int fd;
	unsigned int *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
};

struct dio {
	int fd;
	char *buf;
	int write;
	/* -q: slots of stride bytes in buf, those not in flight in free[] */
	struct uring ring;
	size_t len, stride;
	unsigned int qd, free[BENCH_MAX_DEPTH], nr_free;
	uint64_t start_ns[BENCH_MAX_DEPTH];
	struct bench_lat_samples lat;	/* recorded while record */
	bool record;
};

static int do_io(void *ctx, size_t len)
{
	struct dio *d = ctx;
	ssize_t n = d->write ? pwrite(d->fd, d->buf, len, 0) :
			       pread(d->fd, d->buf, len, 0);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static void *ring_map(int fd, size_t len, off_t what)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, fd, what);

	return p == MAP_FAILED ? NULL : p;
}

/* A ring of @entries submissions; 0 or -errno. Lives until exit. */
static int uring_setup(struct uring *r, unsigned int entries)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	char *sq, *cq;

	memset(&p, 0, sizeof(p));
	r->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -errno;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP)
		sq_len = cq_len = sq_len > cq_len ? sq_len : cq_len;
	sq = ring_map(r->fd, sq_len, IORING_OFF_SQ_RING);
	cq = p.features & IORING_FEAT_SINGLE_MMAP ? sq :
	     ring_map(r->fd, cq_len, IORING_OFF_CQ_RING);
	r->sqes = ring_map(r->fd, p.sq_entries * sizeof(struct io_uring_sqe),
			   IORING_OFF_SQES);
	if (!sq || !cq || !r->sqes)
		return -errno;
	r->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + p.sq_off.array);
	r->cq_head = (unsigned int *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

/* Puts the I/O of @slot in the submission ring (io_uring_enter starts it). */
static void uring_queue(struct dio *d, unsigned int slot)
{
	struct uring *r = &d->ring;
	unsigned int tail = *r->sq_tail, i = tail & *r->sq_mask;
	struct io_uring_sqe *sqe = &r->sqes[i];

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = d->write ? IORING_OP_WRITE : IORING_OP_READ;
	sqe->fd = d->fd;
	sqe->addr = (uintptr_t)(d->buf + slot * d->stride);
	sqe->len = (uint32_t)d->len;
	sqe->off = (uint64_t)slot * d->len;
	sqe->user_data = slot;
	r->sq_array[i] = i;
	d->start_ns[slot] = bench_now_ns();
	/* The kernel reads the entry once it sees the tail move. */
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

/*
 * Fills every free slot if @fill, then waits for at least one completion
 * and collects all there are: returns how many, or -errno (a short I/O is
 * -EIO).
 */
static int uring_step(struct dio *d, bool fill)
{
	struct uring *r = &d->ring;
	unsigned int submit = 0, head, done = 0;
	int ret = 0;
	long n;

	while (fill && d->nr_free) {
		uring_queue(d, d->free[--d->nr_free]);
		submit++;
	}
	do {
		n = syscall(__NR_io_uring_enter, r->fd, submit, 1,
			    IORING_ENTER_GETEVENTS, NULL, 0);
	} while (n < 0 && errno == EINTR && !submit);
	if (n < 0)
		return -errno;
	if ((unsigned long)n != submit)
		return -EIO;	/* the ring never holds more than it has room for */
	head = *r->cq_head;
	while (head != __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) {
		struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
		unsigned int slot = (unsigned int)cqe->user_data;

		if (cqe->res < 0 && !ret)
			ret = cqe->res;
		else if ((size_t)cqe->res != d->len && !ret)
			ret = -EIO;
		if (d->record && !ret)
			ret = bench_lat_add(&d->lat, (bench_now_ns() -
						      d->start_ns[slot]) / 1e3);
		d->free[d->nr_free++] = slot;
		head++;
		done++;
	}
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	return ret ? ret : (int)done;
}

static int uring_drain(struct dio *d)
{
	int ret = 0;

	while (d->nr_free < d->qd && ret >= 0)
		ret = uring_step(d, false);
	return ret < 0 ? ret : 0;
}

/* Every size of @o at depth d->qd, direction d->write. */
static int uring_run(struct dio *d, struct bench_opts *o, FILE *lat)
{
	const char *dir = d->write ? "h2c" : "c2h";

	for (unsigned int s = 0; s < o->nr_sizes; s++) {
		double mbps[BENCH_MAX_REPS];
		uint64_t warm = 0;
		int ret = 0;

		d->len = o->sizes[s];
		d->record = false;
		while (warm < 2 * d->qd && ret >= 0) {	/* every slot once */
			ret = uring_step(d, true);
			warm += ret > 0 ? ret : 0;
		}
		d->lat.n = 0;
		d->record = true;
		for (unsigned int r = 0; r < o->reps && ret >= 0; r++) {
			uint64_t start = bench_now_ns(), ns, ops = 0;

			do {
				ret = uring_step(d, true);
				ops += ret > 0 ? ret : 0;
				ns = bench_now_ns() - start;
			} while (ret >= 0 && ns < o->min_ms * 1000000ull);
			mbps[r] = (double)ops * (double)d->len * 1e3 /
				  (double)ns;
		}
		d->record = false;
		if (ret >= 0)
			ret = uring_drain(d);
		if (ret < 0)
			return ret;
		bench_print_row(o, dir, d->len, mbps);
		if (lat)
			bench_print_lat(lat, o, dir, d->len, &d->lat);
	}
	return 0;
}

/* -q: every depth of @o, writes then reads; 0 or -errno. */
static int uring_bench(struct dio *d, struct bench_opts *o)
{
	size_t max_qd = 0;
	FILE *lat = NULL;
	int ret;

	for (unsigned int i = 0; i < o->nr_depths; i++)
		if (o->depths[i] > max_qd)
			max_qd = o->depths[i];
	ret = uring_setup(&d->ring, (unsigned int)max_qd);
	if (ret) {
		fprintf(stderr, "sgdma_diobench: io_uring_setup: %s\n",
			strerror(-ret));
		return ret;
	}
	if (o->lat_path) {
		lat = fopen(o->lat_path, "w");
		if (!lat)
			return -errno;
		fprintf(lat, "%s\n", BENCH_LAT_HEADER);
	}
	for (unsigned int i = 0; i < o->nr_depths && !ret; i++) {
		d->qd = o->qd = (unsigned int)o->depths[i];
		d->nr_free = 0;
		for (unsigned int slot = d->qd; slot-- > 0;)
			d->free[d->nr_free++] = slot;
		for (d->write = 1; d->write >= 0 && !ret; d->write--)
			ret = uring_run(d, o, lat);
	}
	if (lat && fclose(lat) && !ret)
		ret = -errno;
	return ret;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .reps = 5, .min_ms = 100, .label = "odirect" };
	struct dio d = { 0 };
	size_t slots = 1;
	int ret = 0, status, arg;

	bench_parse_sizes(&o, "4k,64k,1m,16m,64m");
	arg = bench_parse_args(argc, argv, &o, "DEVICE", &status);
	if (arg < 0)
		return status;
	if (arg != argc - 1 || (o.lat_path && !o.nr_depths)) {
		fprintf(stderr, "%s: one block device expected (-L needs -q)\n",
			argv[0]);
		return 2;
	}
	d.fd = open(argv[arg], O_RDWR | O_DIRECT);
	if (d.fd < 0) {
		perror(argv[arg]);
		return 1;
	}
	for (unsigned int i = 0; i < o.nr_depths; i++)
		if (o.depths[i] > slots)
			slots = o.depths[i];
	d.stride = bench_max_size(&o);
	d.buf = bench_alloc(slots * d.stride, 0x3c);
	if (!d.buf) {
		perror("sgdma_diobench: buffer");
		return 1;
	}
	if (o.nr_depths)
		ret = uring_bench(&d, &o);
	for (d.write = 1; !o.nr_depths && d.write >= 0 && !ret; d.write--)
		ret = bench_run(&o, d.write ? "h2c" : "c2h", do_io, &d);
	if (ret) {
		fprintf(stderr, "%s: %s: %s\n", argv[0], argv[arg],
			strerror(-ret));
		return 1;
	}
	return 0;
}
