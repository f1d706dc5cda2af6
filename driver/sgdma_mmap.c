// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma mmap: card memory (BAR2) and coherent buffers in user space.
 *
 * The offset of a mapping names its region (uapi/sgdma.h): card memory
 * from 0, coherent buffer N from N << SGDMA_MMAP_BUF_SHIFT. Only shared
 * mappings are allowed: a private (copy-on-write) mapping of device memory
 * or of a DMA buffer would let writes land in a private copy the device
 * never sees.
 *
 * Card memory is populated at fault time (vmf_insert_pfn), as vfio-pci
 * does, with the protections io_remap_pfn_range() would use: write-combined
 * (the range is reserved as WC with the PAT code at probe) and decrypted
 * on an encrypted-memory guest, since the BAR is device memory.
 *
 * A coherent buffer is mapped by the DMA layer, dma_mmap_coherent(), with
 * the protections it gives the buffer for this device (decrypted where DMA
 * must be unencrypted, uncached on a non-coherent device) and populated at
 * mmap time; such a mapping has no fault handler, so an access once it is
 * zapped raises SIGBUS. It holds a reference on its buffer, which keeps the
 * memory allocated until the last mapping is gone.
 *
 * Removal revokes every mapping: it marks the device unmapped under
 * @map_lock, so that faults and new mappings fail, waits for mmaps of
 * coherent buffers that passed that check but are not yet linked into the
 * file's address space (sgdma_files_sync_mmaps()), then zaps every mapping
 * of every open file, before it releases the BAR and frees the buffers. So
 * no page table entry points at a BAR that is gone or at coherent memory
 * that was freed. Faults and mmap take @map_lock, never the device's
 * @lock, since they run under mmap_lock, which file operations take under
 * @lock.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/mm.h>

#include "sgdma.h"

#define SGDMA_BAR_CARD		2

#ifndef SGDMA_HAVE_VM_FLAGS_SET
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}
#endif

static struct sgdma_dev *sgdma_vma_dev(struct vm_area_struct *vma)
{
	struct sgdma_file *sf = vma->vm_file->private_data;

	return sf->sdev;
}

static vm_fault_t sgdma_card_fault(struct vm_fault *vmf)
{
	struct sgdma_dev *sdev = sgdma_vma_dev(vmf->vma);
	vm_fault_t ret = VM_FAULT_SIGBUS;

	down_read(&sdev->map_lock);
	if (!sdev->unmapped &&
	    vmf->pgoff < (sdev->card_map_size >> PAGE_SHIFT))
		ret = vmf_insert_pfn(vmf->vma, vmf->address,
				     PHYS_PFN(sdev->card_phys) + vmf->pgoff);
	up_read(&sdev->map_lock);
	return ret;
}

static const struct vm_operations_struct sgdma_card_vm_ops = {
	.fault = sgdma_card_fault,
};

/* A mapping holds a reference on its buffer, and copies (fork, split) too. */
static void sgdma_buf_vm_open(struct vm_area_struct *vma)
{
	sgdma_buf_get(vma->vm_private_data);
}

static void sgdma_buf_vm_close(struct vm_area_struct *vma)
{
	sgdma_buf_put(vma->vm_private_data);
}

/* No fault handler: the DMA layer populated it all; zapped, it is gone. */
static const struct vm_operations_struct sgdma_buf_vm_ops = {
	.open = sgdma_buf_vm_open,
	.close = sgdma_buf_vm_close,
};

static int sgdma_mmap_card(struct sgdma_dev *sdev, struct vm_area_struct *vma,
			   u64 off, u64 len)
{
	if (!sdev->card_map_size)
		return -ENODEV;
	if (off >= sdev->card_map_size || len > sdev->card_map_size - off)
		return -EINVAL;
	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot =
		pgprot_decrypted(pgprot_writecombine(vma->vm_page_prot));
	vma->vm_ops = &sgdma_card_vm_ops;
	return 0;
}

