// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma: driver for the sgdma scatter-gather DMA engine
 *
 * The device is specified in docs/device-spec.md of the sgdma project. Each
 * device gets a character node /dev/sgdmaN whose ioctls are defined in
 * uapi/sgdma.h; read and write on it move data to and from card memory.
 *
 * Lifetime: struct sgdma_dev is reference counted through its embedded
 * struct device, so it outlives the PCI function while files are open.
 * Removal sets @dying and wakes every waiter, so transfers in flight stop
 * (their channels are reset before their buffers are unmapped); then it
 * takes @lock for writing, which waits for them to leave, stops the
 * hardware, revokes user mappings and buffers of every open file,
 * releases the hardware and clears @regs. Every file operation holds
 * @lock for reading and fails with -ENODEV once @regs is gone; the last
 * close frees what is left.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>

#include "sgdma.h"

#define CREATE_TRACE_POINTS
#include "sgdma_trace.h"

unsigned int sgdma_timeout_ms = 5000;
module_param_named(timeout_ms, sgdma_timeout_ms, uint, 0644);
MODULE_PARM_DESC(timeout_ms, "time a descriptor may take before it is abandoned (ms)");

/*
 * Automatic mode takes the pinned path from this size on. Measured with
 * "sgdma bench" (userlib/tool/cmd-bench.c) in the test guest: TCG, 2 vCPUs,
 * Debian 6.1, no IOMMU and intel-iommu strict. Up to 128 KiB (one bounce
 * buffer, one descriptor) the copy path is as fast or faster: per-call
 * cost is the device's scheduling latency, and pinning, mapping and the
 * strict IOTLB flush add to it. At 256 KiB the two are even; from 1 MiB
 * the pinned path is 2-30 times faster (1.3-2.6 GB/s against 0.05-0.9).
 */
unsigned int sgdma_copy_threshold = SZ_256K;
module_param_named(copy_threshold, sgdma_copy_threshold, uint, 0644);
MODULE_PARM_DESC(copy_threshold, "bytes from which automatic mode pins user pages");

/*
 * Polled completion (SGDMA_XFER_POLL): how long a synchronous waiter spins
 * on its channel's completion ring before it sleeps, and the descriptor
 * size up to which a synchronous transfer's descriptors are polled for
 * without the flag (0: only with it): it applies per descriptor, so a
 * large transfer split into small descriptors polls for each of them.
 */
unsigned int sgdma_poll_us = 50;
module_param_named(poll_us, sgdma_poll_us, uint, 0644);
MODULE_PARM_DESC(poll_us, "how long a polling waiter spins before it sleeps (us)");

unsigned int sgdma_poll_threshold;
module_param_named(poll_threshold, sgdma_poll_threshold, uint, 0644);
MODULE_PARM_DESC(poll_threshold, "descriptor size in bytes up to which a synchronous transfer's descriptors are polled for without SGDMA_XFER_POLL (0: only with the flag)");

/*
 * Interrupt coalescing for an owner with several descriptors outstanding
 * (sgdma_chan_coalesce()): at most coalesce_max completions an interrupt,
 * and an interrupt at most coalesce_usecs after the first completion it
 * holds back, a bound for a device that misbehaves.
 */
unsigned int sgdma_coalesce_max = 4;
module_param_named(coalesce_max, sgdma_coalesce_max, uint, 0644);
MODULE_PARM_DESC(coalesce_max, "most completions an interrupt signals when several descriptors are outstanding (0 and 1: one interrupt a completion)");

unsigned int sgdma_coalesce_usecs = 200;
module_param_named(coalesce_usecs, sgdma_coalesce_usecs, uint, 0644);
MODULE_PARM_DESC(coalesce_usecs, "longest a completion's interrupt is held back for coalescing (us, at most 65535; 0: no time bound)");

