/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgdma user-space ABI: the ioctl interface of /dev/sgdmaN.
 *
 * Rules every structure here follows:
 *  - fixed-width types only, user pointers as __u64, explicit padding;
 *  - the first member is __u32 size: the caller sets it to the size of the
 *    structure it was built against. The kernel accepts any size from the
 *    first published version (SGDMA_*_SIZE_VER0) up to a page (-E2BIG
 *    beyond, as clone3 and openat2); fields the caller does not know about
 *    must be zero if it is newer than the kernel (-E2BIG otherwise), and
 *    are treated as zero if it is older;
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
 *
 * mmap(2) on the node (MAP_SHARED only; see SGDMA_MMAP_*) maps card memory
 * or a coherent buffer. Offsets name the region in their upper bits:
 *   [0, card size)                 card memory (BAR2), write-combined;
 *   handle << SGDMA_MMAP_BUF_SHIFT  the coherent buffer @handle, from its
 *                                   first byte up to its length.
 * A mapping must be page aligned and lie inside its region (-EINVAL
 * otherwise). Mappings survive close(2) of the node; when the device is
 * removed they are revoked, and touching them raises SIGBUS.
 */
#ifndef _UAPI_LINUX_SGDMA_H
#define _UAPI_LINUX_SGDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Bumped on every change to this header; additions stay compatible.
 *   1: INFO (identity)
 *   2: INFO capabilities and limits, XFER, read/write on the node
 *   3: registered and coherent buffers, BUF_XFER, mmap of card memory and
 *      coherent buffers, asynchronous queues
 *   4: QUEUE_SUBMIT_BATCH
 */
#define SGDMA_ABI_VERSION	4

#define SGDMA_IOC_MAGIC		0xd5

/* Operations, for struct sgdma_xfer.op and the bits of sgdma_info.ops. */
#define SGDMA_OP_H2C		1	/* host (src_iov) -> card memory */
#define SGDMA_OP_C2H		2	/* card memory -> host (dst_iov) */
#define SGDMA_OP_H2H		3	/* host (src_iov) -> host (dst_iov) */

/* sgdma_info.caps */
#define SGDMA_CAP_CRC32C	0x1	/* SGDMA_XFER_CRC works */
#define SGDMA_CAP_PINNED	0x2	/* SGDMA_XFER_PINNED works */
#define SGDMA_CAP_FAULT_INJECT	0x4	/* the device injects faults */
#define SGDMA_CAP_BUFS		0x8	/* registered/coherent buffers, queues */
#define SGDMA_CAP_MMAP_CARD	0x10	/* mmap of card memory */

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
 *
 * ABI 3 (SGDMA_INFO_SIZE_VER2) adds:
 * @max_bufs: buffer handles one open file can hold at once
 * @max_queue_depth: largest depth of an asynchronous queue
 * @max_buf_len: longest registered or coherent buffer
 * @card_map_size: bytes of card memory mmap can map (0: none)
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
	/* ABI 3 */
	__u32 max_bufs;
	__u32 max_queue_depth;
	__u64 max_buf_len;
	__u64 card_map_size;
};

#define SGDMA_INFO_SIZE_VER0	32	/* sizeof(struct sgdma_info) in ABI 1 */
#define SGDMA_INFO_SIZE_VER1	112	/* sizeof(struct sgdma_info) in ABI 2 */
#define SGDMA_INFO_SIZE_VER2	136	/* sizeof(struct sgdma_info) in ABI 3 */

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
/*
 * Poll the channel's completion ring for up to the module parameter
 * poll_us before sleeping, as NVMe's polled queues do: lower latency for
 * small transfers, at the price of a busy CPU. XFER and BUF_XFER; queued
 * transfers ignore it.
 */
#define SGDMA_XFER_POLL		0x10

/* sgdma_xfer.path */
#define SGDMA_PATH_NONE		0	/* nothing moved */
#define SGDMA_PATH_COPY		1
#define SGDMA_PATH_PINNED	2

