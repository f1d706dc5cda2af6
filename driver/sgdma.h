/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma driver internals, shared by its files:
 *   sgdma_main.c   probe/remove, character device, read/write
 *   sgdma_sysfs.c  sysfs attributes: scratch, counters, interrupt mode
 *   sgdma_debugfs.c  debugfs: fault injection and the device's counters
 *   sgdma_chan.c   channel rings: post, reap, wait, coalescing, cancel
 *   sgdma_recover.c  stopping, escalating and starting channels, leaks
 *   sgdma_chans.c  the channel set: allocation, get and put, restart
 *   sgdma_irq.c    interrupt vectors and handlers
 *   sgdma_xfer.c   transfers: the path choice, holding device and channel
 *   sgdma_copy.c   the copy path: transfers through the bounce buffer
 *   sgdma_pin.c    the pinned path: pinning, mapping, pieces in flight
 *   sgdma_ioctl.c  the ioctls: argument snapshot and validation
 *   sgdma_crc.c    CRC32C arithmetic for split and padded transfers
 *   sgdma_sg.c     scatterlists of pinned pages, host sides' segment lists
 *   sgdma_file.c   open files: buffer handles, release, revocation
 *   sgdma_buf.c    registered and coherent buffers: lifetime, handles
 *   sgdma_bufreq.c buffers in transfers: holding, syncing, segment lists
 *   sgdma_bufpipe.c  transfers on buffers: descriptors in flight on a channel
 *   sgdma_mmap.c   mmap of card memory and coherent buffers
 *   sgdma_async.c  asynchronous queues
 */
#ifndef SGDMA_H
#define SGDMA_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <sgdma.h>

#include "sgdma_hw.h"

#define SGDMA_MAX_DEVICES	64

/* Descriptor ring entries per channel (capped by RING_MAX). */
#define SGDMA_RING_ENTRIES	64
/* Segment list entries per list (capped by MAX_SEGMENTS). */
#define SGDMA_LIST_ENTRIES	4096
/*
 * Pairs of segment lists (source, destination) per channel: a channel's
 * owner has at most this many descriptors in flight. Sets are allocated
 * when first used (sgdma_chan_lists()). The first SGDMA_FULL_LIST_SETS
 * hold SGDMA_LIST_ENTRIES each (a pair is 128 KiB of coherent memory at
 * 4096): the copy and pinned paths use no others. The rest, which only a
 * queue of many transfers in flight reaches, hold SGDMA_SHORT_LIST_ENTRIES
 * (2 KiB a pair, all in one block): a piece posted in one is cut where
 * its list fills.
 */
#define SGDMA_LIST_SETS		32
#define SGDMA_FULL_LIST_SETS	8
#define SGDMA_SHORT_LIST_ENTRIES	64
/* Per-channel bounce buffer of the copy path (capped by the DMA layer). */
#define SGDMA_BOUNCE_SIZE	SZ_128K
/* Most memory the pinned path pins per side and descriptor. */
#define SGDMA_PIN_CHUNK		SZ_2M

/**
 * struct sgdma_seglist - a segment list in coherent memory
 * @seg: the entries
 * @dma: bus address of @seg
 * @n: entries in use
 * @cap: entries @seg has room for
 */
struct sgdma_seglist {
	struct sgdma_hw_seg *seg;
	dma_addr_t dma;
	unsigned int n;
	unsigned int cap;
};

/**
 * struct sgdma_side - one host side of a descriptor being built
 * @list: where its segments go
 * @bytes: total length of its segments
 */
struct sgdma_side {
	struct sgdma_seglist *list;
	u64 bytes;
};

struct sgdma_dev;
struct sgdma_engine;

