// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_cell: the boot is what it claims to be. It runs first in every boot.
 *
 * The harness names the boot's features on the kernel command line, so
 * they arrive here as environment variables: sgdma_cell, sgdma_series,
 * sgdma_provides (the features, comma-separated), sgdma_devprops (the
 * sgdma -device properties of the cell) and sgdma_fnprops (where the root
 * functions have properties of their own: "/"-separated, in address order). The other programs detect what
 * they need and skip without it; this one proves each claim from what the
 * kernel shows, so a cell that silently lacks a feature fails here rather
 * than passing as skips. Its plan is the same in every boot: a case whose
 * feature the boot does not claim checks that it is absent where that
 * means something (no IOMMU in front of the functions, nothing bounced,
 * the device's default limits), so no case ever skips.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "sgdma_sysfs.h"
#include "sgdma_test.h"

static const char *provides;	/* sgdma_provides */
static struct sgdma_fn fns[8];
static int nfns;		/* sgdma functions found, maybe more than fns */

/* ---- what the boot claims ---- */

static const char *const known_features[] = {
	"iommu", "iommu-strict", "iommu-lazy", "ats", "bounce",
	"strict-device", "fault-injection", "kernel-debug", "hotplug",
	"high-memory",
};

/* Whether comma-separated @list has @word. */
static bool list_has(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p && *p; p += strcspn(p, ",")) {
		p += *p == ',';
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return true;
	}
	return false;
}

static bool claims(const char *feature)
{
	return list_has(provides, feature);
}

static const char *env_or_unset(const char *name)
{
	const char *v = getenv(name);

	return v ? v : "(unset)";
}

static bool features_known(void)
{
	char list[512], *save = NULL;
	bool ok = true;

	snprintf(list, sizeof(list), "%s", provides ? provides : "");
	for (char *f = strtok_r(list, ",", &save); f;
	     f = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < ARRAY_LEN(known_features); i++)
			known |= !strcmp(f, known_features[i]);
		if (!known) {
			ktap_diag("unknown feature \"%s\"", f);
			ok = false;
		}
	}
	return ok;
}

/* The claims name a cell, use only known features and agree. */
static bool test_claims(void)
{
	const char *cell = getenv("sgdma_cell");
	bool ok = true;

	ktap_diag("cell %s, series %s", env_or_unset("sgdma_cell"),
		  env_or_unset("sgdma_series"));
	ktap_diag("provides %s", env_or_unset("sgdma_provides"));
	ktap_diag("devprops %s", env_or_unset("sgdma_devprops"));
	ok &= EXPECT(cell && *cell);
	ok &= EXPECT(provides != NULL);
	ok &= EXPECT(features_known());
	/* An IOMMU has exactly one invalidation mode; ATS needs an IOMMU. */
	ok &= EXPECT(claims("iommu") ==
		     (claims("iommu-strict") != claims("iommu-lazy")));
	ok &= EXPECT(!claims("ats") || claims("iommu"));
	return ok;
}

/* ---- the sgdma functions ---- */

/* The (first) function behind a port: the hot-pluggable, slow one. */
static const struct sgdma_fn *behind_port(void)
{
	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++)
		if (fns[i].port[0])
			return &fns[i];
	return NULL;
}

/* Exactly three, two on the root bus, one behind a root port, all bound. */
static bool test_functions(void)
{
	int on_root_bus = 0, behind_root_port = 0;
	bool ok = EXPECT(nfns == 3);

	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++) {
		const struct sgdma_fn *fn = &fns[i];

		ktap_diag("%s %s%s, driver %s, /dev/sgdma%d", fn->bdf,
			  fn->port[0] ? "behind " : "on the root bus",
			  fn->port, fn->driver[0] ? fn->driver : "none",
			  fn->minor);
		ok &= EXPECT(!strcmp(fn->driver, "sgdma"));
		ok &= EXPECT(fn->minor >= 0);
		if (!fn->port[0])
			on_root_bus++;
		else if (pci_is_root_port(fn->port))
			behind_root_port++;
		else
			ktap_diag("%s is not a PCIe root port", fn->port);
	}
	ok &= EXPECT(on_root_bus == 2);
	ok &= EXPECT(behind_root_port == 1);
	return ok;
}

/* ---- hotplug ---- */

