// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma asynchronous queues: transfers on buffers submitted without
 * waiting, completions collected later (read, ioctl, poll, eventfd).
 *
 * A queue is an anonymous file created from an open node; it holds that
 * file, so the buffers its transfers name outlive them. Each channel has
 * an engine: a submission joins the pending list of its channel's engine
 * (the channel it names, else the queue's own, chosen round-robin when
 * the queue was made) and kicks the engine's work item on the device's
 * workqueue. A queue's transfers thus fill one channel's ring, which a
 * single engine keeps full and reaps with few interrupts, as NVMe's
 * queues are per CPU; transfers spread over channels would each share an
 * engine's wake-ups with fewer others. The engine takes its
 * channel and feeds the pending requests, in submission order, to the
 * same pipeline as synchronous transfers on buffers (sgdma_bufpipe.c),
 * which keeps the ring full with their pieces: a queue of small transfers
 * keeps up to SGDMA_LIST_SETS descriptors in flight on a channel, and no
 * thread sleeps per request. A submission also kicks the channel: an
 * engine waiting for its oldest piece with room in the ring posts the new
 * request at once, not once that piece completed. Back-pressure is the
 * queue's depth: a submission beyond it fails with -EAGAIN. A batch
 * (SGDMA_IOC_QUEUE_SUBMIT_BATCH) makes the same submissions in one system
 * call, and kicks each engine once, after all of them: an engine woken by
 * the first would otherwise post it alone and sleep again per entry.
 *
 * Completions. The engine delivers the requests it ended to their queues
 * together, once before it waits for the device again: one wake-up of the
 * queue's reader for all of them, not one per request.
 *
 * Fairness. The engine holds its channel only while it has work, and for
 * at most SGDMA_ENGINE_BATCH requests; then it lets what it posted
 * complete, releases the channel (the mutex goes to a synchronous caller
 * waiting for it) and, if requests remain, queues itself again.
 *
 * Failures. A failed piece ends its request with its errno; requests whose
 * pieces were in flight behind it did not run and are posted again once
 * the channel restarted, unless removal, a reset of the function or a
 * channel that would not stop took them all (sgdma_bufpipe.c).
 *
 * Closing a queue (last close, exit, kill -9) marks it closing: its
 * requests not yet posted complete as -ECANCELED without touching the
 * device, and one with pieces in flight posts nothing more and completes
 * once they ended; then release waits for every request to complete, so
 * no buffer is released while the device may still use it. Every wait in
 * the transfer is bounded by timeout_ms. Removal ends the pending requests
 * with -ENODEV: the engines' work runs once more after the channels are
 * released and touches nothing but its lists (sgdma_remove() destroys the
 * workqueue, which flushes it, before the engines are freed).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/eventfd.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sgdma.h"
#include "sgdma_trace.h"

static_assert(sizeof(struct sgdma_queue_create) == SGDMA_QUEUE_CREATE_SIZE_VER0);
static_assert(sizeof(struct sgdma_queue_reap) == SGDMA_QUEUE_REAP_SIZE_VER0);
static_assert(sizeof(struct sgdma_queue_batch) == SGDMA_QUEUE_BATCH_SIZE_VER0);
static_assert(sizeof(struct sgdma_completion) == 32);

/*
 * Requests an engine takes per hold of its channel: twice what the
 * pipeline keeps in flight, so the ring stays full across requests while
 * a synchronous caller waits at most that many small transfers.
 */
#define SGDMA_ENGINE_BATCH	(2 * SGDMA_LIST_SETS)

/**
 * struct sgdma_queue - an asynchronous queue
 * @sf: the node's per-file state
 * @parent: the node's file, held
 * @lock: protects the fields below
 * @wq: readers, pollers, and release waiting for the work to drain
 * @done: completed requests not yet collected
 * @depth: most requests in flight and completed at once
 * @chan: the channel of the transfers that name none
 * @inflight: requests submitted and not completed
 * @ready: requests on @done
 * @closing: the queue is being released
 * @efd: eventfd signalled per completion, or NULL
 */
struct sgdma_queue {
	struct sgdma_file *sf;
	struct file *parent;
	spinlock_t lock;	/* protects the fields below */
	wait_queue_head_t wq;
	struct list_head done;
	unsigned int depth;
	unsigned int chan;
	unsigned int inflight;
	unsigned int ready;
	bool closing;
	struct eventfd_ctx *efd;
};