/**
 * struct sgdma_desc - one descriptor an owner posts to a channel
 * @opcode: SGDMA_OP_H2C, SGDMA_OP_C2H or SGDMA_OP_H2H
 * @want_crc: ask the device for the CRC32C of the data
 * @poll: the owner polls for the completion before it sleeps
 * @src: host source side (H2C, H2H), else NULL; its list stays untouched
 *       until the descriptor is done
 * @card_src: card offset of the source (C2H)
 * @dst: host destination side (C2H, H2H), else NULL; likewise
 * @card_dst: card offset of the destination (H2C)
 * @len: bytes; the host sides must add up to it
 * @status: out: 0, or the errno the descriptor ended with (once @done)
 * @crc: out: the CRC32C the device computed, if @want_crc
 * @done: set (release) by whoever ended it: the reaper or a flush
 * @cookie: private: the cookie it was posted with
 * @index: private: its free-running ring index
 * @deadline: private: jiffies by which it must complete; counted from
 *            when it reached the head of the ring
 */
struct sgdma_desc {
	u8 opcode;
	bool want_crc;
	bool poll;
	struct sgdma_side *src;
	u64 card_src;
	struct sgdma_side *dst;
	u64 card_dst;
	u32 len;
	int status;
	u32 crc;
	bool done;
	u64 cookie;
	u32 index;
	unsigned long deadline;
};

/**
 * struct sgdma_chan - one DMA channel
 * @sdev: the device
 * @index: channel number
 * @regs: the channel's register window
 * @lock: serialises the owners of the channel: one at a time posts
 *        descriptors, many of them in flight, and waits for them
 * @ring_lock: protects @tail, @head, @slots and @broken against the
 *             interrupt path's reaper
 * @wq: waiters for a completion or an error
 * @ring: descriptor ring (coherent)
 * @ring_dma: its bus address
 * @compl: completion ring (coherent)
 * @compl_dma: its bus address
 * @src: source segment lists, one per list set
 * @dst: destination segment lists, one per list set
 * @slots: the descriptor each ring slot holds until its completion is
 *         reaped; NULL: the slot is free
 * @bounce: copy path buffer; first half source, second half destination
 *          for H2H, all of it for H2C and C2H
 * @bounce_dma: its bus address (streaming mapping, bidirectional)
 * @tail: producer index: descriptors handed to the device since reset
 * @head: the driver's consumer index: completions reaped since reset
 * @broken: a completion failed its check: nothing more is reaped until
 *          the owner stopped the channel and flushed it
 * @cookie: last cookie handed out
 * @needs_reset: a failed transfer left the channel stopped
 * @wedged: the channel did not stop, even after escalation; it is not
 *          used again until it shows it stopped
 * @abandoned: the descriptors flushed last were on a channel that would
 *             not stop: what they describe must be leaked, not released
 * @resets_seen: @sdev->resets when the channel was last started
 * @coalesce: what the driver last wrote to COALESCE
 * @kicked: new work came for the owner since it last looked for some
 *          (sgdma_chan_kick())
 * @irq: the channel's MSI-X vector, or 0
 */
struct sgdma_chan {
	struct sgdma_dev *sdev;
	unsigned int index;
	void __iomem *regs;
	struct mutex lock;	/* serialises the channel's owners */
	spinlock_t ring_lock;	/* ring indices and slots, for the reaper */
	wait_queue_head_t wq;
	struct sgdma_hw_desc *ring;
	dma_addr_t ring_dma;
	struct sgdma_hw_compl *compl;
	dma_addr_t compl_dma;
	struct sgdma_seglist src[SGDMA_LIST_SETS];
	struct sgdma_seglist dst[SGDMA_LIST_SETS];
	struct sgdma_desc **slots;
	void *bounce;
	dma_addr_t bounce_dma;
	u32 tail;
	u32 head;
	bool broken;
	u64 cookie;
	bool needs_reset;
	bool wedged;
	bool abandoned;
	int resets_seen;
	u32 coalesce;
	bool kicked;
	int irq;
};

