// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma: command-line access to sgdma devices, built on libsgdma.
 *
 * See "sgdma --help", "sgdma COMMAND --help" and docs/sgdma.1.md. Exit codes
 * are in sgdma-cli.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libsgdma.h"
#include "sgdma-cli.h"

#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define MiB		(1024 * 1024ULL)
#define MAX_SIZES	64

static const char *progname = "sgdma";
static bool quiet;
/* -d before the command: the default of the command's own -d. */
static const char *global_device = "0";

/* ---- messages ---- */

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Reports a usage error and returns EXIT_USAGE. */
static int usage_err(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", progname, cmd);
	return EXIT_USAGE;
}

/* Reports a failed library call and returns its exit code. */
static int fail(const char *what, int err)
{
	msg("%s: %s", what, sgdma_strerror(err));
	return cli_exit_code(err);
}

/* ---- help ---- */

#define EXIT_CODES							\
	"exit status:\n"						\
	"  0  success\n"						\
	"  1  the request failed (device error, file error)\n"		\
	"  2  usage error: bad option, argument out of range\n"	\
	"  3  no device: node missing, module not loaded, device gone\n" \
	"  4  permission denied on the device node\n"			\
	"  5  data or CRC mismatch (verify, selftest, bench --verify)\n"

#define DEV_OPT								\
	"  -d, --device DEV    device node path, or N for /dev/sgdmaN (default 0)\n"

#define PATH_OPT							\
	"  -P, --path PATH     auto (driver decides), copy (bounce buffers),\n" \
	"                      pinned (user pages mapped for DMA), or node\n" \
	"                      (write(2)/read(2) on the node; copy path)\n"

#define SIZE_NOTE							\
	"Sizes and offsets take 0x hex and k/M/G/T (KiB, MiB...) suffixes.\n"

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const char *help;
} *find_command(const char *name);

static void main_usage(FILE *out);

/* ---- options shared by the commands ---- */

struct common {
	const char *device;
	uint32_t flags;		/* SGDMA_XFER_COPY / _PINNED or 0 */
	bool node;		/* --path node */
	const char *path_name;
	bool own_P;		/* -P is the command's own option */
	uint32_t seg_align;	/* the device's, once open */
};

/* Long options without a short form. */
enum {
	OPT_CRC = 0x100,
	OPT_WARMUP,
	OPT_VERIFY,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_REP_TIME,
	OPT_ITERS,
	OPT_JSON,
};

static int parse_path(const char *cmd, const char *s, struct common *c)
{
	c->path_name = s;
	c->node = false;
	if (!strcmp(s, "auto"))
		c->flags = 0;
	else if (!strcmp(s, "copy"))
		c->flags = SGDMA_XFER_COPY;
	else if (!strcmp(s, "pinned"))
		c->flags = SGDMA_XFER_PINNED;
	else if (!strcmp(s, "node"))
		c->node = true;
	else
		return usage_err(cmd, "unknown path '%s' (auto, copy, pinned, node)",
				 s);
	return 0;
}

static int parse_size_opt(const char *cmd, const char *opt, const char *s,
			  uint64_t *v)
{
	int ret = cli_parse_size(s, v);

	if (ret == -ERANGE)
		return usage_err(cmd, "%s '%s' is out of range", opt, s);
	if (ret)
		return usage_err(cmd, "%s '%s' is not a size", opt, s);
	return 0;
}

static int parse_uint_opt(const char *cmd, const char *opt, const char *s,
			  unsigned long min, unsigned long max,
			  unsigned long *v)
{
	int ret = cli_parse_uint(s, min, max, v);

	if (ret == -ERANGE)
		return usage_err(cmd, "%s '%s' is out of range (%lu to %lu)",
				 opt, s, min, max);
	if (ret)
		return usage_err(cmd, "%s '%s' is not a number", opt, s);
	return 0;
}

/* Opens the device and reads its info; an exit code. */
static int open_device(const char *name, struct sgdma_dev **dev,
		       struct sgdma_info *info)
{
	unsigned long index;
	char path[64];
	int ret;

	if (!cli_parse_uint(name, 0, 255, &index)) {
		snprintf(path, sizeof(path), "/dev/sgdma%lu", index);
		name = path;
	}
	ret = sgdma_open(name, dev);
	if (ret == -ENOENT) {
		if (access("/sys/module/sgdma", F_OK))
			msg("%s: no such device node: the sgdma module is not loaded (try 'modprobe sgdma')",
			    name);
		else
			msg("%s: no such device node (the sgdma module is loaded; see /sys/class/sgdma for the devices it found)",
			    name);
		return EXIT_NODEV;
	}
	if (ret == -EACCES || ret == -EPERM) {
		msg("%s: permission denied (run as root, or give your user access to the node, e.g. with a udev rule)",
		    name);
		return EXIT_PERM;
	}
	if (ret)
		return fail(name, ret);
	ret = sgdma_get_info(*dev, info);
	if (ret) {
		sgdma_close(*dev);
		if (ret == -ENOTTY) {
			msg("%s: not an sgdma device node", name);
			return EXIT_NODEV;
		}
		return fail(name, ret);
	}
	return EXIT_OK;
}

/* Checks [off, off + len) lies in card memory; an exit code. */
static int check_range(const char *cmd, const struct sgdma_info *info,
		       uint64_t off, uint64_t len)
{
	if (off > info->card_size || len > info->card_size - off)
		return usage_err(cmd, "offset 0x%" PRIx64 " + length 0x%" PRIx64
				 " is outside card memory (0x%" PRIx64 " bytes)",
				 off, len, (uint64_t)info->card_size);
	return 0;
}

/*
 * The pinned path needs buffer addresses (ours are page-aligned) and
 * lengths aligned to the device's seg_align; say so rather than pass on
 * the driver's EINVAL. An exit code.
 */
static int check_pinned(const char *cmd, const struct common *c, uint64_t len)
{
	if (!(c->flags & SGDMA_XFER_PINNED) || c->seg_align <= 1 ||
	    !(len % c->seg_align))
		return 0;
	return usage_err(cmd, "the pinned path of this device moves multiples of %u bytes (its seg_align), not %" PRIu64 "; use -P copy or auto",
			 c->seg_align, len);
}

/* Memory for the pinned and registered paths (see sgdma_mem_alloc). */
static void *buf_alloc(size_t len)
{
	void *p;

	return sgdma_mem_alloc(len ? len : 1, &p) ? NULL : p;
}

static void buf_free(void *p, size_t len)
{
	sgdma_mem_free(p, len ? len : 1);
}

/* Reads until @len bytes or end of file; bytes read or -errno. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, (char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			break;
		done += n;
	}
	return done;
}

static int write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += n;
	}
	return 0;
}

/* One chunk between host memory and card memory, by the chosen path. */
static int card_io(struct sgdma_dev *dev, const struct common *c, bool to_card,
		   uint64_t off, void *buf, size_t len, uint32_t *crc)
{
	ssize_t n;

	if (c->node) {
		n = to_card ? sgdma_pwrite(dev, buf, len, off) :
			      sgdma_pread(dev, buf, len, off);
		if (n < 0)
			return (int)n;
		return (size_t)n == len ? 0 : -EIO;
	}
	return to_card ? sgdma_write_card(dev, off, buf, len, c->flags, crc) :
			 sgdma_read_card(dev, off, buf, len, c->flags, crc);
}

/* ---- info ---- */

static int cmd_info(int argc, char **argv);
static int cmd_write(int argc, char **argv);
static int cmd_read(int argc, char **argv);
static int cmd_copy(int argc, char **argv);
static int cmd_fill(int argc, char **argv);
static int cmd_verify(int argc, char **argv);
static int cmd_bench(int argc, char **argv);
static int cmd_selftest(int argc, char **argv);

