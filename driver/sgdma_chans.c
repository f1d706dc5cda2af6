// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma channel set: allocating and starting every channel and releasing
 * them, taking one for a transfer and giving it back, its segment list
 * sets, waking every waiter, and restarting every channel after a reset.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/random.h>
#include <linux/slab.h>

#include "sgdma.h"
#include "sgdma_chan.h"

/**
 * sgdma_chan_get() - take a channel for a transfer
 * @sdev: the device, live
 * @index: the channel wanted (already bounds-checked), or -1 for any
 *
 * Return: the channel, locked, or ERR_PTR(-EINTR).
 */
struct sgdma_chan *sgdma_chan_get(struct sgdma_dev *sdev, int index)
{
	unsigned int n = sdev->lim.channels, first, i;
	struct sgdma_chan *chan;

	if (index < 0) {
		first = (unsigned int)atomic_inc_return(&sdev->next_chan) % n;
		for (i = 0; i < n; i++) {
			chan = &sdev->chans[(first + i) % n];
			if (mutex_trylock(&chan->lock))
				return chan;
		}
		index = first;
	}
	chan = &sdev->chans[index];
	if (mutex_lock_interruptible(&chan->lock))
		return ERR_PTR(-EINTR);
	return chan;
}

/**
 * sgdma_chan_put() - release a channel taken with sgdma_chan_get()
 * @chan: the channel
 *
 * A channel a failure left stopped is reset and started again here, once
 * its last user has unmapped its buffers.
 */
void sgdma_chan_put(struct sgdma_chan *chan)
{
	/* Owners wait for or cancel everything they posted. */
	if (WARN_ON_ONCE(chan->head != chan->tail))
		sgdma_chan_cancel(chan, -EIO);
	chan->abandoned = false;
	if (chan->needs_reset && !READ_ONCE(chan->sdev->dying))
		sgdma_chan_start(chan);
	mutex_unlock(&chan->lock);
}

/* Allocate @l with room for @cap entries, unless it exists. */
static int sgdma_seglist_alloc(struct sgdma_chan *chan,
			       struct sgdma_seglist *l, unsigned int cap)
{
	if (l->seg)
		return 0;
	l->seg = dmam_alloc_coherent(&chan->sdev->pdev->dev,
				     cap * sizeof(*l->seg), &l->dma,
				     GFP_KERNEL);
	if (!l->seg)
		return -ENOMEM;
	l->cap = cap;
	return 0;
}

/* Every short set at once, in one coherent block (2 KiB a pair). */
static int sgdma_chan_short_lists(struct sgdma_chan *chan)
{
	unsigned int cap = min_t(unsigned int, chan->sdev->lim.list_entries,
				 SGDMA_SHORT_LIST_ENTRIES);
	unsigned int n = 2 * (SGDMA_LIST_SETS - SGDMA_FULL_LIST_SETS), i;
	size_t size = cap * sizeof(struct sgdma_hw_seg);
	struct sgdma_hw_seg *seg;
	dma_addr_t dma;

	seg = dmam_alloc_coherent(&chan->sdev->pdev->dev, n * size, &dma,
				  GFP_KERNEL);
	if (!seg)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		unsigned int set = SGDMA_FULL_LIST_SETS + i / 2;
		struct sgdma_seglist *l = i & 1 ? &chan->dst[set] :
						  &chan->src[set];

		l->seg = (void *)seg + i * size;
		l->dma = dma + i * size;
		l->cap = cap;
	}
	return 0;
}

/**
 * sgdma_chan_lists() - make sure list set @set of the channel exists
 * @chan: the channel, held by the caller (or being set up)
 * @set: the set, below SGDMA_LIST_SETS
 *
 * Sets are allocated on first use and kept with the device: a full pair
 * (below SGDMA_FULL_LIST_SETS) is 128 KiB of coherent memory at 4096
 * entries; the short ones come together, 48 KiB for all. Most channels
 * never need more than the first.
 *
 * Return: 0 or -ENOMEM.
 */
int sgdma_chan_lists(struct sgdma_chan *chan, unsigned int set)
{
	unsigned int cap = chan->sdev->lim.list_entries;

	if (set >= SGDMA_FULL_LIST_SETS)
		return chan->src[set].seg ? 0 : sgdma_chan_short_lists(chan);
	return sgdma_seglist_alloc(chan, &chan->src[set], cap) ?:
	       sgdma_seglist_alloc(chan, &chan->dst[set], cap);
}

static int sgdma_chan_alloc(struct sgdma_dev *sdev, struct sgdma_chan *chan,
			    unsigned int index)
{
	struct device *dev = &sdev->pdev->dev;
	const struct sgdma_limits *lim = &sdev->lim;

	chan->sdev = sdev;
	chan->index = index;
	chan->regs = sdev->regs + SGDMA_CHAN_BASE(index);
	mutex_init(&chan->lock);
	spin_lock_init(&chan->ring_lock);
	init_waitqueue_head(&chan->wq);
	/* Completions of an earlier life of the channel will not match. */
	chan->cookie = get_random_u64();

	/* Coherent allocations are page aligned: enough for every ring. */
	chan->ring = dmam_alloc_coherent(dev, lim->ring_entries *
					 sizeof(*chan->ring), &chan->ring_dma,
					 GFP_KERNEL);
	chan->compl = dmam_alloc_coherent(dev, lim->ring_entries *
					  sizeof(*chan->compl),
					  &chan->compl_dma, GFP_KERNEL);
	chan->slots = devm_kcalloc(dev, lim->ring_entries,
				   sizeof(*chan->slots), GFP_KERNEL);
	if (!chan->slots)
		return -ENOMEM;
	/* The first set serves every path; the others come when needed. */
	if (sgdma_chan_lists(chan, 0))
		return -ENOMEM;
	/*
	 * Whole pages: the buffer's bus address meets any SEG_ALIGN. Zeroed:
	 * the device may read all of it, and must not see what the pages
	 * held before. Not device-managed: a channel that never stops keeps
	 * it (chans_fini).
	 */
	chan->bounce = (void *)__get_free_pages(GFP_KERNEL | __GFP_ZERO,
						get_order(lim->bounce_size));
	if (!chan->ring || !chan->compl || !chan->bounce)
		return -ENOMEM;

	chan->bounce_dma = dma_map_single(dev, chan->bounce, lim->bounce_size,
					  DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, chan->bounce_dma)) {
		chan->bounce_dma = DMA_MAPPING_ERROR;
		return -ENOMEM;
	}
	return 0;
}

