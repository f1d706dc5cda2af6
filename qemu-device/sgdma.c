/*
 * sgdma: a strict scatter-gather DMA engine for driver testing
 *
 * The device is specified in docs/device-spec.md of the sgdma project; keep
 * the two in step. Every host access goes through the device's PCI bus
 * master address space, so an IOMMU translates and checks it, and every
 * rule the spec states is enforced: a driver mistake ends in an error
 * status, never in silent success.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "trace.h"
#include "sgdma-compat.h"

#define TYPE_SGDMA "sgdma"
OBJECT_DECLARE_SIMPLE_TYPE(SgdmaState, SGDMA)

#define SGDMA_VENDOR_ID         0x1234
#define SGDMA_DEVICE_ID         0x5347
#define SGDMA_REVISION          0x01

#define SGDMA_BAR_REGS          0
#define SGDMA_BAR_CARD          2
#define SGDMA_BAR_MSIX          4
#define SGDMA_REGS_SIZE         0x4000
#define SGDMA_PCIE_CAP_OFFSET   0x80
#define SGDMA_ATS_CAP_OFFSET    0x100

/* Address translation cache (ATS): entries, replaced in turn */
#define SGDMA_ATC_ENTRIES       64

/* INT_STATUS has a bit per channel and bit 31 for errors. */
#define SGDMA_MAX_CHANNELS      31

/* Global registers (spec 4.1) */
#define SGDMA_REG_ID            0x000
#define SGDMA_REG_VERSION       0x004
#define SGDMA_REG_SCRATCH       0x008
#define SGDMA_REG_CAPS          0x00c
#define SGDMA_REG_MAX_SEG_SIZE  0x010
#define SGDMA_REG_SEG_BOUND_LO  0x014
#define SGDMA_REG_SEG_BOUND_HI  0x018
#define SGDMA_REG_MAX_SEGMENTS  0x01c
#define SGDMA_REG_SEG_ALIGN     0x020
#define SGDMA_REG_CARD_SIZE_LO  0x024
#define SGDMA_REG_CARD_SIZE_HI  0x028
#define SGDMA_REG_RING_MAX      0x02c
#define SGDMA_REG_MAX_XFER      0x030
#define SGDMA_REG_CTRL          0x034
#define SGDMA_REG_INT_STATUS    0x038
#define SGDMA_REG_ATC_HITS      0x03c
#define SGDMA_REG_ATC_MISSES    0x040

#define SGDMA_ID_VALUE          0x5347444d      /* "SGDM" */
#define SGDMA_VERSION_VALUE     0x00010000      /* 1.0 */

#define SGDMA_CAPS_CRC32C       BIT(16)
#define SGDMA_CAPS_SEG_LIST     BIT(17)
#define SGDMA_CAPS_FAULT_INJECT BIT(18)

#define SGDMA_CTRL_RESET        BIT(0)
#define SGDMA_INT_ERROR         BIT(31)

/* Channel registers (spec 4.2) */
#define SGDMA_CHAN_BASE         0x1000
#define SGDMA_CHAN_STRIDE       0x100
#define SGDMA_CH_RING_LO        0x00
#define SGDMA_CH_RING_HI        0x04
#define SGDMA_CH_RING_SIZE      0x08
#define SGDMA_CH_COMPL_LO       0x0c
#define SGDMA_CH_COMPL_HI       0x10
#define SGDMA_CH_CTRL           0x14
#define SGDMA_CH_STATUS         0x18
#define SGDMA_CH_DOORBELL       0x1c
#define SGDMA_CH_HEAD           0x20
#define SGDMA_CH_COALESCE       0x24
#define SGDMA_CH_ERR_ADDR_LO    0x28
#define SGDMA_CH_ERR_ADDR_HI    0x2c
#define SGDMA_CH_FAULT_INJECT   0x30

#define SGDMA_CH_CTRL_ENABLE    BIT(0)
#define SGDMA_CH_CTRL_RESET     BIT(1)
#define SGDMA_CH_CTRL_IRQ       BIT(2)
#define SGDMA_CH_CTRL_MASK      (SGDMA_CH_CTRL_ENABLE | SGDMA_CH_CTRL_IRQ)

#define SGDMA_CH_ST_ENABLED     BIT(0)
#define SGDMA_CH_ST_BUSY        BIT(1)
#define SGDMA_CH_ST_HALTED      BIT(2)
#define SGDMA_CH_ST_ERR_SHIFT   8

/* In-memory formats (spec 5) */
#define SGDMA_DESC_SIZE         64
#define SGDMA_SEG_ENTRY_SIZE    16
#define SGDMA_COMPL_SIZE        32
#define SGDMA_COMPL_FLAGS_OFF   0x12

enum {
    SGDMA_OP_H2C = 1,
    SGDMA_OP_C2H = 2,
    SGDMA_OP_H2H = 3,
    SGDMA_OP_FILL = 4,
};

#define SGDMA_DESC_F_CRC        BIT(0)
#define SGDMA_DESC_F_IRQ        BIT(1)
#define SGDMA_DESC_F_SRC_LIST   BIT(2)
#define SGDMA_DESC_F_DST_LIST   BIT(3)
#define SGDMA_DESC_F_ALL        0x0f

#define SGDMA_COMPL_F_DONE      BIT(0)

/* Status codes (spec 6) */
enum {
    SGDMA_ST_OK = 0,
    SGDMA_ST_BAD_DESC = 1,
    SGDMA_ST_BAD_LENGTH = 2,
    SGDMA_ST_CARD_RANGE = 3,
    SGDMA_ST_DMA_FAULT = 4,
    SGDMA_ST_ADDR_RANGE = 5,
    SGDMA_ST_SEG_SIZE = 6,
    SGDMA_ST_SEG_BOUNDARY = 7,
    SGDMA_ST_SEG_COUNT = 8,
    SGDMA_ST_SEG_ALIGN = 9,
    SGDMA_ST_SELF_TARGET = 10,
    SGDMA_ST_BAD_RING = 11,
    SGDMA_ST_BAD_DOORBELL = 12,
    SGDMA_ST_DESC_FETCH = 13,
};

/* Fault injection (spec 7) */
enum {
    SGDMA_FI_NONE = 0,
    SGDMA_FI_DMA_ERROR = 1,
    SGDMA_FI_STALL = 2,
    SGDMA_FI_DROP_IRQ = 3,
    SGDMA_FI_DUP_IRQ = 4,
    SGDMA_FI_BAD_COUNT = 5,
    SGDMA_FI_LATE = 6,
    SGDMA_FI_STUCK_RESET = 7,
};
#define SGDMA_FI_MODE(v)        ((v) & 0xf)
#define SGDMA_FI_COUNT(v)       ((v) >> 8)
/* LATE and STUCK_RESET: bits 31:8 are a time in ms, not a count. */
#define SGDMA_FI_MS(v)          MAX((v) >> 8, 1)
/* STUCK_RESET: a function-level or system reset is ignored as well. */
#define SGDMA_FI_F_PCI_RESET    BIT(4)

/*
 * Work bounds per bottom-half run and channel, so the vCPUs keep going
 * (spec 9): besides slice-size bytes, SGDMA_WORK_PER_RUN units, where a
 * descriptor started, a segment list entry checked and a piece of data
 * moved (at most two entries loaded, two accesses) each cost one.
 */
#define SGDMA_DESCS_PER_RUN     64
#define SGDMA_WORK_PER_RUN      1024
/* Segment list entries read per access. */
#define SGDMA_SEG_BATCH         64
/* Host-to-host and fill staging buffer. */
#define SGDMA_BOUNCE_SIZE       (256 * KiB)
#define SGDMA_PATTERN_SIZE      (4 * KiB)
/* Smallest unit an IOMMU maps: a fault is located to one of these. */
#define SGDMA_FAULT_GRANULE     (4 * KiB)

/* One host side of a transfer: an inline segment or a segment list. */
typedef struct SgdmaSide {
    bool host;              /* host memory, not the card or a pattern */
    bool list;
    uint64_t base;          /* the inline segment, or the list */
    uint32_t count;         /* list entries; 1 for inline */
    uint32_t next;          /* next entry to load */
    uint64_t seg_addr;      /* next byte of the current segment */
    uint64_t seg_left;      /* bytes left in the current segment */
    uint32_t inline_len;
    uint32_t checked;       /* entries checked before the data moves */
    uint64_t total;         /* their bytes */
} SgdmaSide;

/* A translation obtained through ATS, kept until the IOMMU invalidates it */
typedef struct SgdmaAtcEntry {
    bool valid;
    uint64_t iova;          /* aligned to mask + 1 */
    uint64_t mask;
    hwaddr xlat;            /* translated address of iova */
    AddressSpace *target;
    IOMMUAccessFlags perm;
} SgdmaAtcEntry;