static const struct command commands[] = {
	{ "info", cmd_info, "show the device's identity, capabilities and limits",
	  "usage: sgdma info [-d DEV] [--json]\n"
	  "\n"
	  "Shows the device's identity, capabilities and limits (SGDMA_IOC_INFO).\n"
	  "\n"
	  DEV_OPT
	  "      --json          one JSON object, for scripts\n" },
	{ "write", cmd_write, "write a file (or stdin) into card memory",
	  "usage: sgdma write [-d DEV] [-o OFFSET] [-l LENGTH] [-i FILE] [-P PATH]\n"
	  "                   [-c CHUNK] [--crc]\n"
	  "\n"
	  "Writes LENGTH bytes (default: all of FILE) into card memory at OFFSET.\n"
	  "\n"
	  DEV_OPT
	  "  -o, --offset OFFSET first byte of card memory (default 0)\n"
	  "  -l, --length LENGTH bytes to write; the input must have them\n"
	  "  -i, --input FILE    read from FILE (default '-', stdin)\n"
	  PATH_OPT
	  "  -c, --chunk SIZE    bytes per transfer (default 1M)\n"
	  "      --crc           check each transfer's device CRC32C against\n"
	  "                      software's; prints the CRC of all the data\n"
	  SIZE_NOTE },
	{ "read", cmd_read, "read card memory into a file (or stdout)",
	  "usage: sgdma read [-d DEV] [-o OFFSET] [-l LENGTH] [-O FILE] [-P PATH]\n"
	  "                  [-c CHUNK] [--crc]\n"
	  "\n"
	  "Reads LENGTH bytes (default: to the end of card memory) from OFFSET.\n"
	  "\n"
	  DEV_OPT
	  "  -o, --offset OFFSET first byte of card memory (default 0)\n"
	  "  -l, --length LENGTH bytes to read\n"
	  "  -O, --output FILE   write to FILE, created or truncated\n"
	  "                      (default '-', stdout)\n"
	  PATH_OPT
	  "  -c, --chunk SIZE    bytes per transfer (default 1M)\n"
	  "      --crc           check each transfer's device CRC32C against\n"
	  "                      software's; prints the CRC on stderr\n"
	  SIZE_NOTE },
	{ "copy", cmd_copy, "copy a file to another through the device (H2H)",
	  "usage: sgdma copy [-d DEV] [-i FILE] [-O FILE] [-l LENGTH] [-P PATH]\n"
	  "                  [-c CHUNK] [--crc]\n"
	  "\n"
	  "Copies FILE to FILE through the device's host-to-host operation, one\n"
	  "chunk at a time: read(2) into a buffer, the device copies it into a\n"
	  "second buffer, write(2) from that. Card memory is not touched.\n"
	  "\n"
	  DEV_OPT
	  "  -i, --input FILE    source (default '-', stdin)\n"
	  "  -O, --output FILE   destination, created or truncated (default '-')\n"
	  "  -l, --length LENGTH copy at most LENGTH bytes (default: all)\n"
	  "  -P, --path PATH     auto, copy or pinned\n"
	  "  -c, --chunk SIZE    bytes per transfer (default 1M)\n"
	  "      --crc           check each device CRC32C against software's\n"
	  SIZE_NOTE },
	{ "fill", cmd_fill, "fill card memory with a pattern",
	  "usage: sgdma fill [-d DEV] [-o OFFSET] [-l LENGTH] [-p PATTERN] [-P PATH]\n"
	  "                  [-c CHUNK]\n"
	  "\n"
	  "Fills card memory with a pattern. The device has no fill operation:\n"
	  "the pattern is built in host memory and written with host-to-card\n"
	  "transfers (by PATH, default copy), one chunk at a time.\n"
	  "\n"
	  DEV_OPT
	  "  -o, --offset OFFSET first byte (default 0)\n"
	  "  -l, --length LENGTH bytes (default: to the end of card memory)\n"
	  "  -p, --pattern PAT   zero (default), ones, 0xNN (a byte), incr\n"
	  "                      (32-bit little-endian word n at byte 4n of the\n"
	  "                      range) or random[:SEED] (reproducible)\n"
	  PATH_OPT
	  "  -c, --chunk SIZE    bytes per transfer (default 1M)\n"
	  SIZE_NOTE },
	{ "verify", cmd_verify, "write a pattern, read it back, compare data and CRCs",
	  "usage: sgdma verify [-d DEV] [-o OFFSET] [-l LENGTH] [-p PATTERN]\n"
	  "                    [-P PATH] [-c CHUNK]\n"
	  "\n"
	  "Writes a pattern to card memory, reads it back into a poisoned buffer\n"
	  "and compares, chunk by chunk; on the DMA paths also checks both\n"
	  "transfers' device CRC32C against software's. Overwrites the range.\n"
	  "Exits 5 at the first mismatch, with its card offset.\n"
	  "\n"
	  DEV_OPT
	  "  -o, --offset OFFSET first byte (default 0)\n"
	  "  -l, --length LENGTH bytes (default: to the end of card memory)\n"
	  "  -p, --pattern PAT   as for fill; default random\n"
	  PATH_OPT
	  "  -c, --chunk SIZE    bytes per transfer (default 1M)\n"
	  SIZE_NOTE },
	{ "bench", cmd_bench, "measure throughput by path, direction and size",
	  "usage: sgdma bench [-d DEV] [-s SIZES] [-P PATHS] [-D DIRS] [-t THREADS]\n"
	  "                   [-q QD] [-r REPS] [--warmup N] [--rep-time SEC]\n"
	  "                   [--iters N] [-o OFFSET] [--verify] [-f FORMAT]\n"
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
	  "  -f, --format FMT    table (default), csv or json; columns: path,\n"
	  "                      direction, size, threads, qd, reps, iters,\n"
	  "                      median/min/max/mean/stddev MB/s, median_lat_us\n"
	  "                      (repetition time / iters), verified\n"
	  "      --progress      progress bar on stderr (default: if a terminal)\n"
	  "      --no-progress   none\n"
	  SIZE_NOTE },
	{ "selftest", cmd_selftest, "check the device and driver end to end",
	  "usage: sgdma selftest [-d DEV] [-o OFFSET]\n"
	  "\n"
	  "Runs a short functional check of every path and operation: info, H2C\n"
	  "and C2H on the copy and pinned paths with CRC32C, H2H, vectored\n"
	  "transfers, read/write on the node, a refused out-of-range request,\n"
	  "and libsgdma's asynchronous queue. Prints TAP. Overwrites 256 KiB of\n"
	  "card memory at OFFSET (default 0).\n"
	  "\n"
	  DEV_OPT
	  "  -o, --offset OFFSET first byte of card memory used (default 0)\n" },
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static void cmd_help(const char *name, FILE *out)
{
	fputs(find_command(name)->help, out);
	fputs("\n" EXIT_CODES, out);
}

static void main_usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-d DEV] COMMAND [OPTIONS]\n"
		"       %s COMMAND --help\n"
		"\n"
		"  -d, --device DEV  device node path, or N for /dev/sgdmaN (default 0)\n"
		"  -h, --help        show this help\n"
		"  -Q, --quiet       no summaries on stderr (read, copy)\n"
		"  -V, --version     show the version of the tool and libsgdma\n"
		"\n"
		"commands:\n", progname, progname);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(out, "  %-9s  %s\n", commands[i].name,
			commands[i].summary);
	fputs("\n" EXIT_CODES, out);
}

/*
 * Parses the options every command shares plus the command's own; calls
 * @opt for the latter. Returns -1 to go on, else an exit code.
 */
typedef int (*opt_fn)(const char *cmd, int c, const char *arg, void *ctx);

