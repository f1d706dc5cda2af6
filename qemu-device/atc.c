/*
 * sgdma: the address translation cache (PCIe ATS, docs/device-spec.md
 * section 9.3): translations asked of the IOMMU in front of the device,
 * kept until it invalidates them, and the data moved with them.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "sgdma.h"
#include "trace.h"

void sgdma_atc_flush(SgdmaState *s)
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

bool sgdma_ats_enabled(PCIDevice *pdev)
{
    return pdev->exp.ats_cap &&
           (pci_get_word(pdev->config + pdev->exp.ats_cap + PCI_ATS_CTRL) &
            PCI_ATS_CTRL_ENABLE);
}

/* ATS is used when the guest enabled it and an IOMMU can invalidate us. */
bool sgdma_atc_active(SgdmaState *s)
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
bool sgdma_atc_rw(SgdmaState *s, uint64_t addr, uint8_t *buf,
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

/* Watch the IOMMU in front of us: its region carries the invalidations. */
void sgdma_atc_init(SgdmaState *s)
{
    s->atc_listener = (MemoryListener) {
        .name = "sgdma-atc",
        .region_add = sgdma_atc_region_add,
        .region_del = sgdma_atc_region_del,
    };
    memory_listener_register(&s->atc_listener,
                             pci_device_iommu_address_space(PCI_DEVICE(s)));
}

void sgdma_atc_exit(SgdmaState *s)
{
    memory_listener_unregister(&s->atc_listener);
}
