// SPDX-License-Identifier: LGPL-2.1-or-later
#define _GNU_SOURCE
#include "libsgdma.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct sgdma_dev {
	int fd;
};

int sgdma_open(const char *path, struct sgdma_dev **devp)
{
	struct sgdma_dev *dev;

	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0) {
		int err = -errno;

		free(dev);
		return err;
	}
	*devp = dev;
	return 0;
}

int sgdma_open_index(unsigned int index, struct sgdma_dev **devp)
{
	char path[32];

	snprintf(path, sizeof(path), "/dev/sgdma%u", index);
	return sgdma_open(path, devp);
}

void sgdma_close(struct sgdma_dev *dev)
{
	if (!dev)
		return;
	close(dev->fd);
	free(dev);
}

int sgdma_fd(const struct sgdma_dev *dev)
{
	return dev->fd;
}

int sgdma_get_info(struct sgdma_dev *dev, struct sgdma_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(dev->fd, SGDMA_IOC_INFO, info) < 0)
		return -errno;
	return 0;
}

const char *sgdma_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such sgdma device node (is the sgdma module loaded?)";
	case -ENODEV:
		return "the sgdma device is gone (removed or unbound)";
	case -ENOTTY:
		return "not an sgdma device, or the driver lacks this request";
	default:
		return strerror(-err);
	}
}
