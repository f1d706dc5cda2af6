// SPDX-License-Identifier: GPL-2.0-or-later
/* sgdma bench: throughput by path, direction and size. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

static const char *const bench_paths[BP_NR] = { "copy", "pinned", "auto",
						"node", "registered",
						"coherent" };
static const char *const bench_dirs[BD_NR] = { "h2c", "c2h", "h2h" };

static int bench_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	struct bench_opts *o = ctx;
	char *end;
	int ret;

	switch (c) {
	case 's':
		ret = cli_parse_size_list(arg, o->sizes, MAX_SIZES);
		if (ret == -E2BIG)
			return usage_err(cmd, "more than %d sizes", MAX_SIZES);
		if (ret < 0)
			return usage_err(cmd, "bad size list '%s'", arg);
		o->nsizes = ret;
		return 0;
	case 'P':
		if (cli_parse_names(arg, bench_paths, BP_NR, &o->paths))
			return usage_err(cmd, "bad path list '%s' (copy, pinned, auto, node, registered, coherent, all)",
					 arg);
		return 0;
	case 'D':
		if (cli_parse_names(arg, bench_dirs, BD_NR, &o->dirs))
			return usage_err(cmd, "bad direction list '%s' (h2c, c2h, h2h, all)",
					 arg);
		return 0;
	case 't':
		return parse_uint_opt(cmd, "threads", arg, 1, 64, &o->threads);
	case 'q':
		return parse_uint_opt(cmd, "qd", arg, 1, 256, &o->qd);
	case 'r':
		return parse_uint_opt(cmd, "reps", arg, 1, 100000, &o->reps);
	case OPT_WARMUP:
		return parse_uint_opt(cmd, "warmup", arg, 0, 100000,
				      &o->warmup);
	case OPT_ITERS:
		return parse_uint_opt(cmd, "iters", arg, 1, 1000000000,
				      &o->iters);
	case OPT_REP_TIME:
		o->rep_time = strtod(arg, &end);
		if (*end || end == arg || !(o->rep_time > 0) ||
		    o->rep_time > 3600)
			return usage_err(cmd, "rep-time '%s' is out of range (0 to 3600 s)",
					 arg);
		return 0;
	case 'o':
		return parse_size_opt(cmd, "offset", arg, &o->off);
	case 'L':
		o->lat_path = arg;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_POLL:
		o->poll = true;
		return 0;
	case 'f':
		if (cli_parse_format(arg, &o->fmt))
			return usage_err(cmd, "unknown format '%s' (table, csv, json)",
					 arg);
		return 0;
	case OPT_PROGRESS:
		o->progress = 1;
		return 0;
	case OPT_NO_PROGRESS:
		o->progress = 0;
		return 0;
	}
	return usage_err(cmd, "unexpected option");
}

/*
 * The automatic threshold of the driver (its copy_threshold parameter)
 * comes from this table, measured in the test guest (TCG, 2 vCPUs, Debian
 * 6.1) with the first version of this command; today's equivalent is
 * "sgdma bench -s 64k..4M -P copy,pinned". MB/s:
 *
 *            no IOMMU: copy, pinned      intel-iommu strict: copy, pinned
 *   bytes       H2C     H2C   C2H   C2H       H2C    H2C    C2H    C2H
 *   65536        35     116   141    50       164    179    105     82
 *   131072      164     507   340   229       116     77    213     92
 *   262144      204     442   330   339       325    244    296    355
 *   1048576     874    1966   609  1431        55   1698    256   1933
 *   4194304     242    2636   149  2355       192   1313    286   1074
 *
 * Below 64 KiB both paths cost the same per call (the device's latency).
 */