static int sgdma_irq_mode;
module_param_named(irq_mode, sgdma_irq_mode, int, 0444);
MODULE_PARM_DESC(irq_mode, "0 best available, 1 INTx only, 2 MSI only, 3 MSI-X only");

static dev_t sgdma_devt;
static DEFINE_IDA(sgdma_ida);

/**
 * sgdma_get_live() - enter a file operation
 * @sdev: the device
 *
 * Return: 0 with @sdev->lock read-held, or -ENODEV once removal began.
 */
int sgdma_get_live(struct sgdma_dev *sdev)
{
	down_read(&sdev->lock);
	if (!sdev->regs || READ_ONCE(sdev->dying)) {
		up_read(&sdev->lock);
		return -ENODEV;
	}
	return 0;
}

/**
 * sgdma_put_live() - leave a file operation entered with sgdma_get_live()
 * @sdev: the device
 */
void sgdma_put_live(struct sgdma_dev *sdev)
{
	up_read(&sdev->lock);
}

static struct class sgdma_class = {
	.name = "sgdma",
	.dev_groups = sgdma_groups,
};

static ssize_t sgdma_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct sgdma_file *sf = iocb->ki_filp->private_data;
	struct sgdma_dev *sdev = sf->sdev;
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	if (pos < 0)
		return -EINVAL;
	if (!iov_iter_count(to) || pos >= sdev->lim.card_size)
		return 0;
	iov_iter_truncate(to, sdev->lim.card_size - pos);

	/* Not held across user memory: it takes the device per piece. */
	ret = sgdma_copy_rw(sdev, to, pos, false);

	if (ret > 0)
		iocb->ki_pos += ret;
	return ret;
}

static ssize_t sgdma_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct sgdma_file *sf = iocb->ki_filp->private_data;
	struct sgdma_dev *sdev = sf->sdev;
	loff_t pos = iocb->ki_pos;
	ssize_t ret;

	if (pos < 0)
		return -EINVAL;
	if (!iov_iter_count(from))
		return 0;
	if (pos >= sdev->lim.card_size)
		return -ENOSPC;
	iov_iter_truncate(from, sdev->lim.card_size - pos);

	/* Not held across user memory: it takes the device per piece. */
	ret = sgdma_copy_rw(sdev, from, pos, true);

	if (ret > 0)
		iocb->ki_pos += ret;
	return ret;
}

static loff_t sgdma_llseek(struct file *file, loff_t offset, int whence)
{
	struct sgdma_file *sf = file->private_data;
	struct sgdma_dev *sdev = sf->sdev;

	return fixed_size_llseek(file, offset, whence, sdev->lim.card_size);
}

static int sgdma_open(struct inode *inode, struct file *file)
{
	struct sgdma_dev *sdev = container_of(inode->i_cdev, struct sgdma_dev,
					      cdev);
	struct sgdma_file *sf;

	get_device(&sdev->dev);
	sf = sgdma_file_open(sdev, file);
	if (!sf) {
		put_device(&sdev->dev);
		return -ENOMEM;
	}
	file->private_data = sf;
	return 0;
}

static int sgdma_release(struct inode *inode, struct file *file)
{
	struct sgdma_file *sf = file->private_data;
	struct sgdma_dev *sdev = sf->sdev;

	sgdma_file_release(sf);
	put_device(&sdev->dev);
	return 0;
}

static const struct file_operations sgdma_fops = {
	.owner = THIS_MODULE,
	.open = sgdma_open,
	.release = sgdma_release,
	.llseek = sgdma_llseek,
	.read_iter = sgdma_read_iter,
	.write_iter = sgdma_write_iter,
	.unlocked_ioctl = sgdma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = sgdma_mmap,
};

static void sgdma_dev_release(struct device *dev)
{
	struct sgdma_dev *sdev = container_of(dev, struct sgdma_dev, dev);

	mutex_destroy(&sdev->files_lock);
	mutex_destroy(&sdev->recover_lock);
	kfree(sdev->engines);
	ida_free(&sgdma_ida, sdev->minor);
	kfree(sdev);
}

