/*
 * sgdma: descriptor slot ownership (docs/device-spec.md, section 9.4).
 * With ownership-check on, the device keeps a CRC32C of each descriptor
 * slot as the doorbell that handed it over found it, and reads the slot
 * again when it starts the descriptor and just before it posts the
 * completion: a slot that differs was rewritten while the device owned
 * it, a driver reusing a slot before its completion (DESC_OWNED).
 *
 * A hash, not a copy: 4 bytes per slot instead of 64 (ring-max can be
 * 65536 entries). CRC32C catches every change of up to 32 adjacent bits
 * and any other with probability 1 - 2^-32; a reused slot holds a new
 * cookie at least. A rewrite to the very same bytes is not seen, and
 * does the device no harm.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/log.h"
#include "migration/vmstate.h"
#include "sgdma.h"
#include "trace.h"

/* A slot's hash as the doorbell found it. */
static uint32_t *sgdma_own_slot(SgdmaChannel *ch, uint32_t index)
{
    return &ch->own_hash[index & (ch->ring_size - 1)];
}

/*
 * The hash of the slot of @index as it is now; false if it cannot be
 * read, which the descriptor fetch reports in its turn.
 */
static bool sgdma_own_hash(SgdmaState *s, SgdmaChannel *ch, uint32_t index,
                           uint32_t *hash)
{
    uint8_t d[SGDMA_DESC_SIZE];
    SgdmaErr err;

    if (!sgdma_dma_struct(s, sgdma_desc_addr(ch, index), d, sizeof(d),
                          DMA_DIRECTION_TO_DEVICE, SGDMA_ST_DESC_FETCH,
                          &err)) {
        return false;
    }
    *hash = crc32c(0xffffffff, d, sizeof(d));
    return true;
}

/* Room for a hash per slot of the largest ring a channel may have. */
void sgdma_own_init(SgdmaState *s, SgdmaChannel *ch)
{
    if (s->ownership_check) {
        ch->own_size = s->ring_max * sizeof(uint32_t);
        ch->own_hash = g_malloc0(ch->own_size);
    }
}

void sgdma_own_free(SgdmaChannel *ch)
{
    g_free(ch->own_hash);
    ch->own_hash = NULL;
    ch->own_size = 0;
}

/* A doorbell handed the slots of indexes @from up to @to to the device. */
void sgdma_own_handover(SgdmaState *s, SgdmaChannel *ch, uint32_t from,
                        uint32_t to)
{
    uint32_t i;

    if (!s->ownership_check) {
        return;
    }
    for (i = from; i != to; i++) {
        uint32_t *slot = sgdma_own_slot(ch, i);

        if (!sgdma_own_hash(s, ch, i, slot)) {
            *slot = 0;
        }
    }
}

/*
 * The device still owns the slot at HEAD: false, with DESC_OWNED and the
 * slot's address in *@err, if it no longer holds what was handed over.
 */
bool sgdma_own_check(SgdmaState *s, SgdmaChannel *ch, SgdmaErr *err)
{
    uint64_t addr = sgdma_desc_addr(ch, ch->head);
    uint32_t hash;

    if (!s->ownership_check || !sgdma_own_hash(s, ch, ch->head, &hash) ||
        hash == *sgdma_own_slot(ch, ch->head)) {
        return true;
    }
    trace_sgdma_desc_owned(sgdma_chan_index(s, ch), ch->head, addr);
    qemu_log_mask(LOG_GUEST_ERROR, "sgdma: channel %u descriptor %u "
                  "rewritten while the device owns it\n",
                  sgdma_chan_index(s, ch), ch->head);
    return sgdma_fail(err, SGDMA_ST_DESC_OWNED, addr);
}

static bool sgdma_own_needed(void *opaque)
{
    SgdmaState *s = opaque;

    return s->ownership_check;
}

static int sgdma_own_post_load(void *opaque, int version_id)
{
    SgdmaState *s = opaque;

    s->own_loaded = true;
    return 0;
}

static const VMStateDescription vmstate_sgdma_chan_own = {
    .name = "sgdma-channel/ownership",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_VBUFFER_UINT32(own_hash, SgdmaChannel, 0, NULL, own_size),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * The hashes of the slots handed over; without them (a stream from a
 * device without ownership-check) the destination takes the slots as
 * they are after loading (migration.c).
 */
const VMStateDescription vmstate_sgdma_own = {
    .name = TYPE_SGDMA "/ownership",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = sgdma_own_needed,
    .post_load = sgdma_own_post_load,
    .fields = (VMStateField[]) {
        VMSTATE_STRUCT_ARRAY(chan, SgdmaState, SGDMA_MAX_CHANNELS, 1,
                             vmstate_sgdma_chan_own, SgdmaChannel),
        VMSTATE_END_OF_LIST()
    },
};
