// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma_filemap: device writes into a MAP_SHARED mapping of a file on a
 * block-backed file system (the boot's virtio-blk disk, ext4) survive
 * writeback. Pages the device wrote must be marked dirty when they are
 * unpinned: writeback cleans a page while the transfer is in flight (the
 * page was dirtied when it was pinned for writing, before the device wrote
 * it), so a page unpinned clean keeps the device's data only until the
 * kernel drops it; then the file reads back what it held before.
 *
 * Each case: the file holds old data, on disk; the card holds new data;
 * C2H (or H2H) from the slow function (20 ms of link latency, so a thread
 * can write the file back while the transfer waits) into the mapping while
 * that thread calls fsync() in a loop; then munmap, fsync, drop the page
 * cache (proven with mincore), read the file: it must hold the new data.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>

#include "sgdma_zc.h"

#define DISK_DIR	"/tmp/sgdma-disk"
#define EXT4_MAGIC	0xef53
#define LEN		(64 * KiB)

static unsigned char *old_data, *new_data;

/* Mounts the boot's virtio-blk disk (its drivers loaded if modules). */
static bool mount_disk(void)
{
	char dev_path[300] = "";
	struct statfs st;
	DIR *d;
	struct dirent *e;

	/*
	 * Modules where the kernel has them so (built in: nothing to do);
	 * crc32c too: ext4 asks the crypto API for it, which cannot load a
	 * module in this initramfs.
	 */
	if (system("for m in virtio_pci virtio_blk crc32c_generic ext4; do "
		   "modprobe -q $m; done") == -1)
		return false;
	for (int tries = 0; tries < 50 && !dev_path[0]; tries++) {
		d = opendir("/sys/block");
		while (d && (e = readdir(d)))
			if (!strncmp(e->d_name, "vd", 2))
				snprintf(dev_path, sizeof(dev_path), "/dev/%s",
					 e->d_name);
		if (d)
			closedir(d);
		if (!dev_path[0])
			usleep(100 * 1000);
	}
	if (!dev_path[0]) {
		ktap_diag("no virtio-blk disk in /sys/block");
		return false;
	}
	mkdir(DISK_DIR, 0755);
	if (mount(dev_path, DISK_DIR, "ext4", 0, NULL)) {
		ktap_diag("mount %s: %s", dev_path, strerror(errno));
		return false;
	}
	/* Block-backed, with writeback: not tmpfs or ramfs. */
	if (statfs(DISK_DIR, &st) || st.f_type != EXT4_MAGIC) {
		ktap_diag("%s is not ext4", DISK_DIR);
		return false;
	}
	ktap_diag("%s mounted on %s (ext4)", dev_path, DISK_DIR);
	return true;
}

/* A new file @name of LEN bytes of old data, written back to the disk. */
static int old_file(const char *name)
{
	char path[128];
	int f;

	snprintf(path, sizeof(path), DISK_DIR "/%s", name);
	f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (f < 0)
		return -1;
	if (pwrite(f, old_data, LEN, 0) != (ssize_t)LEN || fsync(f)) {
		close(f);
		return -1;
	}
	return f;
}

struct flusher {
	int file;
	atomic_bool stop;
	unsigned int rounds;
	pthread_t thread;
};

/* Writes the file back again and again until told to stop. */
static void *flush_loop(void *arg)
{
	struct flusher *fl = arg;

	while (!atomic_load(&fl->stop)) {
		fsync(fl->file);
		fl->rounds++;
	}
	return NULL;
}

static bool flusher_start(struct flusher *fl, int file)
{
	fl->file = file;
	fl->rounds = 0;
	atomic_store(&fl->stop, false);
	return !pthread_create(&fl->thread, NULL, flush_loop, fl);
}

static unsigned int flusher_stop(struct flusher *fl)
{
	atomic_store(&fl->stop, true);
	pthread_join(fl->thread, NULL);
	return fl->rounds;
}

/*
 * Ends a case on @file (mapped at @map, may be NULL): unmaps it, writes it
 * back, drops the page cache, proves none of the file stayed resident and
 * reads it from the disk: true if it holds the card's new data.
 */
static bool file_holds_new_data(int file, void *map)
{
	unsigned char vec[LEN / PAGE], *back = malloc(LEN);
	unsigned int resident = 0;
	void *probe;
	bool ok = true;

	if (map)
		ok &= EXPECT(munmap(map, LEN) == 0);
	ok &= EXPECT(fsync(file) == 0);
	sync();
	ok &= EXPECT(write_str("/proc/sys/vm/drop_caches", "1\n"));
	/* The read below comes from the disk: nothing of the file cached. */
	probe = mmap(NULL, LEN, PROT_READ, MAP_SHARED, file, 0);
	ok &= EXPECT(probe != MAP_FAILED);
	if (probe != MAP_FAILED) {
		ok &= EXPECT(mincore(probe, LEN, vec) == 0);
		for (size_t i = 0; i < ARRAY_LEN(vec); i++)
			resident += vec[i] & 1;
		munmap(probe, LEN);
	}
	ok &= EXPECT(resident == 0);
	ok &= EXPECT(back && pread(file, back, LEN, 0) == (ssize_t)LEN);
	if (back && !same(back, new_data, LEN)) {
		ktap_diag("the file reads back %s",
			  same(back, old_data, LEN) ?
			  "its old data: the device's pages were never marked dirty" :
			  "neither the old nor the device's data");
		ok = false;
	}
	free(back);
	close(file);
	return ok;
}

/*
 * C2H (@from_host: H2H from an anonymous buffer) on the path of @flags into a
 * MAP_SHARED mapping of a file, written back while the transfer waits.
 */
static bool test_xfer_into_file(const char *name, uint32_t flags, bool from_host)
{
	int file = old_file(name);
	unsigned char *map, *src = backed(LEN);
	struct flusher fl;
	unsigned int rounds;
	double t0;
	bool ok = true;
	int err;

	if (!EXPECT(file >= 0) || !EXPECT(src))
		return false;
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	if (!EXPECT(map != MAP_FAILED))
		return false;
	memcpy(src, new_data, LEN);
	ok &= EXPECT(h2c(0, new_data, LEN, SGDMA_XFER_COPY, NULL) == 0);
	if (!EXPECT(flusher_start(&fl, file)))
		return false;
	t0 = now();
	err = from_host ? h2h(map, src, LEN, flags, NULL) :
		    c2h(0, map, LEN, flags, NULL);
	rounds = flusher_stop(&fl);
	ktap_diag("%s: %.1f ms in flight, %u fsync calls meanwhile", name,
		  (now() - t0) * 1e3, rounds);
	ok &= EXPECT(err == 0);
	ok &= EXPECT(rounds > 0);
	munmap(src, LEN);
	return file_holds_new_data(file, map) && ok;
}

/* Release of a kernel, as major * 1000 + minor. */
static int kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	return major * 1000 + minor;
}

