/*
 * sgdma: a strict scatter-gather DMA engine for driver testing
 *
 * The device is specified in docs/device-spec.md of the sgdma project; keep
 * the two in step. Every host access goes through the device's PCI bus
 * master address space, so an IOMMU translates and checks it, and every
 * rule the spec states is enforced: a driver mistake ends in an error
 * status, never in silent success.
 *
 * This file is the PCI function: its registers and MMIO, interrupts,
 * config space, realize, reset and properties. The other parts (engine,
 * translation cache, fault injection, migration) are in files of their
 * own, which docs/device-spec.md section 12 lists; sgdma.h is what they
 * share.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/module.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pcie.h"
#include "sgdma.h"
#include "trace.h"

#define SGDMA_VENDOR_ID         0x1234
#define SGDMA_DEVICE_ID         0x5347
#define SGDMA_REVISION          0x01

#define SGDMA_BAR_REGS          0
#define SGDMA_BAR_CARD          2
#define SGDMA_BAR_MSIX          4
#define SGDMA_REGS_SIZE         0x4000
#define SGDMA_PCIE_CAP_OFFSET   0x80
#define SGDMA_ATS_CAP_OFFSET    0x100

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
#define SGDMA_REG_PERF_CTRL     0x044
#define SGDMA_REG_PERF_DESCS    0x048
#define SGDMA_REG_PERF_WAIT_US  0x04c
#define SGDMA_REG_PERF_MOVE_US  0x050
#define SGDMA_REG_PERF_BH_RUNS  0x054
#define SGDMA_REG_PERF_IRQS     0x058
#define SGDMA_REG_PERF_H2H_DIRECT 0x05c

#define SGDMA_ID_VALUE          0x5347444d      /* "SGDM" */
#define SGDMA_VERSION_VALUE     0x00010000      /* 1.0 */

#define SGDMA_CAPS_CRC32C       BIT(16)
#define SGDMA_CAPS_SEG_LIST     BIT(17)
#define SGDMA_CAPS_FAULT_INJECT BIT(18)
#define SGDMA_CAPS_OWNERSHIP    BIT(19)

#define SGDMA_CTRL_RESET        BIT(0)
#define SGDMA_PERF_CTRL_CLEAR   BIT(0)

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

/* Interrupts */

void sgdma_update_intx(SgdmaState *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (!msix_enabled(pdev) && !msi_enabled(pdev)) {
        pci_set_irq(pdev, s->int_status != 0);
    }
}

void sgdma_notify(SgdmaState *s, unsigned vector)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    trace_sgdma_irq(vector, s->int_status);
    s->perf_irqs++;
    if (msix_enabled(pdev)) {
        msix_notify(pdev, vector);
    } else if (msi_enabled(pdev)) {
        msi_notify(pdev, 0);
    } else {
        sgdma_update_intx(s);
    }
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

void sgdma_chan_completed_irq(SgdmaState *s, SgdmaChannel *ch)
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

        trace_sgdma_bad_doorbell(sgdma_chan_index(s, ch), val,
                                 val & (ch->ring_size - 1), ch->head,
                                 ch->doorbell);
        qemu_log_mask(LOG_GUEST_ERROR, "sgdma: doorbell %u out of range "
                      "(head %u, size %u)\n", val, ch->head, ch->ring_size);
        sgdma_chan_halt(s, ch, &err);
        return;
    }
    if (val != ch->doorbell) {
        sgdma_own_handover(s, ch, ch->doorbell, val);
        sgdma_perf_doorbell(ch, val);
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
        sgdma_chan_race_overtaken(s, ch);
        ch->coalesce = val;
        break;
    case SGDMA_CH_FAULT_INJECT:
        ch->fault = val;
        ch->fault_seen = 0;
        sgdma_chan_race_arm(s, ch);
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
           SGDMA_CAPS_SEG_LIST | SGDMA_CAPS_FAULT_INJECT |
           (s->ownership_check ? SGDMA_CAPS_OWNERSHIP : 0);
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
    case SGDMA_REG_PERF_CTRL:
        return 0;
    case SGDMA_REG_PERF_DESCS:
        return s->perf_descs;
    case SGDMA_REG_PERF_WAIT_US:
        return s->perf_wait_ns / SCALE_US;
    case SGDMA_REG_PERF_MOVE_US:
        return s->perf_move_ns / SCALE_US;
    case SGDMA_REG_PERF_BH_RUNS:
        return s->perf_bh_runs;
    case SGDMA_REG_PERF_IRQS:
        return s->perf_irqs;
    case SGDMA_REG_PERF_H2H_DIRECT:
        return s->perf_h2h_direct;
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
    case SGDMA_REG_PERF_CTRL:
        if (val & SGDMA_PERF_CTRL_CLEAR) {
            sgdma_perf_clear(s);
        }
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
    sgdma_perf_clear(s);
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
        if (i < s->channels) {
            sgdma_own_init(s, &s->chan[i]);
        }
    }
    /* Guarded: DMA that reaches our own registers must not re-enter them. */
    s->bh = qemu_bh_new_guarded(sgdma_bh, s, &dev->mem_reentrancy_guard);

    if (s->ats) {
        sgdma_atc_init(s);
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
        sgdma_atc_exit(s);
    }
    qemu_bh_delete(s->bh);
    for (i = 0; i < SGDMA_MAX_CHANNELS; i++) {
        timer_free(s->chan[i].coalesce_timer);
        timer_free(s->chan[i].pace_timer);
        g_free(s->chan[i].pattern);
        g_free(s->chan[i].pf_cache);
        sgdma_own_free(&s->chan[i]);
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
    DEFINE_PROP_BOOL("ownership-check", SgdmaState, ownership_check, false),
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