static int parse_opts(int argc, char **argv, const char *shortopts,
		      const struct option *longopts, struct common *com,
		      opt_fn opt, void *ctx)
{
	const char *cmd = argv[0];
	int c, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			cmd_help(cmd, stdout);
			return EXIT_OK;
		case 'd':
			com->device = optarg;
			break;
		case 'P':
			if (com->own_P)
				goto own;
			ret = parse_path(cmd, optarg, com);
			if (ret)
				return ret;
			break;
		case '?':
			if (optopt)
				return usage_err(cmd, "bad or incomplete option '-%c'",
						 optopt);
			return usage_err(cmd, "bad or incomplete option '%s'",
					 argv[optind - 1]);
		case ':':
			return usage_err(cmd, "option '%s' needs an argument",
					 argv[optind - 1]);
		default:
own:
			ret = opt(cmd, c, optarg, ctx);
			if (ret)
				return ret;
		}
	}
	if (optind != argc)
		return usage_err(cmd, "unexpected argument '%s'", argv[optind]);
	return -1;
}

struct info_opts {
	bool json;
};

static int info_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	struct info_opts *o = ctx;

	(void)cmd;
	(void)arg;
	if (c == OPT_JSON)
		o->json = true;
	return 0;
}

static const char *irq_name(uint32_t mode)
{
	switch (mode) {
	case SGDMA_IRQ_INTX:
		return "intx";
	case SGDMA_IRQ_MSI:
		return "msi";
	case SGDMA_IRQ_MSIX:
		return "msi-x";
	default:
		return "unknown";
	}
}

static int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct common com = { .device = global_device };
	struct info_opts o = { false };
	struct sgdma_info i;
	struct sgdma_dev *dev;
	int ret;

	ret = parse_opts(argc, argv, "+:d:h", longopts, &com, info_opt, &o);
	if (ret >= 0)
		return ret;
	ret = open_device(com.device, &dev, &i);
	if (ret)
		return ret;
	sgdma_close(dev);
	if (o.json) {
		printf("{\"device\": \"/dev/sgdma%u\", \"abi_version\": %u, "
		       "\"hw_id\": %u, \"hw_version\": \"%u.%u\", "
		       "\"pci_vendor\": %u, \"pci_device\": %u, "
		       "\"pci_revision\": %u, \"channels\": %u, "
		       "\"dma_bits\": %u, \"card_size\": %" PRIu64 ", "
		       "\"seg_boundary\": %" PRIu64 ", \"max_seg_size\": %u, "
		       "\"max_segments\": %u, \"seg_align\": %u, "
		       "\"max_desc_len\": %u, \"ops\": %u, \"caps\": %u, "
		       "\"max_iovecs\": %u, \"copy_threshold\": %u, "
		       "\"max_xfer_len\": %" PRIu64 ", \"copy_chunk\": %u, "
		       "\"pin_chunk\": %u, \"irq_mode\": \"%s\"}\n",
		       i.minor, i.abi_version, i.hw_id, i.hw_version >> 16,
		       i.hw_version & 0xffff, i.pci_vendor, i.pci_device,
		       i.pci_revision, i.channels, i.dma_bits,
		       (uint64_t)i.card_size, (uint64_t)i.seg_boundary,
		       i.max_seg_size, i.max_segments, i.seg_align,
		       i.max_desc_len, i.ops, i.caps, i.max_iovecs,
		       i.copy_threshold, (uint64_t)i.max_xfer_len,
		       i.copy_chunk, i.pin_chunk, irq_name(i.irq_mode));
		return EXIT_OK;
	}
	printf("device:         /dev/sgdma%u\n", i.minor);
	printf("pci id:         %04x:%04x rev %02x\n", i.pci_vendor,
	       i.pci_device, i.pci_revision);
	printf("hw id:          0x%08x\n", i.hw_id);
	printf("hw version:     %u.%u\n", i.hw_version >> 16,
	       i.hw_version & 0xffff);
	printf("abi version:    %u\n", i.abi_version);
	if (i.abi_version < 2)
		return EXIT_OK;
	printf("card memory:    %" PRIu64 " bytes\n", (uint64_t)i.card_size);
	printf("channels:       %u\n", i.channels);
	printf("irq mode:       %s\n", irq_name(i.irq_mode));
	printf("operations:    %s%s%s\n",
	       i.ops & 1u << SGDMA_OP_H2C ? " h2c" : "",
	       i.ops & 1u << SGDMA_OP_C2H ? " c2h" : "",
	       i.ops & 1u << SGDMA_OP_H2H ? " h2h" : "");
	printf("capabilities:  %s%s%s%s%s\n",
	       i.caps & SGDMA_CAP_CRC32C ? " crc32c" : "",
	       i.caps & SGDMA_CAP_PINNED ? " pinned" : "",
	       i.caps & SGDMA_CAP_FAULT_INJECT ? " fault-inject" : "",
	       i.caps & SGDMA_CAP_BUFS ? " buffers" : "",
	       i.caps & SGDMA_CAP_MMAP_CARD ? " mmap-card" : "");
	printf("dma bits:       %u\n", i.dma_bits);
	printf("segments:       max %u of %u bytes, boundary 0x%" PRIx64
	       ", align %u\n", i.max_segments, i.max_seg_size,
	       (uint64_t)i.seg_boundary, i.seg_align);
	printf("descriptor:     max %u bytes\n", i.max_desc_len);
	printf("transfer:       max %" PRIu64 " bytes, %u iovecs\n",
	       (uint64_t)i.max_xfer_len, i.max_iovecs);
	printf("copy threshold: %u bytes\n", i.copy_threshold);
	printf("chunks:         copy %u, pin %u bytes\n", i.copy_chunk,
	       i.pin_chunk);
	return EXIT_OK;
}

/* ---- write, read, copy, fill, verify ---- */

struct io_opts {
	uint64_t off, len, chunk;
	bool have_len, crc;
	const char *input, *output;
	struct cli_pattern pat;
};

static int io_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	struct io_opts *o = ctx;

	switch (c) {
	case 'o':
		return parse_size_opt(cmd, "offset", arg, &o->off);
	case 'l':
		o->have_len = true;
		return parse_size_opt(cmd, "length", arg, &o->len);
	case 'c':
		if (parse_size_opt(cmd, "chunk", arg, &o->chunk))
			return EXIT_USAGE;
		if (!o->chunk || o->chunk > SGDMA_XFER_MAX_LEN)
			return usage_err(cmd, "chunk '%s' is out of range (1 to 1G)",
					 arg);
		return 0;
	case 'i':
		o->input = arg;
		return 0;
	case 'O':
		o->output = arg;
		return 0;
	case 'p':
		if (cli_parse_pattern(arg, &o->pat))
			return usage_err(cmd, "unknown pattern '%s'", arg);
		return 0;
	case OPT_CRC:
		o->crc = true;
		return 0;
	}
	return usage_err(cmd, "unexpected option");
}

static const struct option io_longopts[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "offset", required_argument, NULL, 'o' },
	{ "length", required_argument, NULL, 'l' },
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'O' },
	{ "path", required_argument, NULL, 'P' },
	{ "chunk", required_argument, NULL, 'c' },
	{ "pattern", required_argument, NULL, 'p' },
	{ "crc", no_argument, NULL, OPT_CRC },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Parses a write/read/copy/fill/verify command line; -1 to go on. */
static int io_parse(int argc, char **argv, const char *shortopts,
		    struct common *com, struct io_opts *o)
{
	com->device = global_device;
	o->chunk = MiB;
	return parse_opts(argc, argv, shortopts, io_longopts, com, io_opt, o);
}

