// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_ats_vfio: the device's ATS translation cache obeys the IOMMU.
 *
 * One sgdma function is moved from the sgdma driver to vfio-pci, and this
 * program drives it directly: it maps a buffer at a chosen IOVA, lets the
 * device copy from it (so the device caches the translation), unmaps it
 * through VFIO (the IOMMU driver then invalidates the device's IOTLB) and
 * asks for the same copy again, which must now fault. A device that kept
 * the stale translation would silently read the old page instead.
 *
 * In every cell with an IOMMU it also proves the IOMMU fault path: the
 * device told to use an IOVA that is not mapped (any more) ends the
 * transfer with DMA_FAULT, and once the function is back with the sgdma
 * driver it passes a data test. The ATS-specific case runs where the kernel
 * command line says sgdma_ats=1 (the iommu-ats cell of the boot matrix);
 * without an IOMMU everything skips.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ktap.h"
#include "libsgdma.h"

/* docs/device-spec.md */
#define REG_RING_MAX		0x02c
#define CH0			0x1000
#define CH_RING_LO		0x00
#define CH_RING_HI		0x04
#define CH_RING_SIZE		0x08
#define CH_COMPL_LO		0x0c
#define CH_COMPL_HI		0x10
#define CH_CTRL			0x14
#define CH_STATUS		0x18
#define CH_DOORBELL		0x1c
#define CH_HEAD			0x20
#define CTRL_ENABLE		0x1
#define CTRL_RESET		0x2
#define OP_H2C			1
#define ST_OK			0
#define ST_DMA_FAULT		4
#define ATS_CAP_OFFSET		0x100
#define ATS_CTRL_ENABLE		0x8000

#define IOVA_RING		0x100000
#define IOVA_COMPL		0x200000
#define IOVA_DATA		0x300000
#define PAGE			4096

struct vfio {
	int container, group, device;
	volatile uint32_t *regs;
	size_t regs_size;
	uint8_t *ring, *compl, *data;
	char bdf[NAME_MAX + 1];
};

static int write_attr(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* The last sgdma function: the one the other tests use least. */
static bool find_function(char *bdf, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d))) {
		char path[300], id[16] = "";
		int fd;

		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		if (read(fd, id, sizeof(id) - 1) > 0 &&
		    !strncmp(id, "0x5347", 6) &&
		    (!found || strcmp(e->d_name, bdf) > 0)) {
			snprintf(bdf, len, "%s", e->d_name);
			found = true;
		}
		close(fd);
	}
	if (d)
		closedir(d);
	return found;
}

static int set_driver(const char *bdf, const char *driver)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 bdf);
	write_attr(path, bdf);
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (write_attr(path, driver ? driver : "\n"))
		return -1;
	return write_attr("/sys/bus/pci/drivers_probe", bdf);
}

static bool bound_to(const char *bdf, const char *driver)
{
	char path[PATH_MAX], link[256] = "";

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	if (readlink(path, link, sizeof(link) - 1) < 0)
		return false;
	return !strcmp(basename(link), driver);
}

static int group_of(const char *bdf)
{
	char path[PATH_MAX], link[256] = "";

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	if (readlink(path, link, sizeof(link) - 1) < 0)
		return -1;
	return atoi(basename(link));
}

static int map_dma(struct vfio *v, void *buf, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = PAGE,
	};

	return ioctl(v->container, VFIO_IOMMU_MAP_DMA, &map);
}