/**
 * struct sgdma_async - one submitted transfer
 * @node: in its engine's pending list until taken, then in the queue's
 *        @done list once complete
 * @q: the queue
 * @r: the transfer, its buffers held
 * @c: the completion to deliver
 */
struct sgdma_async {
	struct list_head node;
	struct sgdma_queue *q;
	struct sgdma_bufreq r;
	struct sgdma_completion c;
};

/**
 * struct sgdma_engine - feeds one channel's ring from the queues
 * @sdev: the device
 * @index: the channel
 * @lock: protects @pending
 * @pending: requests (struct sgdma_async) submitted to the channel and not
 *           taken by @work, in submission order; requests given back
 *           after another's failure at the front
 * @work: takes the channel and runs the pending requests on it
 * @bp: the pipeline; @work's only
 * @cur: the request @work posts pieces of, or NULL; @work's only
 * @budget: requests @work may still take in this hold of the channel
 * @taken: requests @work took in this hold (tracing)
 * @ended: requests the pipeline ended, delivered to their queues together
 *         before @work waits again (sgdma_engine_flush()); @work's only
 */
struct sgdma_engine {
	struct sgdma_dev *sdev;
	unsigned int index;
	spinlock_t lock;	/* protects @pending */
	struct list_head pending;
	struct work_struct work;
	struct sgdma_bufpipe bp;
	struct sgdma_async *cur;
	unsigned int budget;
	unsigned int taken;
	struct list_head ended;
};

static void sgdma_eventfd_signal(struct eventfd_ctx *efd)
{
#ifdef SGDMA_EVENTFD_SIGNAL_NO_COUNT
	eventfd_signal(efd);
#else
	eventfd_signal(efd, 1);
#endif
}

/* Set @a's completion from @ret and let go of its buffers. */
static void sgdma_async_finish(struct sgdma_async *a, int ret)
{
	a->c.status = ret;
	a->c.bytes = ret ? 0 : a->r.len;
	a->c.crc = ret ? 0 : a->r.crc;
	/* The buffers are free to go before user space hears of it. */
	sgdma_bufreq_put(&a->r);
}

/*
 * Deliver the finished requests on @list, leaving it empty: each queue's
 * in a row under one lock and with one wake-up (its eventfd still counts
 * every completion).
 */
static void sgdma_async_deliver(struct list_head *list)
{
	struct sgdma_async *a, *tmp;
	struct sgdma_queue *q = NULL;

	list_for_each_entry_safe(a, tmp, list, node) {
		if (a->q != q) {
			if (q) {
				wake_up_all(&q->wq);
				spin_unlock(&q->lock);
			}
			q = a->q;
			spin_lock(&q->lock);
		}
		list_move_tail(&a->node, &q->done);
		q->inflight--;
		q->ready++;
		if (q->efd)
			sgdma_eventfd_signal(q->efd);
	}
	/* Last touch of @q: release may free it once @inflight drops. */
	if (q) {
		wake_up_all(&q->wq);
		spin_unlock(&q->lock);
	}
}

/* Complete @a with @ret: deliver its completion to its queue. */
static void sgdma_async_complete(struct sgdma_async *a, int ret)
{
	LIST_HEAD(one);

	sgdma_async_finish(a, ret);
	list_add(&a->node, &one);
	sgdma_async_deliver(&one);
}

/* The oldest pending request, taken off the list, or NULL. */
static struct sgdma_async *sgdma_engine_pop(struct sgdma_engine *eng)
{
	struct sgdma_async *a;

	spin_lock(&eng->lock);
	a = list_first_entry_or_null(&eng->pending, struct sgdma_async, node);
	if (a)
		list_del(&a->node);
	spin_unlock(&eng->lock);
	return a;
}

static bool sgdma_engine_busy(struct sgdma_engine *eng)
{
	bool busy;

	spin_lock(&eng->lock);
	busy = !list_empty(&eng->pending);
	spin_unlock(&eng->lock);
	return busy;
}