typedef struct SgdmaChannel {
    SgdmaState *s;

    /* Registers */
    uint64_t ring;
    uint64_t compl;
    uint32_t ring_size;
    uint32_t ctrl;
    uint32_t status;
    uint32_t doorbell;
    uint32_t head;
    uint32_t coalesce;
    uint64_t err_addr;
    uint32_t fault;

    /* Engine state */
    uint32_t fault_seen;    /* opportunities since FAULT_INJECT was armed */
    uint32_t pending_irqs;  /* completions not yet signalled */
    QEMUTimer *coalesce_timer;
    QEMUTimer *pace_timer;  /* wakes the engine when the link model allows */
    int64_t ready_at;       /* QEMU_CLOCK_VIRTUAL ns: no data moves before */
    uint32_t pf_next;       /* descriptors prefetched up to this index */
    uint8_t *pf_cache;      /* desc-prefetch slots of SGDMA_DESC_SIZE */
    uint32_t pf_size;       /* bytes of pf_cache */
    int64_t stuck_until;    /* QEMU_CLOCK_VIRTUAL ns: stops ignored */
    bool stuck_pci_reset;   /* ...and PCI resets as well */
    bool late;              /* a LATE fault holds the transfer back */
    bool busy;
    SgdmaSide *checking;    /* the side being checked, before data moves */
    bool stalled;
    bool flushing;          /* c2h-hold: writing the held data out */

    /* The transfer in progress, at index @head */
    uint8_t opcode;
    uint8_t flags;
    uint32_t length;
    uint64_t cookie;
    uint64_t card_off;
    uint32_t done;
    uint32_t crc;           /* of the bytes moved so far, in final form */
    SgdmaSide src;
    SgdmaSide dst;
    uint8_t *pattern;       /* SGDMA_PATTERN_SIZE bytes of the fill pattern */
} SgdmaChannel;

struct SgdmaState {
    PCIDevice parent_obj;

    MemoryRegion regs;
    MemoryRegion card;
    uint8_t *card_ptr;
    QEMUBH *bh;
    uint8_t *bounce;

    /* ATS: the IOMMU in front of us and what we cached from it */
    MemoryListener atc_listener;
    IOMMUMemoryRegion *atc_iommu;
    IOMMUNotifier atc_notifier;
    SgdmaAtcEntry atc[SGDMA_ATC_ENTRIES];
    unsigned atc_next;
    uint32_t atc_hits;      /* lookups the cache answered */
    uint32_t atc_misses;    /* lookups that asked the IOMMU */

    uint32_t scratch;
    uint32_t int_status;
    SgdmaChannel chan[SGDMA_MAX_CHANNELS];

    /* Properties */
    uint32_t channels;
    uint64_t card_size;
    uint32_t ring_max;
    uint32_t max_xfer;
    uint8_t dma_bits;
    uint32_t max_seg_size;
    uint64_t seg_boundary;
    uint32_t max_segments;
    uint32_t seg_align;
    uint32_t slice_size;
    uint32_t desc_prefetch;
    bool c2h_hold;
    uint32_t bandwidth;     /* MB/s, 0: unlimited */
    uint32_t latency;       /* us per transfer */
    bool ats;
};

/* A failure: the status to report and the address that caused it. */
typedef struct SgdmaErr {
    int status;
    uint64_t addr;
} SgdmaErr;

static inline bool sgdma_fail(SgdmaErr *err, int status, uint64_t addr)
{
    err->status = status;
    err->addr = addr;
    return false;
}

static unsigned sgdma_chan_index(SgdmaState *s, SgdmaChannel *ch)
{
    return ch - s->chan;
}

/* Interrupts */

static void sgdma_update_intx(SgdmaState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (!msix_enabled(pdev) && !msi_enabled(pdev)) {
        pci_set_irq(pdev, s->int_status != 0);
    }
}

static void sgdma_notify(SgdmaState *s, unsigned vector)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    trace_sgdma_irq(vector, s->int_status);
    if (msix_enabled(pdev)) {
        msix_notify(pdev, vector);
    } else if (msi_enabled(pdev)) {
        msi_notify(pdev, 0);
    } else {
        sgdma_update_intx(s);
    }
}

/*
 * Count one opportunity for the fault armed on @ch; true if it fires now.
 * An armed fault fires once, on the N-th opportunity, then disarms.
 */
static bool sgdma_fault_fires(SgdmaChannel *ch, unsigned mode)
{
    uint32_t n;

    if (SGDMA_FI_MODE(ch->fault) != mode) {
        return false;
    }
    n = MAX(SGDMA_FI_COUNT(ch->fault), 1);
    if (++ch->fault_seen < n) {
        return false;
    }
    ch->fault = 0;
    ch->fault_seen = 0;
    return true;
}

/*
 * The timed faults fire on the first opportunity: returns the armed
 * time in ns if @mode is armed on @ch, which then disarms, else 0.
 */
static int64_t sgdma_fault_fires_timed(SgdmaChannel *ch, unsigned mode)
{
    int64_t ns;

    if (SGDMA_FI_MODE(ch->fault) != mode) {
        return 0;
    }
    ns = (int64_t)SGDMA_FI_MS(ch->fault) * SCALE_MS;
    ch->stuck_pci_reset = ch->fault & SGDMA_FI_F_PCI_RESET;
    ch->fault = 0;
    ch->fault_seen = 0;
    return ns;
}

/*
 * A request to stop @ch (RESET, ENABLE cleared, CTRL.RESET, or with
 * @pci_reset a function-level or system reset): true if a STUCK_RESET
 * fault makes the channel ignore it. The first request after arming
 * opens the window.
 */
static bool sgdma_chan_ignores_stop(SgdmaState *s, SgdmaChannel *ch,
                                    bool pci_reset)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    int64_t ns = sgdma_fault_fires_timed(ch, SGDMA_FI_STUCK_RESET);

    if (ns) {
        ch->stuck_until = now + ns;
        trace_sgdma_fault(sgdma_chan_index(s, ch), "stuck-reset");
    }
    if (now >= ch->stuck_until || (pci_reset && !ch->stuck_pci_reset)) {
        return false;
    }
    qemu_log_mask(LOG_GUEST_ERROR, "sgdma: channel %u ignores a stop "
                  "request (injected fault)\n", sgdma_chan_index(s, ch));
    return true;
}

static void sgdma_chan_signal(SgdmaState *s, SgdmaChannel *ch)
{
    unsigned n = sgdma_chan_index(s, ch);

    ch->pending_irqs = 0;
    timer_del(ch->coalesce_timer);
    s->int_status |= BIT(n);
    if (sgdma_fault_fires(ch, SGDMA_FI_DROP_IRQ)) {
        trace_sgdma_fault(n, "drop-irq");
        return;
    }
    sgdma_notify(s, n);
    if (sgdma_fault_fires(ch, SGDMA_FI_DUP_IRQ)) {
        trace_sgdma_fault(n, "dup-irq");
        sgdma_notify(s, n);
    }
}

static void sgdma_coalesce_timer(void *opaque)
{
    SgdmaChannel *ch = opaque;

    if (ch->pending_irqs) {
        sgdma_chan_signal(ch->s, ch);
    }
}

static void sgdma_chan_completed_irq(SgdmaState *s, SgdmaChannel *ch)
{
    uint32_t threshold = MAX(extract32(ch->coalesce, 0, 16), 1);
    uint32_t usecs = extract32(ch->coalesce, 16, 16);

    if (++ch->pending_irqs >= threshold) {
        sgdma_chan_signal(s, ch);
    } else if (usecs && !timer_pending(ch->coalesce_timer)) {
        timer_mod(ch->coalesce_timer,
                  qemu_clock_get_us(QEMU_CLOCK_VIRTUAL) + usecs);
    }
}

/*
 * Bus address checks (spec 6). Whether an access reaches the device
 * itself is only known when it happens: see sgdma_dma_rw().
 */
static bool sgdma_check_host_range(SgdmaState *s, uint64_t addr,
                                   uint64_t len, SgdmaErr *err)
{
    uint64_t last;

    if (len == 0 || uadd64_overflow(addr, len - 1, &last)) {
        return sgdma_fail(err, SGDMA_ST_ADDR_RANGE, addr);
    }
    if (s->dma_bits < 64 && (last >> s->dma_bits)) {
        return sgdma_fail(err, SGDMA_ST_ADDR_RANGE, addr);
    }
    return true;
}

/*
 * Move @len bytes between @buf and @as at @addr, one memory region at a
 * time, each resolved (through any IOMMU) just before it is accessed: a
 * region of the device's own is refused, since the guest may have moved
 * a BAR or an IOMMU mapping onto the range after it was checked, and
 * nothing is accessed past a region that fails. *@moved: bytes moved.
 */
static bool sgdma_dma_rw(SgdmaState *s, AddressSpace *as, uint64_t addr,
                         uint8_t *buf, uint64_t len, DMADirection dir,
                         uint64_t *moved, SgdmaErr *err)
{
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    uint64_t off = 0;

    for (*moved = 0; off < len; *moved = off) {
        hwaddr xlat, plen = len - off;
        bool own;

        WITH_RCU_READ_LOCK_GUARD() {
            MemoryRegion *mr = address_space_translate(
                as, addr + off, &xlat, &plen, is_write,
                MEMTXATTRS_UNSPECIFIED);

            own = memory_region_owner(mr) == OBJECT(s);
        }
        if (own) {
            qemu_log_mask(LOG_GUEST_ERROR, "sgdma: DMA at 0x%" PRIx64
                          " reaches the device itself\n", addr + off);
            return sgdma_fail(err, SGDMA_ST_SELF_TARGET, addr + off);
        }
        if (!plen || dma_memory_rw(as, addr + off, buf + off, plen, dir,
                                   MEMTXATTRS_UNSPECIFIED) != MEMTX_OK) {
            return sgdma_fail(err, SGDMA_ST_DMA_FAULT, addr + off);
        }
        off += plen;
    }
    return true;
}

/*
 * A descriptor, list or completion access: as data, but a failure is
 * reported as @fault_status.
 */