/* Opens file @name with @flags, "-" being @std_fd; an exit code. */
static int open_file(const char *name, int flags, int std_fd, int *fd)
{
	if (!strcmp(name, "-")) {
		*fd = std_fd;
		return 0;
	}
	*fd = open(name, flags | O_CLOEXEC, 0644);
	if (*fd < 0) {
		msg("%s: %s", name, strerror(errno));
		return errno == EACCES ? EXIT_PERM : EXIT_FAIL;
	}
	return 0;
}

static int open_input(const char *name, int *fd)
{
	return open_file(name, O_RDONLY, STDIN_FILENO, fd);
}

static int open_output(const char *name, int *fd)
{
	return open_file(name, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO, fd);
}

static void close_file(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Checks a device CRC against software's; an exit code. */
static int check_crc(const char *what, uint64_t off, uint32_t dev_crc,
		     uint32_t sw_crc)
{
	if (dev_crc == sw_crc)
		return 0;
	msg("%s at 0x%" PRIx64 ": device CRC32C %#010x, data's %#010x", what,
	    off, dev_crc, sw_crc);
	return EXIT_MISMATCH;
}

/*
 * Opens the device for a command on [o->off, o->off + o->len) of card
 * memory (without -l, up to the card's end) and checks that range for the
 * chosen path; an exit code, with the device closed on failure.
 */
static int open_range(const char *cmd, struct common *com, struct io_opts *o,
		      struct sgdma_dev **dev, struct sgdma_info *info)
{
	int ret;

	ret = open_device(com->device, dev, info);
	if (ret)
		return ret;
	if (!o->have_len)
		o->len = o->off < info->card_size ? info->card_size - o->off : 0;
	com->seg_align = info->seg_align;
	ret = check_range(cmd, info, o->off, o->len);
	if (!ret)
		ret = check_pinned(cmd, com, o->chunk);
	if (!ret)
		ret = check_pinned(cmd, com, o->len % o->chunk);
	if (ret) {
		sgdma_close(*dev);
		*dev = NULL;
	}
	return ret;
}

/* card_io() that names @what and the card offset on failure; an exit code. */
static int card_io_at(struct sgdma_dev *dev, const struct common *c,
		      bool to_card, const char *what, uint64_t off, void *buf,
		      size_t len, uint32_t *crc)
{
	char where[64];
	int err;

	err = card_io(dev, c, to_card, off, buf, len, crc);
	if (!err)
		return EXIT_OK;
	snprintf(where, sizeof(where), "%s at 0x%" PRIx64, what, off);
	return fail(where, err);
}

/*
 * One chunk of write or read. With @total_crc, checks the device's CRC32C
 * of the chunk against the data's (the node path has none) and folds the
 * chunk into *@total_crc. An exit code.
 */
static int chunk_io(struct sgdma_dev *dev, const struct common *c,
		    bool to_card, const char *what, uint64_t off, void *buf,
		    size_t len, uint32_t *total_crc)
{
	uint32_t crc = 0;
	int ret;

	ret = card_io_at(dev, c, to_card, what, off, buf, len,
			 total_crc ? &crc : NULL);
	if (ret || !total_crc)
		return ret;
	if (!c->node) {
		ret = check_crc(what, off, crc, sgdma_crc32c(0, buf, len));
		if (ret)
			return ret;
	}
	*total_crc = sgdma_crc32c(*total_crc, buf, len);
	return EXIT_OK;
}

static int cmd_write(int argc, char **argv)
{
	struct io_opts o = { .input = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	uint64_t done = 0, limit;
	uint32_t total_crc = 0;
	void *buf = NULL;
	struct stat st;
	int fd = -1, ret;

	ret = io_parse(argc, argv, "+:d:o:l:i:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (o.crc && !com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = open_device(com.device, &dev, &info);
	if (ret)
		return ret;
	com.seg_align = info.seg_align;
	ret = check_pinned(argv[0], &com, o.chunk);
	if (ret)
		goto out;
	ret = open_input(o.input, &fd);
	if (ret)
		goto out;
	if (!o.have_len && !fstat(fd, &st) && S_ISREG(st.st_mode)) {
		o.len = st.st_size;
		o.have_len = true;
	}
	limit = o.have_len ? o.len : info.card_size - (o.off < info.card_size ?
						       o.off : info.card_size);
	ret = check_range(argv[0], &info, o.off, limit);
	if (!ret && o.have_len)
		ret = check_pinned(argv[0], &com, limit % o.chunk);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	for (;;) {
		size_t want = limit - done < o.chunk ? limit - done : o.chunk;
		ssize_t n;

		/* From stdin without -l: one byte past the card is an error. */
		if (!want && !o.have_len && read_full(fd, buf, 1) > 0) {
			ret = usage_err(argv[0], "the input is longer than card memory from offset 0x%" PRIx64,
					o.off);
			goto out;
		}
		if (!want)
			break;
		n = read_full(fd, buf, want);
		if (n < 0) {
			ret = fail(o.input, (int)n);
			goto out;
		}
		if (!n && !o.have_len)
			break;
		if ((size_t)n < want && o.have_len) {
			msg("%s: ended after %" PRIu64 " of %" PRIu64 " bytes",
			    o.input, done + n, limit);
			ret = EXIT_FAIL;
			goto out;
		}
		ret = check_pinned(argv[0], &com, n);
		if (ret)
			goto out;
		ret = chunk_io(dev, &com, true, "write", o.off + done, buf, n,
			       o.crc ? &total_crc : NULL);
		if (ret)
			goto out;
		done += n;
		if ((size_t)n < want)
			break;
	}
	printf("wrote %" PRIu64 " bytes at 0x%" PRIx64, done, o.off);
	if (o.crc)
		printf(", crc32c %#010x", total_crc);
	printf("\n");
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	if (fd >= 0)
		close_file(fd);
	sgdma_close(dev);
	return ret;
}

static int cmd_read(int argc, char **argv)
{
	struct io_opts o = { .output = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	uint32_t total_crc = 0;
	uint64_t done = 0;
	void *buf = NULL;
	int fd = -1, ret;

	ret = io_parse(argc, argv, "+:d:o:l:O:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (o.crc && !com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = open_range(argv[0], &com, &o, &dev, &info);
	if (ret)
		return ret;
	ret = open_output(o.output, &fd);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;
		int err;

		ret = chunk_io(dev, &com, false, "read", o.off + done, buf, n,
			       o.crc ? &total_crc : NULL);
		if (ret)
			goto out;
		err = write_full(fd, buf, n);
		if (err) {
			ret = fail(o.output, err);
			goto out;
		}
		done += n;
	}
	/* The data may be on stdout: the summary goes to stderr. */
	if (!quiet && o.crc)
		fprintf(stderr, "read %" PRIu64 " bytes at 0x%" PRIx64
			", crc32c %#010x\n", done, o.off, total_crc);
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	if (fd >= 0)
		close_file(fd);
	sgdma_close(dev);
	return ret;
}

static int cmd_copy(int argc, char **argv)
{
	struct io_opts o = { .input = "-", .output = "-" };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev = NULL;
	int in = -1, out = -1, ret;
	uint32_t total_crc = 0;
	void *src = NULL, *dst = NULL;
	uint64_t done = 0;

	ret = io_parse(argc, argv, "+:d:i:O:l:P:c:h", &com, &o);
	if (ret >= 0)
		return ret;
	if (com.node)
		return usage_err(argv[0], "the node path has no host-to-host copy");
	ret = open_device(com.device, &dev, &info);
	if (ret)
		return ret;
	com.seg_align = info.seg_align;
	ret = check_pinned(argv[0], &com, o.chunk);
	if (ret)
		goto out;
	ret = open_input(o.input, &in);
	if (!ret)
		ret = open_output(o.output, &out);
	if (ret)
		goto out;
	ret = EXIT_FAIL;
	src = buf_alloc(o.chunk);
	dst = buf_alloc(o.chunk);
	if (!src || !dst)
		goto out;
	while (!o.have_len || done < o.len) {
		size_t want = o.have_len && o.len - done < o.chunk ?
			      o.len - done : o.chunk;
		ssize_t n = read_full(in, src, want);
		uint32_t crc = 0;
		int err;

		if (n < 0) {
			ret = fail(o.input, (int)n);
			goto out;
		}
		if (!n)
			break;
		ret = check_pinned(argv[0], &com, n);
		if (ret)
			goto out;
		ret = EXIT_FAIL;
		err = sgdma_copy(dev, dst, src, n,
				 com.flags | (o.crc ? SGDMA_XFER_CRC : 0),
				 o.crc ? &crc : NULL);
		if (err) {
			ret = fail("copy", err);
			goto out;
		}
		if (memcmp(src, dst, n)) {
			msg("copy: the device's copy differs from its source near byte %" PRIu64,
			    done);
			ret = EXIT_MISMATCH;
			goto out;
		}
		if (o.crc) {
			ret = check_crc("copy", done, crc,
					sgdma_crc32c(0, src, n));
			if (ret)
				goto out;
			total_crc = sgdma_crc32c(total_crc, src, n);
		}
		err = write_full(out, dst, n);
		if (err) {
			ret = fail(o.output, err);
			goto out;
		}
		done += n;
		if ((size_t)n < want)
			break;
	}
	if (!quiet) {
		fprintf(stderr, "copied %" PRIu64 " bytes", done);
		if (o.crc)
			fprintf(stderr, ", crc32c %#010x", total_crc);
		fprintf(stderr, "\n");
	}
	ret = EXIT_OK;
out:
	buf_free(src, o.chunk);
	buf_free(dst, o.chunk);
	if (in >= 0)
		close_file(in);
	if (out >= 0)
		close_file(out);
	sgdma_close(dev);
	return ret;
}

/* Common set-up of fill and verify; -1 to go on. */
static int pattern_setup(int argc, char **argv, struct common *com,
			 struct io_opts *o, const char *pattern,
			 struct sgdma_dev **dev, struct sgdma_info *info)
{
	int ret;

	cli_parse_pattern(pattern, &o->pat);
	com->flags = SGDMA_XFER_COPY;
	com->path_name = "copy";
	ret = io_parse(argc, argv, "+:d:o:l:p:P:c:h", com, o);
	if (ret >= 0)
		return ret;
	ret = open_range(argv[0], com, o, dev, info);
	return ret ? ret : -1;
}

static int cmd_fill(int argc, char **argv)
{
	struct io_opts o = { 0 };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev;
	uint64_t done = 0;
	void *buf;
	int ret;

	ret = pattern_setup(argc, argv, &com, &o, "zero", &dev, &info);
	if (ret >= 0)
		return ret;
	ret = EXIT_FAIL;
	buf = buf_alloc(o.chunk);
	if (!buf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;

		/* A constant pattern is built once. */
		if (!done || o.pat.kind != PAT_BYTE)
			cli_pattern_fill(&o.pat, buf, n, done);
		ret = card_io_at(dev, &com, true, "fill", o.off + done, buf, n,
				 NULL);
		if (ret)
			goto out;
		done += n;
	}
	printf("filled %" PRIu64 " bytes at 0x%" PRIx64 "\n", done, o.off);
	ret = EXIT_OK;
out:
	buf_free(buf, o.chunk);
	sgdma_close(dev);
	return ret;
}

static int first_difference(const unsigned char *a, const unsigned char *b,
			    size_t len, size_t *at)
{
	if (!memcmp(a, b, len))
		return 0;
	for (*at = 0; *at < len && a[*at] == b[*at]; (*at)++)
		;
	return 1;
}

static int cmd_verify(int argc, char **argv)
{
	struct io_opts o = { 0 };
	struct common com = { 0 };
	struct sgdma_info info;
	struct sgdma_dev *dev;
	unsigned char *wbuf = NULL, *rbuf = NULL;
	uint64_t done = 0;
	int ret;

	ret = pattern_setup(argc, argv, &com, &o, "random", &dev, &info);
	if (ret >= 0)
		return ret;
	if (!com.node)
		com.flags |= SGDMA_XFER_CRC;
	ret = EXIT_FAIL;
	wbuf = buf_alloc(o.chunk);
	rbuf = buf_alloc(o.chunk);
	if (!wbuf || !rbuf)
		goto out;
	while (done < o.len) {
		size_t n = o.len - done < o.chunk ? o.len - done : o.chunk;
		uint32_t wcrc = 0, rcrc = 0, sw;
		uint64_t off = o.off + done;
		size_t at;

		cli_pattern_fill(&o.pat, wbuf, n, done);
		for (size_t i = 0; i < n; i++)
			rbuf[i] = ~wbuf[i];
		ret = card_io_at(dev, &com, true, "verify", off, wbuf, n,
				 &wcrc);
		if (!ret)
			ret = card_io_at(dev, &com, false, "verify", off, rbuf,
					 n, &rcrc);
		if (ret)
			goto out;
		if (first_difference(wbuf, rbuf, n, &at)) {
			msg("verify: data differs at card offset 0x%" PRIx64
			    ": wrote %#04x, read %#04x", off + at, wbuf[at],
			    rbuf[at]);
			ret = EXIT_MISMATCH;
			goto out;
		}
		if (!com.node) {
			sw = sgdma_crc32c(0, wbuf, n);
			ret = check_crc("verify write", off, wcrc, sw);
			if (!ret)
				ret = check_crc("verify read", off, rcrc, sw);
			if (ret)
				goto out;
		}
		done += n;
	}
	printf("verified %" PRIu64 " bytes at 0x%" PRIx64 " (%s path%s)\n",
	       done, o.off, com.path_name, com.node ? "" : ", crc32c");
	ret = EXIT_OK;
out:
	buf_free(wbuf, o.chunk);
	buf_free(rbuf, o.chunk);
	sgdma_close(dev);
	return ret;
}

/* ---- bench ---- */

enum { BP_COPY, BP_PINNED, BP_AUTO, BP_NODE, BP_REGISTERED, BP_COHERENT,
       BP_NR };
enum { BD_H2C, BD_C2H, BD_H2H, BD_NR };
static const char *const bench_paths[BP_NR] = { "copy", "pinned", "auto",
						"node", "registered",
						"coherent" };
/* Paths of buffers the driver holds: registered once, or its own. */
#define BP_BUFS		(1u << BP_REGISTERED | 1u << BP_COHERENT)
static const char *const bench_dirs[BD_NR] = { "h2c", "c2h", "h2h" };

struct bench_opts {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	unsigned int paths, dirs;
	unsigned long threads, qd, reps, warmup, iters;
	double rep_time;
	uint64_t off;
	bool verify;
	int progress;		/* -1: if stderr is a terminal */
	enum cli_format fmt;
};

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
	case OPT_VERIFY:
		o->verify = true;
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

struct bench_cell;

struct bench_worker {
	struct bench_cell *cell;
	pthread_t thread;
	unsigned char *src, *dst;
	uint64_t card_off;
	struct sgdma_queue *q;
	int bufq;		/* the driver's queue (buffer paths), or -1 */
	uint32_t sh, dh;	/* buffer handles (buffer paths), 0: none */
	struct sgdma_iovec siov, diov;
	int err;
};

struct bench_cell {
	struct sgdma_dev *dev;
	int path, dir;
	uint64_t size;
	unsigned int qd;
	uint64_t iters;
	unsigned int rounds;
	pthread_barrier_t barrier;
	struct bench_worker *w;
	unsigned int nw;
};

static uint32_t bench_flags(int path)
{
	switch (path) {
	case BP_COPY:
		return SGDMA_XFER_COPY;
	case BP_PINNED:
		return SGDMA_XFER_PINNED;
	default:
		return 0;
	}
}

static void bench_xfer_init(struct bench_cell *c, struct bench_worker *w,
			    struct sgdma_xfer *x)
{
	memset(x, 0, sizeof(*x));
	x->flags = bench_flags(c->path);
	x->op = c->dir == BD_H2C ? SGDMA_OP_H2C :
		c->dir == BD_C2H ? SGDMA_OP_C2H : SGDMA_OP_H2H;
	w->siov = (struct sgdma_iovec){ (uintptr_t)w->src, c->size };
	w->diov = (struct sgdma_iovec){ (uintptr_t)w->dst, c->size };
	if (c->dir != BD_C2H) {
		x->src_iov = (uintptr_t)&w->siov;
		x->src_iovcnt = 1;
	}
	if (c->dir != BD_H2C) {
		x->dst_iov = (uintptr_t)&w->diov;
		x->dst_iovcnt = 1;
	}
	if (c->dir != BD_H2H)
		x->card_offset = w->card_off;
}

static void bench_buf_xfer_init(struct bench_cell *c, struct bench_worker *w,
				struct sgdma_buf_xfer *x)
{
	memset(x, 0, sizeof(*x));
	x->op = c->dir == BD_H2C ? SGDMA_OP_H2C :
		c->dir == BD_C2H ? SGDMA_OP_C2H : SGDMA_OP_H2H;
	x->src_handle = c->dir != BD_C2H ? w->sh : 0;
	x->dst_handle = c->dir != BD_H2C ? w->dh : 0;
	x->card_offset = c->dir != BD_H2H ? w->card_off : 0;
	x->len = c->size;
}

/* @n transfers on the buffers of the driver, through its queue at qd > 1. */
static int bench_run_bufs(struct bench_cell *c, struct bench_worker *w,
			  uint64_t n)
{
	uint64_t submitted = 0, completed = 0;
	struct sgdma_completion cqe[16];
	struct sgdma_buf_xfer x;
	int ret;

	bench_buf_xfer_init(c, w, &x);
	if (w->bufq < 0) {
		for (uint64_t i = 0; i < n; i++) {
			ret = sgdma_buf_xfer(c->dev, &x);
			if (ret)
				return ret;
		}
		return 0;
	}
	while (completed < n) {
		while (submitted < n && submitted - completed < c->qd) {
			x.user_data = submitted;
			ret = sgdma_bufq_submit(w->bufq, &x);
			if (ret)
				return ret;
			submitted++;
		}
		ret = sgdma_bufq_reap(w->bufq, cqe, ARRAY_LEN(cqe),
				      SGDMA_REAP_WAIT);
		if (ret < 0)
			return ret;
		if (!ret)
			return -EIO;	/* in flight, yet nothing to wait for */
		for (int i = 0; i < ret; i++)
			if (cqe[i].status)
				return cqe[i].status;
		completed += ret;
	}
	return 0;
}

/*
 * Gives worker @w the buffers of its path: its own memory registered once,
 * or coherent buffers of the driver mapped in place of its own.
 */
static int bench_bufs_setup(struct bench_cell *c, struct bench_worker *w)
{
	void *p;
	int ret;

	if (c->path == BP_REGISTERED) {
		ret = sgdma_buf_register(c->dev, w->src, c->size,
					 SGDMA_BUF_READONLY, &w->sh);
		return ret ? ret : sgdma_buf_register(c->dev, w->dst, c->size,
						      0, &w->dh);
	}
	ret = sgdma_buf_alloc(c->dev, c->size, &w->sh, NULL);
	if (!ret)
		ret = sgdma_buf_mmap(c->dev, w->sh, c->size, &p);
	if (ret)
		return ret;
	memcpy(p, w->src, c->size);
	buf_free(w->src, c->size);
	w->src = p;
	ret = sgdma_buf_alloc(c->dev, c->size, &w->dh, NULL);
	if (!ret)
		ret = sgdma_buf_mmap(c->dev, w->dh, c->size, &p);
	if (ret)
		return ret;
	buf_free(w->dst, c->size);
	w->dst = p;
	return 0;
}

/* @n transfers of one worker, one at a time or @qd in flight. */
static int bench_run(struct bench_cell *c, struct bench_worker *w, uint64_t n)
{
	uint64_t submitted = 0, completed = 0;
	struct sgdma_cqe cqe[16];
	struct sgdma_xfer x;
	ssize_t r;
	int ret;

	if (BP_BUFS >> c->path & 1)
		return bench_run_bufs(c, w, n);
	if (c->path == BP_NODE) {
		for (uint64_t i = 0; i < n; i++) {
			r = c->dir == BD_H2C ?
			    sgdma_pwrite(c->dev, w->src, c->size, w->card_off) :
			    sgdma_pread(c->dev, w->dst, c->size, w->card_off);
			if (r < 0)
				return (int)r;
			if ((uint64_t)r != c->size)
				return -EIO;
		}
		return 0;
	}
	bench_xfer_init(c, w, &x);
	if (!w->q) {
		for (uint64_t i = 0; i < n; i++) {
			ret = sgdma_xfer(c->dev, &x);
			if (ret)
				return ret;
		}
		return 0;
	}
	while (completed < n) {
		while (submitted < n && submitted - completed < c->qd) {
			ret = sgdma_queue_submit(w->q, &x, submitted);
			if (ret)
				return ret;
			submitted++;
		}
		ret = sgdma_queue_reap(w->q, cqe, ARRAY_LEN(cqe), 1, -1);
		if (ret < 0)
			return ret;
		for (int i = 0; i < ret; i++)
			if (cqe[i].res)
				return cqe[i].res;
		completed += ret;
	}
	return 0;
}

static void *bench_thread(void *arg)
{
	struct bench_worker *w = arg;
	struct bench_cell *c = w->cell;

	for (unsigned int r = 0; r < c->rounds; r++) {
		pthread_barrier_wait(&c->barrier);
		if (!w->err)
			w->err = bench_run(c, w, c->iters);
		pthread_barrier_wait(&c->barrier);
	}
	return NULL;
}

struct progress {
	bool on;
	unsigned int cell, cells;
	char label[96];
};

static void progress_show(struct progress *p, unsigned int rep,
			  unsigned int reps)
{
	char line[200], label[140];

	if (!p->on)
		return;
	snprintf(label, sizeof(label), "%s rep %u/%u", p->label, rep, reps);
	fprintf(stderr, "\r\033[K%s",
		cli_progress_line(line, sizeof(line), p->cell, p->cells, 30,
				  label));
	fflush(stderr);
}

static void progress_clear(struct progress *p)
{
	if (p->on) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/* Calibrates transfers per repetition on worker 0, alone, at qd 1. */
static int bench_calibrate(struct bench_cell *c, double rep_time,
			   uint64_t *iters)
{
	struct timespec a, b;
	uint64_t n = 1;
	int64_t ns;
	int ret;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &a);
		ret = bench_run(c, &c->w[0], n);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (ret)
			return ret;
		ns = cli_ns_between(&a, &b);
		if (ns >= rep_time * 2.5e8 || n >= (1ULL << 30))
			break;
		n *= 2;
	}
	*iters = (uint64_t)((double)n * rep_time * 1e9 / (ns > 0 ? ns : 1));
	if (!*iters)
		*iters = 1;
	return 0;
}

static const struct cli_pattern bench_pattern = { PAT_RANDOM, 0, 42 };

/* Prepares data and, for --verify, checks it after the run. */
static int bench_check(struct bench_cell *c, struct bench_worker *w,
		       bool before, bool *ok)
{
	unsigned char *tmp;
	int ret = 0;

	if (before) {
		if (c->dir == BD_C2H) {
			ret = sgdma_write_card(c->dev, w->card_off, w->src,
					       c->size, SGDMA_XFER_COPY, NULL);
			memset(w->dst, 0xa5, c->size);
		} else if (c->dir == BD_H2H) {
			memset(w->dst, 0xa5, c->size);
		}
		return ret;
	}
	switch (c->dir) {
	case BD_H2C:
		tmp = buf_alloc(c->size);
		if (!tmp)
			return -ENOMEM;
		ret = sgdma_read_card(c->dev, w->card_off, tmp, c->size,
				      SGDMA_XFER_COPY, NULL);
		*ok &= !ret && !memcmp(tmp, w->src, c->size);
		buf_free(tmp, c->size);
		break;
	default:
		*ok &= !memcmp(w->dst, w->src, c->size);
		break;
	}
	return ret;
}

static int bench_cell(struct bench_cell *c, const struct bench_opts *o,
		      struct cli_bench_row *row, struct progress *pg)
{
	unsigned int nw = o->threads, started = 0;
	double *mbps = calloc(o->reps, sizeof(double));
	int64_t *ns = calloc(o->reps, sizeof(int64_t));
	double *lat = calloc(o->reps, sizeof(double));
	struct cli_stats lat_stats;
	bool ok = true;
	int ret = -ENOMEM;

	c->w = calloc(nw, sizeof(*c->w));
	c->nw = nw;
	if (!mbps || !ns || !lat || !c->w)
		goto out;
	for (unsigned int i = 0; i < nw; i++) {
		struct bench_worker *w = &c->w[i];

		w->cell = c;
		w->bufq = -1;
		w->src = buf_alloc(c->size);
		w->dst = buf_alloc(c->size);
		if (!w->src || !w->dst)
			goto out;
		cli_pattern_fill(&bench_pattern, w->src, c->size, i * c->size);
		memset(w->dst, 0, c->size);
		w->card_off = o->off + (uint64_t)i * c->size;
		if (BP_BUFS >> c->path & 1) {
			ret = bench_bufs_setup(c, w);
			if (ret)
				goto out;
			if (c->qd > 1) {
				w->bufq = sgdma_bufq_create(c->dev, c->qd,
							    SGDMA_QUEUE_CLOEXEC,
							    -1);
				ret = w->bufq < 0 ? w->bufq : 0;
				if (ret)
					goto out;
			}
		} else if (c->qd > 1) {
			ret = sgdma_queue_create(c->dev, c->qd, 0, &w->q);
			if (ret)
				goto out;
		}
		if (o->verify) {
			ret = bench_check(c, w, true, &ok);
			if (ret)
				goto out;
		}
	}
	c->iters = o->iters;
	if (!c->iters) {
		ret = bench_calibrate(c, o->rep_time, &c->iters);
		if (ret)
			goto out;
	}
	c->rounds = o->warmup + o->reps;
	ret = -pthread_barrier_init(&c->barrier, NULL, nw + 1);
	if (ret)
		goto out;
	for (; started < nw; started++) {
		ret = -pthread_create(&c->w[started].thread, NULL,
				      bench_thread, &c->w[started]);
		if (ret)
			break;
	}
	if (ret) {
		/* Threads that started wait at the barrier forever: give up. */
		msg("bench: cannot start threads: %s", strerror(-ret));
		exit(EXIT_FAIL);
	}
	for (unsigned int r = 0; r < c->rounds; r++) {
		struct timespec a, b;

		progress_show(pg, r < o->warmup ? 0 : r - o->warmup + 1,
			      o->reps);
		pthread_barrier_wait(&c->barrier);
		clock_gettime(CLOCK_MONOTONIC, &a);
		pthread_barrier_wait(&c->barrier);
		clock_gettime(CLOCK_MONOTONIC, &b);
		if (r >= o->warmup)
			ns[r - o->warmup] = cli_ns_between(&a, &b);
	}
	for (unsigned int i = 0; i < nw; i++)
		pthread_join(c->w[i].thread, NULL);
	pthread_barrier_destroy(&c->barrier);
	ret = 0;
	for (unsigned int i = 0; i < nw && !ret; i++)
		ret = c->w[i].err;
	if (ret)
		goto out;
	for (unsigned int r = 0; r < o->reps; r++) {
		mbps[r] = cli_mbps(c->size * c->iters * nw, ns[r]);
		lat[r] = ns[r] / 1e3 / c->iters;
	}
	if (o->verify)
		for (unsigned int i = 0; i < nw && !ret; i++)
			ret = bench_check(c, &c->w[i], false, &ok);
	if (ret)
		goto out;
	cli_stats(mbps, o->reps, &row->mbps);
	cli_stats(lat, o->reps, &lat_stats);
	row->lat_us = lat_stats.median;
	row->iters = c->iters;
	row->verified = o->verify;
	ret = ok ? 0 : -EILSEQ;
out:
	for (unsigned int i = 0; c->w && i < nw; i++) {
		struct bench_worker *w = &c->w[i];

		sgdma_queue_destroy(w->q);
		if (w->bufq >= 0)
			close(w->bufq);	/* waits for what is in flight */
		if (w->sh)
			sgdma_buf_free(c->dev, w->sh);
		if (w->dh)
			sgdma_buf_free(c->dev, w->dh);
		buf_free(w->src, c->size);
		buf_free(w->dst, c->size);
	}
	free(c->w);
	free(mbps);
	free(ns);
	free(lat);
	return ret;
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
		{ "verify", no_argument, NULL, OPT_VERIFY },
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
	uint64_t maxsize = 0;
	int ret;

	ret = parse_opts(argc, argv, "+:d:s:P:D:t:q:r:o:f:h", longopts,
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
				};
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
				ret = bench_cell(&c, &o, &row, &pg);
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
			}
		}
	}
	cli_bench_end(&out);
	ret = EXIT_OK;
out:
	sgdma_close(dev);
	return ret;
}