/* End every pending request with @err, without the device. */
static void sgdma_engine_end_all(struct sgdma_engine *eng, int err)
{
	struct sgdma_async *a;

	while ((a = sgdma_engine_pop(eng)))
		sgdma_async_complete(a, err);
}

/* Pending requests of closing queues end now, without the device. */
static void sgdma_engine_sweep(struct sgdma_engine *eng)
{
	struct sgdma_async *a, *tmp;
	LIST_HEAD(gone);

	spin_lock(&eng->lock);
	list_for_each_entry_safe(a, tmp, &eng->pending, node)
		if (READ_ONCE(a->q->closing))
			list_move_tail(&a->node, &gone);
	spin_unlock(&eng->lock);
	list_for_each_entry_safe(a, tmp, &gone, node) {
		list_del(&a->node);
		sgdma_async_complete(a, -ECANCELED);
	}
}

/*
 * The pipeline's feed: more of the current request, else the next pending
 * one within the batch. A closing queue's request posts nothing more.
 */
static struct sgdma_bufreq *sgdma_engine_next(struct sgdma_bufpipe *bp)
{
	struct sgdma_engine *eng = container_of(bp, struct sgdma_engine, bp);
	struct sgdma_async *a = eng->cur;

	if (a && READ_ONCE(a->q->closing)) {
		eng->cur = NULL;
		sgdma_bufpipe_stop(bp, &a->r, -ECANCELED);
	} else if (a && a->r.posted < a->r.len) {
		return &a->r;
	}
	eng->cur = NULL;
	while (eng->budget) {
		a = sgdma_engine_pop(eng);
		if (!a)
			break;
		eng->budget--;
		eng->taken++;
		if (READ_ONCE(a->q->closing)) {
			sgdma_async_complete(a, -ECANCELED);
			continue;
		}
		if (!a->r.len) {
			sgdma_async_complete(a, 0);
			continue;
		}
		eng->cur = a;
		return &a->r;
	}
	return NULL;
}

static void sgdma_engine_end(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r)
{
	struct sgdma_engine *eng = container_of(bp, struct sgdma_engine, bp);
	struct sgdma_async *a = container_of(r, struct sgdma_async, r);

	if (eng->cur == a)
		eng->cur = NULL;
	sgdma_async_finish(a, r->status);
	list_add_tail(&a->node, &eng->ended);
}

/* Before the pipeline waits: what it ended reaches its queues. */
static void sgdma_engine_flush(struct sgdma_bufpipe *bp)
{
	struct sgdma_engine *eng = container_of(bp, struct sgdma_engine, bp);

	sgdma_async_deliver(&eng->ended);
}

/* Back to the front: the pipeline gives them back newest first. */
static void sgdma_engine_retry(struct sgdma_bufpipe *bp,
			       struct sgdma_bufreq *r)
{
	struct sgdma_engine *eng = container_of(bp, struct sgdma_engine, bp);
	struct sgdma_async *a = container_of(r, struct sgdma_async, r);

	if (eng->cur == a)
		eng->cur = NULL;
	spin_lock(&eng->lock);
	list_add(&a->node, &eng->pending);
	spin_unlock(&eng->lock);
}

/* Submissions kick the channel (sgdma_engine_submit()). */
static bool sgdma_engine_hungry(struct sgdma_bufpipe *bp)
{
	return container_of(bp, struct sgdma_engine, bp)->budget;
}

static const struct sgdma_bufpipe_ops sgdma_engine_ops = {
	.next = sgdma_engine_next,
	.end = sgdma_engine_end,
	.retry = sgdma_engine_retry,
	.hungry = sgdma_engine_hungry,
	.flush = sgdma_engine_flush,
};

/* Hold the channel for a batch of the pending requests. */
static void sgdma_engine_batch(struct sgdma_engine *eng)
{
	struct sgdma_dev *sdev = eng->sdev;
	struct sgdma_chan *chan;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret) {
		sgdma_engine_end_all(eng, ret);
		return;
	}
	chan = sgdma_chan_get(sdev, eng->index);
	if (IS_ERR(chan)) {
		sgdma_engine_end_all(eng, PTR_ERR(chan));
		goto out;
	}
	sgdma_bufpipe_init(&eng->bp, chan, &sgdma_engine_ops, true);
	eng->cur = NULL;
	eng->budget = SGDMA_ENGINE_BATCH;
	eng->taken = 0;
	sgdma_bufpipe_run(&eng->bp);
	trace_sgdma_engine_batch(sdev->minor, eng->index, eng->taken,
				 eng->bp.next);
	sgdma_chan_put(chan);