static bool sgdma_dma_struct(SgdmaState *s, uint64_t addr, void *buf,
                             uint64_t len, DMADirection dir, int fault_status,
                             SgdmaErr *err)
{
    uint64_t moved;

    if (!sgdma_check_host_range(s, addr, len, err)) {
        return false;
    }
    if (!sgdma_dma_rw(s, pci_get_address_space(PCI_DEVICE(s)), addr, buf,
                      len, dir, &moved, err)) {
        if (err->status == SGDMA_ST_DMA_FAULT) {
            err->status = fault_status;
            err->addr = addr;
        }
        return false;
    }
    return true;
}

/* The segment rules of spec 6: size, alignment, boundary, address range. */
static bool sgdma_check_segment(SgdmaState *s, uint64_t addr, uint64_t len,
                                SgdmaErr *err)
{
    if (len == 0) {
        return sgdma_fail(err, SGDMA_ST_BAD_LENGTH, addr);
    }
    if (len > s->max_seg_size) {
        return sgdma_fail(err, SGDMA_ST_SEG_SIZE, addr);
    }
    if ((addr | len) & (s->seg_align - 1)) {
        return sgdma_fail(err, SGDMA_ST_SEG_ALIGN, addr);
    }
    if ((addr & ~s->seg_boundary) != ((addr + len - 1) & ~s->seg_boundary)) {
        return sgdma_fail(err, SGDMA_ST_SEG_BOUNDARY, addr);
    }
    return sgdma_check_host_range(s, addr, len, err);
}

/* Address translation cache (PCIe ATS) */

static void sgdma_atc_flush(SgdmaState *s)
{
    memset(s->atc, 0, sizeof(s->atc));
}

/* The IOMMU invalidated a range of our device IOTLB: forget it. */
static void sgdma_atc_invalidate(IOMMUNotifier *n, IOMMUTLBEntry *e)
{
    SgdmaState *s = container_of(n, SgdmaState, atc_notifier);
    uint64_t last = e->iova + e->addr_mask;
    unsigned i;

    trace_sgdma_atc_invalidate(e->iova, e->addr_mask);
    for (i = 0; i < SGDMA_ATC_ENTRIES; i++) {
        SgdmaAtcEntry *a = &s->atc[i];

        if (a->valid && a->iova <= last && e->iova <= a->iova + a->mask) {
            a->valid = false;
        }
    }
}

static void sgdma_atc_region_add(MemoryListener *l,
                                 MemoryRegionSection *section)
{
    SgdmaState *s = container_of(l, SgdmaState, atc_listener);
    IOMMUMemoryRegion *iommu;
    Error *err = NULL;
    int idx;

    if (!memory_region_is_iommu(section->mr) || s->atc_iommu ||
        section->offset_within_address_space ||
        section->offset_within_region) {
        return;
    }
    iommu = IOMMU_MEMORY_REGION(section->mr);
    idx = memory_region_iommu_attrs_to_index(iommu, MEMTXATTRS_UNSPECIFIED);
    iommu_notifier_init(&s->atc_notifier, sgdma_atc_invalidate,
                        IOMMU_NOTIFIER_DEVIOTLB_UNMAP, 0, HWADDR_MAX, idx);
    /* Without invalidations a cache would be unsafe: then we keep none. */
    if (memory_region_register_iommu_notifier(section->mr, &s->atc_notifier,
                                              &err)) {
        warn_report_err(err);
        return;
    }
    s->atc_iommu = iommu;
    sgdma_atc_flush(s);
}

static void sgdma_atc_region_del(MemoryListener *l,
                                 MemoryRegionSection *section)
{
    SgdmaState *s = container_of(l, SgdmaState, atc_listener);

    if (s->atc_iommu && section->mr == MEMORY_REGION(s->atc_iommu)) {
        memory_region_unregister_iommu_notifier(section->mr,
                                                &s->atc_notifier);
        s->atc_iommu = NULL;
        sgdma_atc_flush(s);
    }
}

static bool sgdma_ats_enabled(PCIDevice *pdev)
{
    return pdev->exp.ats_cap &&
           (pci_get_word(pdev->config + pdev->exp.ats_cap + PCI_ATS_CTRL) &
            PCI_ATS_CTRL_ENABLE);
}

/* ATS is used when the guest enabled it and an IOMMU can invalidate us. */
static bool sgdma_atc_active(SgdmaState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    return s->atc_iommu && sgdma_ats_enabled(pdev) &&
           (pci_get_word(pdev->config + PCI_COMMAND) & PCI_COMMAND_MASTER);
}

/* Translate @addr, from the cache or by asking the IOMMU. */
static SgdmaAtcEntry *sgdma_atc_lookup(SgdmaState *s, uint64_t addr,
                                       IOMMUAccessFlags need)
{
    IOMMUMemoryRegionClass *imrc;
    SgdmaAtcEntry *a;
    IOMMUTLBEntry e;
    unsigned i;

    for (i = 0; i < SGDMA_ATC_ENTRIES; i++) {
        a = &s->atc[i];
        if (a->valid && (addr & ~a->mask) == a->iova &&
            (a->perm & need) == need) {
            s->atc_hits++;
            return a;
        }
    }
    s->atc_misses++;
    imrc = IOMMU_MEMORY_REGION_GET_CLASS(s->atc_iommu);
    e = imrc->translate(s->atc_iommu, addr & ~(SGDMA_FAULT_GRANULE - 1),
                        need, memory_region_iommu_attrs_to_index(
                            s->atc_iommu, MEMTXATTRS_UNSPECIFIED));
    trace_sgdma_atc_translate(addr, e.translated_addr, e.addr_mask, e.perm);
    if ((e.perm & need) != need || !e.target_as) {
        return NULL;
    }
    a = &s->atc[s->atc_next++ % SGDMA_ATC_ENTRIES];
    a->valid = true;
    a->mask = e.addr_mask;
    a->iova = addr & ~e.addr_mask;
    a->xlat = e.translated_addr & ~e.addr_mask;
    a->target = e.target_as;
    a->perm = e.perm;
    return a;
}

/*
 * Move data with translated requests: addresses come from the cache, and
 * only a miss asks the IOMMU, as a device with ATS does.
 */
static bool sgdma_atc_rw(SgdmaState *s, uint64_t addr, uint8_t *buf,
                         uint64_t len, DMADirection dir, uint64_t *moved,
                         SgdmaErr *err)
{
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    uint64_t off = 0, done;

    while (off < len) {
        uint64_t a = addr + off;
        SgdmaAtcEntry *e = sgdma_atc_lookup(s, a, is_write ? IOMMU_WO :
                                                           IOMMU_RO);
        uint64_t chunk;

        if (!e) {
            *moved = off;
            return sgdma_fail(err, SGDMA_ST_DMA_FAULT, a);
        }
        chunk = MIN(len - off, e->mask + 1 - (a & e->mask));
        if (!sgdma_dma_rw(s, e->target, e->xlat | (a & e->mask), buf + off,
                          chunk, dir, &done, err)) {
            /* Report the bus address, not the translated one. */
            *moved = off + done;
            err->addr = a + done;
            return false;
        }
        off += chunk;
    }
    *moved = len;
    return true;
}

/*
 * Move @len bytes between host memory at bus address @addr and @buf.
 * Stops where an access fails, so nothing is written past a fault;
 * *@moved tells how far it got.
 */
static bool sgdma_host_rw(SgdmaState *s, SgdmaChannel *ch, uint64_t addr,
                          uint8_t *buf, uint64_t len, DMADirection dir,
                          uint64_t *moved, SgdmaErr *err)
{
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;

    *moved = 0;
    trace_sgdma_segment(sgdma_chan_index(s, ch), is_write, addr, len);
    if (sgdma_fault_fires(ch, SGDMA_FI_DMA_ERROR)) {
        trace_sgdma_fault(sgdma_chan_index(s, ch), "dma-error");
        return sgdma_fail(err, SGDMA_ST_DMA_FAULT, addr);
    }
    if (sgdma_atc_active(s)) {
        return sgdma_atc_rw(s, addr, buf, len, dir, moved, err);
    }
    return sgdma_dma_rw(s, pci_get_address_space(PCI_DEVICE(s)), addr, buf,
                        len, dir, moved, err);
}

/* Segment lists */

static bool sgdma_read_entries(SgdmaState *s, SgdmaSide *side, uint32_t first,
                               uint32_t n, uint8_t *buf, SgdmaErr *err)
{
    uint64_t addr = side->base + (uint64_t)first * SGDMA_SEG_ENTRY_SIZE;
    uint64_t len = (uint64_t)n * SGDMA_SEG_ENTRY_SIZE;

    return sgdma_dma_struct(s, addr, buf, len, DMA_DIRECTION_TO_DEVICE,
                            SGDMA_ST_DESC_FETCH, err);
}

static bool sgdma_decode_entry(SgdmaState *s, const uint8_t *e,
                               uint64_t *addr, uint32_t *len, SgdmaErr *err)
{
    *addr = ldq_le_p(e);
    *len = ldl_le_p(e + 8);
    if (ldl_le_p(e + 12)) {
        return sgdma_fail(err, SGDMA_ST_BAD_DESC, *addr);
    }
    return sgdma_check_segment(s, *addr, *len, err);
}