/* The hot-plug slot that holds @fn (its "address" is domain:bus:dev). */
static bool slot_of(const struct sgdma_fn *fn, char *slot, size_t len)
{
	DIR *d = opendir("/sys/bus/pci/slots");
	struct dirent *e;
	bool found = false;

	while (d && !found && (e = readdir(d))) {
		char addr[32];

		found = e->d_name[0] != '.' &&
			read_line(addr, sizeof(addr),
				  "/sys/bus/pci/slots/%s/address", e->d_name) &&
			!strncmp(addr, fn->bdf, strlen("0000:00:00")) &&
			snprintf(slot, len, "%s", e->d_name) > 0;
	}
	if (d)
		closedir(d);
	return found;
}

/* Whether the native PCIe hot-plug driver serves @port. */
static bool pciehp_serves(const char *port)
{
	DIR *d = opendir("/sys/bus/pci_express/drivers/pciehp");
	struct dirent *e;
	bool found = false;

	while (d && (e = readdir(d)))
		found |= !strncmp(e->d_name, port, strlen(port)) &&
			 e->d_name[strlen(port)] == ':';
	if (d)
		closedir(d);
	return found;
}

/*
 * hotplug: the function behind the root port sits in a slot that pciehp
 * serves; without the claim, no sgdma function sits in a hot-plug slot.
 */
static bool test_hotplug(void)
{
	const struct sgdma_fn *fn = behind_port();
	bool claimed = claims("hotplug"), in_slot = false;
	char slot[64];

	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++) {
		bool here = slot_of(&fns[i], slot, sizeof(slot));

		ktap_diag("%s: %s%s", fns[i].bdf,
			  here ? "in hot-plug slot " : "in no hot-plug slot",
			  here ? slot : "");
		in_slot |= here;
	}
	if (!claimed)
		return EXPECT(!in_slot);
	if (!EXPECT(fn != NULL))
		return false;
	ktap_diag("pciehp %s %s", pciehp_serves(fn->port) ? "serves" :
		  "does not serve", fn->port);
	return EXPECT(slot_of(fn, slot, sizeof(slot))) &&
	       EXPECT(pciehp_serves(fn->port));
}

/* ---- iommu ---- */

/*
 * With the claim, each function is in an IOMMU group whose default domain
 * has the claimed invalidation: "DMA" strict, "DMA-FQ" with a flush queue.
 * Without, in no group (or an identity one): its DMA goes direct.
 */
static bool group_as_claimed(const struct sgdma_fn *fn, bool claimed)
{
	const char *want = claims("iommu-lazy") ? "DMA-FQ" : "DMA";
	char group[32], type[32] = "";

	link_name(group, sizeof(group), "/sys/bus/pci/devices/%s/iommu_group",
		  fn->bdf);
	if (group[0])
		read_line(type, sizeof(type), "/sys/kernel/iommu_groups/%s/type",
			  group);
	ktap_diag("%s: iommu group %s, type %s", fn->bdf,
		  group[0] ? group : "none", type[0] ? type : "-");
	if (!claimed)
		return EXPECT(!group[0] || !strcmp(type, "identity"));
	ktap_diag("%s: expected type %s", fn->bdf, want);
	return EXPECT(group[0]) && EXPECT(!strcmp(type, want));
}

static bool test_iommu(void)
{
	int units = count_entries("/sys/class/iommu");
	bool claimed = claims("iommu");
	bool ok = EXPECT(nfns > 0);

	ktap_diag("%d IOMMUs in /sys/class/iommu", units < 0 ? 0 : units);
	ok &= claimed ? EXPECT(units > 0) : EXPECT(units <= 0);
	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++)
		ok &= group_as_claimed(&fns[i], claimed);
	return ok;
}

/* ---- ats ---- */

/* Device-TLB support: bit 2 (DT) of an Intel IOMMU's extended capabilities. */
#define DMAR_ECAP_DT		(1ULL << 2)

/* How many IOMMUs can invalidate a device's ATS cache (device IOTLB). */
static int iommus_with_device_iotlb(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char ecap[32];

		if (e->d_name[0] == '.' ||
		    !read_line(ecap, sizeof(ecap),
			       "/sys/class/iommu/%s/intel-iommu/ecap", e->d_name))
			continue;
		ktap_diag("%s: ecap %s", e->d_name, ecap);
		n += !!(strtoull(ecap, NULL, 16) & DMAR_ECAP_DT);
	}
	if (d)
		closedir(d);
	return n;
}

