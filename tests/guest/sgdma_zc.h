/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers of the zero-copy and asynchronous tests (sgdma_regbuf,
 * sgdma_mmap, sgdma_async, sgdma_ring, sgdma_zc_stress): buffer
 * transfers, the process's pinned-memory charge, capabilities and device
 * knobs.
 */
#ifndef SGDMA_ZC_H
#define SGDMA_ZC_H

#include <linux/capability.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "sgdma_test.h"

/* The process's pinned memory (VmPin), in KiB; -1 if unknown. */
static inline long vm_pin_kib(void)
{
	char line[128];
	long val = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmPin:", 6))
			val = atol(line + 6);
	fclose(f);
	return val;
}

/* A transfer on buffers; returns 0 or an errno value. */
static inline int bx(uint16_t op, uint32_t flags, uint64_t card,
		     uint32_t sh, uint64_t soff, uint32_t dh, uint64_t doff,
		     uint64_t len, uint32_t *crc)
{
	struct sgdma_buf_xfer x = {
		.flags = flags, .op = op, .card_offset = card,
		.src_handle = sh, .src_offset = soff,
		.dst_handle = dh, .dst_offset = doff, .len = len,
	};
	int ret = -sgdma_buf_xfer(dev, &x);

	if (!ret && crc)
		*crc = x.crc;
	if (!ret && x.bytes != len) {
		ktap_diag("BUF_XFER moved %llu of %llu bytes",
			  (unsigned long long)x.bytes,
			  (unsigned long long)len);
		return EIO;
	}
	return ret;
}

static inline int bx_h2c(uint64_t card, uint32_t h, uint64_t off,
			 uint64_t len)
{
	return bx(SGDMA_OP_H2C, 0, card, h, off, 0, 0, len, NULL);
}

static inline int bx_c2h(uint64_t card, uint32_t h, uint64_t off,
			 uint64_t len)
{
	return bx(SGDMA_OP_C2H, 0, card, 0, 0, h, off, len, NULL);
}

static inline int reg(void *p, size_t len, uint32_t flags, uint32_t *h)
{
	return -sgdma_buf_register(dev, p, len, flags, h);
}

static inline int unreg(uint32_t h)
{
	return -sgdma_buf_free(dev, h);
}

/* Anonymous shared-nothing memory, page aligned, touched (backed). */
static inline void *backed(size_t len)
{
	void *p = unbacked(len);

	if (p)
		memset(p, 0, len);
	return p;
}

/* Arms FAULT_INJECT of sgdma<index>'s channel @chan (spec section 7). */
static inline bool arm_fault_on(unsigned int index, unsigned int chan,
				unsigned int mode, unsigned int n)
{
	char buf[64], path[96];

	snprintf(buf, sizeof(buf), "%u %#x\n", chan, mode | (n << 8));
	snprintf(path, sizeof(path),
		 "/sys/kernel/debug/sgdma/sgdma%u/fault_inject", index);
	return write_str(path, buf);
}

/* Arms FAULT_INJECT of sgdma0's channel @chan (spec section 7). */
static inline bool arm_fault(unsigned int chan, unsigned int mode,
			     unsigned int n)
{
	return arm_fault_on(0, chan, mode, n);
}

/* FAULT_INJECT of @chan of sgdma0, as the driver's debugfs reads it, or -1. */
static inline long fault_register(unsigned int chan)
{
	return fault_register_on(0, chan);
}

/* Drops CAP_IPC_LOCK from the effective set of the calling thread. */
static inline bool drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	return syscall(SYS_capset, &hdr, data) == 0;
}

/* Waits for @pid; true if it exited with status 0. */
static inline bool child_ok(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ktap_diag("child %d: %s %d", pid,
			  WIFEXITED(status) ? "exit" : "signal",
			  WIFEXITED(status) ? WEXITSTATUS(status) :
			  WTERMSIG(status));
		return false;
	}
	return true;
}

/* Rounds @len up to the device's segment alignment. */
static inline size_t al_up(size_t len)
{
	return (len + info.seg_align - 1) / info.seg_align * info.seg_align;
}

/* Rounds @len down to the device's segment alignment. */
static inline size_t al_down(size_t len)
{
	return len / info.seg_align * info.seg_align;
}

/*
 * The kernel's flags of the mapping holding @addr, as /proc/self/smaps
 * shows them ("rd wr sh mr mw me ms io pf dd de"); "" if none is found.
 */
static inline void vma_flags(const void *addr, char *flags, size_t len)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	uintptr_t a = (uintptr_t)addr;
	bool inside = false;
	char line[256];

	*flags = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			inside = a >= lo && a < hi;
		} else if (inside && !strncmp(line, "VmFlags:", 8)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(flags, len, "%s", line + 8);
			break;
		}
	}
	if (f)
		fclose(f);
}

/* Whether the smaps flags @flags (vma_flags()) contain the flag @flag. */
static inline bool has_vma_flag(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ') && (!p[n] || p[n] == ' '))
			return true;
	return false;
}

#endif /* SGDMA_ZC_H */