/*
 * Check a host side before any data moves, spending at most *@work
 * units (one per entry): every segment obeys the rules and the lengths
 * add up to the transfer's. The data pass checks each entry again, as
 * the guest may rewrite the list meanwhile. Sets *@done once the whole
 * side is checked; false on an error.
 */
static bool sgdma_side_check(SgdmaState *s, SgdmaSide *side, uint32_t length,
                             unsigned *work, bool *done, SgdmaErr *err)
{
    uint8_t buf[SGDMA_SEG_BATCH * SGDMA_SEG_ENTRY_SIZE];
    uint32_t j, n;

    *done = false;
    if (!side->list) {
        (*work)--;
        if (!sgdma_check_segment(s, side->base, side->inline_len, err)) {
            return false;
        }
        side->total = side->inline_len;
    } else {
        if (side->count == 0 || side->count > s->max_segments) {
            return sgdma_fail(err, SGDMA_ST_SEG_COUNT, side->base);
        }
        if (side->base & (SGDMA_SEG_ENTRY_SIZE - 1)) {
            return sgdma_fail(err, SGDMA_ST_BAD_DESC, side->base);
        }
        for (; side->checked < side->count; side->checked += n) {
            n = MIN(MIN(side->count - side->checked, SGDMA_SEG_BATCH),
                    *work);
            if (!n) {
                return true;
            }
            *work -= n;
            if (!sgdma_read_entries(s, side, side->checked, n, buf, err)) {
                return false;
            }
            for (j = 0; j < n; j++) {
                uint64_t addr;
                uint32_t len;

                if (!sgdma_decode_entry(s, buf + j * SGDMA_SEG_ENTRY_SIZE,
                                        &addr, &len, err)) {
                    return false;
                }
                side->total += len;
            }
        }
    }
    if (side->total != length) {
        return sgdma_fail(err, SGDMA_ST_BAD_LENGTH, side->base);
    }
    *done = true;
    return true;
}

/* Make the side's current segment non-empty, loading the next entry. */
static bool sgdma_side_load(SgdmaState *s, SgdmaSide *side, SgdmaErr *err)
{
    uint8_t e[SGDMA_SEG_ENTRY_SIZE];
    uint32_t len;

    if (side->seg_left) {
        return true;
    }
    if (side->next >= side->count) {
        return sgdma_fail(err, SGDMA_ST_BAD_LENGTH, side->base);
    }
    if (!side->list) {
        side->seg_addr = side->base;
        side->seg_left = side->inline_len;
        side->next = 1;
        return true;
    }
    if (!sgdma_read_entries(s, side, side->next, 1, e, err) ||
        !sgdma_decode_entry(s, e, &side->seg_addr, &len, err)) {
        return false;
    }
    side->seg_left = len;
    side->next++;
    return true;
}

static void sgdma_side_advance(SgdmaSide *side, uint64_t n)
{
    side->seg_addr += n;
    side->seg_left -= n;
}

static bool sgdma_side_exhausted(const SgdmaSide *side)
{
    return side->seg_left == 0 && side->next == side->count;
}

static void sgdma_side_init(SgdmaSide *side, bool list, uint64_t base,
                            uint32_t n)
{
    side->host = true;
    side->list = list;
    side->base = base;
    side->count = list ? n : 1;
    side->inline_len = list ? 0 : n;
}

/* Channel state */

static void sgdma_chan_halt(SgdmaState *s, SgdmaChannel *ch,
                            const SgdmaErr *err)
{
    unsigned n = sgdma_chan_index(s, ch);

    trace_sgdma_error(n, err->status, err->addr);
    ch->busy = false;
    ch->stalled = false;
    ch->status |= SGDMA_CH_ST_HALTED;
    ch->status = deposit32(ch->status, SGDMA_CH_ST_ERR_SHIFT, 8, err->status);
    ch->err_addr = err->addr;
    s->int_status |= SGDMA_INT_ERROR;
    sgdma_notify(s, s->channels);
}

/*
 * The link model: true if the channel must wait for the virtual clock,
 * with its timer set to wake the engine then.
 */
static bool sgdma_chan_paced(SgdmaState *s, SgdmaChannel *ch)
{
    if (!s->bandwidth && !s->latency && !ch->late) {
        return false;
    }
    if (qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) >= ch->ready_at) {
        return false;
    }
    timer_mod(ch->pace_timer, ch->ready_at);
    return true;
}

static void sgdma_chan_charge(SgdmaState *s, SgdmaChannel *ch, uint64_t ns)
{
    if (ns) {
        ch->ready_at = MAX(ch->ready_at,
                           qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)) + ns;
    }
}

static void sgdma_pace_timer(void *opaque)
{
    SgdmaChannel *ch = opaque;

    qemu_bh_schedule(ch->s->bh);
}

static bool sgdma_chan_runnable(SgdmaChannel *ch)
{
    if (!(ch->ctrl & SGDMA_CH_CTRL_ENABLE) ||
        (ch->status & SGDMA_CH_ST_HALTED)) {
        return false;
    }
    return ch->busy ? !ch->stalled : ch->head != ch->doorbell;
}

/* Abandon the transfer in progress: no DMA happens for it after this. */
static void sgdma_chan_stop(SgdmaChannel *ch)
{
    ch->busy = false;
    ch->checking = NULL;
    ch->stalled = false;
    ch->late = false;
    ch->flushing = false;
    ch->pending_irqs = 0;
    ch->ready_at = 0;
    ch->pf_next = ch->head;     /* forget prefetched descriptors */
    timer_del(ch->coalesce_timer);
    timer_del(ch->pace_timer);
}

static void sgdma_chan_reset(SgdmaState *s, SgdmaChannel *ch)
{
    SgdmaChannel keep = *ch;

    trace_sgdma_chan_reset(sgdma_chan_index(s, ch));
    sgdma_chan_stop(ch);
    memset(ch, 0, sizeof(*ch));
    ch->s = s;
    ch->coalesce_timer = keep.coalesce_timer;
    ch->pace_timer = keep.pace_timer;
    ch->pattern = keep.pattern;
    ch->pf_cache = keep.pf_cache;
    ch->pf_size = keep.pf_size;
    s->int_status &= ~BIT(sgdma_chan_index(s, ch));
    sgdma_update_intx(s);
}

static uint64_t sgdma_desc_addr(SgdmaChannel *ch, uint32_t index)
{
    return ch->ring + (uint64_t)(index & (ch->ring_size - 1)) *
           SGDMA_DESC_SIZE;
}

/*
 * The prefetch cache: read up to desc-prefetch descriptors ahead of HEAD
 * as soon as they are handed over, and use those copies, however the
 * guest changes the ring afterwards. A fetch that fails stops the
 * prefetch; the descriptor is fetched again, and fails, when its turn
 * comes.
 */
static void sgdma_prefetch(SgdmaState *s, SgdmaChannel *ch)
{
    unsigned n = sgdma_chan_index(s, ch);
    SgdmaErr err;

    if (!s->desc_prefetch) {
        return;
    }
    if ((int32_t)(ch->pf_next - ch->head) < 0) {
        ch->pf_next = ch->head;
    }
    while (ch->pf_next != ch->doorbell &&
           ch->pf_next - ch->head < s->desc_prefetch) {
        uint64_t addr = sgdma_desc_addr(ch, ch->pf_next);
        uint8_t *slot = ch->pf_cache +
            (ch->pf_next % s->desc_prefetch) * SGDMA_DESC_SIZE;

        if (!sgdma_dma_struct(s, addr, slot, SGDMA_DESC_SIZE,
                              DMA_DIRECTION_TO_DEVICE, SGDMA_ST_DESC_FETCH,
                              &err)) {
            break;
        }
        trace_sgdma_prefetch(n, ch->pf_next);
        ch->pf_next++;
    }
}

/* Completion (spec 5.3): body first, then DONE, then HEAD, then the irq. */
static void sgdma_complete(SgdmaState *s, SgdmaChannel *ch,
                           const SgdmaErr *err)
{
    uint8_t c[SGDMA_COMPL_SIZE] = { 0 };
    uint32_t index = ch->head;
    uint64_t addr = ch->compl +
        (uint64_t)(index & (ch->ring_size - 1)) * SGDMA_COMPL_SIZE;
    uint32_t bytes = ch->done;
    uint32_t crc = 0;
    SgdmaErr werr;

    if ((ch->flags & SGDMA_DESC_F_CRC) && err->status == SGDMA_ST_OK) {
        crc = ch->crc;
    }
    if (err->status == SGDMA_ST_OK && bytes &&
        sgdma_fault_fires(ch, SGDMA_FI_BAD_COUNT)) {
        trace_sgdma_fault(sgdma_chan_index(s, ch), "bad-count");
        bytes--;
    }
    stq_le_p(c + 0x00, ch->cookie);
    stl_le_p(c + 0x08, bytes);
    stl_le_p(c + 0x0c, crc);
    stw_le_p(c + 0x10, err->status);
    stl_le_p(c + 0x14, index);
    stq_le_p(c + 0x18, err->status ? err->addr : 0);

    trace_sgdma_complete(sgdma_chan_index(s, ch), index, err->status, bytes,
                         crc);
    if (!sgdma_dma_struct(s, addr, c, SGDMA_COMPL_FLAGS_OFF,
                          DMA_DIRECTION_FROM_DEVICE, SGDMA_ST_DMA_FAULT,
                          &werr) ||
        !sgdma_dma_struct(s, addr + 0x14, c + 0x14, 12,
                          DMA_DIRECTION_FROM_DEVICE, SGDMA_ST_DMA_FAULT,
                          &werr)) {
        werr.addr = addr;
        sgdma_chan_halt(s, ch, &werr);
        return;
    }
    stw_le_p(c + SGDMA_COMPL_FLAGS_OFF, SGDMA_COMPL_F_DONE);
    if (!sgdma_dma_struct(s, addr + SGDMA_COMPL_FLAGS_OFF,
                          c + SGDMA_COMPL_FLAGS_OFF, 2,
                          DMA_DIRECTION_FROM_DEVICE, SGDMA_ST_DMA_FAULT,
                          &werr)) {
        werr.addr = addr;
        sgdma_chan_halt(s, ch, &werr);
        return;
    }
    ch->head++;
    ch->busy = false;
    sgdma_prefetch(s, ch);

    if (err->status != SGDMA_ST_OK) {
        sgdma_chan_halt(s, ch, err);
    } else if ((ch->flags & SGDMA_DESC_F_IRQ) &&
               (ch->ctrl & SGDMA_CH_CTRL_IRQ)) {
        sgdma_chan_completed_irq(s, ch);
    }
}

