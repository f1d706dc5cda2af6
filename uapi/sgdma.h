/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgdma user-space ABI: the ioctl interface of /dev/sgdmaN.
 *
 * Rules every structure here follows:
 *  - fixed-width types only, user pointers as __u64, explicit padding;
 *  - the first member is __u32 size: the caller sets it to the size of the
 *    structure it was built against. The kernel accepts any size from the
 *    first published version (SGDMA_*_SIZE_VER0) up; fields the caller does
 *    not know about must be zero if it is newer than the kernel (-E2BIG
 *    otherwise), and are treated as zero if it is older;
 *  - unknown flags and non-zero reserved fields are rejected with -EINVAL.
 *
 * ioctl numbers use type SGDMA_IOC_MAGIC and numbers 0x00-0x3f. Because the
 * size of a structure lives in its size field, the kernel decodes commands
 * by type, number and direction; the size bits of the command are ignored.
 *
 * Besides the ioctls, read(2), write(2), pread(2), pwrite(2), readv(2) and
 * writev(2) on the node move data between the caller and card memory at the
 * file position, through the copy path. Reads at or past the end of card
 * memory return 0; writes there fail with -ENOSPC.
 */
#ifndef _UAPI_LINUX_SGDMA_H
#define _UAPI_LINUX_SGDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bumped on every change to this header; additions stay compatible.
 *   1: INFO (identity)
 *   2: INFO capabilities and limits, XFER, read/write on the node
 */
#define SGDMA_ABI_VERSION	2

#define SGDMA_IOC_MAGIC		0xd5

/* Operations, for struct sgdma_xfer.op and the bits of sgdma_info.ops. */
#define SGDMA_OP_H2C		1	/* host (src_iov) -> card memory */
#define SGDMA_OP_C2H		2	/* card memory -> host (dst_iov) */
#define SGDMA_OP_H2H		3	/* host (src_iov) -> host (dst_iov) */

/* sgdma_info.caps */
#define SGDMA_CAP_CRC32C	0x1	/* SGDMA_XFER_CRC works */
#define SGDMA_CAP_PINNED	0x2	/* SGDMA_XFER_PINNED works */
#define SGDMA_CAP_FAULT_INJECT	0x4	/* the device injects faults */

/* sgdma_info.irq_mode */
#define SGDMA_IRQ_INTX		1
#define SGDMA_IRQ_MSI		2
#define SGDMA_IRQ_MSIX		3

/**
 * struct sgdma_info - identity, capabilities and limits (SGDMA_IOC_INFO)
 * @size: in: sizeof(struct sgdma_info) as the caller knows it;
 *        out: number of bytes the kernel filled in
 * @flags: in: must be 0
 * @abi_version: SGDMA_ABI_VERSION of the driver
 * @hw_id: the device's ID register ("SGDM")
 * @hw_version: the device's VERSION register: major in 31:16, minor in 15:0
 * @pci_vendor: PCI vendor ID
 * @pci_device: PCI device ID
 * @pci_revision: PCI revision ID
 * @__pad: zero
 * @minor: the N of /dev/sgdmaN
 *
 * ABI 2 (SGDMA_INFO_SIZE_VER1) adds:
 * @channels: DMA channels; valid values of sgdma_xfer.channel are below it
 * @dma_bits: width of the bus addresses the device can issue
 * @card_size: bytes of card memory
 * @seg_boundary: segment boundary mask of the device
 * @max_seg_size: longest segment the device accepts
 * @max_segments: most segments in one side of one descriptor
 * @seg_align: required alignment of segment addresses and lengths; the
 *             pinned path needs user buffers aligned to it
 * @max_desc_len: longest transfer of one descriptor
 * @ops: bit (1 << SGDMA_OP_x) set for each operation XFER supports
 * @caps: SGDMA_CAP_* bits
 * @max_iovecs: most iovecs in one side of one XFER
 * @copy_threshold: in automatic mode, transfers of at least this many bytes
 *                  take the pinned path
 * @max_xfer_len: most bytes one XFER may move
 * @copy_chunk: bytes the copy path moves per descriptor (H2C, C2H)
 * @pin_chunk: bytes the pinned path pins per side and descriptor, at most
 * @irq_mode: SGDMA_IRQ_* the driver is using
 * @__pad2: zero
 */
