// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma buffers: memory the device reaches without a pin and a mapping per
 * transfer, named by handles private to an open file.
 *
 * Registered buffers are user memory pinned long term (FOLL_LONGTERM),
 * charged to the owner's RLIMIT_MEMLOCK through mm->pinned_vm (as RDMA
 * does), cut into physically contiguous runs within the device's segment
 * limits and mapped for DMA once, each run a mapping of its own. A
 * transfer then only builds segment lists from the mapped runs and syncs
 * the bytes it moves, so under swiotlb=force it bounces just its own
 * range (see sgdma_buf_map() for why the runs are mapped one by one).
 *
 * Coherent buffers come from dma_alloc_coherent(); user space maps them
 * with mmap (sgdma_mmap.c) as the DMA layer maps them (dma_mmap_coherent()).
 *
 * Lifetime. A buffer holds references from its handle, from each transfer
 * that uses it (with a busy count, so that freeing it then fails with
 * -EBUSY) and from each mapping; the last one releases it. Each of those
 * holders also holds the file, so a buffer never outlives its file. The
 * memory and DMA mappings are released ("torn down") under the file's
 * lock, either by that last reference or by removal of the device, which
 * revokes every buffer of every open file while no file operation runs, so
 * nothing is unmapped from a device that is gone.
 *
 * Handles are usable only by the process that created them (its mm): a
 * child that inherits the file after fork() holds no rights to its
 * parent's pinned pages. Pinned anonymous pages stay with the parent at
 * fork (the kernel copies pinned pages for the child eagerly).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/nospec.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "sgdma.h"
#include "sgdma_buf.h"
#include "sgdma_trace.h"

/* Pages pinned per call of pin_user_pages_fast() while registering. */
#define SGDMA_PIN_BATCH		512

/*
 * GUP flags of a read-only long-term pin. Before 6.2 such a pin does not
 * unshare the page it finds (the shared zero page of untouched memory, the
 * page-cache page of a private file mapping): a later CPU write copies the
 * page away from the pin and the device reads stale bytes. There, break
 * copy-on-write at pin time, as RDMA's umem did (FOLL_FORCE lets the write
 * through a read-only private mapping). Later kernels unshare by
 * themselves (FAULT_FLAG_UNSHARE), so a read pin suffices.
 */
#ifdef SGDMA_GUP_RO_PIN_NO_UNSHARE
#define SGDMA_GUP_READONLY	(FOLL_WRITE | FOLL_FORCE)
#else
#define SGDMA_GUP_READONLY	0
#endif

/* Charge @npages to @mm's RLIMIT_MEMLOCK, as pinned memory. */
static int sgdma_charge(struct mm_struct *mm, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	s64 pinned = atomic64_add_return(npages, &mm->pinned_vm);

	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	return 0;
}

static struct sgdma_buf *sgdma_buf_new(struct sgdma_file *sf,
				       enum sgdma_buf_kind kind, u64 len)
{
	struct sgdma_buf *buf = kzalloc(sizeof(*buf), GFP_KERNEL);

	if (!buf)
		return NULL;
	kref_init(&buf->ref);
	atomic_set(&buf->busy, 0);
	INIT_LIST_HEAD(&buf->node);
	buf->sf = sf;
	buf->kind = kind;
	buf->len = len;
	buf->dir = DMA_BIDIRECTIONAL;
	buf->mm = current->mm;
	mmgrab(buf->mm);
	return buf;
}

/* Unmap the runs of a registered buffer that sgdma_buf_map() mapped. */
static void sgdma_buf_unmap(struct sgdma_buf *buf)
{
	struct device *dev = sgdma_dma_dev(buf->sf->sdev);
	unsigned int i;

	for (i = 0; i < buf->nsegs; i++)
		dma_unmap_page_attrs(dev, buf->segs[i].addr, buf->segs[i].len,
				     buf->dir, DMA_ATTR_SKIP_CPU_SYNC);
}