/* Descriptors (spec 5.1) */

static bool sgdma_decode_desc(SgdmaState *s, SgdmaChannel *ch,
                              const uint8_t *d, SgdmaErr *err)
{
    uint64_t src = ldq_le_p(d + 0x10), dst = ldq_le_p(d + 0x20);
    uint32_t src_n = ldl_le_p(d + 0x18), dst_n = ldl_le_p(d + 0x28);
    uint64_t pattern = ldq_le_p(d + 0x30);
    bool src_host, dst_host, card;
    uint64_t card_end;

    ch->opcode = d[0];
    ch->flags = d[1];
    ch->length = ldl_le_p(d + 0x04);
    ch->cookie = ldq_le_p(d + 0x08);

    if (lduw_le_p(d + 0x02) || ldl_le_p(d + 0x1c) || ldl_le_p(d + 0x2c) ||
        ldq_le_p(d + 0x38) || (ch->flags & ~SGDMA_DESC_F_ALL)) {
        return sgdma_fail(err, SGDMA_ST_BAD_DESC, 0);
    }
    switch (ch->opcode) {
    case SGDMA_OP_H2C:
        src_host = true, dst_host = false;
        ch->card_off = dst;
        break;
    case SGDMA_OP_C2H:
        src_host = false, dst_host = true;
        ch->card_off = src;
        break;
    case SGDMA_OP_H2H:
        src_host = true, dst_host = true;
        break;
    case SGDMA_OP_FILL:
        src_host = false, dst_host = true;
        if (src) {
            return sgdma_fail(err, SGDMA_ST_BAD_DESC, 0);
        }
        break;
    default:
        return sgdma_fail(err, SGDMA_ST_BAD_DESC, 0);
    }
    card = ch->opcode == SGDMA_OP_H2C || ch->opcode == SGDMA_OP_C2H;

    /* Fields a side does not use must be zero. */
    if ((!src_host && (src_n || (ch->flags & SGDMA_DESC_F_SRC_LIST))) ||
        (!dst_host && (dst_n || (ch->flags & SGDMA_DESC_F_DST_LIST))) ||
        (ch->opcode != SGDMA_OP_FILL && pattern)) {
        return sgdma_fail(err, SGDMA_ST_BAD_DESC, 0);
    }
    if (ch->length == 0 || ch->length > s->max_xfer) {
        return sgdma_fail(err, SGDMA_ST_BAD_LENGTH, 0);
    }
    if (card && (uadd64_overflow(ch->card_off, ch->length, &card_end) ||
                 card_end > s->card_size)) {
        return sgdma_fail(err, SGDMA_ST_CARD_RANGE, ch->card_off);
    }

    /* A side that is not host memory has no segments: it is exhausted. */
    memset(&ch->src, 0, sizeof(ch->src));
    memset(&ch->dst, 0, sizeof(ch->dst));
    if (src_host) {
        sgdma_side_init(&ch->src, ch->flags & SGDMA_DESC_F_SRC_LIST, src,
                        src_n);
    }
    if (dst_host) {
        sgdma_side_init(&ch->dst, ch->flags & SGDMA_DESC_F_DST_LIST, dst,
                        dst_n);
    }
    ch->checking = src_host ? &ch->src : &ch->dst;
    if (ch->opcode == SGDMA_OP_FILL) {
        for (int i = 0; i < SGDMA_PATTERN_SIZE; i += 8) {
            stq_le_p(ch->pattern + i, pattern);
        }
    }
    return true;
}

/* The descriptor passed every check: its data may move now. */
static void sgdma_begin(SgdmaState *s, SgdmaChannel *ch)
{
    int64_t late;

    trace_sgdma_desc(sgdma_chan_index(s, ch), ch->head, ch->opcode,
                     ch->flags, ch->length, ch->cookie);
    if (sgdma_fault_fires(ch, SGDMA_FI_STALL)) {
        trace_sgdma_fault(sgdma_chan_index(s, ch), "stall");
        ch->stalled = true;
    }
    late = sgdma_fault_fires_timed(ch, SGDMA_FI_LATE);
    if (late) {
        /* In flight, moving nothing, until then; a stop abandons it. */
        trace_sgdma_fault(sgdma_chan_index(s, ch), "late");
        ch->late = true;
        sgdma_chan_charge(s, ch, late);
    }
    sgdma_chan_charge(s, ch, (uint64_t)s->latency * SCALE_US);
}

/* Check the host sides for at most *@work units. */
static void sgdma_check_sides(SgdmaState *s, SgdmaChannel *ch,
                              unsigned *work)
{
    SgdmaErr err = { SGDMA_ST_OK, 0 };
    bool done;

    if (!sgdma_side_check(s, ch->checking, ch->length, work, &done, &err)) {
        ch->checking = NULL;
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: channel %u descriptor %u "
                      "rejected with status %d\n", sgdma_chan_index(s, ch),
                      ch->head, err.status);
        sgdma_complete(s, ch, &err);
        return;
    }
    if (!done) {
        return;
    }
    if (ch->checking == &ch->src && ch->dst.host) {
        ch->checking = &ch->dst;
        return;
    }
    ch->checking = NULL;
    sgdma_begin(s, ch);
}

/*
 * Fetch and decode the descriptor at HEAD; on success the channel is busy
 * checking its host sides.
 */
static void sgdma_start(SgdmaState *s, SgdmaChannel *ch)
{
    uint8_t buf[SGDMA_DESC_SIZE];
    const uint8_t *d = buf;
    uint64_t addr = sgdma_desc_addr(ch, ch->head);
    SgdmaErr err = { SGDMA_ST_OK, 0 };

    ch->busy = true;
    ch->checking = NULL;
    ch->late = false;
    ch->flushing = false;
    ch->done = 0;
    ch->crc = 0;                /* the CRC of nothing, in final form */
    ch->cookie = 0;
    ch->flags = 0;

    if (s->desc_prefetch && (int32_t)(ch->pf_next - ch->head) > 0) {
        d = ch->pf_cache + (ch->head % s->desc_prefetch) * SGDMA_DESC_SIZE;
    } else if (!sgdma_dma_struct(s, addr, buf, sizeof(buf),
                                 DMA_DIRECTION_TO_DEVICE,
                                 SGDMA_ST_DESC_FETCH, &err)) {
        sgdma_complete(s, ch, &err);
        return;
    }
    if (!sgdma_decode_desc(s, ch, d, &err)) {
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: channel %u descriptor %u "
                      "rejected with status %d\n", sgdma_chan_index(s, ch),
                      ch->head, err.status);
        sgdma_complete(s, ch, &err);
    }
}

