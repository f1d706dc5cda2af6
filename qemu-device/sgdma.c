/*
 * sgdma: a strict scatter-gather DMA engine for driver testing
 *
 * The register interface is specified in docs/device-spec.md of the sgdma
 * project; keep the two in step.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/module.h"
#include "hw/pci/pci.h"
#include "hw/pci/pcie.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qom/object.h"
#include "trace.h"

#define TYPE_SGDMA "sgdma"
OBJECT_DECLARE_SIMPLE_TYPE(SgdmaState, SGDMA)

#define SGDMA_VENDOR_ID         0x1234
#define SGDMA_DEVICE_ID         0x5347
#define SGDMA_REVISION          0x01

#define SGDMA_BAR_REGS          0
#define SGDMA_REGS_SIZE         0x4000
#define SGDMA_PCIE_CAP_OFFSET   0x80

/* Registers (docs/device-spec.md, "Register block") */
#define SGDMA_REG_ID            0x000
#define SGDMA_REG_VERSION       0x004
#define SGDMA_REG_SCRATCH       0x008

#define SGDMA_ID_VALUE          0x5347444d      /* "SGDM" */
#define SGDMA_VERSION_VALUE     0x00010000      /* 1.0 */

struct SgdmaState {
    PCIDevice parent_obj;

    MemoryRegion regs;

    uint32_t scratch;
};

static uint64_t sgdma_regs_read(void *opaque, hwaddr addr, unsigned size)
{
    SgdmaState *s = opaque;
    uint64_t val = 0;

    if (size != 4 || (addr & 3)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: %u-byte read at 0x%" HWADDR_PRIx
                      " (only aligned 32-bit accesses are supported)\n",
                      size, addr);
        return 0;
    }

    switch (addr) {
    case SGDMA_REG_ID:
        val = SGDMA_ID_VALUE;
        break;
    case SGDMA_REG_VERSION:
        val = SGDMA_VERSION_VALUE;
        break;
    case SGDMA_REG_SCRATCH:
        val = s->scratch;
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: read of reserved register 0x%" HWADDR_PRIx "\n",
                      addr);
        break;
    }

    trace_sgdma_mmio_read(addr, size, val);
    return val;
}

static void sgdma_regs_write(void *opaque, hwaddr addr, uint64_t val,
                             unsigned size)
{
    SgdmaState *s = opaque;

    trace_sgdma_mmio_write(addr, size, val);

    if (size != 4 || (addr & 3)) {
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: %u-byte write at 0x%" HWADDR_PRIx
                      " (only aligned 32-bit accesses are supported)\n",
                      size, addr);
        return;
    }

    switch (addr) {
    case SGDMA_REG_SCRATCH:
        s->scratch = val;
        break;
    case SGDMA_REG_ID:
    case SGDMA_REG_VERSION:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: write to read-only register 0x%" HWADDR_PRIx
                      "\n", addr);
        break;
    default:
        qemu_log_mask(LOG_GUEST_ERROR,
                      "sgdma: write of reserved register 0x%" HWADDR_PRIx
                      "\n", addr);
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

static void sgdma_realize(PCIDevice *pdev, Error **errp)
{
    SgdmaState *s = SGDMA(pdev);

    if (pci_is_express(pdev)) {
        pcie_endpoint_cap_init(pdev, SGDMA_PCIE_CAP_OFFSET);
    }

    memory_region_init_io(&s->regs, OBJECT(s), &sgdma_regs_ops, s,
                          "sgdma-regs", SGDMA_REGS_SIZE);
    pci_register_bar(pdev, SGDMA_BAR_REGS,
                     PCI_BASE_ADDRESS_SPACE_MEMORY |
                     PCI_BASE_ADDRESS_MEM_TYPE_64, &s->regs);
}

static void sgdma_exit(PCIDevice *pdev)
{
    if (pci_is_express(pdev)) {
        pcie_cap_exit(pdev);
    }
}

static void sgdma_reset_hold(Object *obj)
{
    SgdmaState *s = SGDMA(obj);

    trace_sgdma_reset();
    s->scratch = 0;
}

static const VMStateDescription vmstate_sgdma = {
    .name = TYPE_SGDMA,
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (VMStateField[]) {
        VMSTATE_PCI_DEVICE(parent_obj, SgdmaState),
        VMSTATE_UINT32(scratch, SgdmaState),
        VMSTATE_END_OF_LIST()
    },
};

static void sgdma_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    k->realize = sgdma_realize;
    k->exit = sgdma_exit;
    k->vendor_id = SGDMA_VENDOR_ID;
    k->device_id = SGDMA_DEVICE_ID;
    k->revision = SGDMA_REVISION;
    k->class_id = PCI_CLASS_SYSTEM_DMA;
    rc->phases.hold = sgdma_reset_hold;
    dc->vmsd = &vmstate_sgdma;
    dc->desc = "sgdma scatter-gather DMA engine";
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
