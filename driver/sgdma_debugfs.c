// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma debugfs: /sys/kernel/debug/sgdma/sgdmaN/, for tests: fault_inject
 * (the device's FAULT_INJECT registers) and perf (its PERF_* counters).
 */

#include <linux/debugfs.h>
#include <linux/nospec.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "sgdma.h"

static struct dentry *sgdma_debugfs;

/*
 * debugfs fault_inject: "CHANNEL VALUE" writes VALUE to the channel's
 * FAULT_INJECT register (spec section 7), for the tests of error paths.
 * Read, it lists every channel's register, "CHANNEL VALUE" a line: a
 * fault that fired reads 0 again.
 */
static ssize_t fault_inject_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct sgdma_dev *sdev = m->private;
	unsigned int chan;
	char buf[32];
	u32 val;
	int ret;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	if (sscanf(buf, "%u %i", &chan, &val) != 2 ||
	    chan >= sdev->lim.channels)
		return -EINVAL;
	chan = array_index_nospec(chan, sdev->lim.channels);

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	writel(val, sdev->chans[chan].regs + SGDMA_CH_FAULT_INJECT);
	sgdma_put_live(sdev);
	return count;
}

static int fault_inject_show(struct seq_file *m, void *unused)
{
	struct sgdma_dev *sdev = m->private;
	unsigned int i;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	for (i = 0; i < sdev->lim.channels; i++)
		seq_printf(m, "%u %#x\n", i,
			   readl(sdev->chans[i].regs + SGDMA_CH_FAULT_INJECT));
	sgdma_put_live(sdev);
	return 0;
}

static int fault_inject_open(struct inode *inode, struct file *file)
{
	return single_open(file, fault_inject_show, inode->i_private);
}

static const struct file_operations sgdma_fault_fops = {
	.owner = THIS_MODULE,
	.open = fault_inject_open,
	.read = seq_read,
	.write = fault_inject_write,
	.llseek = seq_lseek,
	.release = single_release,
};

/*
 * debugfs perf: the device's PERF_* counters (spec 4.1), "name value" a
 * line, so that tests see what the device did (the interrupts it raised,
 * say) without mapping BAR0, which the driver holds.
 */
static int sgdma_perf_show(struct seq_file *m, void *unused)
{
	static const char * const names[SGDMA_PERF_COUNTERS] = {
		"descs", "wait_us", "move_us", "bh_runs", "irqs", "h2h_direct",
	};
	struct sgdma_dev *sdev = m->private;
	unsigned int i;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret)
		return ret;
	for (i = 0; i < SGDMA_PERF_COUNTERS; i++)
		seq_printf(m, "%s %u\n", names[i],
			   sgdma_read(sdev, SGDMA_REG_PERF_DESCS + 4 * i));
	sgdma_put_live(sdev);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(sgdma_perf);

/**
 * sgdma_debugfs_add() - a device's debugfs directory and files
 * @sdev: the device, its limits read
 */
void sgdma_debugfs_add(struct sgdma_dev *sdev)
{
	struct dentry *dir;

	dir = debugfs_create_dir(dev_name(&sdev->dev), sgdma_debugfs);
	debugfs_create_file("perf", 0444, dir, sdev, &sgdma_perf_fops);
	if (sdev->lim.fault_inject)
		debugfs_create_file("fault_inject", 0600, dir, sdev,
				    &sgdma_fault_fops);
}

/**
 * sgdma_debugfs_del() - remove what sgdma_debugfs_add() created
 * @sdev: the device
 */
void sgdma_debugfs_del(struct sgdma_dev *sdev)
{
	debugfs_lookup_and_remove(dev_name(&sdev->dev), sgdma_debugfs);
}

/** sgdma_debugfs_init() - the driver's debugfs directory, at module load */
void sgdma_debugfs_init(void)
{
	sgdma_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
}

/** sgdma_debugfs_exit() - remove it, at module unload */
void sgdma_debugfs_exit(void)
{
	debugfs_remove(sgdma_debugfs);
}