/* Move one piece of the transfer, at most @budget bytes. */
static bool sgdma_step(SgdmaState *s, SgdmaChannel *ch, uint64_t budget,
                       uint64_t *moved, SgdmaErr *err)
{
    uint64_t n = MIN(ch->length - ch->done, budget);
    uint8_t *card = s->card_ptr + ch->card_off + ch->done;
    uint64_t got;
    uint8_t *buf;
    bool ok;

    *moved = 0;
    switch (ch->opcode) {
    case SGDMA_OP_H2C:
        if (!sgdma_side_load(s, &ch->src, err)) {
            return false;
        }
        n = MIN(n, ch->src.seg_left);
        ok = sgdma_host_rw(s, ch, ch->src.seg_addr, card, n,
                           DMA_DIRECTION_TO_DEVICE, moved, err);
        memory_region_set_dirty(&s->card, ch->card_off + ch->done, *moved);
        buf = card;
        sgdma_side_advance(&ch->src, *moved);
        break;
    case SGDMA_OP_C2H:
        if (!sgdma_side_load(s, &ch->dst, err)) {
            return false;
        }
        n = MIN(n, ch->dst.seg_left);
        if (s->c2h_hold && !ch->flushing) {
            /* Held back: it reaches the host just before the completion */
            *moved = n;
            ok = true;
        } else {
            ok = sgdma_host_rw(s, ch, ch->dst.seg_addr, card, n,
                               DMA_DIRECTION_FROM_DEVICE, moved, err);
        }
        buf = card;
        sgdma_side_advance(&ch->dst, *moved);
        break;
    case SGDMA_OP_H2H:
        if (!sgdma_side_load(s, &ch->src, err) ||
            !sgdma_side_load(s, &ch->dst, err)) {
            return false;
        }
        n = MIN(MIN(n, SGDMA_BOUNCE_SIZE),
                MIN(ch->src.seg_left, ch->dst.seg_left));
        buf = s->bounce;
        ok = sgdma_host_rw(s, ch, ch->src.seg_addr, buf, n,
                           DMA_DIRECTION_TO_DEVICE, &got, err);
        if (ok) {
            ok = sgdma_host_rw(s, ch, ch->dst.seg_addr, buf, n,
                               DMA_DIRECTION_FROM_DEVICE, moved, err);
        }
        sgdma_side_advance(&ch->src, *moved);
        sgdma_side_advance(&ch->dst, *moved);
        break;
    case SGDMA_OP_FILL:
        if (!sgdma_side_load(s, &ch->dst, err)) {
            return false;
        }
        /* The pattern repeats from the first byte of the destination. */
        buf = ch->pattern + (ch->done & 7);
        n = MIN(MIN(n, SGDMA_PATTERN_SIZE - 8), ch->dst.seg_left);
        ok = sgdma_host_rw(s, ch, ch->dst.seg_addr, buf, n,
                           DMA_DIRECTION_FROM_DEVICE, moved, err);
        sgdma_side_advance(&ch->dst, *moved);
        break;
    default:
        g_assert_not_reached();
    }
    if (ch->flushing) {
        /* The held data was counted, checksummed and paced already. */
        ch->done += *moved;
        return ok;
    }
    if (ch->flags & SGDMA_DESC_F_CRC) {
        /* QEMU's crc32c() takes the raw state and returns the final form */
        ch->crc = crc32c(ch->crc ^ 0xffffffff, buf, *moved);
    }
    if (s->bandwidth) {
        sgdma_chan_charge(s, ch, *moved * 1000 / s->bandwidth);
    }
    ch->done += *moved;
    return ok;
}

/*
 * Run one channel for at most one slice. Returns true if it has more to
 * do right away; a channel the link model holds back is woken by its timer.
 */
static bool sgdma_chan_run(SgdmaState *s, SgdmaChannel *ch)
{
    uint64_t budget = s->slice_size;
    unsigned work = SGDMA_WORK_PER_RUN;
    unsigned descs = 0;

    while (sgdma_chan_runnable(ch) && !sgdma_chan_paced(s, ch)) {
        SgdmaErr err = { SGDMA_ST_OK, 0 };
        uint64_t moved;

        if (!budget || !work) {
            return true;
        }
        if (!ch->busy) {
            if (descs++ == SGDMA_DESCS_PER_RUN) {
                return true;
            }
            work--;
            sgdma_start(s, ch);
            continue;
        }
        if (ch->checking) {
            sgdma_check_sides(s, ch, &work);
            continue;
        }
        if (ch->done < ch->length) {
            bool ok = sgdma_step(s, ch, budget, &moved, &err);

            work--;
            budget -= MIN(budget, MAX(moved, 1));
            if (!ok) {
                sgdma_complete(s, ch, &err);
            }
            continue;
        }
        if (!sgdma_side_exhausted(&ch->src) ||
            !sgdma_side_exhausted(&ch->dst)) {
            sgdma_fail(&err, SGDMA_ST_BAD_LENGTH, 0);
        } else if (s->c2h_hold && ch->opcode == SGDMA_OP_C2H &&
                   !ch->flushing) {
            /* Now write the held data out, then complete. */
            ch->flushing = true;
            ch->done = 0;
            ch->dst.next = 0;
            ch->dst.seg_left = 0;
            continue;
        }
        sgdma_complete(s, ch, &err);
    }
    return false;
}

static void sgdma_bh(void *opaque)
{
    SgdmaState *s = opaque;
    bool more = false;
    unsigned i;

    for (i = 0; i < s->channels; i++) {
        more |= sgdma_chan_run(s, &s->chan[i]);
    }
    if (more) {
        qemu_bh_schedule(s->bh);
    }
}

/* Register access */

static bool sgdma_ring_valid(SgdmaState *s, SgdmaChannel *ch)
{
    return is_power_of_2(ch->ring_size) && ch->ring_size >= 2 &&
           ch->ring_size <= s->ring_max &&
           !(ch->ring & (SGDMA_DESC_SIZE - 1)) &&
           !(ch->compl & (SGDMA_COMPL_SIZE - 1));
}

static void sgdma_chan_write_ctrl(SgdmaState *s, SgdmaChannel *ch,
                                  uint32_t val)
{
    bool was_enabled = ch->ctrl & SGDMA_CH_CTRL_ENABLE;

    if (((val & SGDMA_CH_CTRL_RESET) || !(val & SGDMA_CH_CTRL_ENABLE)) &&
        was_enabled && sgdma_chan_ignores_stop(s, ch, false)) {
        return;
    }
    if (val & SGDMA_CH_CTRL_RESET) {
        sgdma_chan_reset(s, ch);
        return;
    }
    ch->ctrl = val & SGDMA_CH_CTRL_MASK;
    if (!(ch->ctrl & SGDMA_CH_CTRL_IRQ)) {
        /* Completions waiting to be coalesced are signalled no more. */
        ch->pending_irqs = 0;
        timer_del(ch->coalesce_timer);
    }
    if (!(ch->ctrl & SGDMA_CH_CTRL_ENABLE)) {
        sgdma_chan_stop(ch);
        ch->status &= ~SGDMA_CH_ST_ENABLED;
        return;
    }
    ch->status |= SGDMA_CH_ST_ENABLED;
    if (!was_enabled && !sgdma_ring_valid(s, ch)) {
        SgdmaErr err = { SGDMA_ST_BAD_RING, ch->ring };

        sgdma_chan_halt(s, ch, &err);
        return;
    }
    if (sgdma_chan_runnable(ch)) {
        qemu_bh_schedule(s->bh);
    }
}

static void sgdma_chan_write_doorbell(SgdmaState *s, SgdmaChannel *ch,
                                      uint32_t val)
{
    uint32_t outstanding = val - ch->head;

    trace_sgdma_doorbell(sgdma_chan_index(s, ch), val, ch->head);
    if (!(ch->ctrl & SGDMA_CH_CTRL_ENABLE) ||
        (ch->status & SGDMA_CH_ST_HALTED)) {
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: doorbell on channel %u "
                      "while disabled or halted\n", sgdma_chan_index(s, ch));
        return;
    }
    if (outstanding > ch->ring_size || outstanding < ch->doorbell - ch->head) {
        SgdmaErr err = { SGDMA_ST_BAD_DOORBELL, val };

        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: doorbell %u out of range "
                      "(head %u, size %u)\n", val, ch->head, ch->ring_size);
        sgdma_chan_halt(s, ch, &err);
        return;
    }
    ch->doorbell = val;
    sgdma_prefetch(s, ch);
    if (sgdma_chan_runnable(ch)) {
        qemu_bh_schedule(s->bh);
    }
}

static uint64_t sgdma_chan_read(SgdmaState *s, SgdmaChannel *ch, hwaddr reg)
{
    switch (reg) {
    case SGDMA_CH_RING_LO:
        return extract64(ch->ring, 0, 32);
    case SGDMA_CH_RING_HI:
        return extract64(ch->ring, 32, 32);
    case SGDMA_CH_RING_SIZE:
        return ch->ring_size;
    case SGDMA_CH_COMPL_LO:
        return extract64(ch->compl, 0, 32);
    case SGDMA_CH_COMPL_HI:
        return extract64(ch->compl, 32, 32);
    case SGDMA_CH_CTRL:
        return ch->ctrl;
    case SGDMA_CH_STATUS:
        return ch->status | (ch->busy ? SGDMA_CH_ST_BUSY : 0);
    case SGDMA_CH_HEAD:
        return ch->head;
    case SGDMA_CH_COALESCE:
        return ch->coalesce;
    case SGDMA_CH_ERR_ADDR_LO:
        return extract64(ch->err_addr, 0, 32);
    case SGDMA_CH_ERR_ADDR_HI:
        return extract64(ch->err_addr, 32, 32);
    case SGDMA_CH_FAULT_INJECT:
        return ch->fault;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: read of reserved channel "
                      "register 0x%" HWADDR_PRIx "\n", reg);
        return 0;
    }
}

static void sgdma_chan_write(SgdmaState *s, SgdmaChannel *ch, hwaddr reg,
                             uint32_t val)
{
    bool enabled = ch->ctrl & SGDMA_CH_CTRL_ENABLE;

    switch (reg) {
    case SGDMA_CH_RING_LO:
    case SGDMA_CH_RING_HI:
    case SGDMA_CH_RING_SIZE:
    case SGDMA_CH_COMPL_LO:
    case SGDMA_CH_COMPL_HI:
        if (enabled) {
            qemu_log_mask(LOG_GUEST_ERROR, "sgdma: ring register 0x%"
                          HWADDR_PRIx " written while enabled\n", reg);
            return;
        }
        break;
    }

    switch (reg) {
    case SGDMA_CH_RING_LO:
        ch->ring = deposit64(ch->ring, 0, 32, val);
        break;
    case SGDMA_CH_RING_HI:
        ch->ring = deposit64(ch->ring, 32, 32, val);
        break;
    case SGDMA_CH_RING_SIZE:
        ch->ring_size = val;
        break;
    case SGDMA_CH_COMPL_LO:
        ch->compl = deposit64(ch->compl, 0, 32, val);
        break;
    case SGDMA_CH_COMPL_HI:
        ch->compl = deposit64(ch->compl, 32, 32, val);
        break;
    case SGDMA_CH_CTRL:
        sgdma_chan_write_ctrl(s, ch, val);
        break;
    case SGDMA_CH_DOORBELL:
        sgdma_chan_write_doorbell(s, ch, val);
        break;
    case SGDMA_CH_COALESCE:
        ch->coalesce = val;
        break;
    case SGDMA_CH_FAULT_INJECT:
        ch->fault = val;
        ch->fault_seen = 0;
        break;
    case SGDMA_CH_STATUS:
    case SGDMA_CH_HEAD:
    case SGDMA_CH_ERR_ADDR_LO:
    case SGDMA_CH_ERR_ADDR_HI:
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: write to read-only channel "
                      "register 0x%" HWADDR_PRIx "\n", reg);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: write of reserved channel "
                      "register 0x%" HWADDR_PRIx "\n", reg);
        break;
    }
}

