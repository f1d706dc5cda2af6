// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma: driver for the sgdma scatter-gather DMA engine
 *
 * The device is specified in docs/device-spec.md of the sgdma project. Each
 * device gets a character node /dev/sgdmaN whose ioctls are defined in
 * uapi/sgdma.h.
 *
 * Lifetime: struct sgdma_dev is reference counted through its embedded
 * struct device, so it outlives the PCI function while files are open.
 * Removal takes @lock for writing and clears @regs; every file operation
 * takes it for reading and fails with -ENODEV once @regs is gone.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/idr.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <sgdma.h>

#include "sgdma_hw.h"

#define SGDMA_MAX_DEVICES	64

/**
 * struct sgdma_dev - one sgdma PCI function
 * @pdev: the PCI function, NULL once removed
 * @regs: BAR0 mapping, NULL once removed
 * @lock: read-held by file operations, write-held by removal
 * @dev: the class device behind /dev/sgdmaN; holds the reference count
 * @cdev: the character device
 * @minor: the N of /dev/sgdmaN
 * @hw_version: the VERSION register as read at probe
 */
struct sgdma_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	struct rw_semaphore lock;
	struct device dev;
	struct cdev cdev;
	int minor;
	u32 hw_version;
};

static dev_t sgdma_devt;
static DEFINE_IDA(sgdma_ida);

static u32 sgdma_read(struct sgdma_dev *sdev, unsigned int reg)
{
	return ioread32(sdev->regs + reg);
}

static void sgdma_write(struct sgdma_dev *sdev, unsigned int reg, u32 val)
{
	iowrite32(val, sdev->regs + reg);
}

/* Returns with @sdev->lock read-held on success. */
static int sgdma_get_live(struct sgdma_dev *sdev)
{
	down_read(&sdev->lock);
	if (!sdev->regs) {
		up_read(&sdev->lock);
		return -ENODEV;
	}
	return 0;
}

static void sgdma_put_live(struct sgdma_dev *sdev)
{
	up_read(&sdev->lock);
}

static ssize_t scratch_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);
	u32 val;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	val = sgdma_read(sdev, SGDMA_REG_SCRATCH);
	sgdma_put_live(sdev);

	return sysfs_emit(buf, "0x%08x\n", val);
}

static ssize_t scratch_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t count)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);
	u32 val;
	int ret;

	ret = kstrtou32(buf, 0, &val);
	if (ret)
		return ret;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	sgdma_write(sdev, SGDMA_REG_SCRATCH, val);
	sgdma_put_live(sdev);

	return count;
}
static DEVICE_ATTR_RW(scratch);

static ssize_t hw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u.%u\n", SGDMA_VERSION_MAJOR(sdev->hw_version),
			  SGDMA_VERSION_MINOR(sdev->hw_version));
}
static DEVICE_ATTR_RO(hw_version);

static struct attribute *sgdma_attrs[] = {
	&dev_attr_scratch.attr,
	&dev_attr_hw_version.attr,
	NULL
};
ATTRIBUTE_GROUPS(sgdma);

static struct class sgdma_class = {
	.name = "sgdma",
	.dev_groups = sgdma_groups,
};

/*
 * Copy an extensible structure in: @usize is what the caller claims,
 * @ver0 the smallest size ever published.
 */
static int sgdma_copy_struct_in(void *dst, size_t ksize, size_t ver0,
				const void __user *uarg, u32 *usize)
{
	if (get_user(*usize, (const u32 __user *)uarg))
		return -EFAULT;
	if (*usize < ver0)
		return -EINVAL;
	return copy_struct_from_user(dst, ksize, uarg, *usize);
}

static long sgdma_ioctl_info(struct sgdma_dev *sdev, void __user *uarg)
{
	struct sgdma_info info;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&info, sizeof(info), SGDMA_INFO_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (info.flags)
		return -EINVAL;

	memset(&info, 0, sizeof(info));
	info.size = min_t(u32, usize, sizeof(info));
	info.abi_version = SGDMA_ABI_VERSION;
	info.hw_id = sgdma_read(sdev, SGDMA_REG_ID);
	info.hw_version = sdev->hw_version;
	info.pci_vendor = sdev->pdev->vendor;
	info.pci_device = sdev->pdev->device;
	info.pci_revision = sdev->pdev->revision;
	info.minor = sdev->minor;

	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	return 0;
}

static long sgdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct sgdma_dev *sdev = file->private_data;
	void __user *uarg = (void __user *)arg;
	long ret;

	/* The size bits of @cmd are ignored: sizes travel in the structures. */
	if (_IOC_TYPE(cmd) != SGDMA_IOC_MAGIC)
		return -ENOTTY;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SGDMA_IOC_INFO):
		ret = _IOC_DIR(cmd) == _IOC_DIR(SGDMA_IOC_INFO) ?
		      sgdma_ioctl_info(sdev, uarg) : -ENOTTY;
		break;
	default:
		ret = -ENOTTY;
		break;
	}

	sgdma_put_live(sdev);
	return ret;
}

static int sgdma_open(struct inode *inode, struct file *file)
{
	struct sgdma_dev *sdev = container_of(inode->i_cdev, struct sgdma_dev,
					      cdev);

	get_device(&sdev->dev);
	file->private_data = sdev;
	return nonseekable_open(inode, file);
}

static int sgdma_release(struct inode *inode, struct file *file)
{
	struct sgdma_dev *sdev = file->private_data;

	put_device(&sdev->dev);
	return 0;
}

static const struct file_operations sgdma_fops = {
	.owner = THIS_MODULE,
	.open = sgdma_open,
	.release = sgdma_release,
	.unlocked_ioctl = sgdma_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static void sgdma_dev_release(struct device *dev)
{
	struct sgdma_dev *sdev = container_of(dev, struct sgdma_dev, dev);

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

	cdev_init(&sdev->cdev, &sgdma_fops);
	sdev->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&sdev->cdev, &sdev->dev);
	if (ret)
		goto err_put;

	pci_set_drvdata(pdev, sdev);
	dev_info(&pdev->dev, "sgdma%d: device version %u.%u\n", minor,
		 SGDMA_VERSION_MAJOR(sdev->hw_version),
		 SGDMA_VERSION_MINOR(sdev->hw_version));
	return 0;

err_put:
	put_device(&sdev->dev);
	return ret;
}

static void sgdma_remove(struct pci_dev *pdev)
{
	struct sgdma_dev *sdev = pci_get_drvdata(pdev);

	cdev_device_del(&sdev->cdev, &sdev->dev);

	/* Wait for file operations in progress; later ones see -ENODEV. */
	down_write(&sdev->lock);
	sdev->regs = NULL;
	sdev->pdev = NULL;
	up_write(&sdev->lock);

	put_device(&sdev->dev);
}

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

	ret = pci_register_driver(&sgdma_pci_driver);
	if (ret)
		goto err_class;
	return 0;

err_class:
	class_unregister(&sgdma_class);
err_chrdev:
	unregister_chrdev_region(sgdma_devt, SGDMA_MAX_DEVICES);
	return ret;
}

static void __exit sgdma_exit(void)
{
	pci_unregister_driver(&sgdma_pci_driver);
	class_unregister(&sgdma_class);
	unregister_chrdev_region(sgdma_devt, SGDMA_MAX_DEVICES);
}

module_init(sgdma_init);
module_exit(sgdma_exit);

MODULE_DESCRIPTION("sgdma scatter-gather DMA engine");
MODULE_AUTHOR("The sgdma authors");
MODULE_LICENSE("GPL");