/**
 * struct sgdma_limits - what the device accepts and how the driver uses it
 * @channels: DMA channels
 * @dma_bits: bus address width
 * @card_size: bytes of card memory
 * @seg_boundary: segment boundary mask
 * @max_seg_size: MAX_SEG_SIZE as reported
 * @seg_max: longest segment the driver builds (aligned to @seg_align)
 * @max_segments: MAX_SEGMENTS as reported
 * @list_entries: entries per segment list (<= @max_segments)
 * @seg_align: SEG_ALIGN
 * @ring_entries: descriptor ring entries
 * @max_desc_len: MAX_XFER as reported
 * @bounce_size: bytes of each channel's copy path buffer
 * @copy_chunk: copy path bytes per H2C/C2H descriptor
 * @copy_half: copy path bytes per H2H descriptor
 * @pin_pages: pinned path pages per side and descriptor (0: no pinned path)
 * @crc: the device computes CRC32C
 * @fault_inject: the device has FAULT_INJECT
 */
struct sgdma_limits {
	unsigned int channels;
	unsigned int dma_bits;
	u64 card_size;
	u64 seg_boundary;
	u32 max_seg_size;
	u32 seg_max;
	u32 max_segments;
	u32 list_entries;
	u32 seg_align;
	u32 ring_entries;
	u32 max_desc_len;
	u32 bounce_size;
	u32 copy_chunk;
	u32 copy_half;
	u32 pin_pages;
	bool crc;
	bool fault_inject;
};

/**
 * struct sgdma_stats - per-device counters shown in sysfs
 * @transfers: descriptors completed successfully
 * @bytes: bytes moved by them
 * @errors: descriptors that failed: device error, timeout, bad completion
 * @timeouts: descriptors that timed out (also counted in @errors)
 * @lost_irqs: completions found only when the wait timed out
 * @pages_pinned: user pages pinned right now
 * @pages_leaked: pages given up because a channel would not stop: still
 *                allocated, pinned and mapped for good (not in
 *                @pages_pinned)
 * @escalations: channels that did not stop on RESET: bus mastering went
 *               off and the function was reset
 * @inflight_max: most descriptors posted to one channel and not yet
 *                reaped, since load or the last reset through sysfs
 * @completions_irq: completions reaped by the interrupt path
 * @irq_reaps: interrupt-path reaps that found at least one completion
 * @completions_polled: completions found by a polling owner
 */
struct sgdma_stats {
	atomic64_t transfers;
	atomic64_t bytes;
	atomic64_t errors;
	atomic64_t timeouts;
	atomic64_t lost_irqs;
	atomic_long_t pages_pinned;
	atomic_long_t pages_leaked;
	atomic64_t escalations;
	atomic_t inflight_max;
	atomic64_t completions_irq;
	atomic64_t irq_reaps;
	atomic64_t completions_polled;
};

/**
 * struct sgdma_dev - one sgdma PCI function
 * @pdev: the PCI function, NULL once removed
 * @regs: BAR0 mapping, NULL once removed
 * @lock: read-held by file operations, write-held by removal
 * @dying: removal has begun: waits end, new work is refused
 * @dev: the class device behind /dev/sgdmaN; holds the reference count
 * @cdev: the character device
 * @minor: the N of /dev/sgdmaN
 * @hw_version: the VERSION register as read at probe
 * @lim: device limits and derived driver limits
 * @irq_mode: SGDMA_IRQ_* in use
 * @nvecs: interrupt vectors allocated
 * @irq: the error vector (MSI-X) or the only vector, once requested
 * @next_chan: rotates the first channel tried by callers
 * @chans: the channels (@lim.channels of them)
 * @stats: counters
 * @files: open files (struct sgdma_file), for revocation at removal
 * @files_lock: protects @files
 * @map_lock: write-held by removal while it revokes user mappings; mmap
 *            and faults read-hold it (never @lock: they run under
 *            mmap_lock, and file operations take mmap_lock under @lock)
 * @unmapped: mappings are revoked: new ones fail, faults raise SIGBUS
 * @card_phys: bus address of card memory (BAR2), 0 if it cannot be mapped
 * @card_map_size: bytes of card memory mmap may map
 * @wq: runs the engines of asynchronous queues, one work item per channel
 * @engines: the engines (sgdma_async.c), one per channel
 * @recover_lock: serialises escalations (sgdma_recover.c)
 * @resets: function resets the driver made or recovered from (AER); a
 *          channel started before the last one must be started again
 * @leak_logged: a leak was logged (once per device)
 */