static int sgdma_check_hw(struct pci_dev *pdev, void __iomem *regs)
{
	u32 id = ioread32(regs + SGDMA_REG_ID);
	u32 version = ioread32(regs + SGDMA_REG_VERSION);

	if (id != SGDMA_ID_VALUE) {
		dev_err(&pdev->dev, "unexpected ID register 0x%08x\n", id);
		return -ENODEV;
	}
	if (SGDMA_VERSION_MAJOR(version) != SGDMA_VERSION_MAJOR_SUPPORTED) {
		dev_err(&pdev->dev, "unsupported device version %u.%u\n",
			SGDMA_VERSION_MAJOR(version),
			SGDMA_VERSION_MINOR(version));
		return -ENODEV;
	}
	return 0;
}

/* Read what the device accepts; refuse values outside the spec. */
static int sgdma_read_limits(struct sgdma_dev *sdev)
{
	struct sgdma_limits *lim = &sdev->lim;
	struct device *dev = &sdev->pdev->dev;
	u32 caps = sgdma_read(sdev, SGDMA_REG_CAPS);

	lim->channels = FIELD_GET(SGDMA_CAPS_CHANNELS, caps);
	lim->dma_bits = FIELD_GET(SGDMA_CAPS_DMA_BITS, caps);
	lim->crc = caps & SGDMA_CAPS_CRC32C;
	lim->fault_inject = caps & SGDMA_CAPS_FAULT_INJECT;
	lim->max_seg_size = sgdma_read(sdev, SGDMA_REG_MAX_SEG_SIZE);
	lim->seg_boundary = sgdma_read(sdev, SGDMA_REG_SEG_BOUNDARY_LO) |
		(u64)sgdma_read(sdev, SGDMA_REG_SEG_BOUNDARY_HI) << 32;
	lim->max_segments = sgdma_read(sdev, SGDMA_REG_MAX_SEGMENTS);
	lim->seg_align = sgdma_read(sdev, SGDMA_REG_SEG_ALIGN);
	lim->card_size = sgdma_read(sdev, SGDMA_REG_CARD_SIZE_LO) |
		(u64)sgdma_read(sdev, SGDMA_REG_CARD_SIZE_HI) << 32;
	lim->max_desc_len = sgdma_read(sdev, SGDMA_REG_MAX_XFER);

	if (!lim->channels || lim->channels > SGDMA_CHAN_MAX ||
	    lim->dma_bits < 32 || lim->dma_bits > 64 ||
	    !(caps & SGDMA_CAPS_SEG_LIST) || !lim->max_seg_size ||
	    lim->seg_boundary < SZ_4K - 1 ||
	    (lim->seg_boundary & (lim->seg_boundary + 1)) ||
	    !lim->max_segments || !is_power_of_2(lim->seg_align) ||
	    lim->seg_align > SZ_4K || !lim->card_size ||
	    !IS_ALIGNED(lim->card_size, lim->seg_align) ||
	    !lim->max_desc_len) {
		dev_err(dev, "unusable device limits: caps %#x seg size %u boundary %#llx segments %u align %u card %llu max %u\n",
			caps, lim->max_seg_size, lim->seg_boundary,
			lim->max_segments, lim->seg_align, lim->card_size,
			lim->max_desc_len);
		return -ENODEV;
	}
	return 0;
}