/* ---- selftest ---- */

struct st {
	struct sgdma_dev *dev;
	struct sgdma_info *info;
	uint64_t off;
	unsigned char *a, *b;
	size_t len;
	int n, failed, mismatch;
};

static void st_result(struct st *t, int ret, const char *name)
{
	t->n++;
	if (ret == -EILSEQ)
		t->mismatch++;
	if (ret) {
		t->failed++;
		printf("not ok %d %s # %s\n", t->n, name,
		       ret == -EILSEQ ? "data or CRC mismatch" :
		       sgdma_strerror(ret));
	} else {
		printf("ok %d %s\n", t->n, name);
	}
	fflush(stdout);
}

static int st_roundtrip(struct st *t, uint32_t flags)
{
	uint32_t wcrc, rcrc, sw;
	int ret;

	cli_pattern_fill(&bench_pattern, t->a, t->len, flags);
	memset(t->b, 0, t->len);
	ret = sgdma_write_card(t->dev, t->off, t->a, t->len,
			       flags | SGDMA_XFER_CRC, &wcrc);
	if (!ret)
		ret = sgdma_read_card(t->dev, t->off, t->b, t->len,
				      flags | SGDMA_XFER_CRC, &rcrc);
	if (ret)
		return ret;
	sw = sgdma_crc32c(0, t->a, t->len);
	return memcmp(t->a, t->b, t->len) || wcrc != sw || rcrc != sw ?
	       -EILSEQ : 0;
}