struct sgdma_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct rw_semaphore lock;
	bool dying;
	struct device dev;
	struct cdev cdev;
	int minor;
	u32 hw_version;
	struct sgdma_limits lim;
	unsigned int irq_mode;
	unsigned int nvecs;
	int irq;
	atomic_t next_chan;
	struct sgdma_chan *chans;
	struct sgdma_stats stats;
	struct list_head files;
	struct mutex files_lock;	/* protects @files */
	struct rw_semaphore map_lock;
	bool unmapped;
	phys_addr_t card_phys;
	u64 card_map_size;
	struct workqueue_struct *wq;
	struct sgdma_engine *engines;
	struct mutex recover_lock;	/* serialises escalations */
	atomic_t resets;
	bool leak_logged;
};

static inline struct device *sgdma_dma_dev(struct sgdma_dev *sdev)
{
	return &sdev->pdev->dev;
}

/**
 * sgdma_map_sgtable() - map a table of user pages for the device
 * @sdev: the device
 * @sgt: the table
 * @dir: the direction of the data
 * @attrs: DMA_ATTR_* besides DMA_ATTR_SKIP_CPU_SYNC
 *
 * Like dma_map_sgtable() without CPU syncs (callers sync the bytes they
 * move), except that a mapping the DMA API cannot make for want of IOVA or
 * bounce-buffer space (its -EIO) is -ENOMEM: the device never saw it, and
 * -EIO tells user space the device failed.
 *
 * Return: 0 or a negative errno.
 */
static inline int sgdma_map_sgtable(struct sgdma_dev *sdev,
				    struct sg_table *sgt,
				    enum dma_data_direction dir,
				    unsigned long attrs)
{
	int ret = dma_map_sgtable(sgdma_dma_dev(sdev), sgt, dir,
				  DMA_ATTR_SKIP_CPU_SYNC | attrs);

	return ret == -EIO ? -ENOMEM : ret;
}

static inline u32 sgdma_read(struct sgdma_dev *sdev, unsigned int reg)
{
	return readl(sdev->regs + reg);
}

static inline void sgdma_write(struct sgdma_dev *sdev, unsigned int reg,
			       u32 val)
{
	writel(val, sdev->regs + reg);
}

/* Parameters (sgdma_main.c) */
extern unsigned int sgdma_timeout_ms;
extern unsigned int sgdma_copy_threshold;
extern unsigned int sgdma_poll_us;
extern unsigned int sgdma_poll_threshold;
extern unsigned int sgdma_coalesce_max;
extern unsigned int sgdma_coalesce_usecs;

/**
 * sgdma_want_poll() - whether a synchronous descriptor is polled for
 * @flags: the caller's SGDMA_XFER_* flags
 * @len: the descriptor's bytes
 *
 * Return: true with SGDMA_XFER_POLL, or up to poll_threshold bytes.
 */
static inline bool sgdma_want_poll(u32 flags, u32 len)
{
	u32 threshold = READ_ONCE(sgdma_poll_threshold);

	return (flags & SGDMA_XFER_POLL) || (threshold && len <= threshold);
}

/* Channel rings (sgdma_chan.c) */
unsigned int sgdma_chan_depth(struct sgdma_chan *chan);
int sgdma_chan_post(struct sgdma_chan *chan, struct sgdma_desc *d);
int sgdma_chan_wait(struct sgdma_chan *chan, struct sgdma_desc *d);
int sgdma_chan_wait_or_kick(struct sgdma_chan *chan, struct sgdma_desc *d);
/* @d ended (sgdma_chan_wait() will not sleep for it); any context. */
static inline bool sgdma_desc_done(struct sgdma_desc *d)
{
	/* Pairs with sgdma_desc_end(): @status and @crc are valid after. */
	return smp_load_acquire(&d->done);
}