static int cmd_bench(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "sizes", required_argument, NULL, 's' },
		{ "paths", required_argument, NULL, 'P' },
		{ "path", required_argument, NULL, 'P' },
		{ "dirs", required_argument, NULL, 'D' },
		{ "threads", required_argument, NULL, 't' },
		{ "qd", required_argument, NULL, 'q' },
		{ "reps", required_argument, NULL, 'r' },
		{ "warmup", required_argument, NULL, OPT_WARMUP },
		{ "rep-time", required_argument, NULL, OPT_REP_TIME },
		{ "iters", required_argument, NULL, OPT_ITERS },
		{ "offset", required_argument, NULL, 'o' },
		{ "latency", required_argument, NULL, 'L' },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "poll", no_argument, NULL, OPT_POLL },
		{ "format", required_argument, NULL, 'f' },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.paths = 1u << BP_COPY | 1u << BP_PINNED,
		.dirs = 1u << BD_H2C | 1u << BD_C2H,
		.threads = 1, .qd = 1, .reps = 5, .warmup = 1,
		.rep_time = 0.2, .progress = -1, .fmt = FMT_TABLE,
	};
	struct common com = { .device = global_device, .own_P = true };
	struct progress pg = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev;
	struct cli_out out;
	FILE *lat_file = NULL;
	uint64_t maxsize = 0;
	int ret;

	ret = parse_opts(argc, argv, "+:d:s:P:D:t:q:r:o:L:f:h", longopts,
			 &com, bench_opt, &o);
	if (ret >= 0)
		return ret;
	if (!o.nsizes)
		o.nsizes = cli_parse_size_list("4k..4M", o.sizes, MAX_SIZES);
	for (int i = 0; i < o.nsizes; i++)
		if (o.sizes[i] > maxsize)
			maxsize = o.sizes[i];
	if (maxsize > SGDMA_XFER_MAX_LEN)
		return usage_err(argv[0], "size %" PRIu64 " is over the 1 GiB transfer limit",
				 maxsize);
	if (o.qd > 1 && (o.paths & 1u << BP_NODE))
		return usage_err(argv[0], "the node path has no queue: --qd 1 with it");
	ret = open_device(com.device, &dev, &info);
	if (ret)
		return ret;
	ret = check_range(argv[0], &info, o.off, maxsize * o.threads);
	if (ret)
		goto out;
	for (int i = 0; i < o.nsizes && (o.paths & 1u << BP_PINNED); i++) {
		struct common pinned = { .flags = SGDMA_XFER_PINNED,
					 .seg_align = info.seg_align };

		ret = check_pinned(argv[0], &pinned, o.sizes[i]);
		if (ret)
			goto out;
	}
	if ((o.paths & 1u << BP_PINNED) && !(info.caps & SGDMA_CAP_PINNED)) {
		msg("bench: the driver has no pinned path; skipping it");
		o.paths &= ~(1u << BP_PINNED);
	}
	if ((o.paths & BP_BUFS) && !(info.caps & SGDMA_CAP_BUFS)) {
		msg("bench: the driver has no buffers (ABI 3); skipping registered and coherent");
		o.paths &= ~BP_BUFS;
	}
	pg.on = o.progress < 0 ? isatty(STDERR_FILENO) : o.progress;
	for (int p = 0; p < BP_NR; p++)
		for (int d = 0; d < BD_NR; d++)
			if ((o.paths >> p & 1) && (o.dirs >> d & 1) &&
			    !(p == BP_NODE && d == BD_H2H))
				pg.cells += o.nsizes;
	if (!pg.cells) {
		ret = usage_err(argv[0], "nothing to measure: the node path does no h2h");
		goto out;
	}
	if (o.lat_path) {
		lat_file = fopen(o.lat_path, "w");
		if (!lat_file) {
			ret = fail(o.lat_path, -errno);
			goto out;
		}
		fprintf(lat_file, "%s\n", BENCH_LAT_HEADER);
	}
	cli_bench_begin(&out, stdout, o.fmt);
	for (int p = 0; p < BP_NR; p++) {
		for (int d = 0; d < BD_NR; d++) {
			if (!(o.paths >> p & 1) || !(o.dirs >> d & 1) ||
			    (p == BP_NODE && d == BD_H2H))
				continue;
			for (int s = 0; s < o.nsizes; s++) {
				struct bench_cell c = {
					.dev = dev, .path = p, .dir = d,
					.size = o.sizes[s], .qd = o.qd,
					.lat = lat_file != NULL,
					.flags = o.poll ? SGDMA_XFER_POLL : 0,
				};
				struct bench_lat lat;
				struct cli_bench_row row = {
					.path = bench_paths[p],
					.direction = bench_dirs[d],
					.size = o.sizes[s],
					.threads = o.threads,
					.qd = o.qd, .reps = o.reps,
				};

				snprintf(pg.label, sizeof(pg.label),
					 "%s %s %" PRIu64, bench_paths[p],
					 bench_dirs[d], o.sizes[s]);
				ret = bench_cell(&c, &o, &row, &lat, &pg);
				pg.cell++;
				progress_clear(&pg);
				if (ret == -EILSEQ) {
					cli_bench_end(&out);
					msg("bench: %s: data did not verify",
					    pg.label);
					ret = EXIT_MISMATCH;
					goto out;
				}
				if (ret) {
					cli_bench_end(&out);
					ret = fail(pg.label, ret);
					goto out;
				}
				cli_bench_row(&out, &row);
				if (lat_file)
					bench_lat_print(lat_file, row.path,
							row.direction, row.size,
							row.qd, &lat);
			}
		}
	}
	cli_bench_end(&out);
	ret = EXIT_OK;