static int st_info(struct st *t)
{
	if (t->info->abi_version < 2 || !t->info->card_size ||
	    !t->info->max_xfer_len || t->info->card_size < t->len ||
	    t->off > t->info->card_size - t->len)
		return -EINVAL;
	return 0;
}

static int st_copy_path(struct st *t)
{
	return st_roundtrip(t, SGDMA_XFER_COPY);
}

static int st_pinned_path(struct st *t)
{
	if (!(t->info->caps & SGDMA_CAP_PINNED))
		return -EOPNOTSUPP;
	return st_roundtrip(t, SGDMA_XFER_PINNED);
}

static int st_h2h(struct st *t)
{
	uint32_t crc;
	int ret;

	cli_pattern_fill(&bench_pattern, t->a, t->len, 7);
	memset(t->b, 0, t->len);
	ret = sgdma_copy(t->dev, t->b, t->a, t->len, SGDMA_XFER_CRC, &crc);
	if (ret)
		return ret;
	return memcmp(t->a, t->b, t->len) ||
	       crc != sgdma_crc32c(0, t->a, t->len) ? -EILSEQ : 0;
}

static int st_vectored(struct st *t)
{
	/* Odd lengths and an unaligned start, gathered then scattered. */
	struct iovec w[3] = {
		{ t->a + 1, 1000 }, { t->a + 4096, 0 }, { t->a + 8192, 12345 },
	};
	struct iovec r[2] = { { t->b + 3, 7 }, { t->b + 65536, 13338 } };
	int ret;

	cli_pattern_fill(&bench_pattern, t->a, t->len, 11);
	memset(t->b, 0, t->len);
	ret = sgdma_writev_card(t->dev, t->off, w, 3, 0, NULL);
	if (!ret)
		ret = sgdma_readv_card(t->dev, t->off, r, 2, 0, NULL);
	if (ret)
		return ret;
	return memcmp(t->b + 3, t->a + 1, 7) ||
	       memcmp(t->b + 65536, t->a + 8, 993) ||
	       memcmp(t->b + 65536 + 993, t->a + 8192, 12345) ? -EILSEQ : 0;
}

