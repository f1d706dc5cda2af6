// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_basic: device discovery, identity and the INFO ioctl's ABI rules.
 * Every boot has three sgdma functions, two on the root bus and one behind
 * a PCIe root port; each gets its node, its identity and its sysfs files.
 */
#define _GNU_SOURCE
#include <sys/stat.h>

#include "sgdma_test.h"

#define SGDMA_PCI_VENDOR	0x1234
#define SGDMA_PCI_DEVICE	0x5347
#define SGDMA_HW_ID		0x5347444d
#define SGDMA_FUNCTIONS		3	/* what the harness gives every boot */

static unsigned long read_sysfs_ulong(const char *path)
{
	char buf[64] = "";
	unsigned long val = 0;
	int fd = open(path, O_RDONLY);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			val = strtoul(buf, NULL, 0);
		close(fd);
	}
	return val;
}

static int count_pci_functions(void)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	char path[512];
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 e->d_name);
		if (read_sysfs_ulong(path) != SGDMA_PCI_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 e->d_name);
		if (read_sysfs_ulong(path) == SGDMA_PCI_DEVICE)
			n++;
	}
	closedir(d);
	return n;
}

static int count_nodes(void)
{
	char path[32];
	struct stat st;
	int n = 0;

	for (int i = 0; i < 64; i++) {
		snprintf(path, sizeof(path), "/dev/sgdma%d", i);
		if (stat(path, &st) == 0 && S_ISCHR(st.st_mode))
			n++;
	}
	return n;
}

static int nodes;

static bool test_nodes_match_pci(void)
{
	int functions = count_pci_functions();

	char bdf[64] = "";
	int behind_port;

	nodes = count_nodes();
	behind_port = root_port_index(bdf, sizeof(bdf));
	ktap_diag("%d sgdma PCI functions, %d device nodes, behind a root port: %s",
		  functions, nodes, behind_port >= 0 ? bdf : "none");
	return EXPECT(functions == SGDMA_FUNCTIONS) &&
	       EXPECT(nodes == functions) && EXPECT(behind_port >= 0);
}

static bool test_identity(void)
{
	bool ok = nodes > 0;

	for (int i = 0; i < nodes; i++) {
		struct sgdma_dev *dev;
		struct sgdma_info info;

		if (!EXPECT(sgdma_open_index(i, &dev) == 0))
			return false;
		ok &= EXPECT(sgdma_get_info(dev, &info) == 0);
		ok &= EXPECT(info.size == sizeof(info));
		ok &= EXPECT(info.abi_version == SGDMA_ABI_VERSION);
		ok &= EXPECT(info.hw_id == SGDMA_HW_ID);
		ok &= EXPECT(info.hw_version >> 16 == 1);
		ok &= EXPECT(info.pci_vendor == SGDMA_PCI_VENDOR);
		ok &= EXPECT(info.pci_device == SGDMA_PCI_DEVICE);
		ok &= EXPECT(info.minor == (unsigned int)i);
		sgdma_close(dev);
	}
	return ok;
}

static int fd0;

/* INFO with a caller-built buffer of @size bytes; returns errno or 0. */
static int info_raw(void *buf, uint32_t size)
{
	memcpy(buf, &size, sizeof(size));
	return ioctl(fd0, SGDMA_IOC_INFO, buf) < 0 ? errno : 0;
}

static bool test_info_too_small(void)
{
	unsigned char buf[sizeof(struct sgdma_info)] = { 0 };

	return EXPECT(info_raw(buf, 0) == EINVAL) &&
	       EXPECT(info_raw(buf, 4) == EINVAL) &&
	       EXPECT(info_raw(buf, SGDMA_INFO_SIZE_VER0 - 1) == EINVAL);
}

static bool test_info_newer_caller(void)
{
	const size_t ksize = sizeof(struct sgdma_info);
	unsigned char buf[sizeof(struct sgdma_info) + 64] = { 0 };
	struct sgdma_info info;
	bool ok;

	ok = EXPECT(info_raw(buf, sizeof(buf)) == 0);
	memcpy(&info, buf, sizeof(info));
	ok &= EXPECT(info.size == ksize);
	ok &= EXPECT(info.hw_id == SGDMA_HW_ID);
	for (size_t i = ksize; i < sizeof(buf); i++)
		ok &= EXPECT(buf[i] == 0);

	/* A non-zero field the kernel does not know: refused. */
	buf[sizeof(buf) - 1] = 1;
	ok &= EXPECT(info_raw(buf, sizeof(buf)) == E2BIG);
	return ok;
}