/* Whether @fn's ATS capability is there and enabled (config space). */
static bool ats_enabled(const struct sgdma_fn *fn)
{
	struct pci_config cfg;
	size_t ats;
	unsigned int ctrl;

	if (!pci_config_read(fn->bdf, &cfg)) {
		ktap_diag("%s: cannot read config space", fn->bdf);
		return false;
	}
	ats = pci_ext_cap(&cfg, PCI_EXT_CAP_ID_ATS);
	if (!ats) {
		ktap_diag("%s: no ATS capability in %zu bytes of config space",
			  fn->bdf, cfg.len);
		return false;
	}
	ctrl = cfg16(&cfg, ats + PCI_ATS_CTRL);
	ktap_diag("%s: ATS capability at %#zx, control %#06x", fn->bdf, ats,
		  ctrl);
	return ctrl & PCI_ATS_CTRL_ENABLE;
}

/*
 * ats: the IOMMU has a device IOTLB and every function's ATS is enabled;
 * without the claim, no function has ATS enabled.
 */
static bool test_ats(void)
{
	bool claimed = claims("ats");
	int device_iotlbs = iommus_with_device_iotlb();
	bool ok = EXPECT(nfns > 0);

	ktap_diag("%d IOMMUs with a device IOTLB", device_iotlbs);
	if (claimed)
		ok &= EXPECT(device_iotlbs > 0);
	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++)
		ok &= claimed ? EXPECT(ats_enabled(&fns[i])) :
				EXPECT(!ats_enabled(&fns[i]));
	return ok;
}

/* ---- bounce ---- */

#define SWIOTLB_USED		"/sys/kernel/debug/swiotlb/io_tlb_used"
/* Since 6.7: the most slots ever in use; writing 0 resets it. */
#define SWIOTLB_HIWATER		"/sys/kernel/debug/swiotlb/io_tlb_used_hiwater"
#define IO_TLB_SIZE		2048	/* bytes per swiotlb slot */
#define BOUNCE_ROUNDS		5

struct sampler {
	pthread_t thread;
	atomic_bool stop;
	long long max;		/* most slots seen in use */
	unsigned long samples;
};

static void *sample_swiotlb(void *arg)
{
	struct sampler *s = arg;

	do {
		long long used = read_number(SWIOTLB_USED);

		if (used > s->max)
			s->max = used;
		s->samples++;
	} while (!atomic_load(&s->stop));
	return NULL;
}

/*
 * Pinned H2C transfers of @len on the open (slow) device while a thread
 * samples swiotlb's usage: its 20 ms latency keeps each one's mapping
 * alive long enough to be seen.
 */
static bool transfer_sampled(struct sampler *s, size_t len)
{
	unsigned char *buf = unbacked(len);
	bool ok = EXPECT(buf != NULL);

	s->max = -1;
	s->samples = 0;
	atomic_init(&s->stop, false);
	if (!ok || !EXPECT(pthread_create(&s->thread, NULL, sample_swiotlb,
					  s) == 0)) {
		if (buf)
			munmap(buf, len);
		return false;
	}
	fill_random(buf, len);
	for (int i = 0; ok && i < BOUNCE_ROUNDS; i++)
		ok &= EXPECT(h2c(0, buf, len, SGDMA_XFER_PINNED, NULL) == 0);
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	munmap(buf, len);
	return ok;
}

/*
 * bounce: swiotlb=force is on the command line and swiotlb's usage rises
 * by a whole transfer while it is in flight (on 6.7+ its high-water mark
 * too); without the claim, neither.
 */