/*
 * A registered buffer on a MAP_SHARED file mapping: from 6.5 on the kernel
 * refuses a long-term writable pin of file-backed shared memory, so
 * registration fails with exactly -EFAULT (uapi/sgdma.h); before, it pins,
 * and the device's data must reach the file after the buffer is freed.
 */
static bool test_regbuf_into_file(void)
{
	bool refuses = kernel_version() >= 6005;
	int file = old_file("regbuf");
	unsigned char *map;
	struct flusher fl;
	uint32_t h = 0;
	bool ok = true;
	int err;

	if (!EXPECT(file >= 0))
		return false;
	map = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, file, 0);
	if (!EXPECT(map != MAP_FAILED))
		return false;
	ok &= EXPECT(h2c(0, new_data, LEN, SGDMA_XFER_COPY, NULL) == 0);
	err = reg(map, LEN, 0, &h);
	ktap_diag("kernel %s 6.5: registration %s", refuses ? ">=" : "<",
		  err ? strerror(err) : "pinned");
	if (refuses) {
		ok &= EXPECT(err == EFAULT);
		/* A read-only registration of the same mapping is fine. */
		ok &= EXPECT(reg(map, LEN, SGDMA_BUF_READONLY, &h) == 0);
		ok &= EXPECT(unreg(h) == 0);
		munmap(map, LEN);
		close(file);
		return ok;
	}
	if (!EXPECT(err == 0) || !EXPECT(flusher_start(&fl, file)))
		return false;
	ok &= EXPECT(bx_c2h(0, h, 0, LEN) == 0);
	ktap_diag("%u fsync calls while the transfer was in flight",
		  flusher_stop(&fl));
	ok &= EXPECT(unreg(h) == 0);
	return file_holds_new_data(file, map) && ok;
}

int main(void)
{
	char bdf[32];
	int slow;

	ktap_plan(4);
	slow = root_port_index(bdf, sizeof(bdf));
	old_data = malloc(LEN);
	new_data = malloc(LEN);
	if (!old_data || !new_data || !mount_disk() ||
	    !EXPECT(slow >= 0) || !t_open(slow))
		return t_fail_all("setup");
	ktap_diag("on sgdma%d (%s), the function with link latency", slow,
		  bdf);
	fill_random(old_data, LEN);
	fill_random(new_data, LEN);

	RUN(test_xfer_into_file("pinned_c2h", SGDMA_XFER_PINNED, false),
	    "pinned_c2h_into_file_written_back");
	RUN(test_xfer_into_file("pinned_h2h", SGDMA_XFER_PINNED, true),
	    "pinned_h2h_into_file_written_back");
	/* The copy path writes through the CPU: the method's control. */
	RUN(test_xfer_into_file("copy_c2h", SGDMA_XFER_COPY, false),
	    "copy_c2h_into_file_written_back");
	RUN(test_regbuf_into_file(), "regbuf_c2h_into_file_written_back");

	sgdma_close(dev);
	umount(DISK_DIR);
	return ktap_finish();
}