/**
 * struct sgdma_xfer - a synchronous transfer (SGDMA_IOC_XFER)
 * @size: in: sizeof(struct sgdma_xfer) as the caller knows it
 * @flags: in: SGDMA_XFER_* bits. Neither COPY nor PINNED: automatic, the
 *         pinned path from sgdma_info.copy_threshold bytes on when the
 *         buffers allow it (aligned, and no memory the kernel cannot pin:
 *         card memory or a coherent buffer mapped with mmap take the copy
 *         path). Both: -EINVAL.
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
 * Errors: -EINVAL malformed request; -EFAULT bad user memory; -ENOMEM out
 * of memory or of DMA mapping space (IOVA, bounce buffers); -EINTR a
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

/*
 * Buffers (ABI 3).
 *
 * A buffer is memory the device reaches without a per-transfer pin or map:
 * a registered range of the caller's memory, pinned and mapped for DMA
 * once (SGDMA_IOC_BUF_REGISTER), or a coherent buffer the driver allocates
 * and the caller maps with mmap (SGDMA_IOC_BUF_ALLOC). Both are named by a
 * handle, 1 to sgdma_info.max_bufs, private to the open file (not to the
 * descriptor: dup(2) shares them) and usable only by the process that
 * created them: a child that inherits the file after fork(2) gets -EACCES,
 * since the pages behind a handle are its parent's. Handles are not reused
 * until the table wraps.
 *
 * Registered memory is charged to the creating process's RLIMIT_MEMLOCK as
 * pinned memory (VmPin in /proc/PID/status) unless it has CAP_IPC_LOCK;
 * past the limit registration fails with -ENOMEM. Coherent buffers are
 * charged likewise. SGDMA_IOC_BUF_FREE, close of the last descriptor of
 * the file and exit release everything; a buffer in use by a transfer in
 * flight cannot be freed (-EBUSY). A coherent buffer that is still mapped
 * lives on until its last mapping is gone.
 *
 * Transfers on buffers (SGDMA_IOC_BUF_XFER, SGDMA_IOC_QUEUE_SUBMIT) name
 * (handle, offset) for each host side. Offsets and lengths must be
 * multiples of sgdma_info.seg_align, and registered addresses aligned to
 * it, so that the device can take the memory as it is.
 */

#define SGDMA_MAX_BUFS		256
#define SGDMA_BUF_MAX_LEN	0x10000000ULL	/* 256 MiB */

/* sgdma_buf_reg.flags */
#define SGDMA_BUF_READONLY	0x1	/* pin for reading only: a source only */

/**
 * struct sgdma_buf_reg - register user memory (SGDMA_IOC_BUF_REGISTER)
 * @size: in: sizeof(struct sgdma_buf_reg)
 * @flags: in: SGDMA_BUF_READONLY or 0
 * @addr: in: user address, aligned to sgdma_info.seg_align
 * @len: in: bytes, 1 to sgdma_info.max_buf_len
 * @handle: out: the buffer's handle
 * @__pad: in: zero
 *
 * Errors: -EINVAL malformed; -EFAULT the range is not mapped (or not
 * writable without SGDMA_BUF_READONLY); -ENOMEM over RLIMIT_MEMLOCK or out
 * of memory or DMA space; -ENOSPC every handle in use.
 *
 * A read-only registration always sees the CPU's later writes. Kernels
 * before 6.2 do not unshare a page for a read-only long-term pin (the
 * shared zero page of untouched memory, the page-cache page of a private
 * file mapping), so there the driver breaks copy-on-write when it pins, as
 * a forced write would: on those kernels SGDMA_BUF_READONLY of a shared
 * mapping without write permission fails with -EFAULT.
 *
 * A MAP_SHARED mapping of a file on a file system with writeback (ext4,
 * xfs; not tmpfs or shmem) depends on the kernel. From Linux 6.5 on the
 * kernel refuses a long-term writable pin of such memory: registration
 * without SGDMA_BUF_READONLY fails with -EFAULT (with it, it succeeds).
 * Before 6.5 it succeeds, and the pages are marked dirty when the buffer
 * is freed: what the device wrote reaches the file through writeback
 * after SGDMA_IOC_BUF_FREE, not before (tests/guest/sgdma_filemap.c).
 */
struct sgdma_buf_reg {
	__u32 size;
	__u32 flags;
	__u64 addr;
	__u64 len;
	__u32 handle;
	__u32 __pad;
};

#define SGDMA_BUF_REG_SIZE_VER0		32

/**
 * struct sgdma_buf_alloc - allocate a coherent buffer (SGDMA_IOC_BUF_ALLOC)
 * @size: in: sizeof(struct sgdma_buf_alloc)
 * @flags: in: zero
 * @len: in: bytes, 1 to sgdma_info.max_buf_len; rounded up to pages
 * @handle: out: the buffer's handle
 * @__pad: in: zero
 * @mmap_offset: out: the offset to pass to mmap(2) for it
 *
 * The buffer starts zeroed.
 */
struct sgdma_buf_alloc {
	__u32 size;
	__u32 flags;
	__u64 len;
	__u32 handle;
	__u32 __pad;
	__u64 mmap_offset;
};

#define SGDMA_BUF_ALLOC_SIZE_VER0	32

