// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma open files: the per-file state that owns buffers and their
 * handles, its release at the last close, and the revocation of every
 * file's buffers at removal.
 */

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>

#include "sgdma.h"
#include "sgdma_buf.h"

/**
 * sgdma_file_open() - set up the per-file state of a new open
 * @sdev: the device (the caller holds a reference for the file)
 * @file: the file
 *
 * Return: the state, or NULL without memory.
 */
struct sgdma_file *sgdma_file_open(struct sgdma_dev *sdev, struct file *file)
{
	struct sgdma_file *sf = kzalloc(sizeof(*sf), GFP_KERNEL);

	if (!sf)
		return NULL;
	sf->sdev = sdev;
	sf->file = file;
	mutex_init(&sf->lock);
	INIT_LIST_HEAD(&sf->list);
	mutex_lock(&sdev->files_lock);
	list_add_tail(&sf->node, &sdev->files);
	mutex_unlock(&sdev->files_lock);
	return sf;
}

/**
 * sgdma_file_release() - free the per-file state at the last close
 * @sf: the state
 *
 * Nothing uses the file's buffers any more: transfers, queues and mappings
 * all hold the file.
 */
void sgdma_file_release(struct sgdma_file *sf)
{
	struct sgdma_dev *sdev = sf->sdev;
	unsigned int i;

	/* Removal, which revokes buffers, does not run meanwhile. */
	down_read(&sdev->lock);
	for (i = 0; i < SGDMA_MAX_BUFS; i++) {
		struct sgdma_buf *buf;

		mutex_lock(&sf->lock);
		buf = sf->bufs[i];
		sf->bufs[i] = NULL;
		mutex_unlock(&sf->lock);
		if (buf)
			sgdma_buf_put(buf);
	}
	WARN_ON(!list_empty(&sf->list));
	mutex_lock(&sdev->files_lock);
	list_del(&sf->node);
	mutex_unlock(&sdev->files_lock);
	up_read(&sdev->lock);
	mutex_destroy(&sf->lock);
	kfree(sf);
}

/**
 * sgdma_files_revoke() - release every buffer of every open file
 * @sdev: the device, being removed: no file operation runs, the channels
 *        are stopped or idle, user mappings are revoked
 */
void sgdma_files_revoke(struct sgdma_dev *sdev)
{
	struct sgdma_file *sf;
	struct sgdma_buf *buf;

	mutex_lock(&sdev->files_lock);
	list_for_each_entry(sf, &sdev->files, node) {
		mutex_lock(&sf->lock);
		list_for_each_entry(buf, &sf->list, node)
			sgdma_buf_teardown(buf);
		mutex_unlock(&sf->lock);
	}
	mutex_unlock(&sdev->files_lock);
}

/**
 * sgdma_files_sync_mmaps() - wait for mmaps of coherent buffers in progress
 * @sdev: the device, being removed, its mappings already marked revoked
 *
 * sgdma_mmap() populates a coherent buffer's mapping at once, but the
 * mapping joins its file's address space, where revocation finds it, only
 * after sgdma_mmap() returned, with its mm's mmap_lock still held for
 * writing. Only a buffer's creator may map it: taking each creator's
 * mmap_lock once waits for every such mmap that passed its check before
 * revocation. mmap_lock is taken under @files_lock, never under @sf->lock.
 */
void sgdma_files_sync_mmaps(struct sgdma_dev *sdev)
{
	struct sgdma_file *sf;

	mutex_lock(&sdev->files_lock);
	list_for_each_entry(sf, &sdev->files, node) {
		struct mm_struct *mm;

		do {
			struct sgdma_buf *buf;

			mm = NULL;
			mutex_lock(&sf->lock);
			list_for_each_entry(buf, &sf->list, node) {
				if (buf->kind == SGDMA_BUF_COHERENT &&
				    !buf->mm_synced) {
					buf->mm_synced = true;
					mm = buf->mm;
					mmgrab(mm);
					break;
				}
			}
			mutex_unlock(&sf->lock);
			if (mm) {
				mmap_read_lock(mm);
				mmap_read_unlock(mm);
				mmdrop(mm);
			}
		} while (mm);
	}
	mutex_unlock(&sdev->files_lock);
}