/**
 * sgdma_buf_teardown() - release a buffer's memory and DMA mappings
 * @buf: the buffer; under its file's lock (or before it is published),
 *       while the device, if it is still there, no longer uses it
 *
 * Idempotent: the buffer stays, torn, until its last reference goes.
 */
void sgdma_buf_teardown(struct sgdma_buf *buf)
{
	struct sgdma_dev *sdev = buf->sf->sdev;

	if (buf->torn)
		return;
	buf->torn = true;
	if (buf->kind == SGDMA_BUF_USER) {
		if (!buf->leaked)
			sgdma_buf_unmap(buf);
		if (buf->npages) {
			if (buf->leaked)
				sgdma_leak(sdev, buf->npages);
			else
				unpin_user_pages_dirty_lock(buf->pages,
							    buf->npages,
							    !buf->readonly);
			atomic_long_sub(buf->npages, &sdev->stats.pages_pinned);
		}
		kvfree(buf->pages);
	} else if (buf->cpu) {
		if (buf->leaked)
			sgdma_leak(sdev, buf->npages);
		else
			dma_free_coherent(sgdma_dma_dev(sdev), buf->len,
					  buf->cpu, buf->dma);
	}
	kvfree(buf->segs);
	if (buf->charged)
		atomic64_sub(buf->charged, &buf->mm->pinned_vm);
	buf->nsegs = 0;
	buf->npages = 0;
	buf->pages = NULL;
	buf->cpu = NULL;
	buf->segs = NULL;
	buf->charged = 0;
}

static void sgdma_buf_destroy(struct sgdma_buf *buf)
{
	mmdrop(buf->mm);
	kfree(buf);
}

/* Last reference: called with @sf->lock held, which it drops. */
static void sgdma_buf_release(struct kref *ref)
{
	struct sgdma_buf *buf = container_of(ref, struct sgdma_buf, ref);
	struct sgdma_file *sf = buf->sf;

	list_del(&buf->node);
	sgdma_buf_teardown(buf);
	mutex_unlock(&sf->lock);
	sgdma_buf_destroy(buf);
}

/**
 * sgdma_buf_get() - take a reference on a buffer the caller holds one on
 * @buf: the buffer
 */
void sgdma_buf_get(struct sgdma_buf *buf)
{
	kref_get(&buf->ref);
}

/**
 * sgdma_buf_put() - drop a reference; the last releases the buffer
 * @buf: the buffer
 *
 * Takes the file's lock: not to be called with it held.
 */
void sgdma_buf_put(struct sgdma_buf *buf)
{
	kref_put_mutex(&buf->ref, sgdma_buf_release, &buf->sf->lock);
}

/* ---- registration ---- */