out:
	sgdma_put_live(sdev);
}

static void sgdma_engine_work(struct work_struct *work)
{
	struct sgdma_engine *eng = container_of(work, struct sgdma_engine,
						work);

	sgdma_engine_sweep(eng);
	if (!sgdma_engine_busy(eng))
		return;
	sgdma_engine_batch(eng);
	/* Another turn, after whoever waited for the channel. */
	if (sgdma_engine_busy(eng))
		queue_work(eng->sdev->wq, &eng->work);
}

/**
 * sgdma_engines_init() - set up an engine per channel
 * @sdev: the device, its channels and workqueue set up
 *
 * The engines are freed with the device (sgdma_dev_release()), after
 * removal destroyed the workqueue that runs them.
 *
 * Return: 0 or -ENOMEM.
 */
int sgdma_engines_init(struct sgdma_dev *sdev)
{
	unsigned int i;

	sdev->engines = kcalloc(sdev->lim.channels, sizeof(*sdev->engines),
				GFP_KERNEL);
	if (!sdev->engines)
		return -ENOMEM;
	for (i = 0; i < sdev->lim.channels; i++) {
		struct sgdma_engine *eng = &sdev->engines[i];

		eng->sdev = sdev;
		eng->index = i;
		spin_lock_init(&eng->lock);
		INIT_LIST_HEAD(&eng->pending);
		INIT_LIST_HEAD(&eng->ended);
		INIT_WORK(&eng->work, sgdma_engine_work);
	}
	return 0;
}

/* Append @a to its channel's engine; returns the engine's channel. */
static unsigned int sgdma_engine_append(struct sgdma_dev *sdev,
					struct sgdma_async *a)
{
	struct sgdma_engine *eng;

	eng = &sdev->engines[a->r.channel >= 0 ? a->r.channel : a->q->chan];
	spin_lock(&eng->lock);
	list_add_tail(&a->node, &eng->pending);
	spin_unlock(&eng->lock);
	return eng->index;
}

/*
 * Kick the engines in @kick: each one's work item if idle, else its
 * channel, which the engine may be waiting on with room in the ring.
 */
static void sgdma_engines_kick(struct sgdma_dev *sdev, const unsigned long *kick)
{
	unsigned int i;

	for_each_set_bit(i, kick, sdev->lim.channels) {
		queue_work(sdev->wq, &sdev->engines[i].work);
		sgdma_chan_kick(&sdev->chans[i]);
	}
}

/*
 * Submit @x to @q, the device held live: append it to its engine and mark
 * that engine in @kick.
 */
static int sgdma_queue_submit(struct sgdma_queue *q,
			      const struct sgdma_buf_xfer *x,
			      unsigned long *kick)
{
	struct sgdma_dev *sdev = q->sf->sdev;
	struct sgdma_async *a;
	int ret;

	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	ret = sgdma_buf_xfer_check(sdev, x, &a->r);
	if (!ret)
		ret = sgdma_bufreq_get(q->sf, &a->r, x->src_handle,
				       x->dst_handle);
	if (ret)
		goto out_free;

	spin_lock(&q->lock);
	if (q->inflight + q->ready >= q->depth) {
		spin_unlock(&q->lock);
		sgdma_bufreq_put(&a->r);
		ret = -EAGAIN;
		goto out_free;
	}
	q->inflight++;
	spin_unlock(&q->lock);

	a->q = q;
	a->c.user_data = x->user_data;
	sgdma_bufreq_start(&a->r);
	__set_bit(sgdma_engine_append(sdev, a), kick);
	return 0;

out_free:
	kfree(a);
	return ret;
}

/* Entries copied in per hold of the device in a batch. */
#define SGDMA_SUBMIT_CHUNK	64

/*
 * Copy in up to @n entries from @entry on, @stride bytes apart (0: one
 * entry of any size). Returns how many; *@err tells why fewer.
 */