static int st_node(struct st *t)
{
	ssize_t n;

	cli_pattern_fill(&bench_pattern, t->a, t->len, 13);
	memset(t->b, 0, t->len);
	n = sgdma_pwrite(t->dev, t->a, t->len, t->off);
	if (n >= 0)
		n = sgdma_pread(t->dev, t->b, t->len, t->off);
	if (n < 0)
		return (int)n;
	return (size_t)n != t->len || memcmp(t->a, t->b, t->len) ? -EILSEQ :
									0;
}

static int st_out_of_range(struct st *t)
{
	int ret = sgdma_write_card(t->dev, t->info->card_size - 1, t->a, 2, 0,
				   NULL);

	return ret == -EINVAL ? 0 : ret ? ret : -EILSEQ;
}

static int st_queue(struct st *t)
{
	enum { N = 8, CHUNK = 4096 };
	struct sgdma_iovec v[N];
	struct sgdma_xfer x[N];
	struct sgdma_cqe cqe[N];
	struct sgdma_queue *q;
	unsigned int done = 0, seen = 0;
	struct pollfd pfd;
	int ret;

	cli_pattern_fill(&bench_pattern, t->a, N * CHUNK, 17);
	memset(t->b, 0, N * CHUNK);
	ret = sgdma_queue_create(t->dev, 4, 0, &q);
	if (ret)
		return ret;
	for (int i = 0; i < N && !ret; i++) {
		v[i] = (struct sgdma_iovec){ (uintptr_t)(t->a + i * CHUNK),
					     CHUNK };
		x[i] = (struct sgdma_xfer){
			.op = SGDMA_OP_H2C, .flags = SGDMA_XFER_CRC,
			.card_offset = t->off + i * CHUNK,
			.src_iov = (uintptr_t)&v[i], .src_iovcnt = 1,
		};
		while ((ret = sgdma_queue_submit(q, &x[i], i)) == -EBUSY) {
			/* Wait on the fd as an event loop would. */
			pfd = (struct pollfd){ sgdma_queue_fd(q), POLLIN, 0 };
			if (poll(&pfd, 1, 10000) != 1) {
				ret = -ETIMEDOUT;
				break;
			}
			ret = sgdma_queue_reap(q, cqe + done, N - done, 0, 0);
			if (ret < 0)
				break;
			done += ret;
		}
	}
	while (!ret && done < N) {
		ret = sgdma_queue_reap(q, cqe + done, N - done, 1, 10000);
		if (ret > 0) {
			done += ret;
			ret = 0;
		} else if (!ret) {
			ret = -ETIMEDOUT;
		}
	}
	sgdma_queue_destroy(q);
	for (unsigned int i = 0; !ret && i < N; i++) {
		unsigned int k = cqe[i].user_data;

		if (k >= N || seen & 1u << k || cqe[i].res ||
		    cqe[i].crc != sgdma_crc32c(0, t->a + k * CHUNK, CHUNK))
			ret = cqe[i].res ? cqe[i].res : -EILSEQ;
		seen |= 1u << k;
	}
	if (!ret)
		ret = sgdma_read_card(t->dev, t->off, t->b, N * CHUNK, 0,
				      NULL);
	if (!ret && memcmp(t->a, t->b, N * CHUNK))
		ret = -EILSEQ;
	return ret;
}