static bool test_info_flags(void)
{
	struct sgdma_info info = { .flags = 1 };

	return EXPECT(info_raw(&info, sizeof(info)) == EINVAL);
}

static bool test_info_bad_pointers(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *none = mmap(NULL, page, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *ro;
	bool ok = true;

	ok &= EXPECT(ioctl(fd0, SGDMA_IOC_INFO, NULL) < 0 && errno == EFAULT);
	ok &= EXPECT(ioctl(fd0, SGDMA_IOC_INFO, none) < 0 && errno == EFAULT);
	ok &= EXPECT(ioctl(fd0, SGDMA_IOC_INFO, (void *)-4096L) < 0 &&
		     errno == EFAULT);

	/* Readable but not writable: the copy-out must fail cleanly. */
	ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*(uint32_t *)ro = sizeof(struct sgdma_info);
	mprotect(ro, page, PROT_READ);
	ok &= EXPECT(ioctl(fd0, SGDMA_IOC_INFO, ro) < 0 && errno == EFAULT);

	munmap(ro, page);
	munmap(none, page);

	/* A structure that runs into an inaccessible page. */
	ro = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	mprotect(ro + page, page, PROT_NONE);
	ok &= EXPECT(info_raw(ro + page - 8, sizeof(struct sgdma_info)) ==
		     EFAULT);
	munmap(ro, 2 * page);
	return ok;
}

static bool test_unknown_ioctls(void)
{
	bool ok = true;

	ok &= EXPECT(ioctl(fd0, _IO(SGDMA_IOC_MAGIC, 0x3f)) < 0 &&
		     errno == ENOTTY);
	ok &= EXPECT(ioctl(fd0, _IOR(SGDMA_IOC_MAGIC, 0x00, uint32_t), NULL) <
		     0 && errno == ENOTTY);
	ok &= EXPECT(ioctl(fd0, _IOWR('x', 0x00, struct sgdma_info), NULL) <
		     0 && errno == ENOTTY);
	return ok;
}

static bool write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool test_scratch_roundtrip(void)
{
	static const unsigned long patterns[] = {
		0xdeadbeef, 0, 0xffffffff, 0x12345678,
	};
	bool ok = nodes > 0;

	for (int i = 0; i < nodes; i++) {
		char path[64], val[32];

		snprintf(path, sizeof(path), "/sys/class/sgdma/sgdma%d/scratch",
			 i);
		for (size_t p = 0; p < sizeof(patterns) / sizeof(*patterns);
		     p++) {
			unsigned long want = patterns[p] ^ i;

			snprintf(val, sizeof(val), "0x%lx", want);
			ok &= EXPECT(write_file(path, val));
			ok &= EXPECT(read_sysfs_ulong(path) == want);
		}
		ok &= EXPECT(!write_file(path, "0x100000000"));
		ok &= EXPECT(!write_file(path, "junk"));
	}
	return ok;
}

int main(void)
{
	ktap_plan(8);
	RUN(test_nodes_match_pci(), "nodes_match_pci_functions");
	RUN(test_identity(), "info_identity");

	fd0 = open("/dev/sgdma0", O_RDWR);
	if (fd0 < 0)
		ktap_diag("cannot open /dev/sgdma0: %s", strerror(errno));
	RUN(fd0 >= 0 && test_info_too_small(), "info_size_too_small");
	RUN(fd0 >= 0 && test_info_newer_caller(), "info_newer_caller");
	RUN(fd0 >= 0 && test_info_flags(), "info_unknown_flags");
	RUN(fd0 >= 0 && test_info_bad_pointers(), "info_bad_pointers");
	RUN(fd0 >= 0 && test_unknown_ioctls(), "unknown_ioctls");
	RUN(test_scratch_roundtrip(), "scratch_roundtrip_sysfs");
	return ktap_finish();
}