static bool test_bounce(void)
{
	const struct sgdma_fn *slow = behind_port();
	bool claimed = claims("bounce"), forced = cmdline_has("swiotlb=force");
	bool have = exists(SWIOTLB_USED), hiwater_reset, ok;
	long long before, rise, hiwater = -1;
	struct sampler s;
	size_t len, want;

	if (!EXPECT(slow != NULL) || !EXPECT(t_open(slow->minor)))
		return false;
	len = info.pin_chunk && info.pin_chunk < MiB ? info.pin_chunk : MiB;
	want = len / IO_TLB_SIZE;
	before = read_number(SWIOTLB_USED);
	hiwater_reset = write_str(SWIOTLB_HIWATER, "0\n");
	ok = transfer_sampled(&s, len);
	if (hiwater_reset)
		hiwater = read_number(SWIOTLB_HIWATER);
	sgdma_close(dev);
	rise = s.max - before;
	ktap_diag("swiotlb=force %s the command line; io_tlb_used %s",
		  forced ? "on" : "not on", have ? "present" : "absent");
	ktap_diag("%d pinned H2C transfers of %zu bytes on %s: io_tlb_used %lld before, at most %lld in %lu samples; high water since reset %lld",
		  BOUNCE_ROUNDS, len, slow->bdf, before, s.max, s.samples,
		  hiwater);
	ktap_diag("bouncing one transfer takes %zu slots", want);
	if (claimed)
		return ok && EXPECT(forced) && EXPECT(have) &&
		       EXPECT(rise >= (long long)want) &&
		       EXPECT(!hiwater_reset ||
			      hiwater >= before + (long long)want);
	return ok && EXPECT(!forced) && EXPECT(rise <= 0) &&
	       EXPECT(!hiwater_reset || hiwater <= before);
}

/* ---- strict-device ---- */

struct devprop {
	const char *name;	/* the -device property */
	size_t offset, size;	/* the field INFO reports it in */
	uint64_t dflt;		/* the device's default (device-spec 10) */
	bool limit;		/* one of the limits the strict device narrows */
};

#define INFO_FIELD(f)	offsetof(struct sgdma_info, f), \
			sizeof(((struct sgdma_info *)0)->f)

static const struct devprop info_props[] = {
	{ "channels", INFO_FIELD(channels), 4, false },
	{ "card-size", INFO_FIELD(card_size), 64 * MiB, false },
	{ "dma-bits", INFO_FIELD(dma_bits), 64, true },
	{ "max-seg-size", INFO_FIELD(max_seg_size), UINT32_MAX, true },
	{ "seg-boundary", INFO_FIELD(seg_boundary), UINT64_MAX, true },
	{ "max-segments", INFO_FIELD(max_segments), 65536, true },
	{ "seg-align", INFO_FIELD(seg_align), 1, true },
	{ "max-transfer", INFO_FIELD(max_desc_len), 256 * MiB, true },
};

/* Properties INFO does not report (the ats case proves "ats"). */
static const char *const unreported_props[] = {
	"ring-max", "slice-size", "desc-prefetch", "c2h-hold", "bandwidth",
	"latency", "ats", "ownership-check",
};

static uint64_t info_value(const struct sgdma_info *in,
			   const struct devprop *p)
{
	const unsigned char *field = (const unsigned char *)in + p->offset;
	uint64_t v64;
	uint32_t v32;

	if (p->size == sizeof(v64)) {
		memcpy(&v64, field, sizeof(v64));
		return v64;
	}
	memcpy(&v32, field, sizeof(v32));
	return v32;
}

static bool name_in(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

/* One "name=value" of sgdma_devprops into @want; false if not understood. */
static bool expect_prop(const char *name, const char *value, uint64_t *want,
			int *narrowed)
{
	char *end;

	for (size_t i = 0; i < ARRAY_LEN(info_props); i++) {
		if (strcmp(name, info_props[i].name))
			continue;
		want[i] = strtoull(value, &end, 0);
		*narrowed += info_props[i].limit &&
			     want[i] != info_props[i].dflt;
		return EXPECT(*value && !*end);
	}
	if (name_in(name, unreported_props, ARRAY_LEN(unreported_props))) {
		ktap_diag("%s=%s: INFO does not report it", name, value);
		return true;
	}
	ktap_diag("unknown device property \"%s\"", name);
	return false;
}

/* What INFO should report: @list ("name=value,...") over the defaults. */
static bool expected_props(const char *list, uint64_t *want, int *narrowed)
{
	char props[512], *save = NULL;
	bool ok = true;

	for (size_t i = 0; i < ARRAY_LEN(info_props); i++)
		want[i] = info_props[i].dflt;
	if (!list)
		return true;
	snprintf(props, sizeof(props), "%s", list);
	for (char *p = strtok_r(props, ",", &save); p;
	     p = strtok_r(NULL, ",", &save)) {
		char *value = strchr(p, '=');

		if (!EXPECT(value != NULL))
			return false;
		*value++ = '\0';
		ok &= expect_prop(p, value, want, narrowed);
	}
	return ok;
}

static bool props_read_back(const struct sgdma_fn *fn, const uint64_t *want)
{
	struct sgdma_info in;
	struct sgdma_dev *d;
	bool ok;

	if (!EXPECT(sgdma_open_index(fn->minor, &d) == 0))
		return false;
	ok = EXPECT(sgdma_get_info(d, &in) == 0);
	sgdma_close(d);
	for (size_t i = 0; ok && i < ARRAY_LEN(info_props); i++) {
		uint64_t got = info_value(&in, &info_props[i]);

		if (got != want[i]) {
			ktap_diag("%s: INFO %s is %#llx, expected %#llx",
				  fn->bdf, info_props[i].name,
				  (unsigned long long)got,
				  (unsigned long long)want[i]);
			ok = false;
		}
	}
	if (ok)
		ktap_diag("%s: INFO reports every property as expected",
			  fn->bdf);
	return ok;
}

/* "name=value ..." of every property INFO reports, from @values. */
static const char *describe_props(const uint64_t *values, char *text,
				  size_t len)
{
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < ARRAY_LEN(info_props) && used < len; i++)
		used += snprintf(text + used, len - used, "%s%s=%#llx",
				 i ? " " : "", info_props[i].name,
				 (unsigned long long)values[i]);
	return text;
}