/* Derive how the driver uses the device from its limits. */
static void sgdma_derive_limits(struct sgdma_dev *sdev)
{
	struct sgdma_limits *lim = &sdev->lim;
	u32 ring_max = sgdma_read(sdev, SGDMA_REG_RING_MAX);
	unsigned int segs_per_page;

	lim->ring_entries = min_t(u32, SGDMA_RING_ENTRIES,
				  ring_max >= 2 ? rounddown_pow_of_two(ring_max) :
				  2);
	lim->list_entries = min_t(u32, SGDMA_LIST_ENTRIES, lim->max_segments);
	lim->seg_max = ALIGN_DOWN(lim->max_seg_size, lim->seg_align);

	/*
	 * Worst case of segments per pinned page: cut at seg_max, plus a
	 * boundary crossing, plus where a mapped run starts.
	 */
	segs_per_page = DIV_ROUND_UP(PAGE_SIZE, min_t(u32, lim->seg_max,
						      PAGE_SIZE)) + 2;
	lim->pin_pages = min_t(u32, SGDMA_PIN_CHUNK / PAGE_SIZE,
			       lim->list_entries / segs_per_page);
	if (lim->max_desc_len < PAGE_SIZE)
		lim->pin_pages = 0;
}

static int sgdma_setup_dma(struct sgdma_dev *sdev)
{
	struct device *dev = &sdev->pdev->dev;
	struct sgdma_limits *lim = &sdev->lim;
	int ret;

	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(lim->dma_bits));
	if (ret) {
		dev_err(dev, "no usable %u-bit DMA\n", lim->dma_bits);
		return ret;
	}
	if (!lim->seg_max) {
		dev_err(dev, "maximum segment size %u below alignment %u\n",
			lim->max_seg_size, lim->seg_align);
		return -ENODEV;
	}
	/* PCI devices have dma_parms: these cannot fail (void since 6.11). */
	dma_set_max_seg_size(dev, lim->seg_max);
	dma_set_seg_boundary(dev, lim->seg_boundary);
	/* Keep swiotlb from breaking the alignment of aligned buffers. */
	if (lim->seg_align > 1)
		dma_set_min_align_mask(dev, lim->seg_align - 1);
	/* What one mapping may hold depends on the mask and alignment. */
	lim->bounce_size = min_t(size_t, SGDMA_BOUNCE_SIZE,
				 rounddown_pow_of_two(dma_max_mapping_size(dev)));
	return 0;
}

/* Stop every channel and the device as a whole. */
static void sgdma_hw_quiesce(struct sgdma_dev *sdev)
{
	sgdma_write(sdev, SGDMA_REG_CTRL, SGDMA_CTRL_RESET);
	sgdma_read(sdev, SGDMA_REG_ID);
}

static int sgdma_init_hw(struct sgdma_dev *sdev)
{
	int ret;

	/* Whatever an earlier driver left running stops here. */
	sgdma_hw_quiesce(sdev);

	ret = sgdma_read_limits(sdev);
	if (ret)
		return ret;
	sgdma_derive_limits(sdev);
	ret = sgdma_setup_dma(sdev);
	if (ret)
		return ret;
	pci_set_master(sdev->pdev);

	ret = sgdma_chans_init(sdev);
	if (ret)
		return ret;
	ret = sgdma_mmap_init(sdev);
	if (ret)
		return ret;
	return sgdma_irqs_init(sdev, sgdma_irq_mode);
}

static void sgdma_fini_hw(struct sgdma_dev *sdev)
{
	sgdma_hw_quiesce(sdev);
	if (sdev->chans)
		sgdma_irqs_fini(sdev);
	/* No DMA from here on, even from a channel that ignored the reset. */
	pci_clear_master(sdev->pdev);
	sgdma_chans_fini(sdev);
}

