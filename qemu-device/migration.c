/*
 * sgdma: migration (docs/device-spec.md, section 11): the state a
 * destination needs to go on where the source stopped.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "hw/pci/msix.h"
#include "migration/vmstate.h"
#include "sgdma.h"

static int sgdma_pre_load(void *opaque)
{
    SgdmaState *s = opaque;

    s->own_loaded = false;
    return 0;
}

static int sgdma_post_load(void *opaque, int version_id)
{
    SgdmaState *s = opaque;
    unsigned i;

    for (i = 0; i < s->channels; i++) {
        SgdmaChannel *ch = &s->chan[i];

        /* A stream without the slots' hashes: take them as they are. */
        if (!s->own_loaded && sgdma_chan_runnable(ch)) {
            sgdma_own_handover(s, ch, ch->head, ch->doorbell);
        }

        /* A COALESCE_RACE hold starts again, for its whole time. */
        sgdma_chan_race_arm(s, ch);

        /* List entries read ahead are not migrated: none are left. */
        sgdma_side_forget(&ch->src);
        sgdma_side_forget(&ch->dst);

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

const VMStateDescription vmstate_sgdma = {
    .name = TYPE_SGDMA,
    .version_id = 3,
    .minimum_version_id = 3,
    .pre_load = sgdma_pre_load,
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
    .subsections = (const VMStateDescription * []) {
        &vmstate_sgdma_own,
        NULL
    },
};
