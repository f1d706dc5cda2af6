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
#include <linux/build_bug.h>
#include <linux/types.h>

#define SGDMA_PCI_VENDOR_ID		0x1234
#define SGDMA_PCI_DEVICE_ID		0x5347

#define SGDMA_BAR_REGS			0
#define SGDMA_REGS_SIZE			0x4000

/* Global registers (spec 4.1) */
#define SGDMA_REG_ID			0x000
#define SGDMA_REG_VERSION		0x004
#define SGDMA_REG_SCRATCH		0x008
#define SGDMA_REG_CAPS			0x00c
#define SGDMA_REG_MAX_SEG_SIZE		0x010
#define SGDMA_REG_SEG_BOUNDARY_LO	0x014
#define SGDMA_REG_SEG_BOUNDARY_HI	0x018
#define SGDMA_REG_MAX_SEGMENTS		0x01c
#define SGDMA_REG_SEG_ALIGN		0x020
#define SGDMA_REG_CARD_SIZE_LO		0x024
#define SGDMA_REG_CARD_SIZE_HI		0x028
#define SGDMA_REG_RING_MAX		0x02c
#define SGDMA_REG_MAX_XFER		0x030
#define SGDMA_REG_CTRL			0x034
#define SGDMA_REG_INT_STATUS		0x038
#define SGDMA_REG_PERF_DESCS		0x048	/* first of 6 counters */
#define SGDMA_PERF_COUNTERS		6

#define SGDMA_ID_VALUE			0x5347444d	/* "SGDM" */
#define SGDMA_VERSION_MAJOR(v)		((v) >> 16)
#define SGDMA_VERSION_MINOR(v)		((v) & 0xffff)
#define SGDMA_VERSION_MAJOR_SUPPORTED	1

#define SGDMA_CAPS_CHANNELS		GENMASK(7, 0)
#define SGDMA_CAPS_DMA_BITS		GENMASK(15, 8)
#define SGDMA_CAPS_CRC32C		BIT(16)
#define SGDMA_CAPS_SEG_LIST		BIT(17)
#define SGDMA_CAPS_FAULT_INJECT		BIT(18)

#define SGDMA_CTRL_RESET		BIT(0)

#define SGDMA_INT_ERROR			BIT(31)

/* Channel registers (spec 4.2), relative to the channel's window */
#define SGDMA_CHAN_BASE(n)		(0x1000 + (n) * 0x100)
#define SGDMA_CHAN_MAX			32

#define SGDMA_CH_RING_LO		0x00
#define SGDMA_CH_RING_HI		0x04
#define SGDMA_CH_RING_SIZE		0x08
#define SGDMA_CH_COMPL_LO		0x0c
#define SGDMA_CH_COMPL_HI		0x10
#define SGDMA_CH_CTRL			0x14
#define SGDMA_CH_STATUS			0x18
#define SGDMA_CH_DOORBELL		0x1c
#define SGDMA_CH_HEAD			0x20
#define SGDMA_CH_COALESCE		0x24
#define SGDMA_CH_ERR_ADDR_LO		0x28
#define SGDMA_CH_ERR_ADDR_HI		0x2c
#define SGDMA_CH_FAULT_INJECT		0x30

#define SGDMA_CH_CTRL_ENABLE		BIT(0)
#define SGDMA_CH_CTRL_RESET		BIT(1)
#define SGDMA_CH_CTRL_IRQ_ENABLE	BIT(2)

#define SGDMA_CH_COALESCE_COUNT		GENMASK(15, 0)
#define SGDMA_CH_COALESCE_USECS		GENMASK(31, 16)

#define SGDMA_CH_STATUS_ENABLED		BIT(0)
#define SGDMA_CH_STATUS_BUSY		BIT(1)
#define SGDMA_CH_STATUS_HALTED		BIT(2)
#define SGDMA_CH_STATUS_ERROR		GENMASK(15, 8)

#define SGDMA_RING_ALIGN		64
#define SGDMA_COMPL_ALIGN		32
#define SGDMA_SEG_LIST_ALIGN		16

/* Descriptor (spec 5.1) */
#define SGDMA_OP_H2C			1
#define SGDMA_OP_C2H			2
#define SGDMA_OP_H2H			3
#define SGDMA_OP_FILL			4

#define SGDMA_DESC_CRC			BIT(0)
#define SGDMA_DESC_IRQ			BIT(1)
#define SGDMA_DESC_SRC_LIST		BIT(2)
#define SGDMA_DESC_DST_LIST		BIT(3)

struct sgdma_hw_desc {
	u8 opcode;
	u8 flags;
	__le16 rsvd0;
	__le32 length;
	__le64 cookie;
	__le64 src;
	__le32 src_n;
	__le32 rsvd1;
	__le64 dst;
	__le32 dst_n;
	__le32 rsvd2;
	__le64 pattern;
	__le64 rsvd3;
};

static_assert(sizeof(struct sgdma_hw_desc) == 64);

/* Segment list entry (spec 5.2) */
struct sgdma_hw_seg {
	__le64 addr;
	__le32 len;
	__le32 rsvd;
};

static_assert(sizeof(struct sgdma_hw_seg) == 16);

/* Completion (spec 5.3) */
#define SGDMA_COMPL_DONE		BIT(0)

struct sgdma_hw_compl {
	__le64 cookie;
	__le32 bytes;
	__le32 crc;
	__le16 status;
	__le16 flags;
	__le32 index;
	__le64 err_addr;
};

static_assert(sizeof(struct sgdma_hw_compl) == 32);

/* Completion status and STATUS error codes (spec 6) */
enum sgdma_hw_error {
	SGDMA_ERR_OK = 0,
	SGDMA_ERR_BAD_DESC,
	SGDMA_ERR_BAD_LENGTH,
	SGDMA_ERR_CARD_RANGE,
	SGDMA_ERR_DMA_FAULT,
	SGDMA_ERR_ADDR_RANGE,
	SGDMA_ERR_SEG_SIZE,
	SGDMA_ERR_SEG_BOUNDARY,
	SGDMA_ERR_SEG_COUNT,
	SGDMA_ERR_SEG_ALIGN,
	SGDMA_ERR_SELF_TARGET,
	SGDMA_ERR_BAD_RING,
	SGDMA_ERR_BAD_DOORBELL,
	SGDMA_ERR_DESC_FETCH,
};

/* FAULT_INJECT (spec 7) */
#define SGDMA_FAULT_MODE		GENMASK(3, 0)
#define SGDMA_FAULT_COUNT		GENMASK(31, 8)

#endif /* SGDMA_HW_H */