static int sgdma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct sgdma_dev *sdev;
	void __iomem *regs;
	int minor, ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	if (pci_resource_len(pdev, SGDMA_BAR_REGS) < SGDMA_REGS_SIZE) {
		dev_err(&pdev->dev, "register BAR too small\n");
		return -ENODEV;
	}
	ret = pcim_iomap_regions(pdev, BIT(SGDMA_BAR_REGS), KBUILD_MODNAME);
	if (ret)
		return ret;
	regs = pcim_iomap_table(pdev)[SGDMA_BAR_REGS];

	ret = sgdma_check_hw(pdev, regs);
	if (ret)
		return ret;

	minor = ida_alloc_max(&sgdma_ida, SGDMA_MAX_DEVICES - 1, GFP_KERNEL);
	if (minor < 0)
		return minor;

	sdev = kzalloc(sizeof(*sdev), GFP_KERNEL);
	if (!sdev) {
		ida_free(&sgdma_ida, minor);
		return -ENOMEM;
	}
	sdev->pdev = pdev;
	sdev->regs = regs;
	sdev->minor = minor;
	sdev->hw_version = ioread32(regs + SGDMA_REG_VERSION);
	init_rwsem(&sdev->lock);
	init_rwsem(&sdev->map_lock);
	mutex_init(&sdev->files_lock);
	mutex_init(&sdev->recover_lock);
	INIT_LIST_HEAD(&sdev->files);

	/* From here on, put_device() frees @sdev and its minor. */
	device_initialize(&sdev->dev);
	sdev->dev.class = &sgdma_class;
	sdev->dev.parent = &pdev->dev;
	sdev->dev.devt = MKDEV(MAJOR(sgdma_devt), minor);
	sdev->dev.release = sgdma_dev_release;
	dev_set_drvdata(&sdev->dev, sdev);
	ret = dev_set_name(&sdev->dev, "sgdma%d", minor);
	if (ret)
		goto err_put;

	ret = sgdma_init_hw(sdev);
	if (ret)
		goto err_hw;

	/* The engines of asynchronous queues: one work item per channel. */
	sdev->wq = alloc_workqueue("sgdma%d", WQ_UNBOUND, sdev->lim.channels,
				   minor);
	if (!sdev->wq) {
		ret = -ENOMEM;
		goto err_hw;
	}
	ret = sgdma_engines_init(sdev);
	if (ret)
		goto err_wq;

	cdev_init(&sdev->cdev, &sgdma_fops);
	sdev->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&sdev->cdev, &sdev->dev);
	if (ret)
		goto err_wq;

	pci_set_drvdata(pdev, sdev);
	/* The configuration AER recovery restores in sgdma_slot_reset(). */
	pci_save_state(pdev);
	sgdma_debugfs_add(sdev);
	dev_info(&pdev->dev, "sgdma%d: device version %u.%u, %u channels, %llu KiB card memory, %u-bit DMA, %s\n",
		 minor, SGDMA_VERSION_MAJOR(sdev->hw_version),
		 SGDMA_VERSION_MINOR(sdev->hw_version), sdev->lim.channels,
		 sdev->lim.card_size >> 10, sdev->lim.dma_bits,
		 sdev->irq_mode == SGDMA_IRQ_MSIX ? "MSI-X" :
		 sdev->irq_mode == SGDMA_IRQ_MSI ? "MSI" : "INTx");
	return 0;

err_wq:
	destroy_workqueue(sdev->wq);
err_hw:
	sgdma_fini_hw(sdev);
err_put:
	put_device(&sdev->dev);
	return ret;
}

static void sgdma_remove(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	sgdma_debugfs_del(sdev);
	cdev_device_del(&sdev->cdev, &sdev->dev);

	/* Transfers in flight stop and their callers leave with -ENODEV. */
	WRITE_ONCE(sdev->dying, true);
	sgdma_chans_wake_all(sdev);

	/* Wait for file operations in progress; later ones see -ENODEV. */
	down_write(&sdev->lock);
	/* No user mapping of the BAR or of a buffer survives the device... */
	sgdma_mmap_revoke(sdev);
	/* ...and no DMA mapping: stop every channel, then release them. */
	sgdma_hw_quiesce(sdev);
	sgdma_files_revoke(sdev);
	sgdma_fini_hw(sdev);
	sdev->regs = NULL;
	sdev->pdev = NULL;
	up_write(&sdev->lock);

	/*
	 * The engines' work still queued runs now, ends the requests still
	 * pending with -ENODEV and touches no channel (sgdma_get_live()
	 * fails); once the workqueue is gone none runs again. The engines
	 * themselves go with @sdev: a queue's release no longer uses them.
	 */
	destroy_workqueue(sdev->wq);
	put_device(&sdev->dev);
}

