// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The sgdma tool's core: messages, the options every command shares,
 * opening the device, checks of a request against its limits and buffers
 * for DMA. See tool.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tool.h"

const char progname[] = "sgdma";
bool quiet;
const char *global_device = "0";

/* ---- messages ---- */

void msg(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", progname, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s %s --help'.\n", progname, cmd);
	return EXIT_USAGE;
}

int fail(const char *what, int err)
{
	msg("%s: %s", what, sgdma_strerror(err));
	return cli_exit_code(err);
}

/* ---- options ---- */

int parse_path(const char *cmd, const char *s, struct common *c)
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

int parse_size_opt(const char *cmd, const char *opt, const char *s,
		   uint64_t *v)
{
	int ret = cli_parse_size(s, v);

	if (ret == -ERANGE)
		return usage_err(cmd, "%s '%s' is out of range", opt, s);
	if (ret)
		return usage_err(cmd, "%s '%s' is not a size", opt, s);
	return 0;
}

int parse_uint_opt(const char *cmd, const char *opt, const char *s,
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

int parse_opts(int argc, char **argv, const char *shortopts,
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
			command_help(cmd, stdout);
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

/* ---- the device ---- */

int open_device(const char *name, struct sgdma_dev **dev,
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

int check_range(const char *cmd, const struct sgdma_info *info,
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
int check_pinned(const char *cmd, const struct common *c, uint64_t len)
{
	if (!(c->flags & SGDMA_XFER_PINNED) || c->seg_align <= 1 ||
	    !(len % c->seg_align))
		return 0;
	return usage_err(cmd, "the pinned path of this device moves multiples of %u bytes (its seg_align), not %" PRIu64 "; use -P copy or auto",
			 c->seg_align, len);
}

const struct cli_pattern data_pattern = { PAT_RANDOM, 0, 42 };

void *buf_alloc(size_t len)
{
	void *p;

	return sgdma_mem_alloc(len ? len : 1, &p) ? NULL : p;
}

void buf_free(void *p, size_t len)
{
	sgdma_mem_free(p, len ? len : 1);
}