static int sgdma_buf_pin(struct sgdma_buf *buf, u64 addr)
{
	struct sgdma_dev *sdev = buf->sf->sdev;
	unsigned long start = addr & PAGE_MASK, npages;
	unsigned int gup = FOLL_LONGTERM |
			   (buf->readonly ? SGDMA_GUP_READONLY : FOLL_WRITE);
	int ret;

	buf->page_off = offset_in_page(addr);
	npages = DIV_ROUND_UP(buf->page_off + buf->len, PAGE_SIZE);
	ret = sgdma_charge(buf->mm, npages);
	if (ret)
		return ret;
	buf->charged = npages;

	buf->pages = kvmalloc_array(npages, sizeof(*buf->pages), GFP_KERNEL);
	if (!buf->pages)
		return -ENOMEM;
	while (buf->npages < npages) {
		unsigned long uaddr = start + buf->npages * PAGE_SIZE;
		int got;

		got = pin_user_pages_fast(uaddr, min_t(unsigned long,
						       npages - buf->npages,
						       SGDMA_PIN_BATCH),
					  gup, buf->pages + buf->npages);
		trace_sgdma_pin(sdev->minor, uaddr, max(got, 0),
				!buf->readonly);
		if (got <= 0)
			return got ? got : -EFAULT;
		buf->npages += got;
		atomic_long_add(got, &sdev->stats.pages_pinned);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

/*
 * Map the pinned pages once, in runs the device and the DMA layer take,
 * each run a DMA mapping of its own (dma_map_page_attrs()), not one
 * dma_map_sgtable() of the whole table.
 *
 * Why: a transfer moves a sub-range of the buffer and must sync exactly
 * those bytes, while other transfers and the CPU may own the rest. The DMA
 * API allows a partial sync only of a single mapping
 * (dma_sync_single_range_*(), Documentation/core-api/dma-api.rst); the
 * dma_sync_sg_*() calls take the list and entry count as mapped, which
 * DMA-API debugging enforces ("syncs DMA sg list with different entry
 * count"). Syncing a mapped table's DMA runs as single ranges is not
 * allowed either: an IOMMU may merge physically discontiguous entries into
 * one IOVA run, which such a sync would take for contiguous memory. And
 * syncing the whole table for each transfer would, under swiotlb, copy the
 * bounce buffer back over bytes the CPU or another transfer owns (on a
 * non-coherent CPU, invalidate them). Mapped run by run, each run
 * physically contiguous, syncing the runs that cover a range is exact and
 * legal everywhere. The price: behind an IOMMU the device gets a segment
 * per physically contiguous run instead of merged IOVA runs, so more
 * descriptors for scattered 4 KiB pages.
 */
static int sgdma_buf_map(struct sgdma_buf *buf)
{
	struct sgdma_dev *sdev = buf->sf->sdev;
	struct device *dev = sgdma_dma_dev(sdev);
	struct scatterlist *sg;
	struct sg_table sgt;
	unsigned int i;
	u64 off = 0;
	int ret;

	ret = sgdma_sg_from_pages(sdev, sgdma_sg_max(sdev), &sgt, buf->pages,
				  buf->npages, buf->page_off, buf->len);
	if (ret)
		return ret;
	buf->dir = buf->readonly ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL;
	buf->segs = kvmalloc_array(sgt.orig_nents, sizeof(*buf->segs),
				   GFP_KERNEL);
	if (!buf->segs) {
		ret = -ENOMEM;
		goto out;
	}
	for_each_sgtable_sg(&sgt, sg, i) {
		/*
		 * Each transfer syncs the bytes it moves, and only those. The
		 * caller sizes this long-lived mapping and gets -ENOMEM when
		 * the IOVA or bounce space cannot hold it: no kernel warning
		 * for a user's request.
		 */
		dma_addr_t addr = dma_map_page_attrs(dev, sg_page(sg),
						     sg->offset, sg->length,
						     buf->dir,
						     DMA_ATTR_SKIP_CPU_SYNC |
						     DMA_ATTR_NO_WARN);

		if (dma_mapping_error(dev, addr)) {
			ret = -ENOMEM;
			break;
		}
		buf->segs[i].addr = addr;
		buf->segs[i].off = off;
		buf->segs[i].len = sg->length;
		buf->nsegs++;
		off += sg->length;
		cond_resched();
	}
	trace_sgdma_map(sdev->minor, sgt.orig_nents, buf->nsegs, buf->dir);
	if (!ret && WARN_ON_ONCE(off != buf->len))
		ret = -EIO;
out:
	sg_free_table(&sgt);
	return ret;
}

static int sgdma_buf_coherent(struct sgdma_buf *buf)
{
	struct device *dev = sgdma_dma_dev(buf->sf->sdev);
	int ret;

	buf->npages = buf->len >> PAGE_SHIFT;
	ret = sgdma_charge(buf->mm, buf->npages);
	if (ret)
		return ret;
	buf->charged = buf->npages;

	buf->cpu = dma_alloc_coherent(dev, buf->len, &buf->dma,
				      GFP_KERNEL | __GFP_NOWARN);
	if (!buf->cpu)
		return -ENOMEM;
	buf->segs = kvzalloc(sizeof(*buf->segs), GFP_KERNEL);
	if (!buf->segs)
		return -ENOMEM;
	buf->segs[0].addr = buf->dma;
	buf->segs[0].len = buf->len;
	buf->nsegs = 1;
	return 0;
}

/* Give the buffer a handle; fails with -ENOSPC when none is free. */
static int sgdma_buf_insert(struct sgdma_file *sf, struct sgdma_buf *buf,
			    u32 *handle)
{
	unsigned int i, idx = 0;

	mutex_lock(&sf->lock);
	for (i = 0; i < SGDMA_MAX_BUFS; i++) {
		idx = (sf->next + i) % SGDMA_MAX_BUFS;
		if (!sf->bufs[idx])
			break;
	}
	if (i == SGDMA_MAX_BUFS) {
		mutex_unlock(&sf->lock);
		return -ENOSPC;
	}
	/* Handles go round the table, so a stale one rarely names another. */
	sf->next = (idx + 1) % SGDMA_MAX_BUFS;
	sf->bufs[idx] = buf;
	buf->handle = idx + 1;
	list_add_tail(&buf->node, &sf->list);
	*handle = buf->handle;
	mutex_unlock(&sf->lock);
	return 0;
}

/* Publish a buffer set up with result @ret, or undo it. */
static int sgdma_buf_publish(struct sgdma_file *sf, struct sgdma_buf *buf,
			     int ret, u32 *handle)
{
	if (!ret)
		ret = sgdma_buf_insert(sf, buf, handle);
	if (ret) {
		sgdma_buf_teardown(buf);
		sgdma_buf_destroy(buf);
	}
	return ret;
}

/**
 * sgdma_buf_register() - pin and map user memory (SGDMA_IOC_BUF_REGISTER)
 * @sf: the file, its device not held: the pin may wait for user faults
 *      without end, the device is taken only to map
 * @addr: user address
 * @len: bytes
 * @flags: SGDMA_BUF_READONLY or 0
 * @handle: out: the new handle
 *
 * Return: 0 or a negative errno (see struct sgdma_buf_reg).
 */
int sgdma_buf_register(struct sgdma_file *sf, u64 addr, u64 len, u32 flags,
		       u32 *handle)
{
	struct sgdma_buf *buf;
	u64 end;
	int ret;

	if (flags & ~SGDMA_BUF_READONLY || !len || len > SGDMA_BUF_MAX_LEN ||
	    !IS_ALIGNED(addr, sf->sdev->lim.seg_align) ||
	    check_add_overflow(addr, len, &end))
		return -EINVAL;
	if (!access_ok(u64_to_user_ptr(addr), len))
		return -EFAULT;

	buf = sgdma_buf_new(sf, SGDMA_BUF_USER, len);
	if (!buf)
		return -ENOMEM;
	buf->readonly = flags & SGDMA_BUF_READONLY;
	ret = sgdma_buf_pin(buf, addr);
	if (!ret)
		ret = sgdma_get_live(sf->sdev);
	if (ret)
		return sgdma_buf_publish(sf, buf, ret, handle);
	ret = sgdma_buf_publish(sf, buf, sgdma_buf_map(buf), handle);
	sgdma_put_live(sf->sdev);
	return ret;
}

/**
 * sgdma_buf_alloc() - allocate a coherent buffer (SGDMA_IOC_BUF_ALLOC)
 * @sf: the file, its device live
 * @len: bytes, rounded up to pages here
 * @handle: out: the new handle
 *
 * Return: 0 or a negative errno.
 */
int sgdma_buf_alloc(struct sgdma_file *sf, u64 len, u32 *handle)
{
	struct sgdma_buf *buf;

	if (!len || len > SGDMA_BUF_MAX_LEN)
		return -EINVAL;
	buf = sgdma_buf_new(sf, SGDMA_BUF_COHERENT, PAGE_ALIGN(len));
	if (!buf)
		return -ENOMEM;
	return sgdma_buf_publish(sf, buf, sgdma_buf_coherent(buf), handle);
}

/**
 * sgdma_buf_lookup() - the buffer behind a handle, for the calling process
 * @sf: the file, its lock held
 * @handle: the handle, as user space gave it
 *
 * Return: the buffer (no reference taken), ERR_PTR(-ENOENT), -EACCES
 * (another process's) or -ENODEV (torn down by removal).
 */
struct sgdma_buf *sgdma_buf_lookup(struct sgdma_file *sf, u32 handle)
{
	struct sgdma_buf *buf;

	lockdep_assert_held(&sf->lock);
	if (!handle || handle > SGDMA_MAX_BUFS)
		return ERR_PTR(-ENOENT);
	buf = sf->bufs[array_index_nospec(handle - 1, SGDMA_MAX_BUFS)];
	if (!buf)
		return ERR_PTR(-ENOENT);
	if (buf->mm != current->mm)
		return ERR_PTR(-EACCES);
	if (buf->torn)
		return ERR_PTR(-ENODEV);
	return buf;
}

/**
 * sgdma_buf_free() - drop a handle (SGDMA_IOC_BUF_FREE)
 * @sf: the file
 * @handle: the handle
 *
 * The buffer goes with its last reference: at once unless mapped.
 *
 * Return: 0, -ENOENT, -EACCES or -EBUSY (a transfer in flight uses it).
 */
int sgdma_buf_free(struct sgdma_file *sf, u32 handle)
{
	struct sgdma_buf *buf;

	mutex_lock(&sf->lock);
	buf = sgdma_buf_lookup(sf, handle);
	if (IS_ERR(buf)) {
		mutex_unlock(&sf->lock);
		return PTR_ERR(buf);
	}
	if (atomic_read(&buf->busy)) {
		mutex_unlock(&sf->lock);
		return -EBUSY;
	}
	sf->bufs[array_index_nospec(handle - 1, SGDMA_MAX_BUFS)] = NULL;
	buf->handle = 0;
	mutex_unlock(&sf->lock);
	sgdma_buf_put(buf);
	return 0;
}

/**
 * sgdma_buf_get_mappable() - the coherent buffer behind @handle, for mmap
 * @sf: the file
 * @handle: the handle
 *
 * Return: the buffer with a reference for the mapping, or ERR_PTR().
 */
struct sgdma_buf *sgdma_buf_get_mappable(struct sgdma_file *sf, u32 handle)
{
	struct sgdma_buf *buf;

	mutex_lock(&sf->lock);
	buf = sgdma_buf_lookup(sf, handle);
	if (!IS_ERR(buf) && buf->kind != SGDMA_BUF_COHERENT)
		buf = ERR_PTR(-EINVAL);
	if (!IS_ERR(buf))
		kref_get(&buf->ref);
	mutex_unlock(&sf->lock);
	return buf;
}

/**
 * sgdma_buf_len() - bytes of a buffer
 * @buf: the buffer
 *
 * Return: its length.
 */
u64 sgdma_buf_len(const struct sgdma_buf *buf)
{
	return buf->len;
}

/**
 * sgdma_buf_mmap() - map pages of a coherent buffer into user space
 * @buf: the buffer, not torn down (the caller excludes revocation)
 * @vma: the new mapping; its vm_pgoff is the first page of @buf it maps
 *
 * The DMA layer maps it with its own page protections and populates the
 * whole range: remap_pfn_range() (VM_IO | VM_PFNMAP) for contiguous
 * memory, vm_map_pages() (VM_MIXEDMAP) for an IOMMU's page array.
 *
 * Return: 0 or a negative errno.
 */
int sgdma_buf_mmap(struct sgdma_buf *buf, struct vm_area_struct *vma)
{
	return dma_mmap_coherent(sgdma_dma_dev(buf->sf->sdev), vma, buf->cpu,
				 buf->dma, buf->len);
}
