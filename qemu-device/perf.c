/*
 * sgdma: the performance counters (docs/device-spec.md, section 4.1):
 * descriptors posted, the virtual time they waited from their doorbell
 * to the start of their processing and took from there to their
 * completion, bottom-half runs and interrupts raised. They cost the
 * engine a clock read per descriptor and are not migrated.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "sgdma.h"

void sgdma_perf_clear(SgdmaState *s)
{
    s->perf_descs = 0;
    s->perf_wait_ns = 0;
    s->perf_move_ns = 0;
    s->perf_bh_runs = 0;
    s->perf_irqs = 0;
    s->perf_h2h_direct = 0;
}

/*
 * A doorbell handed over the descriptors up to @val: remember when. With
 * SGDMA_PERF_DOORBELLS doorbells not yet consumed, the last one is moved
 * on instead, so later descriptors count from its earlier time.
 */
void sgdma_perf_doorbell(SgdmaChannel *ch, uint32_t val)
{
    unsigned last;

    if (ch->perf_db_count == SGDMA_PERF_DOORBELLS) {
        last = (ch->perf_db_first + ch->perf_db_count - 1) %
               SGDMA_PERF_DOORBELLS;
        ch->perf_db_end[last] = val;
        return;
    }
    last = (ch->perf_db_first + ch->perf_db_count++) % SGDMA_PERF_DOORBELLS;
    ch->perf_db_end[last] = val;
    ch->perf_db_ns[last] = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
}

/*
 * The descriptor at @index starts: its wait ends. Doorbells whose every
 * descriptor has started are dropped; without one (as after migration)
 * it waited from now.
 */
void sgdma_perf_start(SgdmaChannel *ch, uint32_t index)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    while (ch->perf_db_count &&
           (int32_t)(ch->perf_db_end[ch->perf_db_first] - index) <= 0) {
        ch->perf_db_first = (ch->perf_db_first + 1) % SGDMA_PERF_DOORBELLS;
        ch->perf_db_count--;
    }
    ch->perf_wait_start = ch->perf_db_count ?
                          ch->perf_db_ns[ch->perf_db_first] : now;
    ch->perf_move_start = now;
}

/* The completion of the descriptor at HEAD is posted. */
void sgdma_perf_posted(SgdmaState *s, SgdmaChannel *ch)
{
    int64_t now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);

    s->perf_descs++;
    s->perf_wait_ns += MAX(ch->perf_move_start - ch->perf_wait_start, 0);
    s->perf_move_ns += MAX(now - ch->perf_move_start, 0);
}
