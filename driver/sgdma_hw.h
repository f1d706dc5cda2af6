/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma hardware interface, transcribed from docs/device-spec.md.
 *
 * The device model and its qtest keep their own transcriptions on purpose:
 * three independent readings of one spec, checked against each other by the
 * tests, catch a misreading that a shared header would hide.
 */
#ifndef SGDMA_HW_H
#define SGDMA_HW_H

#include <linux/bits.h>

#define SGDMA_PCI_VENDOR_ID		0x1234
#define SGDMA_PCI_DEVICE_ID		0x5347

#define SGDMA_BAR_REGS			0
#define SGDMA_REGS_SIZE			0x4000

#define SGDMA_REG_ID			0x000
#define SGDMA_REG_VERSION		0x004
#define SGDMA_REG_SCRATCH		0x008

#define SGDMA_ID_VALUE			0x5347444d	/* "SGDM" */
#define SGDMA_VERSION_MAJOR(v)		((v) >> 16)
#define SGDMA_VERSION_MINOR(v)		((v) & 0xffff)
#define SGDMA_VERSION_MAJOR_SUPPORTED	1

#endif /* SGDMA_HW_H */