/* Bytes from @addr that fit in one list of segments the device accepts. */
static u64 sgdma_coverable(struct sgdma_dev *sdev, dma_addr_t addr, u64 max)
{
	struct sgdma_seglist l = { .seg = NULL };
	const struct sgdma_limits *lim = &sdev->lim;
	u64 done = 0;

	while (done < max && l.n < lim->list_entries) {
		u64 piece = min_t(u64, max - done, lim->seg_max);

		if (lim->seg_boundary != U64_MAX)
			piece = min_t(u64, piece, (addr | lim->seg_boundary) -
				      addr + 1);
		l.n++;
		done += piece;
		addr += piece;
	}
	return ALIGN_DOWN(done, lim->seg_align);
}

/**
 * sgdma_chans_init() - allocate and start every channel
 * @sdev: the device, limits read
 *
 * Return: 0 or a negative errno; on failure sgdma_chans_fini() cleans up.
 */
int sgdma_chans_init(struct sgdma_dev *sdev)
{
	struct sgdma_limits *lim = &sdev->lim;
	u32 half = lim->bounce_size / 2;
	u64 whole, split;
	unsigned int i;
	int ret;

	sdev->chans = kcalloc(lim->channels, sizeof(*sdev->chans), GFP_KERNEL);
	if (!sdev->chans)
		return -ENOMEM;
	for (i = 0; i < lim->channels; i++)
		sdev->chans[i].bounce_dma = DMA_MAPPING_ERROR;

	/*
	 * What one descriptor can move through the buffer: all of it for H2C
	 * and C2H, each half for H2H, as far as one segment list covers.
	 */
	whole = ALIGN_DOWN(lim->max_desc_len, lim->seg_align);
	split = whole;
	for (i = 0; i < lim->channels; i++) {
		struct sgdma_chan *chan = &sdev->chans[i];

		ret = sgdma_chan_alloc(sdev, chan, i);
		if (ret)
			return ret;
		whole = min(whole, sgdma_coverable(sdev, chan->bounce_dma,
						   lim->bounce_size));
		split = min(split, sgdma_coverable(sdev, chan->bounce_dma,
						   half));
		split = min(split, sgdma_coverable(sdev, chan->bounce_dma +
						   half, half));
		ret = sgdma_chan_start(chan);
		if (ret)
			return ret;
	}
	if (!split) {
		dev_err(&sdev->pdev->dev, "device limits leave no usable transfer size\n");
		return -ENODEV;
	}
	lim->copy_chunk = whole;
	lim->copy_half = split;
	return 0;
}

/**
 * sgdma_chans_fini() - stop every channel and release what it holds
 * @sdev: the device; no channel is in use, bus mastering is off
 *
 * The bounce buffer of a channel that still does not stop is leaked; its
 * rings are device-managed and go with the device.
 */
void sgdma_chans_fini(struct sgdma_dev *sdev)
{
	struct device *dev = &sdev->pdev->dev;
	unsigned int i;

	if (!sdev->chans)
		return;
	for (i = 0; i < sdev->lim.channels; i++) {
		struct sgdma_chan *chan = &sdev->chans[i];
		unsigned int order = get_order(sdev->lim.bounce_size);

		mutex_destroy(&chan->lock);
		if (chan->regs && sgdma_chan_stop(chan)) {
			/* It may still write its bounce buffer: keep it. */
			sgdma_leak(sdev, chan->bounce ? 1UL << order : 0);
			continue;
		}
		if (chan->bounce_dma != DMA_MAPPING_ERROR)
			dma_unmap_single(dev, chan->bounce_dma,
					 sdev->lim.bounce_size,
					 DMA_BIDIRECTIONAL);
		if (chan->bounce)
			free_pages((unsigned long)chan->bounce, order);
	}
	/* Rings and lists are device-managed: freed after this. */
	kfree(sdev->chans);
	sdev->chans = NULL;
}

/**
 * sgdma_chans_wake_all() - wake every waiter so it rechecks its state
 * @sdev: the device
 */
void sgdma_chans_wake_all(struct sgdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->lim.channels; i++)
		wake_up_all(&sdev->chans[i].wq);
}

/**
 * sgdma_chans_restart() - hand every channel its rings again after a reset
 * @sdev: the device, reset: its channels lost their rings
 *
 * Each channel is taken as a transfer would, so one in flight ends first;
 * a channel that does not start is retried by its next transfer.
 */
void sgdma_chans_restart(struct sgdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->lim.channels; i++) {
		struct sgdma_chan *chan = &sdev->chans[i];

		mutex_lock(&chan->lock);
		sgdma_chan_start(chan);
		mutex_unlock(&chan->lock);
	}
}
