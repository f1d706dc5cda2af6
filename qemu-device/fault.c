/*
 * sgdma: fault injection (docs/device-spec.md, section 7): when a fault
 * armed through a channel's FAULT_INJECT register fires. Where it acts
 * is in the code it disturbs (the engine, the interrupts, stop requests).
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/timer.h"
#include "sgdma.h"
#include "trace.h"

#define SGDMA_FI_MODE(v)        ((v) & 0xf)
#define SGDMA_FI_COUNT(v)       ((v) >> 8)
/* LATE, STUCK_RESET, COALESCE_RACE: bits 31:8 are a time in ms. */
#define SGDMA_FI_MS(v)          MAX((v) >> 8, 1)
/* STUCK_RESET: a function-level or system reset is ignored as well. */
#define SGDMA_FI_F_PCI_RESET    BIT(4)

/*
 * Count one opportunity for the fault armed on @ch; true if it fires now.
 * An armed fault fires once, on the N-th opportunity, then disarms.
 */
bool sgdma_fault_fires(SgdmaChannel *ch, unsigned mode)
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

/* Whether @mode is armed on @ch (without counting an opportunity). */
bool sgdma_fault_armed(SgdmaChannel *ch, unsigned mode)
{
    return SGDMA_FI_MODE(ch->fault) == mode;
}

/* The time armed for @mode on @ch in ns (which stays armed), else 0. */
int64_t sgdma_fault_armed_ns(SgdmaChannel *ch, unsigned mode)
{
    if (SGDMA_FI_MODE(ch->fault) != mode) {
        return 0;
    }
    return (int64_t)SGDMA_FI_MS(ch->fault) * SCALE_MS;
}

/*
 * The timed faults fire on the first opportunity: returns the armed
 * time in ns if @mode is armed on @ch, which then disarms, else 0.
 */
int64_t sgdma_fault_fires_timed(SgdmaChannel *ch, unsigned mode)
{
    int64_t ns = sgdma_fault_armed_ns(ch, mode);

    if (SGDMA_FI_MODE(ch->fault) != mode) {
        return 0;
    }
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
bool sgdma_chan_ignores_stop(SgdmaState *s, SgdmaChannel *ch,
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