/* mmap offsets: card memory from 0, coherent buffer N at N << 32. */
#define SGDMA_MMAP_CARD_OFFSET		0ULL
#define SGDMA_MMAP_BUF_SHIFT		32
#define SGDMA_MMAP_BUF_OFFSET(handle)	((__u64)(handle) << SGDMA_MMAP_BUF_SHIFT)

/**
 * struct sgdma_buf_free - release a buffer handle (SGDMA_IOC_BUF_FREE)
 * @size: in: sizeof(struct sgdma_buf_free)
 * @flags: in: zero
 * @handle: in: the handle
 * @__pad: in: zero
 *
 * Errors: -ENOENT no such handle; -EACCES not the creator's; -EBUSY a
 * transfer in flight uses the buffer.
 */
struct sgdma_buf_free {
	__u32 size;
	__u32 flags;
	__u32 handle;
	__u32 __pad;
};

#define SGDMA_BUF_FREE_SIZE_VER0	16

/**
 * struct sgdma_buf_xfer - a transfer between buffers and card memory
 * @size: in: sizeof(struct sgdma_buf_xfer)
 * @flags: in: SGDMA_XFER_CRC, SGDMA_XFER_CHANNEL and SGDMA_XFER_POLL as
 *         for XFER
 * @op: in: SGDMA_OP_H2C, SGDMA_OP_C2H or SGDMA_OP_H2H
 * @__reserved: in: zero
 * @channel: in: as for XFER
 * @card_offset: in: H2C, C2H: first byte of card memory; H2H: zero
 * @src_handle: in: H2C, H2H: source buffer; C2H: zero
 * @dst_handle: in: C2H, H2H: destination buffer; H2C: zero
 * @src_offset: in: first byte in the source buffer (zero without one)
 * @dst_offset: in: first byte in the destination buffer (likewise)
 * @len: in: bytes, up to SGDMA_XFER_MAX_LEN, inside each buffer and card
 *       memory; zero succeeds and moves nothing
 * @user_data: in: echoed in the completion of a queued transfer
 * @bytes: out (SGDMA_IOC_BUF_XFER): bytes moved
 * @crc: out (SGDMA_IOC_BUF_XFER): with SGDMA_XFER_CRC, the CRC32C
 * @__pad: in: zero
 *
 * Errors as for XFER, and -ENOENT no such handle, -EACCES a handle of
 * another process, -ECANCELED (queued) the queue was closed first.
 */
struct sgdma_buf_xfer {
	__u32 size;
	__u32 flags;
	__u16 op;
	__u16 __reserved;
	__u32 channel;
	__u64 card_offset;
	__u32 src_handle;
	__u32 dst_handle;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 len;
	__u64 user_data;
	__u64 bytes;
	__u32 crc;
	__u32 __pad;
};

#define SGDMA_BUF_XFER_SIZE_VER0	80

/*
 * Asynchronous queues (ABI 3).
 *
 * SGDMA_IOC_QUEUE_CREATE on the node returns a new file descriptor, the
 * queue. SGDMA_IOC_QUEUE_SUBMIT on the queue starts a buffer transfer and
 * returns at once (SGDMA_IOC_QUEUE_SUBMIT_BATCH, ABI 4, starts many);
 * transfers of a queue run on the channel they name, else on the queue's
 * own (the driver gives queues the device's channels in turn, so a
 * program spreads its work over channels with a queue per thread), and
 * may complete in any order.
 * Each completion is a struct sgdma_completion, collected with read(2) on
 * the queue (whole records only) or SGDMA_IOC_QUEUE_REAP; poll reports
 * EPOLLIN while completions wait and EPOLLOUT while the queue takes
 * submissions; an eventfd given at creation is signalled once per
 * completion. A blocking read or reap with nothing in flight and nothing
 * waiting returns 0 records at once rather than waiting for ever.
 *
 * Submissions and completions not yet collected together are at most the
 * queue's depth: SUBMIT fails with -EAGAIN past it. Closing the queue
 * (also by exit or kill) cancels what has not started and waits for what
 * has: the device is done with a buffer before it can be freed.
 */

/* sgdma_queue_create.flags */
#define SGDMA_QUEUE_CLOEXEC	0x1	/* O_CLOEXEC on the new descriptor */
#define SGDMA_QUEUE_NONBLOCK	0x2	/* O_NONBLOCK on the new descriptor */

#define SGDMA_QUEUE_MAX_DEPTH	4096

/**
 * struct sgdma_queue_create - create a queue (SGDMA_IOC_QUEUE_CREATE)
 * @size: in: sizeof(struct sgdma_queue_create)
 * @flags: in: SGDMA_QUEUE_* bits
 * @depth: in: 1 to SGDMA_QUEUE_MAX_DEPTH
 * @eventfd: in: an eventfd to signal per completion, or -1
 * @fd: out: the queue's file descriptor
 * @__pad: in: zero
 */