void sgdma_chan_kick(struct sgdma_chan *chan);
void sgdma_chan_cancel(struct sgdma_chan *chan, int err);
bool sgdma_chan_lost_all(struct sgdma_chan *chan, int err);
int sgdma_chan_run(struct sgdma_chan *chan, struct sgdma_desc *d);

/* Channel recovery (sgdma_recover.c) */
void sgdma_leak(struct sgdma_dev *sdev, unsigned long npages);

/* The channel set (sgdma_chans.c) */
int sgdma_chans_init(struct sgdma_dev *sdev);
void sgdma_chans_fini(struct sgdma_dev *sdev);
void sgdma_chans_wake_all(struct sgdma_dev *sdev);
void sgdma_chans_restart(struct sgdma_dev *sdev);
struct sgdma_chan *sgdma_chan_get(struct sgdma_dev *sdev, int index);
void sgdma_chan_put(struct sgdma_chan *chan);
int sgdma_chan_lists(struct sgdma_chan *chan, unsigned int set);

/* Interrupts (sgdma_irq.c) */
int sgdma_irqs_init(struct sgdma_dev *sdev, int force_mode);
void sgdma_irqs_fini(struct sgdma_dev *sdev);

/* Transfers (sgdma_xfer.c) */

/**
 * struct sgdma_req - a validated transfer request
 * @op: SGDMA_OP_*
 * @flags: SGDMA_XFER_* from the caller
 * @channel: channel requested, or -1 for any
 * @card_offset: card side, for H2C and C2H
 * @len: total bytes
 * @src: source iovecs (kernel copy, validated), H2C and H2H
 * @nr_src: entries in @src
 * @dst: destination iovecs (kernel copy, validated), C2H and H2H
 * @nr_dst: entries in @dst
 * @crc: out: CRC32C of the data moved
 * @path: out: SGDMA_PATH_*
 */
struct sgdma_req {
	unsigned int op;
	u32 flags;
	int channel;
	u64 card_offset;
	u64 len;
	const struct iovec *src;
	unsigned int nr_src;
	const struct iovec *dst;
	unsigned int nr_dst;
	u32 crc;
	unsigned int path;
};

int sgdma_xfer(struct sgdma_dev *sdev, struct sgdma_req *req);

/* The copy path (sgdma_copy.c) */
ssize_t sgdma_copy_rw(struct sgdma_dev *sdev, struct iov_iter *iter,
		      u64 card_offset, bool to_card);

/* Scatterlists of pinned pages, segment lists of host sides (sgdma_sg.c) */
u64 sgdma_sg_max(struct sgdma_dev *sdev);
int sgdma_sg_from_pages(struct sgdma_dev *sdev, u64 max, struct sg_table *sgt,
			struct page **pages, unsigned long npages,
			unsigned int offset, u64 len);
void sgdma_seglist_reset(struct sgdma_side *side, struct sgdma_seglist *l);
int sgdma_side_add(struct sgdma_dev *sdev, struct sgdma_side *side,
		   dma_addr_t addr, u64 len);
int sgdma_side_add_upto(struct sgdma_dev *sdev, struct sgdma_side *side,
			dma_addr_t addr, u64 len, u64 *added);

/* Open files and buffers (sgdma_file.c, sgdma_buf.c, sgdma_bufreq.c) */

struct sgdma_buf;

/**
 * struct sgdma_file - one open file of /dev/sgdmaN
 * @sdev: the device (a reference is held)
 * @file: the file
 * @node: in @sdev->files
 * @lock: protects @bufs, @next and @list; never held while taking
 *        mmap_lock (it is taken under it, when a mapping goes)
 * @bufs: the handle table: handle h is @bufs[h - 1]
 * @next: where the search for a free handle starts
 * @list: every buffer of the file still alive, with or without a handle
 */