/*
 * The properties of the @n-th root-bus function in sgdma_fnprops, or NULL
 * when the cell gives its root functions none of their own.
 */
static const char *root_fn_props(int n, char *buf, size_t len)
{
	const char *list = getenv("sgdma_fnprops");

	for (; list && n > 0; n--) {
		list = strchr(list, '/');
		list = list ? list + 1 : NULL;
	}
	if (!list)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(list, "/"), list);
	return buf;
}

/* INFO of @fn reads back @props over the device's defaults. */
static bool fn_props_read_back(const struct sgdma_fn *fn, const char *props)
{
	uint64_t want[ARRAY_LEN(info_props)];
	char text[512];
	int narrowed = 0;

	if (!expected_props(props, want, &narrowed))
		return false;
	ktap_diag("%s expected: %s", fn->bdf,
		  describe_props(want, text, sizeof(text)));
	return props_read_back(fn, want);
}

/*
 * strict-device: sgdma_devprops narrows the device's limits, and INFO
 * reads each property back on every function (the hot-plug one differs
 * only in latency, which INFO does not report; root functions with
 * sgdma_fnprops read back those instead); without the claim, the limits
 * are the device's defaults.
 */
static bool test_strict_device(void)
{
	uint64_t want[ARRAY_LEN(info_props)];
	const char *devprops = getenv("sgdma_devprops");
	bool claimed = claims("strict-device");
	int narrowed = 0, root = 0;
	bool ok = expected_props(devprops, want, &narrowed);

	ktap_diag("%d of the strict device's limits narrowed", narrowed);
	ok &= claimed ? EXPECT(narrowed > 0) : EXPECT(narrowed == 0);
	ok &= EXPECT(nfns > 0);
	for (int i = 0; i < nfns && i < (int)ARRAY_LEN(fns); i++) {
		char own[256];
		const char *props = fns[i].port[0] ? NULL :
				    root_fn_props(root++, own, sizeof(own));

		ok &= fn_props_read_back(&fns[i], props ? props : devprops);
	}
	return ok;
}

/* ---- high-memory ---- */

/* The end of the highest System RAM range in /proc/iomem (root sees it). */
static uint64_t top_of_ram(void)
{
	FILE *f = fopen("/proc/iomem", "r");
	unsigned long long start, end;
	uint64_t top = 0;
	char line[256];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx : System RAM", &start, &end) == 2 &&
		    strstr(line, ": System RAM\n") && end + 1 > top)
			top = end + 1;
	if (f)
		fclose(f);
	return top;
}

/*
 * high-memory: RAM extends beyond the DMA reach (INFO's dma_bits) of some
 * function, so a driver whose mask is wider than its device meets
 * addresses the device cannot issue; without the claim, every function
 * reaches all RAM.
 */