static int sgdma_mmap_buf(struct sgdma_file *sf, struct vm_area_struct *vma,
			  u32 handle, u64 off, u64 len)
{
	struct sgdma_buf *buf = sgdma_buf_get_mappable(sf, handle);
	unsigned long pgoff = vma->vm_pgoff;
	int ret;

	if (IS_ERR(buf))
		return PTR_ERR(buf);
	if (off >= sgdma_buf_len(buf) || len > sgdma_buf_len(buf) - off) {
		sgdma_buf_put(buf);
		return -EINVAL;
	}
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	/*
	 * The DMA layer maps from page vm_pgoff of the buffer; the mapping
	 * keeps its offset in the file, where the handle is.
	 */
	vma->vm_pgoff = off >> PAGE_SHIFT;
	ret = sgdma_buf_mmap(buf, vma);
	vma->vm_pgoff = pgoff;
	if (ret) {
		sgdma_buf_put(buf);
		return ret;
	}
	vma->vm_private_data = buf;
	vma->vm_ops = &sgdma_buf_vm_ops;
	return 0;
}

/**
 * sgdma_mmap() - mmap of /dev/sgdmaN
 * @file: the open node
 * @vma: the new mapping
 *
 * Return: 0; -EINVAL for a private mapping or a range outside its region;
 * -ENOENT or -EACCES for a coherent buffer that is not there or not the
 * caller's; -ENODEV once the device is gone or without card memory.
 */
int sgdma_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct sgdma_file *sf = file->private_data;
	struct sgdma_dev *sdev = sf->sdev;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	u64 region = off >> SGDMA_MMAP_BUF_SHIFT;
	int ret;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	off &= BIT_ULL(SGDMA_MMAP_BUF_SHIFT) - 1;

	down_read(&sdev->map_lock);
	if (sdev->unmapped)
		ret = -ENODEV;
	else if (!region)
		ret = sgdma_mmap_card(sdev, vma, off, len);
	else if (region > SGDMA_MAX_BUFS)
		ret = -EINVAL;
	else
		ret = sgdma_mmap_buf(sf, vma, region, off, len);
	up_read(&sdev->map_lock);
	return ret;
}

/**
 * sgdma_mmap_init() - find the card memory mmap may map
 * @sdev: the device being probed
 *
 * Return: 0 (a device without a usable BAR2 just cannot be mapped).
 */
int sgdma_mmap_init(struct sgdma_dev *sdev)
{
	struct pci_dev *pdev = sdev->pdev;
	resource_size_t start = pci_resource_start(pdev, SGDMA_BAR_CARD);
	u64 size = min_t(u64, pci_resource_len(pdev, SGDMA_BAR_CARD),
			 sdev->lim.card_size);

	sdev->card_phys = 0;
	sdev->card_map_size = 0;
	if (!(pci_resource_flags(pdev, SGDMA_BAR_CARD) & IORESOURCE_MEM) ||
	    !start || !PAGE_ALIGNED(start) || size < PAGE_SIZE) {
		dev_info(&pdev->dev, "card memory cannot be mapped\n");
		return 0;
	}
	/*
	 * User space maps the BAR: claim it, so that nobody else (another
	 * driver, /dev/mem) owns it meanwhile. Released by devres when the
	 * driver unbinds, after the zap, as is the memory type below.
	 */
	if (pci_request_region(pdev, SGDMA_BAR_CARD, KBUILD_MODNAME)) {
		dev_info(&pdev->dev, "card memory is in use elsewhere, it will not be mapped\n");
		return 0;
	}
	if (devm_arch_io_reserve_memtype_wc(&pdev->dev, start, size))
		dev_info(&pdev->dev, "card memory will not be write-combined\n");
	sdev->card_phys = start;
	sdev->card_map_size = ALIGN_DOWN(size, PAGE_SIZE);
	return 0;
}

/**
 * sgdma_mmap_revoke() - revoke every user mapping of the device
 * @sdev: the device being removed
 *
 * After this, no page table maps its BAR or its coherent buffers, and
 * faults and new mappings fail. Called with @sdev->lock held for writing:
 * it takes mmap_lock of the buffers' owners.
 */
void sgdma_mmap_revoke(struct sgdma_dev *sdev)
{
	struct sgdma_file *sf;

	down_write(&sdev->map_lock);
	sdev->unmapped = true;
	up_write(&sdev->map_lock);

	sgdma_files_sync_mmaps(sdev);
	mutex_lock(&sdev->files_lock);
	list_for_each_entry(sf, &sdev->files, node)
		unmap_mapping_range(sf->file->f_mapping, 0, 0, 1);
	mutex_unlock(&sdev->files_lock);
}