struct sgdma_file {
	struct sgdma_dev *sdev;
	struct file *file;
	struct list_head node;
	struct mutex lock;	/* the handle table and the buffer list */
	struct sgdma_buf *bufs[SGDMA_MAX_BUFS];
	unsigned int next;
	struct list_head list;
};

/**
 * struct sgdma_bufreq - a validated transfer on buffers
 * @op: SGDMA_OP_*
 * @flags: SGDMA_XFER_CRC, SGDMA_XFER_CHANNEL
 * @channel: channel requested, or -1 for any
 * @card_offset: card side, for H2C and C2H
 * @src: source buffer (a reference and a busy count held), or NULL
 * @src_off: first byte in @src
 * @dst: destination buffer, likewise, or NULL
 * @dst_off: first byte in @dst
 * @len: bytes
 * @crc: out: CRC32C of the bytes completed so far (all of them on success)
 * @posted: bytes handed to the device so far (its pipeline's progress)
 * @completed: bytes the device completed, in order: @crc covers them
 * @pieces: its descriptors in flight
 * @stop: 0, or the errno it ends with once none of its descriptors is in
 *        flight: nothing more of it is posted
 * @status: out: 0 or the errno it ended with
 */
struct sgdma_bufreq {
	unsigned int op;
	u32 flags;
	int channel;
	u64 card_offset;
	struct sgdma_buf *src;
	u64 src_off;
	struct sgdma_buf *dst;
	u64 dst_off;
	u64 len;
	u32 crc;
	u64 posted;
	u64 completed;
	unsigned int pieces;
	int stop;
	int status;
};

struct sgdma_file *sgdma_file_open(struct sgdma_dev *sdev, struct file *file);
void sgdma_file_release(struct sgdma_file *sf);
void sgdma_files_revoke(struct sgdma_dev *sdev);
void sgdma_files_sync_mmaps(struct sgdma_dev *sdev);
int sgdma_buf_register(struct sgdma_file *sf, u64 addr, u64 len, u32 flags,
		       u32 *handle);
int sgdma_buf_alloc(struct sgdma_file *sf, u64 len, u32 *handle);
int sgdma_buf_free(struct sgdma_file *sf, u32 handle);
int sgdma_bufreq_get(struct sgdma_file *sf, struct sgdma_bufreq *r,
		     u32 src_handle, u32 dst_handle);
void sgdma_bufreq_put(struct sgdma_bufreq *r);
void sgdma_buf_sync(struct sgdma_buf *buf, u64 off, u64 len,
		    enum dma_data_direction dir, bool for_cpu);
int sgdma_buf_side(struct sgdma_dev *sdev, struct sgdma_buf *buf, u64 off,
		   u64 max, struct sgdma_side *side, struct sgdma_seglist *l,
		   u64 *got);
void sgdma_buf_set_leaked(struct sgdma_buf *buf);
struct sgdma_buf *sgdma_buf_get_mappable(struct sgdma_file *sf, u32 handle);
void sgdma_buf_get(struct sgdma_buf *buf);
void sgdma_buf_put(struct sgdma_buf *buf);
u64 sgdma_buf_len(const struct sgdma_buf *buf);
int sgdma_buf_mmap(struct sgdma_buf *buf, struct vm_area_struct *vma);

/* Transfers on buffers (sgdma_bufpipe.c) */

/**
 * struct sgdma_bufpiece - one descriptor of a buffer transfer in flight
 * @d: the descriptor
 * @sside: its source side
 * @dside: its destination side
 * @r: the request it is a piece of
 * @done: bytes of @r before it
 */
struct sgdma_bufpiece {
	struct sgdma_desc d;
	struct sgdma_side sside;
	struct sgdma_side dside;
	struct sgdma_bufreq *r;
	u64 done;
};

struct sgdma_bufpipe;

