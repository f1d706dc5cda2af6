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

/*
 * Release the buffer's memory and DMA mappings. Under @sf->lock (or before
 * the buffer is published), while the device, if it is still there, no
 * longer uses the buffer.
 */
static void sgdma_buf_teardown(struct sgdma_buf *buf)
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

/* The buffer behind @handle, for the calling process; @sf->lock held. */
static struct sgdma_buf *sgdma_buf_lookup(struct sgdma_file *sf, u32 handle)
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

/* ---- transfers on buffers ---- */

static int sgdma_bufreq_take(struct sgdma_file *sf, u32 handle, u64 off,
			     u64 len, bool dst, struct sgdma_buf **bufp)
{
	struct sgdma_buf *buf = sgdma_buf_lookup(sf, handle);
	u64 end;

	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (check_add_overflow(off, len, &end) || end > buf->len ||
	    (dst && buf->readonly))
		return -EINVAL;
	*bufp = buf;
	return 0;
}

/**
 * sgdma_bufreq_get() - resolve the handles of a checked request
 * @sf: the file
 * @r: the request, checked by sgdma_buf_xfer_check()
 * @src_handle: source handle, 0 without one
 * @dst_handle: destination handle, 0 without one
 *
 * Takes a reference and a busy count on each buffer, so that it can be
 * neither freed nor released until sgdma_bufreq_put().
 *
 * Return: 0, -ENOENT, -EACCES, -EINVAL (range outside the buffer, or a
 * read-only destination) or -ENODEV.
 */
int sgdma_bufreq_get(struct sgdma_file *sf, struct sgdma_bufreq *r,
		     u32 src_handle, u32 dst_handle)
{
	struct sgdma_buf *src = NULL, *dst = NULL;
	int ret = 0;

	mutex_lock(&sf->lock);
	if (src_handle)
		ret = sgdma_bufreq_take(sf, src_handle, r->src_off, r->len,
					false, &src);
	if (!ret && dst_handle)
		ret = sgdma_bufreq_take(sf, dst_handle, r->dst_off, r->len,
					true, &dst);
	if (!ret) {
		if (src) {
			kref_get(&src->ref);
			atomic_inc(&src->busy);
		}
		if (dst) {
			kref_get(&dst->ref);
			atomic_inc(&dst->busy);
		}
		r->src = src;
		r->dst = dst;
	}
	mutex_unlock(&sf->lock);
	return ret;
}

/**
 * sgdma_bufreq_put() - release what sgdma_bufreq_get() took
 * @r: the request; the device no longer uses its buffers
 */
void sgdma_bufreq_put(struct sgdma_bufreq *r)
{
	if (r->src) {
		atomic_dec(&r->src->busy);
		sgdma_buf_put(r->src);
		r->src = NULL;
	}
	if (r->dst) {
		atomic_dec(&r->dst->busy);
		sgdma_buf_put(r->dst);
		r->dst = NULL;
	}
}

