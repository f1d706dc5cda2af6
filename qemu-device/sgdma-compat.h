/*
 * sgdma: what differs between the QEMU versions the device builds on
 * (Debian's 7.2 and 10.0, pinned in ci/qemu-versions), and only that.
 * Include after "qemu/osdep.h", which defines QEMU_VERSION_MAJOR.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_SGDMA_COMPAT_H
#define HW_SGDMA_COMPAT_H

#include "hw/qdev-properties.h"
#include "hw/resettable.h"

/* 10.0 renamed include/sysemu/ to include/system/. */
#if QEMU_VERSION_MAJOR >= 10
#include "system/dma.h"
#else
#include "sysemu/dma.h"
#endif

/* 8.0 moved struct PCIDevice from hw/pci/pci.h to a header of its own. */
#if QEMU_VERSION_MAJOR >= 8
#include "hw/pci/pci_device.h"
#else
#include "hw/pci/pci.h"
#endif

/*
 * 10.0 counts a property array's elements, which are const, instead of
 * looking for its terminator.
 */
#ifdef DEFINE_PROP_END_OF_LIST
#define SGDMA_PROPERTY Property
#define SGDMA_PROP_END_OF_LIST DEFINE_PROP_END_OF_LIST()
#else
#define SGDMA_PROPERTY const Property
#define SGDMA_PROP_END_OF_LIST
#endif

/* Since 9.0 the reset phases are told the type of reset. */
#if QEMU_VERSION_MAJOR >= 9
#define SGDMA_RESET_HOLD_ARGS Object *obj, ResetType type
#else
#define SGDMA_RESET_HOLD_ARGS Object *obj
#endif

#endif
