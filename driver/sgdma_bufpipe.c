// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma transfers on buffers: the pipeline that splits requests into
 * descriptors the device accepts (its length limit, one pair of segment
 * lists) and keeps up to a list set's worth of them in flight on one
 * channel, as far as the ring has room.
 *
 * One pipeline serves both users. A synchronous transfer
 * (SGDMA_IOC_BUF_XFER) feeds it a single request and waits; the engine of
 * a channel (sgdma_async.c) feeds it the requests of the asynchronous
 * queues, in submission order, so that small queued transfers fill the
 * ring instead of running one at a time.
 *
 * Pieces complete in the order they were posted (cookie order). A request
 * ends when its last piece completed, or when it stops (a closing queue)
 * and nothing of it is in flight any more.
 *
 * Failures. A failed piece (an error or bogus completion, a timeout, a
 * signal) or one that could not be built or posted has stopped the
 * channel and ended every piece in flight with the same errno
 * (sgdma_recover.c). Its request ends with that errno: no data past a
 * failure. The pieces of other requests did not run: those requests roll
 * back to their first piece not completed, CRC included (it covers only
 * completed pieces), and go back to their feed to be posted again once the
 * channel restarted. Removal, a reset of the function and a channel that
 * would not stop end every request in flight instead (and for the last,
 * leak their buffers: the device may still access them).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>

#include "sgdma.h"

/*
 * Build the descriptor for the next bytes of @r, up to the device's
 * length limit, in piece @p (and its list set) of the pipeline, and give
 * its bytes to the device.
 */
static int sgdma_bufpiece_prep(struct sgdma_bufpipe *bp,
			       struct sgdma_bufreq *r, struct sgdma_bufpiece *p)
{
	struct sgdma_chan *chan = bp->chan;
	struct sgdma_dev *sdev = chan->sdev;
	const struct sgdma_limits *lim = &sdev->lim;
	unsigned int set = p - bp->pieces;
	u64 cap = ALIGN_DOWN(lim->max_desc_len, lim->seg_align);
	u64 done = r->posted, n = min(r->len - done, cap), m;
	int ret;

	ret = sgdma_chan_lists(chan, set);
	if (ret)
		return ret;
	if (r->src) {
		ret = sgdma_buf_side(sdev, r->src, r->src_off + done, n,
				     &p->sside, &chan->src[set], &n);
		if (ret)
			return ret;
	}
	if (r->dst) {
		ret = sgdma_buf_side(sdev, r->dst, r->dst_off + done, n,
				     &p->dside, &chan->dst[set], &m);
		if (ret)
			return ret;
		/* The destination's list filled first: shorten the source. */
		if (r->src && m < n) {
			ret = sgdma_buf_side(sdev, r->src, r->src_off + done, m,
					     &p->sside, &chan->src[set], &n);
			if (ret)
				return ret;
		}
		n = m;
	}
	if (WARN_ON_ONCE(!n || n > U32_MAX))
		return -EIO;

	p->r = r;
	p->done = done;
	p->d = (struct sgdma_desc){
		.opcode = r->op,
		.want_crc = r->flags & SGDMA_XFER_CRC,
		/* Queued pieces never poll: no one waits for them. */
		.poll = !bp->queued && sgdma_want_poll(r->flags, n),
		.src = r->src ? &p->sside : NULL,
		.card_src = r->card_offset + done,
		.dst = r->dst ? &p->dside : NULL,
		.card_dst = r->card_offset + done,
		.len = n,
	};
	if (r->src)
		sgdma_buf_sync(r->src, r->src_off + done, n, DMA_TO_DEVICE,
			       false);
	/*
	 * The destination is synced both ways: a transfer that fails or is
	 * interrupted part way leaves bytes the device never wrote, and the
	 * sync for the CPU must copy back the CPU's own bytes there, not
	 * whatever a bounce buffer held before.
	 */
	if (r->dst)
		sgdma_buf_sync(r->dst, r->dst_off + done, n, DMA_BIDIRECTIONAL,
			       false);
	return 0;
}

/* The device is done with a piece (completed or stopped): the CPU's turn. */
static void sgdma_bufpiece_for_cpu(struct sgdma_bufpiece *p)
{
	struct sgdma_bufreq *r = p->r;

	if (r->dst)
		sgdma_buf_sync(r->dst, r->dst_off + p->done, p->d.len,
			       DMA_BIDIRECTIONAL, true);
}

/*
 * A piece ended without completing: give its bytes back to the CPU, or,
 * if the channel would not stop, never release its request's buffers.
 */