static u32 sgdma_queue_entries_in(struct sgdma_buf_xfer *xs,
				  const void __user *entry, u32 n, u32 stride,
				  int *err)
{
	u32 usize, i;

	for (i = 0; i < n; i++, entry += stride) {
		*err = sgdma_copy_struct_in(&xs[i], sizeof(xs[i]),
					    SGDMA_BUF_XFER_SIZE_VER0, entry,
					    &usize);
		if (!*err && stride && usize != stride)
			*err = -EINVAL;
		if (*err)
			break;
	}
	return i;
}

/*
 * Submit the @n entries copied in, with the device held live, then kick
 * each engine they went to once. Returns how many were submitted; *@err
 * tells why fewer.
 */
static u32 sgdma_queue_submit_live(struct sgdma_queue *q,
				   const struct sgdma_buf_xfer *xs, u32 n,
				   int *err)
{
	struct sgdma_dev *sdev = q->sf->sdev;
	DECLARE_BITMAP(kick, SGDMA_CHAN_MAX) = {};
	u32 i;
	int ret;

	ret = sgdma_get_live(sdev);
	if (ret) {
		*err = ret;
		return 0;
	}
	for (i = 0; i < n; i++) {
		ret = sgdma_queue_submit(q, &xs[i], kick);
		if (ret) {
			*err = ret;
			break;
		}
	}
	sgdma_engines_kick(sdev, kick);
	sgdma_put_live(sdev);
	return i;
}

/*
 * Submit @count transfers from @entry on, @stride bytes apart (0: a
 * single one of any size), in order up to the first that fails. Entries
 * are copied in before the device is held: a fault on them may wait on
 * user space (userfaultfd), which must not hold off removal. Returns how
 * many were submitted, or the first one's errno.
 */
static long sgdma_queue_submit_n(struct sgdma_queue *q,
				 const void __user *entry, u32 count,
				 u32 stride)
{
	struct sgdma_buf_xfer one, *xs = &one;
	u32 done = 0, n, copied;
	int err = 0;

	/* A single submission, the common case, allocates nothing here. */
	if (count > 1) {
		xs = kmalloc_array(min_t(u32, count, SGDMA_SUBMIT_CHUNK),
				   sizeof(*xs), GFP_KERNEL);
		if (!xs)
			return -ENOMEM;
	}
	while (!err && done < count) {
		n = min_t(u32, count - done, SGDMA_SUBMIT_CHUNK);
		copied = sgdma_queue_entries_in(xs, entry + (size_t)done * stride,
						n, stride, &err);
		if (copied)
			done += sgdma_queue_submit_live(q, xs, copied, &err);
		cond_resched();
	}
	if (xs != &one)
		kfree(xs);
	return done ? (long)done : err;
}

/* SGDMA_IOC_QUEUE_SUBMIT_BATCH */
static long sgdma_queue_submit_batch(struct sgdma_queue *q,
				     const void __user *uarg)
{
	struct sgdma_queue_batch b;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&b, sizeof(b), SGDMA_QUEUE_BATCH_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (b.flags || !b.count || b.count > SGDMA_QUEUE_MAX_DEPTH ||
	    b.stride < SGDMA_BUF_XFER_SIZE_VER0 || b.stride > PAGE_SIZE)
		return -EINVAL;
	return sgdma_queue_submit_n(q, u64_to_user_ptr(b.entries), b.count,
				    b.stride);
}

/* Something to collect, or nothing that could ever come. */
static bool sgdma_queue_settled(struct sgdma_queue *q)
{
	bool settled;

	spin_lock(&q->lock);
	settled = q->ready || !q->inflight;
	spin_unlock(&q->lock);
	return settled;
}

static int sgdma_queue_wait(struct sgdma_queue *q, bool block)
{
	if (sgdma_queue_settled(q))
		return 0;
	if (!block)
		return -EAGAIN;
	return wait_event_interruptible(q->wq, sgdma_queue_settled(q));
}

/*
 * Move up to @max completions to user space at @uptr. Returns how many,
 * or -EFAULT if the first could not be copied; what could not be copied
 * stays queued, in order.
 */