static SgdmaChannel *sgdma_chan_at(SgdmaState *s, hwaddr addr, hwaddr *reg)
{
    uint64_t n;

    if (addr < SGDMA_CHAN_BASE) {
        return NULL;
    }
    n = (addr - SGDMA_CHAN_BASE) / SGDMA_CHAN_STRIDE;
    *reg = (addr - SGDMA_CHAN_BASE) % SGDMA_CHAN_STRIDE;
    return n < s->channels ? &s->chan[n] : NULL;
}

static uint32_t sgdma_caps(SgdmaState *s)
{
    return s->channels | (s->dma_bits << 8) | SGDMA_CAPS_CRC32C |
           SGDMA_CAPS_SEG_LIST | SGDMA_CAPS_FAULT_INJECT;
}

static uint64_t sgdma_global_read(SgdmaState *s, hwaddr addr, bool *known)
{
    *known = true;
    switch (addr) {
    case SGDMA_REG_ID:
        return SGDMA_ID_VALUE;
    case SGDMA_REG_VERSION:
        return SGDMA_VERSION_VALUE;
    case SGDMA_REG_SCRATCH:
        return s->scratch;
    case SGDMA_REG_CAPS:
        return sgdma_caps(s);
    case SGDMA_REG_MAX_SEG_SIZE:
        return s->max_seg_size;
    case SGDMA_REG_SEG_BOUND_LO:
        return extract64(s->seg_boundary, 0, 32);
    case SGDMA_REG_SEG_BOUND_HI:
        return extract64(s->seg_boundary, 32, 32);
    case SGDMA_REG_MAX_SEGMENTS:
        return s->max_segments;
    case SGDMA_REG_SEG_ALIGN:
        return s->seg_align;
    case SGDMA_REG_CARD_SIZE_LO:
        return extract64(s->card_size, 0, 32);
    case SGDMA_REG_CARD_SIZE_HI:
        return extract64(s->card_size, 32, 32);
    case SGDMA_REG_RING_MAX:
        return s->ring_max;
    case SGDMA_REG_MAX_XFER:
        return s->max_xfer;
    case SGDMA_REG_CTRL:
        return 0;
    case SGDMA_REG_INT_STATUS:
        return s->int_status;
    case SGDMA_REG_ATC_HITS:
        return s->atc_hits;
    case SGDMA_REG_ATC_MISSES:
        return s->atc_misses;
    default:
        *known = false;
        return 0;
    }
}

static bool sgdma_access_ok(hwaddr addr, unsigned size, const char *what)
{
    if (size != 4 || (addr & 3)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: %u-byte %s at 0x%" HWADDR_PRIx
                      " (only aligned 32-bit accesses are supported)\n",
                      size, what, addr);
        return false;
    }
    return true;
}

static uint64_t sgdma_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    SgdmaState *s = opaque;
    SgdmaChannel *ch;
    uint64_t val = 0;
    bool known;
    hwaddr reg;

    if (!sgdma_access_ok(addr, size, "read")) {
        return 0;
    }
    ch = sgdma_chan_at(s, addr, &reg);
    if (ch) {
        val = sgdma_chan_read(s, ch, reg);
    } else {
        val = sgdma_global_read(s, addr, &known);
        if (!known) {
            qemu_log_mask(LOG_GUEST_ERROR, "sgdma: read of reserved "
                          "register 0x%" HWADDR_PRIx "\n", addr);
        }
    }
    trace_sgdma_mmio_read(addr, size, val);
    return val;
}

static void sgdma_device_reset(SgdmaState *s, bool pci_reset);

static void sgdma_regs_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    SgdmaState *s = opaque;
    SgdmaChannel *ch;
    bool known;
    hwaddr reg;

    trace_sgdma_mmio_write(addr, size, val);
    if (!sgdma_access_ok(addr, size, "write")) {
        return;
    }
    ch = sgdma_chan_at(s, addr, &reg);
    if (ch) {
        sgdma_chan_write(s, ch, reg, val);
        return;
    }
    switch (addr) {
    case SGDMA_REG_SCRATCH:
        s->scratch = val;
        break;
    case SGDMA_REG_CTRL:
        if (val & SGDMA_CTRL_RESET) {
            sgdma_device_reset(s, false);
            sgdma_atc_flush(s);
        }
        break;
    case SGDMA_REG_INT_STATUS:
        s->int_status &= ~val;
        sgdma_update_intx(s);
        break;
    default:
        sgdma_global_read(s, addr, &known);
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: write to %s register 0x%"
                      HWADDR_PRIx "\n", known ? "read-only" : "reserved",
                      addr);
        break;
    }
}

static const MemoryRegionOps sgdma_regs_ops = {
    .read = sgdma_regs_read,
    .write = sgdma_regs_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    /* Accept every size so odd accesses are logged, not dropped silently */
    .valid = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 1,
        .max_access_size = 8,
    },
};

static void sgdma_write_config(PCIDevice *pdev, uint32_t addr, uint32_t val,
                               int len)
{
    SgdmaState *s = SGDMA(pdev);
    bool ats = sgdma_ats_enabled(pdev);

    pci_default_write_config(pdev, addr, val, len);
    if (sgdma_ats_enabled(pdev) != ats) {
        /* Translations cached under the old setting are void (spec 9.3). */
        sgdma_atc_flush(s);
    }
    if (pci_is_express(pdev)) {
        pcie_cap_flr_write_config(pdev, addr, val, len);
    }
    sgdma_update_intx(s);
}

/* Life cycle */

/* @pci_reset: a function-level or system reset, not CTRL.RESET */
static void sgdma_device_reset(SgdmaState *s, bool pci_reset)
{
    uint32_t keep = 0;
    unsigned i;

    trace_sgdma_reset();
    s->atc_hits = 0;
    s->atc_misses = 0;
    for (i = 0; i < SGDMA_MAX_CHANNELS; i++) {
        SgdmaChannel *ch = &s->chan[i];

        if ((ch->ctrl & SGDMA_CH_CTRL_ENABLE) &&
            sgdma_chan_ignores_stop(s, ch, pci_reset)) {
            keep |= BIT(i);
            continue;
        }
        sgdma_chan_reset(s, ch);
    }
    s->scratch = 0;
    s->int_status &= keep;
    sgdma_update_intx(s);
}

static bool sgdma_check_props(SgdmaState *s, Error **errp)
{
    if (s->channels < 1 || s->channels > SGDMA_MAX_CHANNELS) {
        error_setg(errp, "channels must be 1 to %d", SGDMA_MAX_CHANNELS);
    } else if (!is_power_of_2(s->card_size) || s->card_size < 4 * KiB ||
               s->card_size > 1 * GiB) {
        error_setg(errp, "card-size must be a power of two, 4K to 1G");
    } else if (!is_power_of_2(s->ring_max) || s->ring_max < 2 ||
               s->ring_max > 65536) {
        error_setg(errp, "ring-max must be a power of two, 2 to 65536");
    } else if (s->max_xfer < 1) {
        error_setg(errp, "max-transfer must be at least 1");
    } else if (s->dma_bits < 32 || s->dma_bits > 64) {
        error_setg(errp, "dma-bits must be 32 to 64");
    } else if (s->max_seg_size < 512) {
        error_setg(errp, "max-seg-size must be at least 512");
    } else if (s->seg_boundary != UINT64_MAX &&
               !is_power_of_2(s->seg_boundary + 1)) {
        error_setg(errp, "seg-boundary must be 2^k - 1");
    } else if (s->seg_boundary < 4 * KiB - 1) {
        error_setg(errp, "seg-boundary must be at least 0xfff");
    } else if (s->max_segments < 1 || s->max_segments > 1048576) {
        error_setg(errp, "max-segments must be 1 to 1048576");
    } else if (!is_power_of_2(s->seg_align) || s->seg_align > 4096) {
        error_setg(errp, "seg-align must be a power of two up to 4096");
    } else if (s->slice_size < 4 * KiB || s->slice_size > 64 * MiB) {
        error_setg(errp, "slice-size must be 4K to 64M");
    } else if (s->desc_prefetch > 64 ||
               (s->desc_prefetch && !is_power_of_2(s->desc_prefetch))) {
        /* A slot is index % desc-prefetch: only a power of two wraps. */
        error_setg(errp, "desc-prefetch must be 0 or a power of two to 64");
    } else {
        return true;
    }
    return false;
}