static int selftest_opt(const char *cmd, int c, const char *arg, void *ctx)
{
	if (c == 'o')
		return parse_size_opt(cmd, "offset", arg, ctx);
	return usage_err(cmd, "unexpected option");
}

static int cmd_selftest(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "offset", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		int (*fn)(struct st *t);
		const char *name;
	} cases[] = {
		{ st_info, "info" },
		{ st_copy_path, "copy_path_h2c_c2h_crc" },
		{ st_pinned_path, "pinned_path_h2c_c2h_crc" },
		{ st_h2h, "h2h_crc" },
		{ st_vectored, "vectored" },
		{ st_node, "node_read_write" },
		{ st_out_of_range, "out_of_range_refused" },
		{ st_queue, "queue" },
	};
	struct common com = { .device = global_device };
	struct sgdma_info info;
	struct st t = { .len = 256 * 1024 };
	int ret;

	ret = parse_opts(argc, argv, "+:d:o:h", longopts, &com, selftest_opt,
			 &t.off);
	if (ret >= 0)
		return ret;
	ret = open_device(com.device, &t.dev, &info);
	if (ret)
		return ret;
	t.info = &info;
	ret = check_range(argv[0], &info, t.off, t.len);
	if (ret)
		goto out;
	t.a = buf_alloc(t.len);
	t.b = buf_alloc(t.len);
	ret = EXIT_FAIL;
	if (!t.a || !t.b)
		goto out;
	printf("TAP version 13\n1..%zu\n", ARRAY_LEN(cases));
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		st_result(&t, cases[i].fn(&t), cases[i].name);
	printf("# %d passed, %d failed\n", t.n - t.failed, t.failed);
	ret = t.mismatch ? EXIT_MISMATCH : t.failed ? EXIT_FAIL : EXIT_OK;
out:
	buf_free(t.a, t.len);
	buf_free(t.b, t.len);
	sgdma_close(t.dev);
	return ret;
}

/* ---- main ---- */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	const char *device = "0";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:hVQ", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("sgdma %s (libsgdma %s, uapi ABI %d)\n",
			       SGDMA_TOOL_VERSION, sgdma_version(),
			       SGDMA_ABI_VERSION);
			return EXIT_OK;
		case 'Q':
			quiet = true;
			break;
		default:
			fprintf(stderr, "%s: bad or incomplete option '%s'\n",
				progname, argv[optind - 1]);
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && find_command(argv[optind + 1])) {
			cmd_help(argv[optind + 1], stdout);
			return EXIT_OK;
		}
		main_usage(stdout);
		return EXIT_OK;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n", progname,
			argv[optind]);
		main_usage(stderr);
		return EXIT_USAGE;
	}
	global_device = device;
	return cmd->run(argc - optind, argv + optind);
}