static void sgdma_shutdown(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	/* No DMA into memory the next kernel (kexec) may own. */
	sgdma_hw_quiesce(sdev);
	pci_clear_master(pdev);
}

/*
 * A reset of the function (sysfs "reset", VFIO, a bus or slot reset) with
 * the driver bound. File operations finish before it and wait after it;
 * the device loses its channels' rings, which they get back afterwards.
 */
static void sgdma_reset_prepare(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	down_write(&sdev->lock);
	sgdma_hw_quiesce(sdev);
}

static void sgdma_reset_done(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	/* The core restored config space, consuming the state AER restores. */
	pci_save_state(pdev);
	sgdma_chans_restart(sdev);
	up_write(&sdev->lock);
}

/*
 * AER. A transfer in flight when the link fails never completes: for a
 * fatal error the kernel resets the link before slot_reset, for a
 * non-fatal one the driver asks for a reset and makes it in slot_reset.
 * There, with config space restored and the device stopped, every
 * transfer in flight fails with -EIO (its channel counts as reset, as
 * after an escalation) and every channel starts again.
 */
static pci_ers_result_t sgdma_error_detected(struct pci_dev *pdev,
					     pci_channel_state_t state)
{
	dev_err(&pdev->dev, "PCI error detected, state %d\n", state);
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t sgdma_slot_reset(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_save_state(pdev);
	sgdma_hw_quiesce(sdev);
	atomic_inc(&sdev->resets);
	sgdma_chans_wake_all(sdev);
	sgdma_chans_restart(sdev);
	return PCI_ERS_RESULT_RECOVERED;
}

static void sgdma_resume(struct pci_dev *pdev)
{
	dev_info(&pdev->dev, "recovered from a PCI error\n");
}

static const struct pci_error_handlers sgdma_err_handlers = {
	.error_detected = sgdma_error_detected,
	.slot_reset = sgdma_slot_reset,
	.resume = sgdma_resume,
	.reset_prepare = sgdma_reset_prepare,
	.reset_done = sgdma_reset_done,
};

static const struct pci_device_id sgdma_pci_ids[] = {
	{ PCI_DEVICE(SGDMA_PCI_VENDOR_ID, SGDMA_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, sgdma_pci_ids);

static struct pci_driver sgdma_pci_driver = {
	.name = KBUILD_MODNAME,
	.id_table = sgdma_pci_ids,
	.probe = sgdma_probe,
	.remove = sgdma_remove,
	.shutdown = sgdma_shutdown,
	.err_handler = &sgdma_err_handlers,
};

static int __init sgdma_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&sgdma_devt, 0, SGDMA_MAX_DEVICES,
				  KBUILD_MODNAME);
	if (ret)
		return ret;

	ret = class_register(&sgdma_class);
	if (ret)
		goto err_chrdev;

	sgdma_debugfs_init();
	ret = pci_register_driver(&sgdma_pci_driver);
	if (ret)
		goto err_class;
	return 0;

err_class:
	sgdma_debugfs_exit();
	class_unregister(&sgdma_class);
err_chrdev:
	unregister_chrdev_region(sgdma_devt, SGDMA_MAX_DEVICES);
	return ret;
}

static void __exit sgdma_exit(void)
{
	pci_unregister_driver(&sgdma_pci_driver);
	sgdma_debugfs_exit();
	class_unregister(&sgdma_class);
	unregister_chrdev_region(sgdma_devt, SGDMA_MAX_DEVICES);
}

module_init(sgdma_init);
module_exit(sgdma_exit);

MODULE_DESCRIPTION("sgdma scatter-gather DMA engine");
MODULE_AUTHOR("The sgdma authors");
MODULE_LICENSE("GPL");