static void sgdma_realize(PCIDevice *pdev, Error **errp)
{
    ERRP_GUARD();
    SgdmaState *s = SGDMA(pdev);
    DeviceState *dev = DEVICE(pdev);
    unsigned i;

    if (!sgdma_check_props(s, errp)) {
        return;
    }
    pci_config_set_interrupt_pin(pdev->config, 1);
    if (s->ats && !pci_bus_is_express(pci_get_bus(pdev))) {
        error_setg(errp, "ats needs a PCI Express bus");
        return;
    }
    if (pci_is_express(pdev)) {
        pcie_endpoint_cap_init(pdev, SGDMA_PCIE_CAP_OFFSET);
        pcie_cap_flr_init(pdev);
        if (s->ats) {
            pcie_ats_init(pdev, SGDMA_ATS_CAP_OFFSET, true);
        }
    }
    if (msi_init(pdev, 0, 1, true, false, errp)) {
        goto fail_pcie;
    }
    if (msix_init_exclusive_bar(pdev, s->channels + 1, SGDMA_BAR_MSIX,
                                errp)) {
        goto fail_msi;
    }
    /*
     * Every vector is in use for the device's life, claimed once here:
     * neither reset nor migration (which carries no use counts) changes it.
     */
    for (i = 0; i <= s->channels; i++) {
        msix_vector_use(pdev, i);
    }

    memory_region_init_io(&s->regs, OBJECT(s), &sgdma_regs_ops, s,
                          "sgdma-regs", SGDMA_REGS_SIZE);
    pci_register_bar(pdev, SGDMA_BAR_REGS,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->regs);

    memory_region_init_ram(&s->card, OBJECT(s), "sgdma-card", s->card_size,
                           errp);
    if (*errp) {
        goto fail_msix;
    }
    s->card_ptr = memory_region_get_ram_ptr(&s->card);
    pci_register_bar(pdev, SGDMA_BAR_CARD,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64 |
                     PCI_BASE_ADDRESS_MEM_PREFETCH, &s->card);

    s->bounce = g_malloc(SGDMA_BOUNCE_SIZE);
    for (i = 0; i < SGDMA_MAX_CHANNELS; i++) {
        s->chan[i].s = s;
        s->chan[i].coalesce_timer = timer_new_us(QEMU_CLOCK_VIRTUAL,
                                                 sgdma_coalesce_timer,
                                                 &s->chan[i]);
        s->chan[i].pattern = g_malloc(SGDMA_PATTERN_SIZE);
        s->chan[i].pace_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL,
                                             sgdma_pace_timer, &s->chan[i]);
        s->chan[i].pf_size = MAX(s->desc_prefetch, 1) * SGDMA_DESC_SIZE;
        s->chan[i].pf_cache = g_malloc0(s->chan[i].pf_size);
    }
    /* Guarded: DMA that reaches our own registers must not re-enter them. */
    s->bh = qemu_bh_new_guarded(sgdma_bh, s, &dev->mem_reentrancy_guard);

    if (s->ats) {
        s->atc_listener = (MemoryListener) {
            .name = "sgdma-atc",
            .region_add = sgdma_atc_region_add,
            .region_del = sgdma_atc_region_del,
        };
        memory_listener_register(&s->atc_listener,
                                 pci_device_iommu_address_space(pdev));
    }
    return;

fail_msix:
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
fail_msi:
    msi_uninit(pdev);
fail_pcie:
    if (pci_is_express(pdev)) {
        pcie_cap_exit(pdev);
    }
}

static void sgdma_exit(PCIDevice *pdev)
{
    SgdmaState *s = SGDMA(pdev);
    unsigned i;

    if (s->ats) {
        memory_listener_unregister(&s->atc_listener);
    }
    qemu_bh_delete(s->bh);
    for (i = 0; i < SGDMA_MAX_CHANNELS; i++) {
        timer_free(s->chan[i].coalesce_timer);
        timer_free(s->chan[i].pace_timer);
        g_free(s->chan[i].pattern);
        g_free(s->chan[i].pf_cache);
    }
    g_free(s->bounce);
    msix_unuse_all_vectors(pdev);
    msix_uninit_exclusive_bar(pdev);
    msi_uninit(pdev);
    if (pci_is_express(pdev)) {
        pcie_cap_exit(pdev);
    }
}

static void sgdma_reset_hold(SGDMA_RESET_HOLD_ARGS)
{
    SgdmaState *s = SGDMA(obj);

    sgdma_device_reset(s, true);
    sgdma_atc_flush(s);
}

static int sgdma_post_load(void *opaque, int version_id)
{
    SgdmaState *s = opaque;
    unsigned i;

    for (i = 0; i < s->channels; i++) {
        SgdmaChannel *ch = &s->chan[i];

        /* More prefetched than the cache holds: trust none of it. */
        if (ch->pf_next - ch->head > s->desc_prefetch) {
            ch->pf_next = ch->head;
        }
        if (sgdma_chan_runnable(ch)) {
            qemu_bh_schedule(s->bh);
        }
    }
    return 0;
}

static const VMStateDescription vmstate_sgdma_chan = {
    .name = "sgdma-channel",
    .version_id = 3,
    .minimum_version_id = 3,
    .fields = (VMStateField[]) {
        VMSTATE_UINT64(ring, SgdmaChannel),
        VMSTATE_UINT64(compl, SgdmaChannel),
        VMSTATE_UINT32(ring_size, SgdmaChannel),
        VMSTATE_UINT32(ctrl, SgdmaChannel),
        VMSTATE_UINT32(status, SgdmaChannel),
        VMSTATE_UINT32(doorbell, SgdmaChannel),
        VMSTATE_UINT32(head, SgdmaChannel),
        VMSTATE_UINT32(coalesce, SgdmaChannel),
        VMSTATE_UINT64(err_addr, SgdmaChannel),
        VMSTATE_UINT32(fault, SgdmaChannel),
        VMSTATE_UINT32(fault_seen, SgdmaChannel),
        VMSTATE_UINT32(pending_irqs, SgdmaChannel),
        VMSTATE_TIMER_PTR(coalesce_timer, SgdmaChannel),
        VMSTATE_UINT32(pf_next, SgdmaChannel),
        VMSTATE_VBUFFER_UINT32(pf_cache, SgdmaChannel, 0, NULL, pf_size),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_sgdma = {
    .name = TYPE_SGDMA,
    .version_id = 3,
    .minimum_version_id = 3,
    .post_load = sgdma_post_load,
    .fields = (VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SgdmaState),
        VMSTATE_MSIX(parent_obj, SgdmaState),
        VMSTATE_UINT32(scratch, SgdmaState),
        VMSTATE_UINT32(int_status, SgdmaState),
        VMSTATE_STRUCT_ARRAY(chan, SgdmaState, SGDMA_MAX_CHANNELS, 1,
                             vmstate_sgdma_chan, SgdmaChannel),
        VMSTATE_END_OF_LIST()
    },
};

static SGDMA_PROPERTY sgdma_properties[] = {
    DEFINE_PROP_UINT32("channels", SgdmaState, channels, 4),
    DEFINE_PROP_SIZE("card-size", SgdmaState, card_size, 64 * MiB),
    DEFINE_PROP_UINT32("ring-max", SgdmaState, ring_max, 4096),
    DEFINE_PROP_UINT32("max-transfer", SgdmaState, max_xfer, 256 * MiB),
    DEFINE_PROP_UINT8("dma-bits", SgdmaState, dma_bits, 64),
    DEFINE_PROP_UINT32("max-seg-size", SgdmaState, max_seg_size, UINT32_MAX),
    DEFINE_PROP_UINT64("seg-boundary", SgdmaState, seg_boundary, UINT64_MAX),
    DEFINE_PROP_UINT32("max-segments", SgdmaState, max_segments, 65536),
    DEFINE_PROP_UINT32("seg-align", SgdmaState, seg_align, 1),
    DEFINE_PROP_UINT32("slice-size", SgdmaState, slice_size, 1 * MiB),
    DEFINE_PROP_UINT32("desc-prefetch", SgdmaState, desc_prefetch, 0),
    DEFINE_PROP_BOOL("c2h-hold", SgdmaState, c2h_hold, false),
    DEFINE_PROP_UINT32("bandwidth", SgdmaState, bandwidth, 0),
    DEFINE_PROP_UINT32("latency", SgdmaState, latency, 0),
    DEFINE_PROP_BOOL("ats", SgdmaState, ats, false),
    SGDMA_PROP_END_OF_LIST
};

static void sgdma_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = sgdma_realize;
    k->exit = sgdma_exit;
    k->config_write = sgdma_write_config;
    k->vendor_id = SGDMA_VENDOR_ID;
    k->device_id = SGDMA_DEVICE_ID;
    k->revision = SGDMA_REVISION;
    k->class_id = PCI_CLASS_SYSTEM_DMA;
    rc->phases.hold = sgdma_reset_hold;
    dc->vmsd = &vmstate_sgdma;
    dc->desc = "sgdma scatter-gather DMA engine";
    device_class_set_props(dc, sgdma_properties);
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
}

static const TypeInfo sgdma_info = {
    .name          = TYPE_SGDMA,
    .parent        = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SgdmaState),
    .class_init    = sgdma_class_init,
    .interfaces    = (InterfaceInfo[]) {
        { INTERFACE_PCIE_DEVICE },
        { }
    },
};

static void sgdma_register_types(void)
{
    type_register_static(&sgdma_info);
}

type_init(sgdma_register_types)
