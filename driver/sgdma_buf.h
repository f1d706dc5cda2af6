/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma buffers, as the files that handle them see them: sgdma_buf.c
 * (lifetime, registration, handles), sgdma_bufreq.c (their use by
 * transfers) and sgdma_file.c (the open files that own them). Everything
 * else uses a buffer through the functions of sgdma.h only.
 */
#ifndef SGDMA_BUF_H
#define SGDMA_BUF_H

#include <linux/atomic.h>
#include <linux/dma-direction.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/types.h>

struct mm_struct;
struct page;
struct sgdma_file;

enum sgdma_buf_kind {
	SGDMA_BUF_USER,
	SGDMA_BUF_COHERENT,
};

/*
 * A run of bus addresses: bytes [@off, @off + @len) of the buffer. For a
 * registered buffer, one DMA mapping (of physically contiguous memory).
 */
struct sgdma_buf_seg {
	dma_addr_t addr;
	u64 off;
	u64 len;
};

/**
 * struct sgdma_buf - a registered or coherent buffer
 * @ref: references: the handle, transfers, mappings
 * @busy: transfers in flight that use the buffer
 * @sf: the file it belongs to
 * @node: in @sf->list while alive
 * @handle: its handle, 0 once freed
 * @kind: SGDMA_BUF_USER or SGDMA_BUF_COHERENT
 * @readonly: user memory pinned for reading only
 * @torn: memory and DMA mappings released (under @sf->lock)
 * @leaked: a channel that would not stop may still access it: teardown
 *          leaks its memory and mappings (sgdma_leak())
 * @len: bytes usable
 * @dir: DMA direction of the mapping
 * @mm: the creator's mm, grabbed: only it may use the handle; charged
 * @charged: pages charged to @mm->pinned_vm
 * @segs: bus address runs, in buffer order
 * @nsegs: entries in @segs (user: each mapped for DMA)
 * @pages: user: the pinned pages
 * @npages: user: pages pinned; coherent: pages allocated
 * @page_off: user: offset of the first byte in its page
 * @cpu: coherent: kernel address
 * @dma: coherent: bus address
 * @mm_synced: coherent: removal waited for mmaps in progress in @mm
 */
struct sgdma_buf {
	struct kref ref;
	atomic_t busy;
	struct sgdma_file *sf;
	struct list_head node;
	u32 handle;
	enum sgdma_buf_kind kind;
	bool readonly;
	bool torn;
	bool leaked;
	u64 len;
	enum dma_data_direction dir;
	struct mm_struct *mm;
	unsigned long charged;
	struct sgdma_buf_seg *segs;
	unsigned int nsegs;
	struct page **pages;
	unsigned long npages;
	unsigned int page_off;
	void *cpu;
	dma_addr_t dma;
	bool mm_synced;
};

void sgdma_buf_teardown(struct sgdma_buf *buf);
struct sgdma_buf *sgdma_buf_lookup(struct sgdma_file *sf, u32 handle);

#endif /* SGDMA_BUF_H */
