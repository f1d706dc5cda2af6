/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the commands that move data (write, read, copy, fill, verify) share:
 * one set of options, their files, and transfers of a chunk between host
 * memory and card memory by the chosen path.
 */
#ifndef SGDMA_TOOL_IO_H
#define SGDMA_TOOL_IO_H

#include <sys/types.h>

#include "tool.h"

/* Pieces of their help; see also tool.h. */
#define PATH_OPT							\
	"  -P, --path PATH     auto (driver decides), copy (bounce buffers),\n" \
	"                      pinned (user pages mapped for DMA), or node\n" \
	"                      (write(2)/read(2) on the node; copy path)\n"

#define CHUNK_OPT							\
	"  -c, --chunk SIZE    bytes per transfer (default 1M)\n"

#define POLL_OPT							\
	"      --poll          poll for each transfer's completion instead of\n" \
	"                      sleeping until its interrupt (SGDMA_XFER_POLL)\n"

/* -o of write and read, -o and -l of fill and verify. */
#define CARD_OFFSET_OPT							\
	"  -o, --offset OFFSET first byte of card memory (default 0)\n"

#define RANGE_OPTS							\
	"  -o, --offset OFFSET first byte (default 0)\n"			\
	"  -l, --length LENGTH bytes (default: to the end of card memory)\n"

struct io_opts {
	uint64_t off, len, chunk;
	bool have_len, crc, poll;
	const char *input, *output;
	struct cli_pattern pat;
};

/*
 * Parses a write/read/copy/fill/verify command line, @shortopts being the
 * command's subset of the options; -1 to go on, else an exit code.
 */
int io_parse(int argc, char **argv, const char *shortopts,
	     struct common *com, struct io_opts *o);
/*
 * fill's and verify's start: @pattern the default, the copy path the
 * default path, the device open on the checked range; -1 to go on.
 */
int pattern_setup(int argc, char **argv, struct common *com,
		  struct io_opts *o, const char *pattern,
		  struct sgdma_dev **dev, struct sgdma_info *info);
/*
 * Opens the device for a command on [o->off, o->off + o->len) of card
 * memory (without -l, up to the card's end) and checks that range for the
 * chosen path; an exit code, with the device closed on failure.
 */
int open_range(const char *cmd, struct common *com, struct io_opts *o,
	       struct sgdma_dev **dev, struct sgdma_info *info);

/* Files by name, "-" being stdin or stdout; exit codes. */
int open_input(const char *name, int *fd);
int open_output(const char *name, int *fd);
/* Closes what they opened; not stdin or stdout, nor -1 (none). */
void close_file(int fd);
/* Reads until @len bytes or end of file; bytes read or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);
/* Writes all @len bytes; 0 or -errno. */
int write_full(int fd, const void *buf, size_t len);

/* Checks a device CRC against software's; an exit code. */
int check_crc(const char *what, uint64_t off, uint32_t dev_crc,
	      uint32_t sw_crc);
/*
 * One chunk between host memory and card memory by @c's path; names @what
 * and the card offset on failure. An exit code.
 */
int card_io_at(struct sgdma_dev *dev, const struct common *c, bool to_card,
	       const char *what, uint64_t off, void *buf, size_t len,
	       uint32_t *crc);
/*
 * One chunk of write or read. With @total_crc, checks the device's CRC32C
 * of the chunk against the data's (the node path has none) and folds the
 * chunk into *@total_crc. An exit code.
 */
int chunk_io(struct sgdma_dev *dev, const struct common *c, bool to_card,
	     const char *what, uint64_t off, void *buf, size_t len,
	     uint32_t *total_crc);

#endif /* SGDMA_TOOL_IO_H */