/* Index of the run holding byte @off (which is inside the buffer). */
static unsigned int sgdma_buf_seg_find(const struct sgdma_buf *buf, u64 off)
{
	unsigned int lo = 0, hi = buf->nsegs;

	while (hi - lo > 1) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (buf->segs[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/**
 * sgdma_buf_sync() - sync bytes of a buffer for the device or for the CPU
 * @buf: the buffer
 * @off: first byte
 * @len: bytes
 * @dir: the direction of the data
 * @for_cpu: for the CPU, else for the device
 *
 * Syncs bytes [@off, @off + @len) of a registered buffer: a partial sync
 * of each run (a single mapping of physically contiguous memory,
 * sgdma_buf_map()) the range covers, and of nothing else. Coherent buffers
 * need nothing.
 */
void sgdma_buf_sync(struct sgdma_buf *buf, u64 off, u64 len,
		    enum dma_data_direction dir, bool for_cpu)
{
	struct device *dev = sgdma_dma_dev(buf->sf->sdev);
	unsigned int i;

	if (buf->kind != SGDMA_BUF_USER || !len)
		return;
	for (i = sgdma_buf_seg_find(buf, off); len; i++) {
		const struct sgdma_buf_seg *s = &buf->segs[i];
		u64 in = off - s->off, n = min(s->len - in, len);

		if (for_cpu)
			dma_sync_single_range_for_cpu(dev, s->addr, in, n, dir);
		else
			dma_sync_single_range_for_device(dev, s->addr, in, n,
							 dir);
		off += n;
		len -= n;
	}
}

/**
 * sgdma_buf_side() - describe bytes of a buffer as a host side
 * @sdev: the device
 * @buf: the buffer
 * @off: first byte
 * @max: most bytes to describe
 * @side: the side
 * @l: the channel's list that holds its segments
 * @got: out: the bytes described, fewer than @max when @l filled up first
 *
 * Return: 0 or -EINVAL (a segment would break the device's alignment).
 */
int sgdma_buf_side(struct sgdma_dev *sdev, struct sgdma_buf *buf, u64 off,
		   u64 max, struct sgdma_side *side, struct sgdma_seglist *l,
		   u64 *got)
{
	unsigned int i;

	sgdma_seglist_reset(side, l);
	*got = 0;
	for (i = sgdma_buf_seg_find(buf, off); *got < max && i < buf->nsegs;
	     i++) {
		const struct sgdma_buf_seg *s = &buf->segs[i];
		u64 in = off + *got - s->off, added;
		int ret;

		ret = sgdma_side_add_upto(sdev, side, s->addr + in,
					  min(s->len - in, max - *got), &added);
		*got += added;
		if (ret == -E2BIG)
			break;
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * sgdma_buf_set_leaked() - never release a buffer's memory and mappings
 * @buf: the buffer, which a channel that would not stop may still access
 */
void sgdma_buf_set_leaked(struct sgdma_buf *buf)
{
	buf->leaked = true;
}

/* ---- open files ---- */

/**
 * sgdma_file_open() - set up the per-file state of a new open
 * @sdev: the device (the caller holds a reference for the file)
 * @file: the file
 *
 * Return: the state, or NULL without memory.
 */
struct sgdma_file *sgdma_file_open(struct sgdma_dev *sdev, struct file *file)
{
	struct sgdma_file *sf = kzalloc(sizeof(*sf), GFP_KERNEL);

	if (!sf)
		return NULL;
	sf->sdev = sdev;
	sf->file = file;
	mutex_init(&sf->lock);
	INIT_LIST_HEAD(&sf->list);
	mutex_lock(&sdev->files_lock);
	list_add_tail(&sf->node, &sdev->files);
	mutex_unlock(&sdev->files_lock);
	return sf;
}

/**
 * sgdma_file_release() - free the per-file state at the last close
 * @sf: the state
 *
 * Nothing uses the file's buffers any more: transfers, queues and mappings
 * all hold the file.
 */
void sgdma_file_release(struct sgdma_file *sf)
{
	struct sgdma_dev *sdev = sf->sdev;
	unsigned int i;

	/* Removal, which revokes buffers, does not run meanwhile. */
	down_read(&sdev->lock);
	for (i = 0; i < SGDMA_MAX_BUFS; i++) {
		struct sgdma_buf *buf;

		mutex_lock(&sf->lock);
		buf = sf->bufs[i];
		sf->bufs[i] = NULL;
		mutex_unlock(&sf->lock);
		if (buf)
			sgdma_buf_put(buf);
	}
	WARN_ON(!list_empty(&sf->list));
	mutex_lock(&sdev->files_lock);
	list_del(&sf->node);
	mutex_unlock(&sdev->files_lock);
	up_read(&sdev->lock);
	mutex_destroy(&sf->lock);
	kfree(sf);
}

/**
 * sgdma_files_revoke() - release every buffer of every open file
 * @sdev: the device, being removed: no file operation runs, the channels
 *        are stopped or idle, user mappings are revoked
 */
void sgdma_files_revoke(struct sgdma_dev *sdev)
{
	struct sgdma_file *sf;
	struct sgdma_buf *buf;

	mutex_lock(&sdev->files_lock);
	list_for_each_entry(sf, &sdev->files, node) {
		mutex_lock(&sf->lock);
		list_for_each_entry(buf, &sf->list, node)
			sgdma_buf_teardown(buf);
		mutex_unlock(&sf->lock);
	}
	mutex_unlock(&sdev->files_lock);
}

/**
 * sgdma_files_sync_mmaps() - wait for mmaps of coherent buffers in progress
 * @sdev: the device, being removed, its mappings already marked revoked
 *
 * sgdma_mmap() populates a coherent buffer's mapping at once, but the
 * mapping joins its file's address space, where revocation finds it, only
 * after sgdma_mmap() returned, with its mm's mmap_lock still held for
 * writing. Only a buffer's creator may map it: taking each creator's
 * mmap_lock once waits for every such mmap that passed its check before
 * revocation. mmap_lock is taken under @files_lock, never under @sf->lock.
 */
void sgdma_files_sync_mmaps(struct sgdma_dev *sdev)
{
	struct sgdma_file *sf;

	mutex_lock(&sdev->files_lock);
	list_for_each_entry(sf, &sdev->files, node) {
		struct mm_struct *mm;

		do {
			struct sgdma_buf *buf;

			mm = NULL;
			mutex_lock(&sf->lock);
			list_for_each_entry(buf, &sf->list, node) {
				if (buf->kind == SGDMA_BUF_COHERENT &&
				    !buf->mm_synced) {
					buf->mm_synced = true;
					mm = buf->mm;
					mmgrab(mm);
					break;
				}
			}
			mutex_unlock(&sf->lock);
			if (mm) {
				mmap_read_lock(mm);
				mmap_read_unlock(mm);
				mmdrop(mm);
			}
		} while (mm);
	}
	mutex_unlock(&sdev->files_lock);
}
