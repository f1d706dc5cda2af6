/*
 * sgdma: what the parts of the device model share (docs/device-spec.md,
 * section 12, says which part lives where): the state, the limits and
 * formats more than one part uses, and the functions one part calls in
 * another. Include after "qemu/osdep.h".
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_SGDMA_H
#define HW_SGDMA_H

#include "qemu/units.h"
#include "qom/object.h"
#include "sgdma-compat.h"

#define TYPE_SGDMA "sgdma"
OBJECT_DECLARE_SIMPLE_TYPE(SgdmaState, SGDMA)

/* INT_STATUS has a bit per channel and bit 31 for errors. */
#define SGDMA_MAX_CHANNELS      31
#define SGDMA_INT_ERROR         BIT(31)

/* Channel CTRL and STATUS (spec 4.2) */
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
    SGDMA_ST_DESC_OWNED = 14,
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
    SGDMA_FI_COALESCE_RACE = 8,
};

/* Address translation cache (ATS): entries, replaced in turn */
#define SGDMA_ATC_ENTRIES       64
/* Host-to-host and fill staging buffer. */
#define SGDMA_BOUNCE_SIZE       (256 * KiB)
#define SGDMA_PATTERN_SIZE      (4 * KiB)
/* Smallest unit an IOMMU maps: a fault is located to one of these. */
#define SGDMA_FAULT_GRANULE     (4 * KiB)
/* Doorbells remembered per channel for PERF_WAIT_US (perf.c) */
#define SGDMA_PERF_DOORBELLS    64

/* Segment list entries read per access (engine.c) */
#define SGDMA_SEG_BATCH         64

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
    /* The data pass's entries read ahead: from ents_first, ents_count */
    uint32_t ents_first;
    uint32_t ents_count;    /* 0: none; never migrated */
    uint8_t ents[SGDMA_SEG_BATCH * SGDMA_SEG_ENTRY_SIZE];
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
    bool racing;            /* COALESCE_RACE holds the channel's work */
    bool overtaking;        /* ...then runs it at once, unpaced */
    bool busy;
    SgdmaSide *checking;    /* the side being checked, before data moves */
    bool stalled;
    bool flushing;          /* c2h-hold: writing the held data out */

    /* ownership-check (ownership.c): a hash per slot, as handed over */
    uint32_t *own_hash;     /* ring-max entries; slot i at i % RING_SIZE */
    uint32_t own_size;      /* bytes of own_hash */

    /* Performance counters (perf.c): the doorbells not yet consumed */
    uint32_t perf_db_end[SGDMA_PERF_DOORBELLS];    /* index it handed up to */
    int64_t perf_db_ns[SGDMA_PERF_DOORBELLS];      /* when */
    unsigned perf_db_first;
    unsigned perf_db_count;
    int64_t perf_wait_start;    /* doorbell of the descriptor at HEAD */
    int64_t perf_move_start;    /* start of its processing */

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

    /* Performance counters (spec 4.1): virtual clock, wrapping */
    uint32_t perf_descs;
    uint64_t perf_wait_ns;
    uint64_t perf_move_ns;
    uint32_t perf_bh_runs;
    uint32_t perf_irqs;
    uint32_t perf_h2h_direct;   /* H2H bytes copied once (engine.c) */

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
    bool ownership_check;
    bool own_loaded;        /* migration: the hashes came with the state */
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

static inline unsigned sgdma_chan_index(SgdmaState *s, SgdmaChannel *ch)
{
    return ch - s->chan;
}

/* sgdma.c: interrupts */
void sgdma_update_intx(SgdmaState *s);
void sgdma_notify(SgdmaState *s, unsigned vector);
void sgdma_chan_completed_irq(SgdmaState *s, SgdmaChannel *ch);

/* engine.c: data movement and the channels' engine */
bool sgdma_dma_rw(SgdmaState *s, AddressSpace *as, uint64_t addr,
                  uint8_t *buf, uint64_t len, DMADirection dir,
                  uint64_t *moved, SgdmaErr *err);
bool sgdma_dma_struct(SgdmaState *s, uint64_t addr, void *buf, uint64_t len,
                      DMADirection dir, int fault_status, SgdmaErr *err);
uint64_t sgdma_desc_addr(SgdmaChannel *ch, uint32_t index);
void sgdma_chan_halt(SgdmaState *s, SgdmaChannel *ch, const SgdmaErr *err);
bool sgdma_chan_runnable(SgdmaChannel *ch);
void sgdma_chan_stop(SgdmaChannel *ch);
void sgdma_side_forget(SgdmaSide *side);
void sgdma_chan_reset(SgdmaState *s, SgdmaChannel *ch);
void sgdma_chan_race_arm(SgdmaState *s, SgdmaChannel *ch);
void sgdma_chan_race_overtaken(SgdmaState *s, SgdmaChannel *ch);
void sgdma_prefetch(SgdmaState *s, SgdmaChannel *ch);
void sgdma_pace_timer(void *opaque);
void sgdma_bh(void *opaque);

/* h2h.c: host-to-host copies made once */
uint64_t sgdma_h2h_direct(SgdmaState *s, SgdmaChannel *ch, uint64_t n,
                          uint32_t *crc);

/* atc.c: the address translation cache (ATS) */
void sgdma_atc_init(SgdmaState *s);
void sgdma_atc_exit(SgdmaState *s);
void sgdma_atc_flush(SgdmaState *s);
bool sgdma_ats_enabled(PCIDevice *pdev);
bool sgdma_atc_active(SgdmaState *s);
bool sgdma_atc_rw(SgdmaState *s, uint64_t addr, uint8_t *buf, uint64_t len,
                  DMADirection dir, uint64_t *moved, SgdmaErr *err);

/* fault.c: fault injection (spec 7) */
bool sgdma_fault_fires(SgdmaChannel *ch, unsigned mode);
bool sgdma_fault_armed(SgdmaChannel *ch, unsigned mode);
int64_t sgdma_fault_fires_timed(SgdmaChannel *ch, unsigned mode);
int64_t sgdma_fault_armed_ns(SgdmaChannel *ch, unsigned mode);
bool sgdma_chan_ignores_stop(SgdmaState *s, SgdmaChannel *ch,
                             bool pci_reset);

/* ownership.c: descriptor slots rewritten while the device owns them */
void sgdma_own_init(SgdmaState *s, SgdmaChannel *ch);
void sgdma_own_handover(SgdmaState *s, SgdmaChannel *ch, uint32_t from,
                        uint32_t to);
bool sgdma_own_check(SgdmaState *s, SgdmaChannel *ch, SgdmaErr *err);
void sgdma_own_free(SgdmaChannel *ch);
extern const VMStateDescription vmstate_sgdma_own;

/* perf.c: the performance counters (spec 4.1) */
void sgdma_perf_clear(SgdmaState *s);
void sgdma_perf_doorbell(SgdmaChannel *ch, uint32_t val);
void sgdma_perf_start(SgdmaChannel *ch, uint32_t index);
void sgdma_perf_posted(SgdmaState *s, SgdmaChannel *ch);

/* migration.c */
extern const VMStateDescription vmstate_sgdma;

#endif