static void sgdma_bufpiece_unwind(struct sgdma_chan *chan,
				  struct sgdma_bufpiece *p)
{
	if (chan->abandoned) {
		/* The device may still access them: never release them. */
		if (p->r->src)
			sgdma_buf_set_leaked(p->r->src);
		if (p->r->dst)
			sgdma_buf_set_leaked(p->r->dst);
		return;
	}
	sgdma_bufpiece_for_cpu(p);
}

/* @r ended with @err: nothing more of it is posted; its feed hears of it. */
static void sgdma_bufpipe_end(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r,
			      int err)
{
	if (err)
		r->stop = err;
	r->status = err;
	bp->ops->end(bp, r);
}

/*
 * A piece of @failed ended with @err, or could not be built or posted:
 * the channel is stopped and every piece in flight ended with @err. End
 * @failed; give the others back to their feed, rolled back, unless the
 * failure took every request on the channel with it.
 */
static void sgdma_bufpipe_fail(struct sgdma_bufpipe *bp,
			       struct sgdma_bufreq *failed, int err)
{
	bool all = !bp->ops->retry || sgdma_chan_lost_all(bp->chan, err);
	struct sgdma_bufreq *reqs[SGDMA_LIST_SETS];
	bool lone = !failed->pieces;
	unsigned int n = 0, i;

	/*
	 * Every piece first, then the requests (each at most once: its
	 * pieces are consecutive), which may be freed once they ended.
	 */
	for (i = bp->first; i != bp->next; i++) {
		struct sgdma_bufpiece *p = &bp->pieces[i % SGDMA_LIST_SETS];

		sgdma_bufpiece_unwind(bp->chan, p);
		if (!n || reqs[n - 1] != p->r)
			reqs[n++] = p->r;
	}
	bp->first = bp->next;
	/* Newest first: each goes back to the front of its feed. */
	while (n--) {
		struct sgdma_bufreq *r = reqs[n];

		r->pieces = 0;
		if (r == failed || all) {
			sgdma_bufpipe_end(bp, r, err);
		} else if (r->stop) {
			sgdma_bufpipe_end(bp, r, r->stop);
		} else {
			r->posted = r->completed;
			bp->ops->retry(bp, r);
		}
	}
	if (lone)
		sgdma_bufpipe_end(bp, failed, err);
}

/* Post the next piece of @r. */
static int sgdma_bufpipe_post(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r)
{
	struct sgdma_bufpiece *p = &bp->pieces[bp->next % SGDMA_LIST_SETS];
	int ret;

	ret = sgdma_bufpiece_prep(bp, r, p);
	if (ret)
		return ret;
	ret = sgdma_chan_post(bp->chan, &p->d);
	if (ret) {
		sgdma_bufpiece_for_cpu(p);
		return ret;
	}
	r->posted += p->d.len;
	r->pieces++;
	bp->next++;
	return 0;
}

/*
 * Wait for the oldest piece in flight and account for it; if @kickable,
 * return early, the piece still in flight, once the feed has more.
 */
static void sgdma_bufpipe_reap(struct sgdma_bufpipe *bp, bool kickable)
{
	struct sgdma_bufpiece *p = &bp->pieces[bp->first % SGDMA_LIST_SETS];
	struct sgdma_bufreq *r = p->r;
	int ret;

	if (kickable)
		ret = sgdma_chan_wait_or_kick(bp->chan, &p->d);
	else
		ret = sgdma_chan_wait(bp->chan, &p->d);
	if (ret == -EAGAIN)
		return;
	if (ret) {
		sgdma_bufpipe_fail(bp, r, ret);
		return;
	}
	bp->first++;
	sgdma_bufpiece_for_cpu(p);
	if (r->flags & SGDMA_XFER_CRC)
		r->crc = sgdma_crc32c_combine(r->crc, p->d.crc, p->d.len);
	r->completed += p->d.len;
	r->pieces--;
	if (!r->pieces && (r->completed == r->len || r->stop))
		sgdma_bufpipe_end(bp, r, r->completed == r->len ? 0 : r->stop);
}

/**
 * sgdma_bufreq_start() - make a request ready for a pipeline
 * @r: the request, checked, with its buffers taken
 */
void sgdma_bufreq_start(struct sgdma_bufreq *r)
{
	r->crc = 0;
	r->posted = 0;
	r->completed = 0;
	r->pieces = 0;
	r->stop = 0;
	r->status = 0;
}

/**
 * sgdma_bufpipe_init() - set up a pipeline on a channel
 * @bp: the pipeline
 * @chan: the channel, held by the caller until sgdma_bufpipe_run() returns
 * @ops: its feed
 * @queued: nobody waits for its pieces (asynchronous queues): never poll
 */
void sgdma_bufpipe_init(struct sgdma_bufpipe *bp, struct sgdma_chan *chan,
			const struct sgdma_bufpipe_ops *ops, bool queued)
{
	bp->chan = chan;
	bp->ops = ops;
	bp->queued = queued;
	bp->first = 0;
	bp->next = 0;
}