static bool test_high_memory(void)
{
	uint64_t top = top_of_ram();
	int beyond = 0;
	bool ok = EXPECT(top > 0) && EXPECT(nfns > 0);

	for (int i = 0; ok && i < nfns && i < (int)ARRAY_LEN(fns); i++) {
		struct sgdma_info in;
		struct sgdma_dev *d;

		ok = EXPECT(sgdma_open_index(fns[i].minor, &d) == 0);
		if (!ok)
			break;
		ok = EXPECT(sgdma_get_info(d, &in) == 0);
		sgdma_close(d);
		if (ok && in.dma_bits < 64 && top > (1ULL << in.dma_bits)) {
			ktap_diag("%s: %u-bit DMA, RAM up to %#llx", fns[i].bdf,
				  in.dma_bits, (unsigned long long)top);
			beyond++;
		}
	}
	ktap_diag("RAM ends at %#llx; %d function(s) cannot reach all of it",
		  (unsigned long long)top, beyond);
	return ok && (claims("high-memory") ? EXPECT(beyond > 0) :
					      EXPECT(beyond == 0));
}

/* ---- kernel-debug, fault-injection ---- */

struct detector {
	const char *what;
	const char *path;	/* without @active: active if it exists */
	bool (*active)(void);
};

static bool kasan_initialised(void)
{
	return kernel_log_has("KernelAddressSanitizer initialized");
}

/* kmemleak refuses every command but "clear" once it is off. */
static bool kmemleak_on(void)
{
	return write_str("/sys/kernel/debug/kmemleak", "stack=on\n");
}

static bool dma_api_debug_on(void)
{
	char disabled[8];

	return read_line(disabled, sizeof(disabled),
			 "/sys/kernel/debug/dma-api/disabled") &&
	       !strcmp(disabled, "N");
}

/* lockdep turns debug_locks off after its first report. */
static bool lockdep_on(void)
{
	FILE *f = fopen("/proc/lockdep_stats", "r");
	char line[128];
	bool on = false;

	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "debug_locks:"))
			on = atoi(strchr(line, ':') + 1) == 1;
	if (f)
		fclose(f);
	return on;
}

static const struct detector debug_detectors[] = {
	{ "KASAN initialised", NULL, kasan_initialised },
	{ "kmemleak on", NULL, kmemleak_on },
	{ "DMA-API debugging on", NULL, dma_api_debug_on },
	{ "lockdep on", NULL, lockdep_on },
};

static const struct detector fault_injectors[] = {
	{ "failslab", "/sys/kernel/debug/failslab", NULL },
	{ "fail_page_alloc", "/sys/kernel/debug/fail_page_alloc", NULL },
	{ "fail_usercopy", "/sys/kernel/debug/fail_usercopy", NULL },
	{ "fail-nth", "/proc/self/fail-nth", NULL },
	{ "make-it-fail", "/proc/self/make-it-fail", NULL },
};

/*
 * Every detector is active when @feature is claimed; without the claim
 * their absence is fine, and what is there is only listed.
 */
static bool detectors_as_claimed(const char *feature,
				 const struct detector *d, size_t n)
{
	bool claimed = claims(feature), all = true;

	for (size_t i = 0; i < n; i++) {
		bool on = d[i].active ? d[i].active() : exists(d[i].path);

		ktap_diag("%s: %s", d[i].what, on ? "yes" : "no");
		all &= on;
	}
	ktap_diag("%s %s", feature,
		  claimed ? "claimed: each must be active" :
			    "not claimed: none is required");
	return !claimed || EXPECT(all);
}

static bool test_kernel_debug(void)
{
	return detectors_as_claimed("kernel-debug", debug_detectors,
				    ARRAY_LEN(debug_detectors));
}

static bool test_fault_injection(void)
{
	return detectors_as_claimed("fault-injection", fault_injectors,
				    ARRAY_LEN(fault_injectors));
}

int main(void)
{
	provides = getenv("sgdma_provides");
	nfns = sgdma_functions(fns, ARRAY_LEN(fns));
	ktap_plan(10);
	RUN(test_claims(), "claims");
	RUN(test_functions(), "sgdma_functions");
	RUN(test_hotplug(), "hotplug");
	RUN(test_iommu(), "iommu");
	RUN(test_ats(), "ats");
	RUN(test_bounce(), "bounce");
	RUN(test_strict_device(), "strict_device");
	RUN(test_kernel_debug(), "kernel_debug");
	RUN(test_fault_injection(), "fault_injection");
	RUN(test_high_memory(), "high_memory");
	return ktap_finish();
}
