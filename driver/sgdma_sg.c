// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma scatterlists and segment lists: pinned user pages described in
 * entries that the device and the DMA API accept, and the host sides of
 * descriptors.
 *
 * A driver promises the DMA API, through dma_set_max_seg_size() and
 * dma_set_seg_boundary(), that every entry it maps stays within those
 * limits: DMA-API debugging checks each mapped entry, and iommu-dma lays
 * the entries out in IOVA space trusting that promise (an entry longer
 * than the boundary crosses it there too). sg_alloc_table_from_pages_segment()
 * cannot keep it: it rounds its maximum up to a page and knows no
 * boundary. So the tables are built here: physically contiguous pages
 * merged into one entry, cut at the device's longest segment (below a page
 * too) and wherever the physical address crosses its boundary mask.
 *
 * Host sides. A descriptor's host side is a segment list in coherent
 * memory that the device reads (struct sgdma_seglist); bus address ranges
 * are appended to it in segments cut by the same rules, and refused where
 * they break the device's alignment rule.
 */

#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/scatterlist.h>

#include "sgdma.h"

/**
 * sgdma_sg_max() - the longest entry both the device and the DMA layer take
 * @sdev: the device, held live (its DMA ops are read)
 *
 * Return: the length in bytes, possibly below a page.
 */
u64 sgdma_sg_max(struct sgdma_dev *sdev)
{
	return min_t(u64, sdev->lim.seg_max,
		     dma_max_mapping_size(sgdma_dma_dev(sdev)));
}

/*
 * Walk @len bytes of @pages from @offset into the first page, in entries
 * of at most @max bytes that do not cross @boundary; fill them into @sg
 * unless it is NULL. Returns the number of entries.
 */
static unsigned int sgdma_sg_walk(struct page **pages, unsigned long npages,
				  unsigned int offset, u64 len, u64 max,
				  u64 boundary, struct scatterlist *sg)
{
	unsigned long first = 0;
	unsigned int nents = 0;

	while (len) {
		unsigned long next = first + 1;
		phys_addr_t start = page_to_phys(pages[first]) + offset;
		u64 run, done = 0;

		while (next < npages &&
		       page_to_pfn(pages[next]) == page_to_pfn(pages[next - 1]) + 1)
			next++;
		run = min_t(u64, (u64)(next - first) * PAGE_SIZE - offset, len);

		while (done < run) {
			u64 at = start + done, piece = min(run - done, max);

			if (boundary != U64_MAX)
				piece = min(piece, (at | boundary) - at + 1);
			if (sg) {
				u64 in = offset + done;

				sg_set_page(sg, pages[first + (in >> PAGE_SHIFT)],
					    piece, offset_in_page(in));
				sg = sg_next(sg);
			}
			nents++;
			done += piece;
		}
		len -= run;
		first = next;
		offset = 0;
	}
	return nents;
}

/**
 * sgdma_sg_from_pages() - describe pinned pages within the device's limits
 * @sdev: the device, its DMA limits set
 * @max: the longest entry, from sgdma_sg_max(); so that a table can be
 *	built without holding the device
 * @sgt: the table to build; the caller frees it with sg_free_table()
 * @pages: the pages, in order
 * @npages: how many there are
 * @offset: offset of the first byte in the first page
 * @len: bytes, ending within the last page
 *
 * Return: 0, or -ENOMEM.
 */
int sgdma_sg_from_pages(struct sgdma_dev *sdev, u64 max, struct sg_table *sgt,
			struct page **pages, unsigned long npages,
			unsigned int offset, u64 len)
{
	u64 boundary = sdev->lim.seg_boundary;
	unsigned int nents;
	int ret;

	nents = sgdma_sg_walk(pages, npages, offset, len, max, boundary, NULL);
	ret = sg_alloc_table(sgt, nents, GFP_KERNEL);
	if (ret)
		return ret;
	sgdma_sg_walk(pages, npages, offset, len, max, boundary, sgt->sgl);
	return 0;
}

/**
 * sgdma_seglist_reset() - start an empty host side on segment list @l
 * @side: the side
 * @l: the channel's list that will hold its segments
 */
void sgdma_seglist_reset(struct sgdma_side *side, struct sgdma_seglist *l)
{
	l->n = 0;
	side->list = l;
	side->bytes = 0;
}

/**
 * sgdma_side_add_upto() - append as much of a bus address range as fits
 * @sdev: the device
 * @side: the side
 * @addr: bus address
 * @len: bytes
 * @added: out: bytes appended, a multiple of the device's alignment
 *
 * Splits the range into segments the device accepts: no longer than its
 * maximum segment size, not crossing its boundary mask.
 *
 * Return: 0 when all of it was appended; -E2BIG if the list filled up
 * first; -EINVAL if a segment would break the device's alignment rule.
 */
int sgdma_side_add_upto(struct sgdma_dev *sdev, struct sgdma_side *side,
			dma_addr_t addr, u64 len, u64 *added)
{
	const struct sgdma_limits *lim = &sdev->lim;
	struct sgdma_seglist *l = side->list;

	*added = 0;
	while (len) {
		u64 piece = min_t(u64, len, lim->seg_max);
		struct sgdma_hw_seg *seg;

		/* Bytes up to the next boundary; none with an all-ones mask. */
		if (lim->seg_boundary != U64_MAX)
			piece = min_t(u64, piece,
				      (addr | lim->seg_boundary) - addr + 1);
		if (!IS_ALIGNED(addr | piece, lim->seg_align))
			return -EINVAL;
		if (l->n >= l->cap)
			return -E2BIG;

		seg = &l->seg[l->n++];
		seg->addr = cpu_to_le64(addr);
		seg->len = cpu_to_le32(piece);
		seg->rsvd = 0;
		side->bytes += piece;
		*added += piece;
		addr += piece;
		len -= piece;
	}
	return 0;
}

/**
 * sgdma_side_add() - append a bus address range to a host side
 * @sdev: the device
 * @side: the side
 * @addr: bus address
 * @len: bytes
 *
 * Return: 0; -EINVAL if a segment would break the device's alignment rule;
 * -E2BIG if the list is full.
 */
int sgdma_side_add(struct sgdma_dev *sdev, struct sgdma_side *side,
		   dma_addr_t addr, u64 len)
{
	u64 added;

	return sgdma_side_add_upto(sdev, side, addr, len, &added);
}