static int sgdma_queue_collect(struct sgdma_queue *q,
			       struct sgdma_completion __user *uptr,
			       unsigned int max)
{
	struct sgdma_async *a, *tmp;
	LIST_HEAD(batch);
	unsigned int n = 0, copied = 0;

	spin_lock(&q->lock);
	list_for_each_entry_safe(a, tmp, &q->done, node) {
		if (n == max)
			break;
		list_move_tail(&a->node, &batch);
		n++;
	}
	q->ready -= n;
	spin_unlock(&q->lock);

	list_for_each_entry_safe(a, tmp, &batch, node) {
		if (copy_to_user(&uptr[copied], &a->c, sizeof(a->c)))
			break;
		list_del(&a->node);
		kfree(a);
		copied++;
	}
	if (!list_empty(&batch)) {
		spin_lock(&q->lock);
		q->ready += n - copied;
		list_splice(&batch, &q->done);
		spin_unlock(&q->lock);
	}
	if (copied)
		wake_up_all(&q->wq);	/* room for submissions: EPOLLOUT */
	return copied ? copied : (n ? -EFAULT : 0);
}

static long sgdma_queue_reap(struct sgdma_queue *q, struct file *file,
			     void __user *uarg)
{
	struct sgdma_queue_reap rp;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&rp, sizeof(rp), SGDMA_QUEUE_REAP_SIZE_VER0,
				   uarg, &usize);
	if (ret)
		return ret;
	if (rp.flags & ~SGDMA_REAP_WAIT || !rp.max)
		return -EINVAL;
	/*
	 * The count must be writable before completions leave the queue:
	 * once collected, a completion the caller is not told of is lost.
	 */
	if (put_user(0, (u32 __user *)(uarg +
			offsetof(struct sgdma_queue_reap, count))))
		return -EFAULT;
	ret = sgdma_queue_wait(q, rp.flags & SGDMA_REAP_WAIT);
	if (ret == -EAGAIN)
		ret = 0;
	if (ret)
		return ret;
	ret = sgdma_queue_collect(q, u64_to_user_ptr(rp.entries), rp.max);
	if (ret < 0)
		return ret;
	rp.count = ret;
	if (put_user(rp.count, (u32 __user *)(uarg +
			offsetof(struct sgdma_queue_reap, count))))
		return -EFAULT;
	return 0;
}

static ssize_t sgdma_queue_read(struct file *file, char __user *ubuf,
				size_t count, loff_t *ppos)
{
	struct sgdma_queue *q = file->private_data;
	size_t max = count / sizeof(struct sgdma_completion);
	int ret;

	if (!max)
		return -EINVAL;
	ret = sgdma_queue_wait(q, !(file->f_flags & O_NONBLOCK));
	if (ret)
		return ret;
	ret = sgdma_queue_collect(q, (struct sgdma_completion __user *)ubuf,
				  min_t(size_t, max, SGDMA_QUEUE_MAX_DEPTH));
	if (ret < 0)
		return ret;
	return ret * sizeof(struct sgdma_completion);
}

static __poll_t sgdma_queue_poll(struct file *file, poll_table *wait)
{
	struct sgdma_queue *q = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &q->wq, wait);
	spin_lock(&q->lock);
	if (q->ready)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (q->inflight + q->ready < q->depth)
		mask |= EPOLLOUT | EPOLLWRNORM;
	spin_unlock(&q->lock);
	return mask;
}

static long sgdma_queue_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct sgdma_queue *q = file->private_data;
	void __user *uarg = (void __user *)arg;

	if (_IOC_TYPE(cmd) != SGDMA_IOC_MAGIC)
		return -ENOTTY;
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(SGDMA_IOC_QUEUE_SUBMIT):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGDMA_IOC_QUEUE_SUBMIT))
			return -ENOTTY;
		return min(sgdma_queue_submit_n(q, uarg, 1, 0), 0L);
	case _IOC_NR(SGDMA_IOC_QUEUE_SUBMIT_BATCH):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGDMA_IOC_QUEUE_SUBMIT_BATCH))
			return -ENOTTY;
		return sgdma_queue_submit_batch(q, uarg);
	case _IOC_NR(SGDMA_IOC_QUEUE_REAP):
		if (_IOC_DIR(cmd) != _IOC_DIR(SGDMA_IOC_QUEUE_REAP))
			return -ENOTTY;
		return sgdma_queue_reap(q, file, uarg);
	default:
		return -ENOTTY;
	}
}