static int unmap_dma(struct vfio *v, uint64_t iova)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = PAGE,
	};

	return ioctl(v->container, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static uint64_t config_offset(struct vfio *v)
{
	struct vfio_region_info info = {
		.argsz = sizeof(info),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	if (ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO, &info))
		return 0;
	return info.offset;
}

static bool vfio_open(struct vfio *v)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	struct vfio_region_info bar0 = {
		.argsz = sizeof(bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	char path[64];
	uint16_t cmd;
	int group = group_of(v->bdf);

	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	v->container = open("/dev/vfio/vfio", O_RDWR);
	v->group = open(path, O_RDWR);
	if (!EXPECT(v->container >= 0 && v->group >= 0) ||
	    !EXPECT(ioctl(v->group, VFIO_GROUP_GET_STATUS, &status) == 0) ||
	    !EXPECT(status.flags & VFIO_GROUP_FLAGS_VIABLE) ||
	    !EXPECT(ioctl(v->group, VFIO_GROUP_SET_CONTAINER,
			  &v->container) == 0) ||
	    !EXPECT(ioctl(v->container, VFIO_SET_IOMMU,
			  VFIO_TYPE1v2_IOMMU) == 0))
		return false;
	v->device = ioctl(v->group, VFIO_GROUP_GET_DEVICE_FD, v->bdf);
	if (!EXPECT(v->device >= 0) ||
	    !EXPECT(ioctl(v->device, VFIO_DEVICE_GET_REGION_INFO,
			  &bar0) == 0))
		return false;
	v->regs_size = bar0.size;
	v->regs = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       v->device, bar0.offset);
	if (!EXPECT(v->regs != MAP_FAILED))
		return false;

	/* Bus master on, as a driver would. */
	if (!EXPECT(pread(v->device, &cmd, 2, config_offset(v) + 4) == 2))
		return false;
	cmd |= 0x6;
	return EXPECT(pwrite(v->device, &cmd, 2, config_offset(v) + 4) == 2);
}

static void reg_write(struct vfio *v, unsigned int off, uint32_t val)
{
	v->regs[off / 4] = val;
}

static uint32_t reg_read(struct vfio *v, unsigned int off)
{
	return v->regs[off / 4];
}

/* Ring entries: 16, or fewer if the device takes fewer (RING_MAX). */
static uint32_t ring_n = 16;

static bool setup_channel(struct vfio *v)
{
	v->ring = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v->compl = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	v->data = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(v->ring, 0, PAGE);
	memset(v->compl, 0, PAGE);
	memset(v->data, 0x5a, PAGE);
	if (!EXPECT(map_dma(v, v->ring, IOVA_RING) == 0) ||
	    !EXPECT(map_dma(v, v->compl, IOVA_COMPL) == 0) ||
	    !EXPECT(map_dma(v, v->data, IOVA_DATA) == 0))
		return false;
	reg_write(v, CH0 + CH_CTRL, CTRL_RESET);
	reg_write(v, CH0 + CH_RING_LO, IOVA_RING);
	reg_write(v, CH0 + CH_RING_HI, 0);
	reg_write(v, CH0 + CH_COMPL_LO, IOVA_COMPL);
	reg_write(v, CH0 + CH_COMPL_HI, 0);
	if (reg_read(v, REG_RING_MAX) < ring_n)
		ring_n = reg_read(v, REG_RING_MAX);
	reg_write(v, CH0 + CH_RING_SIZE, ring_n);
	reg_write(v, CH0 + CH_CTRL, CTRL_ENABLE);
	return EXPECT(reg_read(v, CH0 + CH_STATUS) == 1);
}

/* Copy one page from IOVA_DATA to the card; returns the status. */
static int copy_page(struct vfio *v, uint32_t index)
{
	uint8_t *d = v->ring + (index % ring_n) * 64;
	uint8_t *c = v->compl + (index % ring_n) * 32;
	struct timespec start, now;
	uint32_t len = PAGE;
	uint64_t src = IOVA_DATA;

	memset(d, 0, 64);
	d[0] = OP_H2C;
	memcpy(d + 4, &len, 4);
	memcpy(d + 0x10, &src, 8);
	memcpy(d + 0x18, &len, 4);
	memset(c, 0, 32);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	reg_write(v, CH0 + CH_DOORBELL, index + 1);

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!(__atomic_load_n(c + 0x12, __ATOMIC_ACQUIRE) & 1)) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 10) {
			ktap_diag("no completion; status 0x%x head %u",
				  reg_read(v, CH0 + CH_STATUS),
				  reg_read(v, CH0 + CH_HEAD));
			return -1;
		}
		usleep(100);
	}
	return c[0x10] | c[0x11] << 8;
}

