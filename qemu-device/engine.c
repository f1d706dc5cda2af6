/*
 * sgdma: the engine (docs/device-spec.md, sections 5, 6 and 9): each
 * channel's descriptors fetched (and prefetched), checked and run, their
 * segment lists walked, the data moved through the device's bus master
 * address space and the completions written, in bounded slices of a
 * bottom half.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qemu/timer.h"
#include "sgdma.h"
#include "trace.h"

/* Descriptors and completions (spec 5) */
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

/*
 * Work bounds per bottom-half run and channel, so the vCPUs keep going
 * (spec 9): besides slice-size bytes, SGDMA_WORK_PER_RUN units, where a
 * descriptor started, a segment list entry checked and a piece of data
 * moved (at most two entries loaded, two accesses) each cost one.
 */
#define SGDMA_DESCS_PER_RUN     64
#define SGDMA_WORK_PER_RUN      1024

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
bool sgdma_dma_rw(SgdmaState *s, AddressSpace *as, uint64_t addr,
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
            /*
             * An IOMMU that refuses the access returns no RAM and leaves
             * plen as it was: the access would go on, past the refused
             * page, into the next mapped one. Not RAM: one page at most.
             */
            if (!memory_region_is_ram(mr) && !memory_region_is_romd(mr)) {
                plen = MIN(plen, SGDMA_FAULT_GRANULE -
                           ((addr + off) & (SGDMA_FAULT_GRANULE - 1)));
            }
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
bool sgdma_dma_struct(SgdmaState *s, uint64_t addr, void *buf, uint64_t len,
                      DMADirection dir, int fault_status, SgdmaErr *err)
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

/*
 * Read the list entries from side->next on, at most SGDMA_SEG_BATCH and
 * no further than the list, in one access: a per-entry read would cost
 * the data pass two translations per segment. An access that fails part
 * way still yields the entries before the failure; the entry that failed
 * is read again, and fails as it would alone, when it is needed.
 */
static bool sgdma_side_fetch(SgdmaState *s, SgdmaSide *side, SgdmaErr *err)
{
    uint64_t addr = side->base + (uint64_t)side->next * SGDMA_SEG_ENTRY_SIZE;
    uint64_t last = s->dma_bits < 64 ? MAKE_64BIT_MASK(0, s->dma_bits) :
                    UINT64_MAX;
    uint32_t n = MIN(side->count - side->next, SGDMA_SEG_BATCH);
    uint64_t moved;

    side->ents_first = side->next;
    side->ents_count = 0;
    if (!sgdma_check_host_range(s, addr, SGDMA_SEG_ENTRY_SIZE, err)) {
        return false;
    }
    /* No entry beyond dma-bits: the batch stops short of it. */
    n = MIN(n, (last - addr - (SGDMA_SEG_ENTRY_SIZE - 1)) /
               SGDMA_SEG_ENTRY_SIZE + 1);
    sgdma_dma_rw(s, pci_get_address_space(PCI_DEVICE(s)), addr, side->ents,
                 (uint64_t)n * SGDMA_SEG_ENTRY_SIZE, DMA_DIRECTION_TO_DEVICE,
                 &moved, err);
    side->ents_count = moved / SGDMA_SEG_ENTRY_SIZE;
    if (side->ents_count) {
        return true;
    }
    /* Not even the first: as sgdma_dma_struct() reports it. */
    if (err->status == SGDMA_ST_DMA_FAULT) {
        err->status = SGDMA_ST_DESC_FETCH;
        err->addr = addr;
    }
    return false;
}

/* Forget the entries read ahead: the side is read again from next. */
void sgdma_side_forget(SgdmaSide *side)
{
    side->ents_count = 0;
}

/*
 * Make the side's current segment non-empty, loading the next entry,
 * from the entries read ahead if it is among them; it is checked now,
 * when it is used.
 */
static bool sgdma_side_load(SgdmaState *s, SgdmaSide *side, SgdmaErr *err)
{
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
    if (side->next - side->ents_first >= side->ents_count &&
        !sgdma_side_fetch(s, side, err)) {
        return false;
    }
    if (!sgdma_decode_entry(s, side->ents + (side->next - side->ents_first) *
                            SGDMA_SEG_ENTRY_SIZE, &side->seg_addr, &len,
                            err)) {
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
    sgdma_side_forget(side);
}

/* Channel state */

void sgdma_chan_halt(SgdmaState *s, SgdmaChannel *ch, const SgdmaErr *err)
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
    if (ch->overtaking ||
        (!s->bandwidth && !s->latency && !ch->late && !ch->racing)) {
        return false;
    }
    if (qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) >= ch->ready_at) {
        if (ch->racing) {
            /* COALESCE_RACE: no write came in the armed time. */
            ch->racing = false;
            sgdma_fault_fires_timed(ch, SGDMA_FI_COALESCE_RACE);
        }
        return false;
    }
    timer_mod(ch->pace_timer, ch->ready_at);
    return true;
}

static void sgdma_chan_charge(SgdmaState *s, SgdmaChannel *ch, uint64_t ns)
{
    if (ns && !ch->overtaking) {
        ch->ready_at = MAX(ch->ready_at,
                           qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL)) + ns;
    }
}

void sgdma_pace_timer(void *opaque)
{
    SgdmaChannel *ch = opaque;

    qemu_bh_schedule(ch->s->bh);
}