static bool sgdma_queue_idle(struct sgdma_queue *q)
{
	bool idle;

	spin_lock(&q->lock);
	idle = !q->inflight;
	spin_unlock(&q->lock);
	return idle;
}

static int sgdma_queue_release(struct inode *inode, struct file *file)
{
	struct sgdma_queue *q = file->private_data;
	struct sgdma_async *a, *tmp;

	spin_lock(&q->lock);
	WRITE_ONCE(q->closing, true);
	spin_unlock(&q->lock);
	/* The device is done with every buffer once the work has drained. */
	wait_event(q->wq, sgdma_queue_idle(q));

	list_for_each_entry_safe(a, tmp, &q->done, node)
		kfree(a);
	if (q->efd)
		eventfd_ctx_put(q->efd);
	fput(q->parent);
	kfree(q);
	return 0;
}

static const struct file_operations sgdma_queue_fops = {
	.owner = THIS_MODULE,
	.release = sgdma_queue_release,
	.read = sgdma_queue_read,
	.poll = sgdma_queue_poll,
	.unlocked_ioctl = sgdma_queue_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct sgdma_queue *sgdma_queue_new(struct sgdma_file *sf,
					   const struct sgdma_queue_create *qc)
{
	struct sgdma_queue *q = kzalloc(sizeof(*q), GFP_KERNEL);

	if (!q)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->wq);
	INIT_LIST_HEAD(&q->done);
	q->sf = sf;
	q->depth = qc->depth;
	q->chan = (unsigned int)atomic_inc_return(&sf->sdev->next_chan) %
		  sf->sdev->lim.channels;
	if (qc->eventfd >= 0) {
		q->efd = eventfd_ctx_fdget(qc->eventfd);
		if (IS_ERR(q->efd)) {
			long err = PTR_ERR(q->efd);

			kfree(q);
			return ERR_PTR(err);
		}
	}
	q->parent = get_file(sf->file);
	return q;
}

/**
 * sgdma_ioctl_queue_create() - SGDMA_IOC_QUEUE_CREATE
 * @sf: the node's per-file state (its device is not held)
 * @uarg: user address of struct sgdma_queue_create
 *
 * The new descriptor is installed only once its number reached user space.
 *
 * Return: 0 or a negative errno.
 */
long sgdma_ioctl_queue_create(struct sgdma_file *sf, void __user *uarg)
{
	struct sgdma_queue_create qc;
	struct sgdma_queue *q;
	struct file *file;
	int fd, oflags;
	u32 usize;
	int ret;

	ret = sgdma_copy_struct_in(&qc, sizeof(qc),
				   SGDMA_QUEUE_CREATE_SIZE_VER0, uarg, &usize);
	if (ret)
		return ret;
	if (qc.flags & ~(SGDMA_QUEUE_CLOEXEC | SGDMA_QUEUE_NONBLOCK) ||
	    !qc.depth || qc.depth > SGDMA_QUEUE_MAX_DEPTH || qc.fd ||
	    qc.__pad || qc.eventfd < -1)
		return -EINVAL;

	oflags = O_RDWR | (qc.flags & SGDMA_QUEUE_CLOEXEC ? O_CLOEXEC : 0) |
		 (qc.flags & SGDMA_QUEUE_NONBLOCK ? O_NONBLOCK : 0);
	q = sgdma_queue_new(sf, &qc);
	if (IS_ERR(q))
		return PTR_ERR(q);
	fd = get_unused_fd_flags(oflags);
	if (fd < 0) {
		ret = fd;
		goto err_queue;
	}
	file = anon_inode_getfile("[sgdma-queue]", &sgdma_queue_fops, q,
				  oflags);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_fd;
	}
	qc.fd = fd;
	if (copy_to_user(uarg, &qc, min_t(u32, usize, sizeof(qc)))) {
		/* Releases the queue, and with it what it holds. */
		fput(file);
		put_unused_fd(fd);
		return -EFAULT;
	}
	fd_install(fd, file);
	return 0;

err_fd:
	put_unused_fd(fd);
err_queue:
	if (q->efd)
		eventfd_ctx_put(q->efd);
	fput(q->parent);
	kfree(q);
	return ret;
}
