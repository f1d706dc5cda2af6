// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_concurrency: threads of one process and several processes share
 * the channels of a device; every transfer still moves exactly its data.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sys/wait.h>

#include "sgdma_test.h"

#define THREADS		8
#define ROUNDS		24
#define MAXLEN		(384 * KiB)

struct worker {
	unsigned int id;
	uint64_t card_base;
	uint64_t seed;
	bool ok;
};

static uint64_t wrnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *worker(void *arg)
{
	static const uint32_t modes[] = { SGDMA_XFER_COPY, SGDMA_XFER_PINNED, 0 };
	struct worker *w = arg;
	unsigned char *a = malloc(MAXLEN + 64), *b = malloc(MAXLEN + 64);
	unsigned char *c = malloc(MAXLEN + 64);

	w->ok = a && b && c;
	for (int r = 0; r < ROUNDS && w->ok; r++) {
		uint32_t mode = modes[wrnd(&w->seed) % 3];
		uint32_t al = info.seg_align;
		size_t len = wrnd(&w->seed) % MAXLEN + 1;
		size_t mis = wrnd(&w->seed) % 64;
		uint64_t off = w->card_base + wrnd(&w->seed) % 1000;
		uint32_t crc = 0, crc2 = 0, want;

		if (mode == SGDMA_XFER_PINNED && !(info.caps & SGDMA_CAP_PINNED))
			mode = 0;
		/* malloc() aligns to 16: beyond that, let the driver choose. */
		if (mode == SGDMA_XFER_PINNED && al > 16)
			mode = 0;
		if (mode == SGDMA_XFER_PINNED && al > 1) {
			mis = 0;
			len = (len + al - 1) / al * al;
		}
		for (size_t i = 0; i < len; i++)
			a[mis + i] = (unsigned char)(wrnd(&w->seed) >> 7);
		want = sgdma_crc32c(0, a + mis, len);
		w->ok &= h2c(off, a + mis, len, mode | SGDMA_XFER_CRC, &crc) == 0;
		w->ok &= c2h(off, b, len, mode | SGDMA_XFER_CRC, &crc2) == 0;
		w->ok &= crc == want && crc2 == want && !memcmp(a + mis, b, len);
		crc = 0;
		w->ok &= h2h(c, a + mis, len, mode | SGDMA_XFER_CRC, &crc) == 0;
		w->ok &= crc == want && !memcmp(a + mis, c, len);
		if (!w->ok)
			ktap_diag("worker %u round %d: mode %#x len %zu off %llu",
				  w->id, r, mode, len, (unsigned long long)off);
	}
	free(a);
	free(b);
	free(c);
	return NULL;
}

/* THREADS threads on one device, each in its own part of card memory. */
static bool run_threads(uint64_t seed, uint64_t origin, uint64_t size)
{
	struct worker w[THREADS];
	pthread_t t[THREADS];
	bool ok = true;

	for (unsigned int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .id = i, .seed = seed * 977 + i + 1,
					.card_base = origin + size / THREADS * i };
		if (pthread_create(&t[i], NULL, worker, &w[i]))
			return false;
	}
	for (unsigned int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok &= w[i].ok;
	}
	return ok;
}

static bool test_threads(void)
{
	return run_threads(1, 0, info.card_size);
}

/* Two processes, each with its own threads, on the second device. */
static bool test_processes(void)
{
	pid_t pid[2];
	bool ok = true;

	sgdma_close(dev);
	if (!t_open(1))
		return false;
	for (int p = 0; p < 2; p++) {
		pid[p] = fork();
		if (pid[p] == 0) {
			/* Each child keeps to its own half of card memory. */
			uint64_t half = info.card_size / 2;

			exit(run_threads(100 + p, p * half, half) ? 0 : 1);
		}
	}
	for (int p = 0; p < 2; p++) {
		int status;

		ok &= EXPECT(waitpid(pid[p], &status, 0) == pid[p]);
		ok &= EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	return ok;
}

int main(void)
{
	ktap_plan(2);
	if (!t_open(0)) {
		ktap_result(false, "open");
		ktap_result(false, "open");
		return ktap_finish();
	}
	RUN(test_threads(), "threads_share_channels");
	RUN(test_processes(), "processes_share_channels");
	sgdma_close(dev);
	return ktap_finish();
}
