/*
 * sgdma: host-to-host copies made once (docs/device-spec.md, section
 * 9.5): an H2H piece whose sides both map whole, through any IOMMU, as
 * RAM the device may access directly goes straight from source to
 * destination; everything else is left to the engine's staging buffer,
 * which moves it, or fails where it fails, as before.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/crc32c.h"
#include "qemu/rcu.h"
#include "sgdma.h"
#include "trace.h"

/*
 * Whether the device may access @addr directly as RAM through @as (and
 * any IOMMU): not MMIO, which address_space_map() would bounce, and not
 * one of the device's own BARs (its card is RAM). *@len: at most the
 * bytes from @addr that resolve to the same region.
 */
static bool sgdma_direct_ram(SgdmaState *s, AddressSpace *as, uint64_t addr,
                             uint64_t *len, bool is_write)
{
    hwaddr xlat, plen = *len;
    MemoryRegion *mr;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &plen, is_write,
                                 MEMTXATTRS_UNSPECIFIED);
    *len = plen;
    return plen && memory_region_is_ram(mr) &&
           !memory_region_is_ram_device(mr) &&
           !(is_write && mr->readonly) &&
           memory_region_owner(mr) != OBJECT(s);
}

/* One direct mapping of a piece of an H2H side */
typedef struct SgdmaMap {
    void *ptr;
    dma_addr_t len;
} SgdmaMap;

/* Mappings a piece may take: one per IOMMU page (and one more, unaligned) */
#define SGDMA_H2H_MAPS  (SGDMA_BOUNCE_SIZE / SGDMA_FAULT_GRANULE + 1)

static void sgdma_unmap_side(AddressSpace *as, SgdmaMap *maps, unsigned count,
                             DMADirection dir, bool accessed)
{
    unsigned i;

    for (i = 0; i < count; i++) {
        dma_memory_unmap(as, maps[i].ptr, maps[i].len, dir,
                         accessed ? maps[i].len : 0);
    }
}

/*
 * Map all @n bytes at @addr for direct access, in as many mappings as
 * the memory regions (or IOMMU pages) take, in address order as the
 * staging path would access them; false, with nothing left mapped, at the
 * first part that is not RAM the device may access directly.
 */
static bool sgdma_map_side(SgdmaState *s, AddressSpace *as, uint64_t addr,
                           uint64_t n, DMADirection dir, SgdmaMap *maps,
                           unsigned *count)
{
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    uint64_t off, len;

    *count = 0;
    for (off = 0; off < n; off += maps[(*count)++].len) {
        len = n - off;
        if (*count == SGDMA_H2H_MAPS ||
            !sgdma_direct_ram(s, as, addr + off, &len, is_write)) {
            break;
        }
        maps[*count].len = len;
        maps[*count].ptr = dma_memory_map(as, addr + off, &maps[*count].len,
                                          dir, MEMTXATTRS_UNSPECIFIED);
        if (!maps[*count].ptr) {
            break;
        }
    }
    if (off < n) {
        sgdma_unmap_side(as, maps, *count, dir, false);
        return false;
    }
    return true;
}

static bool sgdma_maps_overlap(const SgdmaMap *a, unsigned na,
                               const SgdmaMap *b, unsigned nb)
{
    unsigned i, j;

    for (i = 0; i < na; i++) {
        for (j = 0; j < nb; j++) {
            uintptr_t p = (uintptr_t)a[i].ptr, q = (uintptr_t)b[j].ptr;

            if (p < q + b[j].len && q < p + a[i].len) {
                return true;
            }
        }
    }
    return false;
}

/* Copy the mapped source to the mapped destination, in address order. */
static void sgdma_copy_maps(const SgdmaMap *src, const SgdmaMap *dst,
                            uint64_t n)
{
    uint64_t soff = 0, doff = 0, chunk;

    for (; n; n -= chunk) {
        chunk = MIN(MIN(src->len - soff, dst->len - doff), n);
        memcpy((uint8_t *)dst->ptr + doff, (uint8_t *)src->ptr + soff, chunk);
        soff += chunk;
        doff += chunk;
        if (soff == src->len) {
            src++, soff = 0;
        }
        if (doff == dst->len) {
            dst++, doff = 0;
        }
    }
}

/*
 * H2H with one copy: move the piece of @n bytes at the current source
 * and destination segments straight from one to the other when both
 * sides are, all of them, RAM the device can map: memmove semantics, as
 * through the staging buffer, so a piece whose sides overlap in more than
 * one mapping each takes the staging path. Anything else (MMIO, the
 * device itself, an IOMMU fault), the ATS cache's translated requests and
 * an armed DMA_ERROR leave the whole piece to the staging path, which
 * moves it, or fails where it fails, as before. With @crc, the CRC
 * goes on over the bytes copied. Returns the bytes moved: @n or 0.
 */
uint64_t sgdma_h2h_direct(SgdmaState *s, SgdmaChannel *ch, uint64_t n,
                          uint32_t *crc)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));
    SgdmaMap src[SGDMA_H2H_MAPS], dst[SGDMA_H2H_MAPS];
    unsigned ns, nd, i;

    if (sgdma_atc_active(s) || sgdma_fault_armed(ch, SGDMA_FI_DMA_ERROR)) {
        return 0;
    }
    if (!sgdma_map_side(s, as, ch->src.seg_addr, n, DMA_DIRECTION_TO_DEVICE,
                        src, &ns)) {
        return 0;
    }
    if (!sgdma_map_side(s, as, ch->dst.seg_addr, n,
                        DMA_DIRECTION_FROM_DEVICE, dst, &nd)) {
        sgdma_unmap_side(as, src, ns, DMA_DIRECTION_TO_DEVICE, false);
        return 0;
    }
    if (ns == 1 && nd == 1) {
        memmove(dst[0].ptr, src[0].ptr, n);
    } else if (!sgdma_maps_overlap(src, ns, dst, nd)) {
        sgdma_copy_maps(src, dst, n);
    } else {
        sgdma_unmap_side(as, src, ns, DMA_DIRECTION_TO_DEVICE, false);
        sgdma_unmap_side(as, dst, nd, DMA_DIRECTION_FROM_DEVICE, false);
        return 0;
    }
    trace_sgdma_h2h_direct(sgdma_chan_index(s, ch), ch->src.seg_addr,
                           ch->dst.seg_addr, n, ns, nd);
    for (i = 0; crc && i < nd; i++) {
        *crc = crc32c(*crc ^ 0xffffffff, dst[i].ptr, dst[i].len);
    }
    sgdma_unmap_side(as, src, ns, DMA_DIRECTION_TO_DEVICE, true);
    sgdma_unmap_side(as, dst, nd, DMA_DIRECTION_FROM_DEVICE, true);
    s->perf_h2h_direct += n;
    return n;
}
