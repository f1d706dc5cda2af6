// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the commands that move data (write, read, copy, fill, verify) share:
 * their options, files, and transfers between host and card memory chunk
 * by chunk. See io.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

#define MiB		(1024 * 1024ULL)

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
	case OPT_POLL:
		o->poll = true;
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
	{ "poll", no_argument, NULL, OPT_POLL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int io_parse(int argc, char **argv, const char *shortopts,
	     struct common *com, struct io_opts *o)
{
	int ret;

	com->device = global_device;
	o->chunk = MiB;
	ret = parse_opts(argc, argv, shortopts, io_longopts, com, io_opt, o);
	/* Whatever -P said; the node path has no flags to pass it in. */
	if (ret < 0 && o->poll) {
		if (com->node)
			return usage_err(argv[0], "--poll needs a path other than node");
		com->flags |= SGDMA_XFER_POLL;
	}
	return ret;
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

int open_input(const char *name, int *fd)
{
	return open_file(name, O_RDONLY, STDIN_FILENO, fd);
}

int open_output(const char *name, int *fd)
{
	return open_file(name, O_WRONLY | O_CREAT | O_TRUNC, STDOUT_FILENO, fd);
}

void close_file(int fd)
{
	if (fd > STDERR_FILENO)
		close(fd);
}

int check_crc(const char *what, uint64_t off, uint32_t dev_crc,
	      uint32_t sw_crc)
{
	if (dev_crc == sw_crc)
		return 0;
	msg("%s at 0x%" PRIx64 ": device CRC32C %#010x, data's %#010x", what,
	    off, dev_crc, sw_crc);
	return EXIT_MISMATCH;
}

int open_range(const char *cmd, struct common *com, struct io_opts *o,
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

ssize_t read_full(int fd, void *buf, size_t len)
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

int write_full(int fd, const void *buf, size_t len)
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

int card_io_at(struct sgdma_dev *dev, const struct common *c, bool to_card,
	       const char *what, uint64_t off, void *buf, size_t len,
	       uint32_t *crc)
{
	char where[64];
	int err;

	err = card_io(dev, c, to_card, off, buf, len, crc);
	if (!err)
		return EXIT_OK;
	snprintf(where, sizeof(where), "%s at 0x%" PRIx64, what, off);
	return fail(where, err);
}

int chunk_io(struct sgdma_dev *dev, const struct common *c, bool to_card,
	     const char *what, uint64_t off, void *buf, size_t len,
	     uint32_t *total_crc)
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

int pattern_setup(int argc, char **argv, struct common *com,
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