bool sgdma_chan_runnable(SgdmaChannel *ch)
{
    if (!(ch->ctrl & SGDMA_CH_CTRL_ENABLE) ||
        (ch->status & SGDMA_CH_ST_HALTED)) {
        return false;
    }
    return ch->busy ? !ch->stalled : ch->head != ch->doorbell;
}

/* Abandon the transfer in progress: no DMA happens for it after this. */
void sgdma_chan_stop(SgdmaChannel *ch)
{
    ch->busy = false;
    ch->checking = NULL;
    ch->stalled = false;
    ch->late = false;
    ch->racing = false;
    ch->flushing = false;
    ch->pending_irqs = 0;
    ch->ready_at = 0;
    ch->pf_next = ch->head;     /* forget prefetched descriptors */
    sgdma_side_forget(&ch->src);
    sgdma_side_forget(&ch->dst);
    timer_del(ch->coalesce_timer);
    timer_del(ch->pace_timer);
}

void sgdma_chan_reset(SgdmaState *s, SgdmaChannel *ch)
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
    ch->own_hash = keep.own_hash;
    ch->own_size = keep.own_size;
    s->int_status &= ~BIT(sgdma_chan_index(s, ch));
    sgdma_update_intx(s);
}

uint64_t sgdma_desc_addr(SgdmaChannel *ch, uint32_t index)
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
void sgdma_prefetch(SgdmaState *s, SgdmaChannel *ch)
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

/*
 * Completion (spec 5.3): body first, then DONE, then HEAD, then the irq.
 * A success is posted only if the slot still holds what was handed over.
 */
static void sgdma_complete(SgdmaState *s, SgdmaChannel *ch,
                           const SgdmaErr *result)
{
    const SgdmaErr *err = result;
    SgdmaErr owned;
    uint8_t c[SGDMA_COMPL_SIZE] = { 0 };
    uint32_t index = ch->head;
    uint64_t addr = ch->compl +
        (uint64_t)(index & (ch->ring_size - 1)) * SGDMA_COMPL_SIZE;
    uint32_t bytes = ch->done;
    uint32_t crc = 0;
    SgdmaErr werr;

    if (result->status == SGDMA_ST_OK && !sgdma_own_check(s, ch, &owned)) {
        err = &owned;
    }
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
    sgdma_perf_posted(s, ch);
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
    sgdma_perf_start(ch, ch->head);

    if (!sgdma_own_check(s, ch, &err)) {
        sgdma_complete(s, ch, &err);
        return;
    }
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
        *moved = sgdma_h2h_direct(s, ch, n, ch->flags & SGDMA_DESC_F_CRC ?
                                  &ch->crc : NULL);
        ok = true;
        buf = NULL;             /* checksummed already, if moved */
        if (!*moved) {
            buf = s->bounce;
            ok = sgdma_host_rw(s, ch, ch->src.seg_addr, buf, n,
                               DMA_DIRECTION_TO_DEVICE, &got, err);
            if (ok) {
                ok = sgdma_host_rw(s, ch, ch->dst.seg_addr, buf, n,
                                   DMA_DIRECTION_FROM_DEVICE, moved, err);
            }
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
    if ((ch->flags & SGDMA_DESC_F_CRC) && buf) {
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
            sgdma_side_forget(&ch->dst);    /* read the list again */
            continue;
        }
        sgdma_complete(s, ch, &err);
    }
    return false;
}

/*
 * COALESCE_RACE (spec 7): from its arming the channel does no work until
 * the next COALESCE write or the armed time, which the link model's
 * timer keeps; the write is then overtaken by the completions of what
 * the doorbells handed over, as if they had crossed on the link.
 */
void sgdma_chan_race_arm(SgdmaState *s, SgdmaChannel *ch)
{
    int64_t ns = sgdma_fault_armed_ns(ch, SGDMA_FI_COALESCE_RACE);

    if (ch->racing) {
        /* Rearmed or replaced: the hold starts again, or ends. */
        ch->racing = false;
        ch->ready_at = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    }
    if (ns) {
        ch->racing = true;
        ch->ready_at = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) + ns;
    }
}

/* A COALESCE write: run what the hold kept back before it takes effect. */
void sgdma_chan_race_overtaken(SgdmaState *s, SgdmaChannel *ch)
{
    if (!ch->racing ||
        qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) >= ch->ready_at) {
        return;     /* the armed time ran out: sgdma_chan_paced() ends it */
    }
    trace_sgdma_fault(sgdma_chan_index(s, ch), "coalesce-race");
    ch->racing = false;
    sgdma_fault_fires_timed(ch, SGDMA_FI_COALESCE_RACE);
    ch->ready_at = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    timer_del(ch->pace_timer);
    /* The link's time for it passed while the hold kept it back. */
    ch->overtaking = true;
    if (sgdma_chan_run(s, ch)) {
        qemu_bh_schedule(s->bh);
    }
    ch->overtaking = false;
}

void sgdma_bh(void *opaque)
{
    SgdmaState *s = opaque;
    bool more = false;
    unsigned i;

    s->perf_bh_runs++;
    for (i = 0; i < s->channels; i++) {
        more |= sgdma_chan_run(s, &s->chan[i]);
    }
    if (more) {
        qemu_bh_schedule(s->bh);
    }
}
