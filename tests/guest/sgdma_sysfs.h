/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the guest's kernel shows of its configuration: small sysfs, procfs
 * and debugfs files, the kernel log, and the sgdma PCI functions with
 * their place in the topology and their config space. Read-only: nothing
 * here changes the system.
 */
#ifndef SGDMA_SYSFS_H
#define SGDMA_SYSFS_H

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <unistd.h>

#define SGDMA_PCI_VENDOR	0x1234
#define SGDMA_PCI_DEVICE	0x5347

/* ---- files ---- */

/* The first line of the file named by @fmt, without its newline; "" if none. */
static inline bool read_line(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool read_line(char *buf, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX];
	va_list ap;
	FILE *f;
	bool ok;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	buf[0] = '\0';
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The number (any base strtoll takes) the file named by @fmt holds, or -1. */
static inline long long read_number(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline long long read_number(const char *fmt, ...)
{
	char path[PATH_MAX], buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	if (!read_line(buf, sizeof(buf), "%s", path) || !buf[0])
		return -1;
	return strtoll(buf, NULL, 0);
}

static inline bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Entries of directory @path other than "." and "..", -1 if it is missing. */
static inline int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Whether @word is one of the space-separated words of /proc/cmdline. */
static inline bool cmdline_has(const char *word)
{
	char line[4096], *save = NULL;

	if (!read_line(line, sizeof(line), "/proc/cmdline"))
		return false;
	for (char *w = strtok_r(line, " ", &save); w;
	     w = strtok_r(NULL, " ", &save))
		if (!strcmp(w, word))
			return true;
	return false;
}

/* Whether the kernel log (what is left of it in the ring) contains @text. */
static inline bool kernel_log_has(const char *text)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *log;
	bool found;
	int n;

	if (size <= 0 || !(log = malloc(size + 1)))
		return false;
	n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, log, size);
	log[n > 0 ? n : 0] = '\0';
	found = strstr(log, text) != NULL;
	free(log);
	return found;
}

/* ---- the sgdma PCI functions ---- */

struct sgdma_fn {
	char bdf[16];		/* "0000:00:03.0" */
	char port[16];		/* the bridge it sits behind; "" on a root bus */
	char driver[32];	/* "" when unbound */
	int minor;		/* N of /dev/sgdmaN, -1 when there is none */
};

/* The last component of the symbolic link @fmt points to, "" if none. */
static inline void link_name(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void link_name(char *buf, size_t len, const char *fmt, ...)
{
	char path[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	n = readlink(path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	/* basename("") is "." */
	snprintf(buf, len, "%s", n > 0 ? basename(target) : "");
}

static inline bool is_sgdma_function(const char *bdf)
{
	return read_number("/sys/bus/pci/devices/%s/vendor", bdf) ==
		SGDMA_PCI_VENDOR &&
	       read_number("/sys/bus/pci/devices/%s/device", bdf) ==
		SGDMA_PCI_DEVICE;
}

/* N of the sgdmaN class device the driver made for @bdf, or -1. */
static inline int sgdma_minor_of(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *e;
	int minor = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sgdma", bdf);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "sgdma", 5))
			minor = atoi(e->d_name + 5);
	if (d)
		closedir(d);
	return minor;
}

/* The PCI device @bdf sits behind: "" on a root bus ("pci0000:00"). */
static inline void upstream_port(const char *bdf, char *port, size_t len)
{
	char link[PATH_MAX], path[PATH_MAX], *parent;

	snprintf(link, sizeof(link), "/sys/bus/pci/devices/%s", bdf);
	port[0] = '\0';
	if (!realpath(link, path))
		return;
	parent = basename(dirname(path));
	if (strncmp(parent, "pci", 3))
		snprintf(port, len, "%s", parent);
}

static inline void describe_function(struct sgdma_fn *fn, const char *bdf)
{
	snprintf(fn->bdf, sizeof(fn->bdf), "%.*s", (int)sizeof(fn->bdf) - 1,
		 bdf);
	upstream_port(bdf, fn->port, sizeof(fn->port));
	link_name(fn->driver, sizeof(fn->driver),
		  "/sys/bus/pci/devices/%s/driver", bdf);
	fn->minor = sgdma_minor_of(bdf);
}

static inline int by_bdf(const void *a, const void *b)
{
	return strcmp(((const struct sgdma_fn *)a)->bdf,
		      ((const struct sgdma_fn *)b)->bdf);
}

/*
 * Every PCI function with sgdma's vendor and device ID, bound or not, in
 * address order: at most @max into @fns; returns how many there are.
 */
static inline int sgdma_functions(struct sgdma_fn *fns, int max)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !is_sgdma_function(e->d_name))
			continue;
		if (n < max)
			describe_function(&fns[n], e->d_name);
		n++;
	}
	if (d)
		closedir(d);
	qsort(fns, n < max ? n : max, sizeof(*fns), by_bdf);
	return n;
}