struct sgdma_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 hw_id;
	__u32 hw_version;
	__u16 pci_vendor;
	__u16 pci_device;
	__u8  pci_revision;
	__u8  __pad[3];
	__u32 minor;
	/* ABI 2 */
	__u32 channels;
	__u32 dma_bits;
	__u64 card_size;
	__u64 seg_boundary;
	__u32 max_seg_size;
	__u32 max_segments;
	__u32 seg_align;
	__u32 max_desc_len;
	__u32 ops;
	__u32 caps;
	__u32 max_iovecs;
	__u32 copy_threshold;
	__u64 max_xfer_len;
	__u32 copy_chunk;
	__u32 pin_chunk;
	__u32 irq_mode;
	__u32 __pad2;
};

#define SGDMA_INFO_SIZE_VER0	32	/* sizeof(struct sgdma_info) in ABI 1 */
#define SGDMA_INFO_SIZE_VER1	112	/* sizeof(struct sgdma_info) in ABI 2 */

/**
 * struct sgdma_iovec - one piece of user memory
 * @base: user address
 * @len: bytes; 0 is allowed and skipped
 *
 * Same layout as a 64-bit struct iovec, on every architecture.
 */
struct sgdma_iovec {
	__u64 base;
	__u64 len;
};

/* Limits of one XFER, also reported by INFO. */
#define SGDMA_XFER_MAX_IOVECS	1024
#define SGDMA_XFER_MAX_LEN	0x40000000ULL	/* 1 GiB */

/* sgdma_xfer.flags */
#define SGDMA_XFER_CRC		0x1	/* return the device's CRC32C */
#define SGDMA_XFER_COPY		0x2	/* force the copy path */
#define SGDMA_XFER_PINNED	0x4	/* force the pinned path */
#define SGDMA_XFER_CHANNEL	0x8	/* run on channel @channel */

/* sgdma_xfer.path */
#define SGDMA_PATH_NONE		0	/* nothing moved */
#define SGDMA_PATH_COPY		1
#define SGDMA_PATH_PINNED	2

/**
 * struct sgdma_xfer - a synchronous transfer (SGDMA_IOC_XFER)
 * @size: in: sizeof(struct sgdma_xfer) as the caller knows it
 * @flags: in: SGDMA_XFER_* bits. Neither COPY nor PINNED: automatic, the
 *         pinned path from sgdma_info.copy_threshold bytes on when the
 *         buffers allow it. Both: -EINVAL.
 * @op: in: SGDMA_OP_H2C, SGDMA_OP_C2H or SGDMA_OP_H2H
 * @__reserved: in: must be 0
 * @channel: in: with SGDMA_XFER_CHANNEL, the channel to use (below
 *           sgdma_info.channels); else must be 0 and any free channel is used
 * @card_offset: in: H2C, C2H: first byte of card memory; H2H: must be 0
 * @src_iov: in: H2C, H2H: user address of the source struct sgdma_iovec
 *           array; C2H: must be 0
 * @dst_iov: in: C2H, H2H: user address of the destination iovec array;
 *           H2C: must be 0
 * @src_iovcnt: in: entries in @src_iov, 1 to SGDMA_XFER_MAX_IOVECS; 0 when
 *              @src_iov is 0
 * @dst_iovcnt: in: entries in @dst_iov, likewise
 * @bytes: out: bytes moved (the whole length: a transfer either completes
 *         or fails)
 * @crc: out: with SGDMA_XFER_CRC, the CRC32C (Castagnoli, as iSCSI) of the
 *       bytes moved, as computed by the device; else 0
 * @path: out: SGDMA_PATH_* that moved the data
 *
 * The total length of the source and destination iovecs must match (H2H),
 * must not exceed SGDMA_XFER_MAX_LEN, and a card range must lie inside card
 * memory. A zero total length succeeds and moves nothing.
 *
 * Errors: -EINVAL malformed request; -EFAULT bad user memory; -EINTR a
 * signal arrived; -ETIMEDOUT the device did not complete in time; -EIO the
 * device reported or caused an error; -ENODEV the device is gone. The data
 * in the destination is unspecified after an error.
 */
struct sgdma_xfer {
	__u32 size;
	__u32 flags;
	__u16 op;
	__u16 __reserved;
	__u32 channel;
	__u64 card_offset;
	__u64 src_iov;
	__u64 dst_iov;
	__u32 src_iovcnt;
	__u32 dst_iovcnt;
	__u64 bytes;
	__u32 crc;
	__u32 path;
};

#define SGDMA_XFER_SIZE_VER0	64	/* sizeof(struct sgdma_xfer) in ABI 2 */

#define SGDMA_IOC_INFO		_IOWR(SGDMA_IOC_MAGIC, 0x00, struct sgdma_info)
#define SGDMA_IOC_XFER		_IOWR(SGDMA_IOC_MAGIC, 0x01, struct sgdma_xfer)

#endif /* _UAPI_LINUX_SGDMA_H */
