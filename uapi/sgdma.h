/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgdma user-space ABI: the ioctl interface of /dev/sgdmaN.
 *
 * Rules every structure here follows:
 *  - fixed-width types only, user pointers as __u64, explicit padding;
 *  - the first member is __u32 size: the caller sets it to the size of the
 *    structure it was built against. The kernel accepts any size from the
 *    first published version (SGDMA_*_SIZE_VER0) up; fields the caller does
 *    not know about must be zero if it is newer than the kernel (-E2BIG
 *    otherwise), and are treated as zero if it is older;
 *  - unknown flags and non-zero reserved fields are rejected with -EINVAL.
 *
 * ioctl numbers use type SGDMA_IOC_MAGIC and numbers 0x00-0x3f. Because the
 * size of a structure lives in its size field, the kernel decodes commands
 * by type, number and direction; the size bits of the command are ignored.
 */
#ifndef _UAPI_LINUX_SGDMA_H
#define _UAPI_LINUX_SGDMA_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on every change to this header; additions stay compatible. */
#define SGDMA_ABI_VERSION	1

#define SGDMA_IOC_MAGIC		0xd5

/**
 * struct sgdma_info - identity of a device (SGDMA_IOC_INFO)
 * @size: in: sizeof(struct sgdma_info) as the caller knows it;
 *        out: number of bytes the kernel filled in
 * @flags: in: must be 0
 * @abi_version: SGDMA_ABI_VERSION of the driver
 * @hw_id: the device's ID register ("SGDM")
 * @hw_version: the device's VERSION register: major in 31:16, minor in 15:0
 * @pci_vendor: PCI vendor ID
 * @pci_device: PCI device ID
 * @pci_revision: PCI revision ID
 * @__pad: zero
 * @minor: the N of /dev/sgdmaN
 */
struct sgdma_info {
	__u32 size;
	__u32 flags;
	__u32 abi_version;
	__u32 hw_id;
	__u32 hw_version;
	__u16 pci_vendor;
	__u16 pci_device;
	__u8  pci_revision;
	__u8  __pad[3];
	__u32 minor;
};

#define SGDMA_INFO_SIZE_VER0	32	/* sizeof(struct sgdma_info) in ABI 1 */

#define SGDMA_IOC_INFO		_IOWR(SGDMA_IOC_MAGIC, 0x00, struct sgdma_info)

#endif /* _UAPI_LINUX_SGDMA_H */