/**
 * sgdma_bufpipe_stop() - post nothing more of a request
 * @bp: the pipeline, running (from its feed's callbacks)
 * @r: a request it was fed and has not ended
 * @err: the errno @r ends with: at once if nothing of it is in flight,
 *       else once its pieces in flight ended (with 0 if they completed
 *       all of it)
 */
void sgdma_bufpipe_stop(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r,
			int err)
{
	r->stop = err;
	if (!r->pieces)
		sgdma_bufpipe_end(bp, r, err);
}

/* Let the feed deliver what ended before the pipeline waits or returns. */
static void sgdma_bufpipe_flush(struct sgdma_bufpipe *bp)
{
	if (bp->ops->flush)
		bp->ops->flush(bp);
}

/**
 * sgdma_bufpipe_run() - run what the feed gives until it gives nothing
 * @bp: the pipeline, set up with sgdma_bufpipe_init()
 *
 * Keeps the ring full with pieces of the requests the feed gives, in the
 * order given, up to a list set per piece (a hungry feed's new requests
 * are posted as they come, see @ops->hungry); waits for the oldest, gives
 * its bytes to the CPU and combines its CRC into its request; ends each
 * request (@ops->end) when its last piece completed. Returns once the
 * feed has nothing more and nothing is in flight: every request it gave
 * has ended or was given back (@ops->retry). See the head of this file
 * for failures.
 */
void sgdma_bufpipe_run(struct sgdma_bufpipe *bp)
{
	for (;;) {
		struct sgdma_bufreq *r = NULL;
		bool hungry = false;
		int ret = 0;

		/* A kick from now on is for what this fill does not see. */
		WRITE_ONCE(bp->chan->kicked, false);
		/* Fill the ring, up to a list set per piece. */
		while (bp->next - bp->first < SGDMA_LIST_SETS &&
		       sgdma_chan_depth(bp->chan)) {
			r = bp->ops->next(bp);
			if (!r) {
				hungry = bp->ops->hungry &&
					 bp->ops->hungry(bp);
				break;
			}
			ret = sgdma_bufpipe_post(bp, r);
			if (ret)
				break;
		}
		if (ret) {
			/* What was posted ends before the error is reported. */
			bp->chan->abandoned = false;
			sgdma_chan_cancel(bp->chan, ret);
			sgdma_bufpipe_fail(bp, r, ret);
			continue;
		}
		if (bp->first == bp->next) {
			sgdma_bufpipe_flush(bp);
			return;
		}
		if (!sgdma_desc_done(&bp->pieces[bp->first %
						 SGDMA_LIST_SETS].d))
			sgdma_bufpipe_flush(bp);
		sgdma_bufpipe_reap(bp, hungry);
	}
}

/* A synchronous transfer: a pipeline fed with one request. */
struct sgdma_bufsync {
	struct sgdma_bufpipe bp;
	struct sgdma_bufreq *r;
};

static struct sgdma_bufreq *sgdma_bufsync_next(struct sgdma_bufpipe *bp)
{
	struct sgdma_bufreq *r = container_of(bp, struct sgdma_bufsync, bp)->r;

	return r->posted < r->len && !r->stop ? r : NULL;
}

/* Its caller reads @r->status once the pipeline returned. */
static void sgdma_bufsync_end(struct sgdma_bufpipe *bp, struct sgdma_bufreq *r)
{
}

static const struct sgdma_bufpipe_ops sgdma_bufsync_ops = {
	.next = sgdma_bufsync_next,
	.end = sgdma_bufsync_end,
};

/**
 * sgdma_bufreq_run() - run a transfer on buffers and wait for it
 * @sdev: the device, live
 * @r: the request with its buffers taken; @r->crc is set on success
 *
 * Splits the transfer into descriptors the device accepts and keeps up to
 * a list set per descriptor, as far as the ring has room, in flight on
 * one channel. On failure the channel has been stopped: the device no
 * longer touches the buffers.
 *
 * Return: 0 or a negative errno (see struct sgdma_buf_xfer in the uapi).
 */
int sgdma_bufreq_run(struct sgdma_dev *sdev, struct sgdma_bufreq *r)
{
	struct sgdma_bufsync *s;
	struct sgdma_chan *chan;

	sgdma_bufreq_start(r);
	if (!r->len)
		return 0;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	chan = sgdma_chan_get(sdev, r->channel);
	if (IS_ERR(chan)) {
		kfree(s);
		return PTR_ERR(chan);
	}
	s->r = r;
	sgdma_bufpipe_init(&s->bp, chan, &sgdma_bufsync_ops, false);
	sgdma_bufpipe_run(&s->bp);
	sgdma_chan_put(chan);
	kfree(s);
	return r->status;
}