struct sgdma_queue_create {
	__u32 size;
	__u32 flags;
	__u32 depth;
	__s32 eventfd;
	__s32 fd;
	__u32 __pad;
};

#define SGDMA_QUEUE_CREATE_SIZE_VER0	24

/**
 * struct sgdma_completion - one finished queued transfer
 * @user_data: the submission's user_data
 * @bytes: bytes moved
 * @status: 0, or a negative errno as SGDMA_IOC_BUF_XFER would return
 * @crc: with SGDMA_XFER_CRC, the CRC32C
 * @__reserved: zero
 */
struct sgdma_completion {
	__u64 user_data;
	__u64 bytes;
	__s32 status;
	__u32 crc;
	__u64 __reserved;
};

/* sgdma_queue_reap.flags */
#define SGDMA_REAP_WAIT		0x1	/* wait for one if none is there */

/**
 * struct sgdma_queue_reap - collect completions (SGDMA_IOC_QUEUE_REAP)
 * @size: in: sizeof(struct sgdma_queue_reap)
 * @flags: in: SGDMA_REAP_WAIT or 0
 * @entries: in: user address of an array of struct sgdma_completion
 * @max: in: entries in the array, at least 1
 * @count: out: entries filled
 *
 * Without SGDMA_REAP_WAIT it never blocks; with it, it waits for one
 * completion if any transfer is in flight (-EINTR on a signal). -EFAULT
 * when @count cannot be written: no completion leaves the queue then.
 */
struct sgdma_queue_reap {
	__u32 size;
	__u32 flags;
	__u64 entries;
	__u32 max;
	__u32 count;
};

#define SGDMA_QUEUE_REAP_SIZE_VER0	24

/**
 * struct sgdma_queue_batch - submit many (SGDMA_IOC_QUEUE_SUBMIT_BATCH, ABI 4)
 * @size: in: sizeof(struct sgdma_queue_batch)
 * @flags: in: zero
 * @entries: in: user address of the first struct sgdma_buf_xfer
 * @count: in: entries, 1 to SGDMA_QUEUE_MAX_DEPTH
 * @stride: in: bytes from one entry to the next; every entry's own @size
 *          must equal it (sizeof(struct sgdma_buf_xfer) for an array)
 *
 * Submits the entries in order, each as SGDMA_IOC_QUEUE_SUBMIT would, and
 * returns how many were submitted. It stops at the first entry that fails
 * and returns that entry's negative errno if it was the first, else the
 * count before it: entries past the count were not looked at (submit them
 * again to learn why). One system call for a batch, as io_uring_enter()
 * takes many submissions at once.
 */
struct sgdma_queue_batch {
	__u32 size;
	__u32 flags;
	__u64 entries;
	__u32 count;
	__u32 stride;
};

#define SGDMA_QUEUE_BATCH_SIZE_VER0	24

/* On /dev/sgdmaN */
#define SGDMA_IOC_INFO		_IOWR(SGDMA_IOC_MAGIC, 0x00, struct sgdma_info)
#define SGDMA_IOC_XFER		_IOWR(SGDMA_IOC_MAGIC, 0x01, struct sgdma_xfer)
#define SGDMA_IOC_BUF_REGISTER	_IOWR(SGDMA_IOC_MAGIC, 0x02, struct sgdma_buf_reg)
#define SGDMA_IOC_BUF_ALLOC	_IOWR(SGDMA_IOC_MAGIC, 0x03, struct sgdma_buf_alloc)
#define SGDMA_IOC_BUF_FREE	_IOW(SGDMA_IOC_MAGIC, 0x04, struct sgdma_buf_free)
#define SGDMA_IOC_BUF_XFER	_IOWR(SGDMA_IOC_MAGIC, 0x05, struct sgdma_buf_xfer)
#define SGDMA_IOC_QUEUE_CREATE	_IOWR(SGDMA_IOC_MAGIC, 0x06, struct sgdma_queue_create)
/* On a queue */
#define SGDMA_IOC_QUEUE_SUBMIT	_IOW(SGDMA_IOC_MAGIC, 0x07, struct sgdma_buf_xfer)
#define SGDMA_IOC_QUEUE_REAP	_IOWR(SGDMA_IOC_MAGIC, 0x08, struct sgdma_queue_reap)
#define SGDMA_IOC_QUEUE_SUBMIT_BATCH \
	_IOW(SGDMA_IOC_MAGIC, 0x09, struct sgdma_queue_batch)

#endif /* _UAPI_LINUX_SGDMA_H */