/* ---- config space ---- */

#define PCI_CFG_SPACE_EXP	4096
#define PCI_CAP_ID_EXP		0x10
#define PCI_EXP_TYPE_ROOT_PORT	4
#define PCI_EXT_CAP_ID_ATS	0x0f
#define PCI_ATS_CTRL		6
#define PCI_ATS_CTRL_ENABLE	0x8000

struct pci_config {
	unsigned char b[PCI_CFG_SPACE_EXP];
	size_t len;		/* bytes the kernel let us read */
};

/* Reads @bdf's config space (all of it: needs root). */
static inline bool pci_config_read(const char *bdf, struct pci_config *cfg)
{
	char path[PATH_MAX];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	f = open(path, O_RDONLY);
	if (f < 0)
		return false;
	n = pread(f, cfg->b, sizeof(cfg->b), 0);
	close(f);
	cfg->len = n > 0 ? n : 0;
	return n > 0;
}

static inline unsigned int cfg16(const struct pci_config *cfg, size_t off)
{
	return off + 2 <= cfg->len ? cfg->b[off] | cfg->b[off + 1] << 8 : 0;
}

static inline uint32_t cfg32(const struct pci_config *cfg, size_t off)
{
	return off + 4 <= cfg->len ? (uint32_t)cfg16(cfg, off) |
				     (uint32_t)cfg16(cfg, off + 2) << 16 : 0;
}

/* Offset of capability @id in the standard list, 0 if absent. */
static inline size_t pci_cap(const struct pci_config *cfg, unsigned int id)
{
	size_t off = cfg->len > 0x34 ? cfg->b[0x34] & ~3u : 0;

	/* 48 capabilities at most fit in the standard space. */
	for (int hops = 0; off >= 0x40 && off < 0x100 && hops < 48; hops++) {
		if (cfg->b[off] == id)
			return off;
		off = cfg->b[off + 1] & ~3u;
	}
	return 0;
}

/* Offset of extended capability @id (PCIe, from 0x100), 0 if absent. */
static inline size_t pci_ext_cap(const struct pci_config *cfg, unsigned int id)
{
	size_t off = 0x100;

	for (int hops = 0; off >= 0x100 && hops < 960; hops++) {
		uint32_t header = cfg32(cfg, off);

		if (!header)
			return 0;
		if ((header & 0xffff) == id)
			return off;
		off = header >> 20 & ~3u;
	}
	return 0;
}

/* Whether @bdf is a PCI Express root port. */
static inline bool pci_is_root_port(const char *bdf)
{
	struct pci_config cfg;
	size_t exp;

	if (!pci_config_read(bdf, &cfg) || !(exp = pci_cap(&cfg, PCI_CAP_ID_EXP)))
		return false;
	return (cfg16(&cfg, exp + 2) >> 4 & 0xf) == PCI_EXP_TYPE_ROOT_PORT;
}

#endif /* SGDMA_SYSFS_H */
