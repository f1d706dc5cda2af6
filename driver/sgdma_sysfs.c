// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma sysfs: the attributes of each /sys/class/sgdma/sgdmaN, the
 * device's scratch register and version, the driver's counters (transfers,
 * errors, timeouts, pins, interrupts, ring use) and the interrupt mode.
 */

#include <linux/device.h>
#include <linux/sysfs.h>

#include "sgdma.h"

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

static ssize_t sgdma_stat_show(char *buf, atomic64_t *stat)
{
	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(stat));
}

static ssize_t transfers_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.transfers);
}
static DEVICE_ATTR_RO(transfers);

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.bytes);
}
static DEVICE_ATTR_RO(bytes);

static ssize_t errors_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.errors);
}
static DEVICE_ATTR_RO(errors);

static ssize_t timeouts_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.timeouts);
}
static DEVICE_ATTR_RO(timeouts);

static ssize_t lost_irqs_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.lost_irqs);
}
static DEVICE_ATTR_RO(lost_irqs);

static ssize_t pages_pinned_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&sdev->stats.pages_pinned));
}
static DEVICE_ATTR_RO(pages_pinned);

static ssize_t pages_leaked_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%ld\n",
			  atomic_long_read(&sdev->stats.pages_leaked));
}
static DEVICE_ATTR_RO(pages_leaked);

static ssize_t escalations_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.escalations);
}
static DEVICE_ATTR_RO(escalations);

static ssize_t completions_irq_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.completions_irq);
}
static DEVICE_ATTR_RO(completions_irq);

static ssize_t irq_reaps_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.irq_reaps);
}
static DEVICE_ATTR_RO(irq_reaps);

static ssize_t completions_polled_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sgdma_stat_show(buf, &sdev->stats.completions_polled);
}
static DEVICE_ATTR_RO(completions_polled);

static ssize_t ring_entries_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", sdev->lim.ring_entries);
}
static DEVICE_ATTR_RO(ring_entries);

static ssize_t inflight_max_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n",
			  atomic_read(&sdev->stats.inflight_max));
}

/* Only 0 may be written: it starts the high-water mark again. */
static ssize_t inflight_max_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t count)
{
	struct sgdma_dev *sdev = dev_get_drvdata(dev);
	unsigned int val;
	int ret;

	ret = kstrtouint(buf, 0, &val);
	if (ret)
		return ret;
	if (val)
		return -EINVAL;
	atomic_set(&sdev->stats.inflight_max, 0);
	return count;
}
static DEVICE_ATTR_RW(inflight_max);

static ssize_t irq_mode_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	static const char * const names[] = {
		[SGDMA_IRQ_INTX] = "intx",
		[SGDMA_IRQ_MSI] = "msi",
		[SGDMA_IRQ_MSIX] = "msix",
	};
	struct sgdma_dev *sdev = dev_get_drvdata(dev);
	unsigned int mode = READ_ONCE(sdev->irq_mode);

	return sysfs_emit(buf, "%s\n", mode < ARRAY_SIZE(names) &&
			  names[mode] ? names[mode] : "none");
}
static DEVICE_ATTR_RO(irq_mode);

static struct attribute *sgdma_attrs[] = {
	&dev_attr_scratch.attr,
	&dev_attr_hw_version.attr,
	&dev_attr_transfers.attr,
	&dev_attr_bytes.attr,
	&dev_attr_errors.attr,
	&dev_attr_timeouts.attr,
	&dev_attr_lost_irqs.attr,
	&dev_attr_pages_pinned.attr,
	&dev_attr_pages_leaked.attr,
	&dev_attr_escalations.attr,
	&dev_attr_irq_mode.attr,
	&dev_attr_ring_entries.attr,
	&dev_attr_inflight_max.attr,
	&dev_attr_completions_irq.attr,
	&dev_attr_irq_reaps.attr,
	&dev_attr_completions_polled.attr,
	NULL
};

static const struct attribute_group sgdma_group = {
	.attrs = sgdma_attrs,
};

const struct attribute_group *sgdma_groups[] = {
	&sgdma_group,
	NULL
};