/**
 * struct sgdma_bufpipe_ops - what feeds a pipeline and hears of its requests
 * @next: the request to post the next piece of (bytes left to post, no
 *        @stop), or NULL: nothing more for now
 * @end: the request ended with @r->status; the device is done with it and
 *       the pipeline no longer touches it
 * @retry: another request's piece failed while @r had pieces in flight:
 *         they did not run, and @r's progress is rolled back to its first
 *         piece not completed; it must be fed again (requests come newest
 *         first). NULL: such requests end with the failure.
 * @hungry: @next gave nothing, but would take requests that arrive before
 *          the oldest piece completes: whoever gives it one kicks the
 *          channel (sgdma_chan_kick()), which wakes the wait so that they
 *          are posted at once. NULL: never.
 * @flush: the pipeline is about to wait for its oldest piece, or returns:
 *         what @end heard of may be passed on now. NULL: nothing to do.
 */
struct sgdma_bufpipe_ops {
	struct sgdma_bufreq *(*next)(struct sgdma_bufpipe *bp);
	void (*end)(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r);
	void (*retry)(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r);
	bool (*hungry)(struct sgdma_bufpipe *bp);
	void (*flush)(struct sgdma_bufpipe *bp);
};

/**
 * struct sgdma_bufpipe - pieces of requests in flight on one channel
 * @chan: the channel, held by the pipeline's owner
 * @ops: its feed
 * @queued: nobody waits for the pieces: never poll
 * @first: free-running index of the oldest piece in flight
 * @next: free-running index of the next piece to post
 * @pieces: one per list set of the channel, @first to @next in flight
 */
struct sgdma_bufpipe {
	struct sgdma_chan *chan;
	const struct sgdma_bufpipe_ops *ops;
	bool queued;
	unsigned int first;
	unsigned int next;
	struct sgdma_bufpiece pieces[SGDMA_LIST_SETS];
};

void sgdma_bufreq_start(struct sgdma_bufreq *r);
void sgdma_bufpipe_init(struct sgdma_bufpipe *bp, struct sgdma_chan *chan,
			const struct sgdma_bufpipe_ops *ops, bool queued);
void sgdma_bufpipe_run(struct sgdma_bufpipe *bp);
void sgdma_bufpipe_stop(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r,
			int err);
int sgdma_bufreq_run(struct sgdma_dev *sdev, struct sgdma_bufreq *r);

/* sysfs attributes (sgdma_sysfs.c) and debugfs files (sgdma_debugfs.c) */
extern const struct attribute_group *sgdma_groups[];
void sgdma_debugfs_init(void);
void sgdma_debugfs_exit(void);
void sgdma_debugfs_add(struct sgdma_dev *sdev);
void sgdma_debugfs_del(struct sgdma_dev *sdev);

/* mmap (sgdma_mmap.c) */
int sgdma_mmap_init(struct sgdma_dev *sdev);
int sgdma_mmap(struct file *file, struct vm_area_struct *vma);
void sgdma_mmap_revoke(struct sgdma_dev *sdev);

/* Asynchronous queues (sgdma_async.c) */
long sgdma_ioctl_queue_create(struct sgdma_file *sf, void __user *uarg);
int sgdma_engines_init(struct sgdma_dev *sdev);

/* ioctls (sgdma_ioctl.c) */
long sgdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg);
int sgdma_copy_struct_in(void *dst, size_t ksize, size_t ver0,
			 const void __user *uarg, u32 *usize);
int sgdma_buf_xfer_check(struct sgdma_dev *sdev,
			 const struct sgdma_buf_xfer *x,
			 struct sgdma_bufreq *r);

/* CRC32C (sgdma_crc.c); all values are final (complemented) CRCs */
u32 sgdma_crc32c(const void *buf, size_t len);
u32 sgdma_crc32c_combine(u32 crc1, u32 crc2, size_t len2);
u32 sgdma_crc32c_strip(u32 crc, const void *head, size_t head_len,
		       size_t mid_len, const void *tail, size_t tail_len);

/* Lifetime (sgdma_main.c) */
int sgdma_get_live(struct sgdma_dev *sdev);
void sgdma_put_live(struct sgdma_dev *sdev);

#endif /* SGDMA_H */
