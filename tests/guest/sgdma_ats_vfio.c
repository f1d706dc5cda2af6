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
 * The device's ATC_HITS and ATC_MISSES registers show the cache at work:
 * the first copy misses (the device asks the IOMMU), the same copy again
 * hits (served from the cache, the IOMMU not asked), and the copy after
 * the unmap misses again. Without ATS they stay 0: the cache is not used.
 *
 * In every cell with an IOMMU it also proves the IOMMU fault path: the
 * device told to use an IOVA that is not mapped (any more) ends the
 * transfer with DMA_FAULT (a fault this program announces, see
 * "sgdma-expect"), and once the function is back with the sgdma driver it
 * passes a data test. Where the function has the ATS capability, the IOMMU
 * driver must have enabled it and must send the device-IOTLB invalidation
 * of the unmapped page to the function (the kernel's qi_submit trace).
 * Without an IOMMU every case skips (needs=iommu); without ATS, its case
 * (needs=ats). Every case checks that the pins held are exactly VFIO's.
 *
 * What no case can show from inside the guest is a stale hit: that takes a
 * translation the IOMMU changed without invalidating it, and the kernel
 * never leaves one behind (VFIO's domains are always strict).
 */
#define _GNU_SOURCE
#include <linux/vfio.h>

#include "sgdma_test.h"

/* docs/device-spec.md */
#define REG_RING_MAX		0x02c
#define REG_ATC_HITS		0x03c
#define REG_ATC_MISSES		0x040
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
#define PCI_EXT_CAP_ID_ATS	0x0f
#define ATS_CTRL_ENABLE		0x8000

#define IOVA_RING		0x100000
#define IOVA_COMPL		0x200000
#define IOVA_DATA		0x300000

struct vfio {
	int container, group, device;
	volatile uint32_t *regs;
	size_t regs_size;
	uint8_t *ring, *compl, *data;
	int mapped;		/* pages mapped (and pinned) through VFIO */
	uint32_t submitted;	/* descriptors handed to channel 0 */
	char bdf[NAME_MAX + 1];
};

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
	write_str(path, bdf);
	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/driver_override", bdf);
	if (!write_str(path, driver ? driver : "\n"))
		return -1;
	return write_str("/sys/bus/pci/drivers_probe", bdf) ? 0 : -1;
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
	v->mapped = 3;
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
static int copy_page(struct vfio *v)
{
	uint32_t index = v->submitted++;
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

/* The device's translation cache counters (spec 9.3). */
struct atc {
	uint32_t hits, misses;
};

static struct atc atc_read(struct vfio *v)
{
	return (struct atc){ reg_read(v, REG_ATC_HITS),
			     reg_read(v, REG_ATC_MISSES) };
}

/*
 * The cache's lookups since @before were @hits hits and @misses misses
 * (-1: at least one).
 */
static bool atc_moved(struct vfio *v, const struct atc *before, int hits,
		      int misses)
{
	struct atc now = atc_read(v);
	uint32_t dh = now.hits - before->hits;
	uint32_t dm = now.misses - before->misses;
	bool ok = (hits < 0 ? dh > 0 : dh == (uint32_t)hits) &&
		  (misses < 0 ? dm > 0 : dm == (uint32_t)misses);

	if (!ok)
		ktap_diag("ATC: %u hits, %u misses; wanted %s%d hits, %s%d misses",
			  dh, dm, hits < 0 ? ">" : "", hits < 0 ? 0 : hits,
			  misses < 0 ? ">" : "", misses < 0 ? 0 : misses);
	return ok;
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

/* Whether function @bdf has the ATS capability (the device's ats=on). */
static bool has_ats_capability(const char *bdf)
{
	char path[PATH_MAX];
	uint32_t header = 0;
	int f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	f = open(path, O_RDONLY);
	if (f < 0)
		return false;
	if (pread(f, &header, 4, ATS_CAP_OFFSET) != 4)
		header = 0;
	close(f);
	return (header & 0xffff) == PCI_EXT_CAP_ID_ATS;
}

/* The requester ID of "DDDD:BB:DD.F". */
static unsigned int requester_id(const char *bdf)
{
	unsigned int dom, bus, slot, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return ~0u;
	return bus << 8 | slot << 3 | fn;
}

/*
 * Whether the trace shows the IOMMU driver sending a device-IOTLB
 * invalidation to requester @rid that covers @iova: the intel_iommu
 * qi_submit event "dev_tlb_inv dmarN: QW0 QW1 QW2 QW3" (VT-d: SID in
 * QW0 bits 47:32; QW1 the address, bit 0 S: the count of 1s from bit 12
 * up encodes the size).
 */
static bool dev_tlb_invalidated(unsigned int rid, uint64_t iova)
{
	FILE *f = fopen(TRACING "/trace", "r");
	char line[512];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		unsigned long long qw0, qw1, base, size = 4096;
		char *p = strstr(line, "dev_tlb_inv ");

		if (!p || !(p = strstr(p, ": ")) ||
		    sscanf(p + 2, "%llx %llx", &qw0, &qw1) != 2)
			continue;
		base = qw1 & ~0xfffULL;
		if (qw1 & 1) {
			unsigned int ones = __builtin_ctzll(~(base >> 12));

			size = 1ULL << (12 + ones + 1);
			base &= ~(size - 1);
		}
		ktap_diag("dev-IOTLB invalidation: rid %04llx, %#llx + %#llx",
			  (qw0 >> 32) & 0xffff, base, size);
		found = ((qw0 >> 32) & 0xffff) == rid && base <= iova &&
			iova < base + size;
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * Unmaps IOVA_DATA and asks for the copy again: the device must fault,
 * and the IOMMU reports it (announced first: the harness fails a boot
 * whose IOMMU faults nobody announced). With ATS, the IOMMU driver must
 * also have told the device's IOTLB to drop the page, and the device must
 * have asked the IOMMU again instead of answering from its cache.
 */
static bool dma_after_unmap(struct vfio *v, bool ats)
{
	const char *ev = TRACING "/events/intel_iommu/qi_submit/enable";
	struct atc before;
	bool ok = true;

	if (ats)
		ok &= EXPECT(write_str(ev, "1\n")) &&
		      EXPECT(write_str(TRACING "/trace", ""));
	if (!EXPECT(unmap_dma(v, IOVA_DATA) == 0))
		return false;
	v->mapped--;
	if (ats) {
		ok &= EXPECT(dev_tlb_invalidated(requester_id(v->bdf),
						 IOVA_DATA));
		ok &= EXPECT(write_str(ev, "0\n"));
	}
	printf("# sgdma-expect: iommu-fault dev=%s addr=0x%x dir=read\n",
	       v->bdf, IOVA_DATA);
	before = atc_read(v);
	ok &= EXPECT(copy_page(v) == ST_DMA_FAULT);
	if (ats)
		ok &= EXPECT(atc_moved(v, &before, 0, 1));
	return ok;
}

/* The pins VFIO holds: one per page mapped, and nothing else. */
static bool vfio_pins_held(const struct vfio *v, const struct pins *start)
{
	struct pins now;
	long long held;

	pins_snapshot(&now);
	held = (now.acquired - now.released) -
	       (start->acquired - start->released);
	if (held != v->mapped)
		ktap_diag("%lld pages pinned, %d mapped through VFIO", held,
			  v->mapped);
	return held == v->mapped;
}

/* The function, back with the sgdma driver, moves data correctly. */
static bool data_test(const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *e;
	struct sgdma_dev *sd = NULL;
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
	if (!EXPECT(a && b) || !EXPECT(sgdma_open(path, &sd) == 0))
		return false;
	for (size_t i = 0; i < len; i++)
		a[i] = (unsigned char)(i * 131 + 7);
	memset(b, 0, len);
	ok &= EXPECT(sgdma_write_card(sd, 0, a, len, SGDMA_XFER_PINNED,
				      NULL) == 0);
	ok &= EXPECT(sgdma_read_card(sd, 0, b, len, SGDMA_XFER_COPY,
				     NULL) == 0);
	ok &= EXPECT(!memcmp(a, b, len));
	sgdma_close(sd);
	free(a);
	free(b);
	return ok;
}

static const char *const cases[] = {
	"ats_enabled_by_iommu_driver", "copy_through_translation_cache",
	"repeat_copy_hits_translation_cache", "dma_after_unmap_faults",
	"rebound_to_sgdma", "data_test_after_iommu_fault",
};

static void vfio_close(struct vfio *v)
{
	if (v->regs && v->regs != MAP_FAILED) {
		reg_write(v, CH0 + CH_CTRL, CTRL_RESET);
		munmap((void *)v->regs, v->regs_size);
	}
	if (v->device > 0)
		close(v->device);
	if (v->group > 0)
		close(v->group);
	if (v->container > 0)
		close(v->container);
	v->mapped = 0;
}

int main(void)
{
	struct vfio v = { 0 };
	struct pins start, before;
	struct atc atc0 = { 0 };
	bool ok, ats;

	ktap_plan(ARRAY_LEN(cases));
	if (!find_function(v.bdf, sizeof(v.bdf))) {
		ktap_diag("no sgdma function");
		return t_fail_all("no_device");
	}
	ktap_diag("device %s", v.bdf);
	if (!iommu_translates(v.bdf)) {
		for (size_t i = 0; i < ARRAY_LEN(cases); i++)
			ktap_skip_needs(cases[i], "iommu",
					"no IOMMU translates this function");
		return ktap_finish();
	}
	ats = has_ats_capability(v.bdf);

	pins_snapshot(&start);
	ok = EXPECT(system("modprobe vfio-pci") == 0) &&
	     /* a soft dependency of vfio, which busybox modprobe ignores */
	     EXPECT(system("modprobe vfio_iommu_type1") == 0) &&
	     EXPECT(set_driver(v.bdf, "vfio-pci") == 0) && vfio_open(&v) &&
	     setup_channel(&v);
	/* Cases 1-4 hold VFIO's pins: each checks they are exactly those. */
	if (ats)
		ktap_result(ok && ats_enabled(&v) &&
			    EXPECT(vfio_pins_held(&v, &start)), cases[0]);
	else
		ktap_skip_needs(cases[0], "ats",
				"the function has no ATS capability");
	/* The first copy asks the IOMMU; without ATS no cache is used. */
	if (ok)
		atc0 = atc_read(&v);
	ktap_result(ok && EXPECT(copy_page(&v) == ST_OK) &&
		    EXPECT(atc_moved(&v, &atc0, 0, ats)) &&
		    EXPECT(vfio_pins_held(&v, &start)), cases[1]);
	/* The same copy again is served from the cache. */
	if (ats) {
		if (ok)
			atc0 = atc_read(&v);
		ktap_result(ok && EXPECT(copy_page(&v) == ST_OK) &&
			    EXPECT(atc_moved(&v, &atc0, 1, 0)) &&
			    EXPECT(vfio_pins_held(&v, &start)), cases[2]);
	} else {
		ktap_skip_needs(cases[2], "ats",
				"the function has no ATS capability");
	}
	ktap_result(ok && dma_after_unmap(&v, ats) &&
		    EXPECT(vfio_pins_held(&v, &start)), cases[3]);

	vfio_close(&v);
	ktap_result(EXPECT(set_driver(v.bdf, NULL) == 0) &&
		    EXPECT(bound_to(v.bdf, "sgdma")) &&
		    EXPECT(pins_balanced(&start)), cases[4]);
	pins_snapshot(&before);
	ktap_result(bound_to(v.bdf, "sgdma") && data_test(v.bdf) &&
		    EXPECT(pins_balanced(&before)), cases[5]);
	return ktap_finish();
}