static bool ats_enabled(struct vfio *v)
{
	uint16_t ctrl = 0;

	if (pread(v->device, &ctrl, 2, config_offset(v) + ATS_CAP_OFFSET + 6) !=
	    2)
		return false;
	ktap_diag("ATS control 0x%04x", ctrl);
	return ctrl & ATS_CTRL_ENABLE;
}

/* Whether the guest has an IOMMU (intel-iommu shows up as dmarN). */
static bool have_iommu(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.')
			found = true;
	if (d)
		closedir(d);
	return found;
}

/* The function, back with the sgdma driver, moves data correctly. */
static bool data_test(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct sgdma_dev *dev = NULL;
	DIR *d;
	size_t len = 2 << 20;
	/* Page aligned: the pinned path needs SEG_ALIGN. */
	unsigned char *a = aligned_alloc(4096, len), *b = aligned_alloc(4096, len);
	bool ok = true;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sgdma", bdf);
	d = opendir(path);
	while (d && (e = readdir(d)))
		if (!strncmp(e->d_name, "sgdma", 5)) {
			snprintf(path, sizeof(path), "/dev/%s", e->d_name);
			break;
		}
	if (d)
		closedir(d);
	if (!EXPECT(a && b) || !EXPECT(sgdma_open(path, &dev) == 0))
		return false;
	for (size_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 131 + 7);
	memset(b, 0, len);
	ok &= EXPECT(sgdma_write_card(dev, 0, a, len, SGDMA_XFER_PINNED,
				      NULL) == 0);
	ok &= EXPECT(sgdma_read_card(dev, 0, b, len, SGDMA_XFER_COPY,
				     NULL) == 0);
	ok &= EXPECT(!memcmp(a, b, len));
	sgdma_close(dev);
	free(a);
	free(b);
	return ok;
}

int main(void)
{
	struct vfio v = { 0 };
	bool ok, ats = getenv("sgdma_ats");

	ktap_plan(5);
	if (!have_iommu()) {
		for (int i = 0; i < 5; i++)
			ktap_skip("vfio", "no IOMMU in this cell");
		return ktap_finish();
	}

	ok = find_function(v.bdf, sizeof(v.bdf)) &&
	     EXPECT(system("modprobe vfio-pci") == 0) &&
	     /* a soft dependency of vfio, which busybox modprobe ignores */
	     EXPECT(system("modprobe vfio_iommu_type1") == 0) &&
	     EXPECT(set_driver(v.bdf, "vfio-pci") == 0) && vfio_open(&v) &&
	     setup_channel(&v);
	ktap_diag("device %s", v.bdf);
	if (ats)
		ktap_result(ok && ats_enabled(&v),
			    "ats_enabled_by_iommu_driver");
	else
		ktap_skip("ats_enabled_by_iommu_driver",
			  "not the iommu-ats cell");
	ktap_result(ok && EXPECT(copy_page(&v, 0) == ST_OK),
		    "copy_through_translation_cache");
	ktap_result(ok && EXPECT(unmap_dma(&v, IOVA_DATA) == 0) &&
		    EXPECT(copy_page(&v, 1) == ST_DMA_FAULT),
		    "dma_after_unmap_faults");

	if (v.regs && v.regs != MAP_FAILED) {
		reg_write(&v, CH0 + CH_CTRL, CTRL_RESET);
		munmap((void *)v.regs, v.regs_size);
	}
	if (v.device > 0)
		close(v.device);
	if (v.group > 0)
		close(v.group);
	if (v.container > 0)
		close(v.container);
	ktap_result(EXPECT(set_driver(v.bdf, NULL) == 0) &&
		    EXPECT(bound_to(v.bdf, "sgdma")), "rebound_to_sgdma");
	ktap_result(bound_to(v.bdf, "sgdma") && data_test(v.bdf),
		    "data_test_after_iommu_fault");
	return ktap_finish();
}