out:
	if (lat_file && fclose(lat_file) && ret == EXIT_OK)
		ret = fail(o.lat_path, -errno);
	sgdma_close(dev);
	return ret;
}

const struct command bench_command = {
	.name = "bench",
	.run = cmd_bench,
	.summary = "measure throughput by path, direction and size",
	.help = "usage: sgdma bench [-d DEV] [-s SIZES] [-P PATHS] [-D DIRS] [-t THREADS]\n"
		"                   [-q QD] [-r REPS] [--warmup N] [--rep-time SEC]\n"
		"                   [--iters N] [-o OFFSET] [--verify] [-f FORMAT]\n"
		"                   [-L FILE] [--poll]\n"
		"                   [--progress|--no-progress]\n"
		"\n"
		"Measures every combination of path, direction and size. Each\n"
		"repetition runs ITERS transfers on each of THREADS threads (ITERS\n"
		"calibrated to last about --rep-time unless given) and is timed with\n"
		"CLOCK_MONOTONIC; MB/s (10^6 bytes/s) statistics are over repetitions,\n"
		"after the warmup ones. Card memory at OFFSET is overwritten.\n"
		"\n"
		DEV_OPT
		"  -s, --sizes LIST    sizes, e.g. 4k,64k,1M or 4k..4M (doubling);\n"
		"                      default 4k..4M\n"
		"  -P, --paths LIST    copy,pinned,auto,node,registered,coherent or all\n"
		"                      (default copy,pinned); registered: the buffers\n"
		"                      registered once, transfers by handle; coherent:\n"
		"                      the driver's DMA buffers, mapped\n"
		"  -D, --dirs LIST     h2c,c2h,h2h or all (default h2c,c2h); node does\n"
		"                      no h2h\n"
		"  -t, --threads N     threads, each on its own card range (default 1)\n"
		"  -q, --qd N          transfers in flight per thread (default 1): the\n"
		"                      driver's queue for registered and coherent, else\n"
		"                      libsgdma's queue (QD synchronous transfers on\n"
		"                      QD threads)\n"
		"  -r, --reps N        timed repetitions (default 5)\n"
		"      --warmup N      untimed repetitions first (default 1)\n"
		"      --rep-time SEC  target length of one repetition (default 0.2)\n"
		"      --iters N       transfers per thread and repetition (no calibration)\n"
		"  -o, --offset OFFSET first byte of card memory used (default 0)\n"
		"      --verify        check the data moved after each combination\n"
		"      --poll          every transfer with SGDMA_XFER_POLL: the caller\n"
		"                      polls for its completion before it sleeps (the\n"
		"                      driver's queue may ignore it)\n"
		"  -f, --format FMT    table (default), csv or json; columns: path,\n"
		"                      direction, size, threads, qd, reps, iters,\n"
		"                      median/min/max/mean/stddev MB/s, median_lat_us\n"
		"                      (repetition time / iters), verified\n"
		"  -L, --latency FILE  also time every transfer of the timed repetitions,\n"
		"                      submission to completion as the caller sees it,\n"
		"                      and write a CSV row per combination to FILE:\n"
		"                      path, direction, size, qd (per thread), ops,\n"
		"                      median/p90/p99/max microseconds\n"
		"      --progress      progress bar on stderr (default: if a terminal)\n"
		"      --no-progress   none\n"
		SIZE_NOTE,
};
