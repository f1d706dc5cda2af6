// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma channel rings: posting descriptors, reaping their completions
 * (interrupt, polling, timeout), waiting for them, interrupt coalescing,
 * cancelling and flushing.
 *
 * A channel has one owner at a time (the caller that holds its mutex;
 * callers pick any free channel, so up to "channels" owners run in
 * parallel per device), and the owner keeps up to the ring's depth of
 * descriptors in flight: it posts them (sgdma_chan_post()) and waits for
 * them in the order it posted them (sgdma_chan_wait()). Completions are
 * reaped in batches by the interrupt handler, by a polling owner and by
 * an owner whose wait timed out (sgdma_chan_reap_locked()).
 *
 * Slots. A slot belongs to the driver until its descriptor is posted,
 * then to the device until the reaper saw its completion: the descriptor,
 * its completion entry and its segment lists are written only before the
 * doorbell that hands it over, and the slot is reused only once the
 * reaper moved the driver's head past it (tail - head <= ring size).
 * @ring_lock orders the poster against the reaper; the owner's mutex
 * orders owners.
 *
 * Ordering. The descriptor, its lists and the cleared completion are
 * written, then wmb(), then the doorbell (writel_relaxed()). The reaper
 * reads DONE, then dma_rmb(), then the rest of the completion; it ends
 * the descriptor with a release store that the owner's acquire load pairs
 * with.
 *
 * Interrupts. Every descriptor asks for one; an owner with several
 * outstanding has the device coalesce them (sgdma_chan_coalesce()).
 *
 * Timeouts are per descriptor: timeout_ms from when it reached the head
 * of the ring (posted to an empty ring, or its predecessor reaped). A
 * completion the owner finds only after that counts as a lost interrupt.
 *
 * Failures. The channel is stopped and verified stopped before anything
 * outstanding ends (sgdma_recover.c).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/jiffies.h>
#include <linux/sched/signal.h>

#include "sgdma.h"
#include "sgdma_chan.h"
#include "sgdma_trace.h"

/* Describe a host side in a descriptor: inline if one segment, else list. */
static u8 sgdma_desc_side(struct sgdma_side *side, __le64 *addr, __le32 *n)
{
	struct sgdma_seglist *l = side->list;

	if (l->n == 1) {
		*addr = l->seg[0].addr;
		*n = l->seg[0].len;
		return 0;
	}
	*addr = cpu_to_le64(l->dma);
	*n = cpu_to_le32(l->n);
	return 1;
}

static bool sgdma_chan_done(struct sgdma_hw_compl *c)
{
	return READ_ONCE(c->flags) & cpu_to_le16(SGDMA_COMPL_DONE);
}

/* The function was reset (sgdma_chan_escalate()) since the channel started. */
static bool sgdma_chan_was_reset(struct sgdma_chan *chan)
{
	return atomic_read(&chan->sdev->resets) != chan->resets_seen;
}

/* End @d with @status; its owner may free it from here on. */
static void sgdma_desc_end(struct sgdma_desc *d, int status)
{
	d->status = status;
	/* Pairs with sgdma_desc_done(): @status and @crc before @done. */
	smp_store_release(&d->done, true);
}

/*
 * Check a posted completion against the descriptor in its slot. The device
 * is not trusted: a completion that is not exactly the one expected fails.
 */
static int sgdma_chan_check(struct sgdma_chan *chan, struct sgdma_hw_compl *c,
			    struct sgdma_desc *d)
{
	struct device *dev = &chan->sdev->pdev->dev;
	u16 status;
	u32 bytes;

	/* Read the rest of the completion only after seeing DONE. */
	dma_rmb();
	status = le16_to_cpu(c->status);
	bytes = le32_to_cpu(c->bytes);
	trace_sgdma_complete(chan->sdev->minor, chan->index, d->index,
			     le64_to_cpu(c->cookie), status, bytes,
			     le32_to_cpu(c->crc));

	if (status) {
		dev_err_ratelimited(dev, "channel %u: %s (%u) after %u of %u bytes at %#llx\n",
				    chan->index, sgdma_hw_strerror(status),
				    status, bytes, d->len,
				    le64_to_cpu(c->err_addr));
		return -EIO;
	}
	if (le64_to_cpu(c->cookie) != d->cookie ||
	    le32_to_cpu(c->index) != d->index || bytes != d->len) {
		dev_err_ratelimited(dev, "channel %u: bogus completion: cookie %#llx index %u bytes %u, expected %#llx %u %u\n",
				    chan->index, le64_to_cpu(c->cookie),
				    le32_to_cpu(c->index), bytes, d->cookie,
				    d->index, d->len);
		return -EIO;
	}
	d->crc = le32_to_cpu(c->crc);
	return 0;
}

/*
 * Reap, from the driver's head on, every completion the device posted:
 * check it against its slot's descriptor, free the slot and end the
 * descriptor. A completion that fails its check ends its descriptor with
 * -EIO and stops the reaping (@chan->broken) until the owner has stopped
 * the channel: the device halts after an error, and one that posts bogus
 * completions is believed in nothing after them. Caller holds @ring_lock.
 * Returns the completions reaped.
 */
static unsigned int sgdma_chan_reap_locked(struct sgdma_chan *chan)
{
	struct sgdma_dev *sdev = chan->sdev;
	u32 mask = sdev->lim.ring_entries - 1;
	unsigned int n = 0;

	while (chan->head != chan->tail && !chan->broken) {
		struct sgdma_hw_compl *c = &chan->compl[chan->head & mask];
		struct sgdma_desc *d = chan->slots[chan->head & mask];
		int status;

		if (!sgdma_chan_done(c))
			break;
		status = sgdma_chan_check(chan, c, d);
		chan->slots[chan->head & mask] = NULL;
		chan->head++;
		n++;
		if (status) {
			chan->broken = true;
		} else {
			atomic64_inc(&sdev->stats.transfers);
			atomic64_add(d->len, &sdev->stats.bytes);
		}
		sgdma_desc_end(d, status);
		/* The next one's time starts now that it leads the ring. */
		if (chan->head != chan->tail)
			WRITE_ONCE(chan->slots[chan->head & mask]->deadline,
				   jiffies + msecs_to_jiffies(READ_ONCE(sgdma_timeout_ms)));
	}
	if (n)
		trace_sgdma_reap(sdev->minor, chan->index, n);
	return n;
}

static unsigned int sgdma_chan_reap(struct sgdma_chan *chan)
{
	unsigned long flags;
	unsigned int n;

	spin_lock_irqsave(&chan->ring_lock, flags);
	n = sgdma_chan_reap_locked(chan);
	spin_unlock_irqrestore(&chan->ring_lock, flags);
	return n;
}

/* The interrupt path: reap in a batch, wake the owner. */
void sgdma_chan_reap_irq(struct sgdma_chan *chan)
{
	unsigned int n = sgdma_chan_reap(chan);

	if (n) {
		atomic64_add(n, &chan->sdev->stats.completions_irq);
		atomic64_inc(&chan->sdev->stats.irq_reaps);
	}
	wake_up(&chan->wq);
}

/*
 * End every descriptor still outstanding with @err, in ring order, and
 * empty the ring. Only once the channel was stopped and verified stopped
 * (or given up on: @chan->abandoned), so the device no longer reads them.
 */
void sgdma_chan_flush(struct sgdma_chan *chan, int err)
{
	u32 mask = chan->sdev->lim.ring_entries - 1;
	unsigned long flags;

	spin_lock_irqsave(&chan->ring_lock, flags);
	/* What the device completed before it stopped still counts. */
	sgdma_chan_reap_locked(chan);
	while (chan->head != chan->tail) {
		struct sgdma_desc *d = chan->slots[chan->head & mask];

		chan->slots[chan->head & mask] = NULL;
		chan->head++;
		sgdma_desc_end(d, err);
	}
	spin_unlock_irqrestore(&chan->ring_lock, flags);
}

static bool sgdma_chan_halted(struct sgdma_chan *chan)
{
	return chan_read(chan, SGDMA_CH_STATUS) & SGDMA_CH_STATUS_HALTED;
}

static bool sgdma_chan_event(struct sgdma_chan *chan, struct sgdma_desc *d,
			     bool kickable)
{
	return sgdma_desc_done(d) || (kickable && READ_ONCE(chan->kicked)) ||
	       READ_ONCE(chan->sdev->dying) || sgdma_chan_was_reset(chan) ||
	       sgdma_chan_halted(chan);
}

/*
 * Spin on the completion ring for up to poll_us, reaping what is there,
 * as NVMe's polled queues do: no interrupt, no wake-up, no sleep.
 */
static void sgdma_chan_poll(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	u64 end = ktime_get_ns() + (u64)READ_ONCE(sgdma_poll_us) * NSEC_PER_USEC;
	unsigned int n;

	while (!sgdma_desc_done(d)) {
		n = sgdma_chan_reap(chan);
		if (n)
			atomic64_add(n, &chan->sdev->stats.completions_polled);
		if (sgdma_desc_done(d) || ktime_get_ns() >= end ||
		    READ_ONCE(chan->sdev->dying) || need_resched())
			break;
		cpu_relax();
	}
}

/*
 * Wait until @d is done or can no longer be: 0 when it is done (its own
 * @status tells how), else why not: -EINTR, -ETIMEDOUT, -ENODEV (removal)
 * or -EIO (a function reset, or the channel halted without posting it).
 * If @kickable, also -EAGAIN once the channel was kicked: @d is still in
 * flight and its time still runs.
 */
static int sgdma_chan_await(struct sgdma_chan *chan, struct sgdma_desc *d,
			    bool kickable)
{
	unsigned long deadline, timeout;
	long ret;

	if (d->poll)
		sgdma_chan_poll(chan, d);
	deadline = READ_ONCE(d->deadline);
	timeout = time_after(deadline, jiffies) ? deadline - jiffies : 0;
	ret = wait_event_interruptible_timeout(chan->wq,
					       sgdma_chan_event(chan, d, kickable),
					       timeout);
	if (!sgdma_desc_done(d) && sgdma_chan_reap(chan) &&
	    sgdma_desc_done(d) && time_after_eq(jiffies, deadline)) {
		/* Completion posted, but its interrupt never came. */
		atomic64_inc(&chan->sdev->stats.lost_irqs);
		dev_warn_ratelimited(&chan->sdev->pdev->dev,
				     "channel %u: lost interrupt\n",
				     chan->index);
	}
	if (sgdma_desc_done(d))
		return 0;
	if (ret < 0)
		return -EINTR;
	if (READ_ONCE(chan->sdev->dying))
		return -ENODEV;
	if (sgdma_chan_was_reset(chan)) {
		dev_err_ratelimited(&chan->sdev->pdev->dev,
				    "channel %u: the function was reset under the transfer\n",
				    chan->index);
		return -EIO;
	}
	if (!ret || !time_before(jiffies, READ_ONCE(d->deadline))) {
		atomic64_inc(&chan->sdev->stats.timeouts);
		return -ETIMEDOUT;
	}
	if (kickable && READ_ONCE(chan->kicked) && !sgdma_chan_halted(chan))
		return -EAGAIN;
	sgdma_chan_report_halt(chan);
	return -EIO;
}

/**
 * sgdma_chan_cancel() - stop the channel and end what is outstanding
 * @chan: the channel, held by its owner
 * @err: the errno every descriptor still outstanding ends with
 *
 * Nothing is released before the channel was stopped and verified
 * stopped; one that would not stop sets @chan->abandoned: its owner must
 * leak (sgdma_leak()) what the flushed descriptors describe.
 */
void sgdma_chan_cancel(struct sgdma_chan *chan, int err)
{
	if (READ_ONCE(chan->head) == READ_ONCE(chan->tail))
		return;
	sgdma_chan_halt(chan);
	sgdma_chan_flush(chan, err);
}

/**
 * sgdma_chan_lost_all() - whether a failure took every transfer with it
 * @chan: the channel, held by its owner, right after a failed
 *        sgdma_chan_wait() or a sgdma_chan_cancel()
 * @err: the errno the descriptors outstanding ended with
 *
 * Every descriptor outstanding ended with @err. An owner that runs several
 * transfers (an engine, sgdma_async.c) may post again the ones whose
 * descriptors merely ended with another's failure, unless the failure
 * concerns them all: removal, a reset of the function (their state on the
 * device is gone) or a channel that would not stop (what they describe
 * must be leaked).
 *
 * Return: true if every transfer that had descriptors outstanding must
 * end with @err.
 */
bool sgdma_chan_lost_all(struct sgdma_chan *chan, int err)
{
	return err == -ENODEV || READ_ONCE(chan->sdev->dying) ||
	       chan->abandoned || chan->wedged || sgdma_chan_was_reset(chan);
}

/**
 * sgdma_chan_depth() - descriptors the owner may have in flight
 * @chan: the channel
 *
 * Return: the ring's slots not yet handed to the device, right now.
 */
unsigned int sgdma_chan_depth(struct sgdma_chan *chan)
{
	return chan->sdev->lim.ring_entries -
	       (READ_ONCE(chan->tail) - READ_ONCE(chan->head));
}

/* Describe @d in ring slot @hw. */
static void sgdma_desc_fill(struct sgdma_desc *d, struct sgdma_hw_desc *hw)
{
	u8 flags = SGDMA_DESC_IRQ | (d->want_crc ? SGDMA_DESC_CRC : 0);

	memset(hw, 0, sizeof(*hw));
	if (d->src) {
		if (sgdma_desc_side(d->src, &hw->src, &hw->src_n))
			flags |= SGDMA_DESC_SRC_LIST;
	} else {
		hw->src = cpu_to_le64(d->card_src);
	}
	if (d->dst) {
		if (sgdma_desc_side(d->dst, &hw->dst, &hw->dst_n))
			flags |= SGDMA_DESC_DST_LIST;
	} else {
		hw->dst = cpu_to_le64(d->card_dst);
	}
	hw->opcode = d->opcode;
	hw->flags = flags;
	hw->length = cpu_to_le32(d->len);
	hw->cookie = cpu_to_le64(d->cookie);
}

static void sgdma_inflight_note(struct sgdma_dev *sdev, unsigned int n)
{
	int max = atomic_read(&sdev->stats.inflight_max);

	while ((int)n > max &&
	       !atomic_try_cmpxchg(&sdev->stats.inflight_max, &max, n))
		;
}

/*
 * Before posting: start the channel again if need be, once the ring is
 * idle. With descriptors outstanding, a failure (a halted channel, a
 * function reset) is the owner's wait's to find and report: the next
 * descriptor is posted behind them and ends with them.
 */
static int sgdma_chan_ready(struct sgdma_chan *chan)
{
	if (chan->head != chan->tail)
		return 0;
	if (sgdma_chan_was_reset(chan) || chan->broken)
		chan->needs_reset = true;
	return chan->needs_reset ? sgdma_chan_start(chan) : 0;
}

/*
 * Interrupt coalescing. With n descriptors outstanding the owner asks the
 * device for an interrupt every min(coalesce_max, n / 2) completions, so
 * that it wakes to refill the ring while the device still has half of
 * them to run; with one or two outstanding it gets an interrupt for each.
 * The count rises as the owner posts (sgdma_chan_post(): completions that
 * come while it is busy posting interrupt no one) and is chosen anew
 * before each sleep (sgdma_chan_coalesce()) from what is outstanding once
 * the completions already posted were reaped: the completions still to
 * come (the awaited one the first of them) are at least that many, so
 * the interrupt that wakes the owner is not held back for good. Those
 * that crossed the new count on its way were counted against the old
 * one: the owner flushes the write and reaps again before it sleeps.
 * The timer (coalesce_usecs) bounds the wait for a misbehaving device.
 */
static u32 sgdma_coalesce_val(unsigned int outstanding)
{
	unsigned int count = min3(outstanding / 2, READ_ONCE(sgdma_coalesce_max),
				  0xffffU);

	if (count < 2)
		return 0;
	return FIELD_PREP(SGDMA_CH_COALESCE_COUNT, count) |
	       FIELD_PREP(SGDMA_CH_COALESCE_USECS,
			  min(READ_ONCE(sgdma_coalesce_usecs), 0xffffU));
}

static void sgdma_chan_coalesce_write(struct sgdma_chan *chan, u32 val)
{
	chan->coalesce = val;
	chan_write(chan, SGDMA_CH_COALESCE, val);
	trace_sgdma_coalesce(chan->sdev->minor, chan->index,
			     FIELD_GET(SGDMA_CH_COALESCE_COUNT, val),
			     FIELD_GET(SGDMA_CH_COALESCE_USECS, val));
}

/* After a post: a higher count for the fuller ring. */
static void sgdma_chan_coalesce_raise(struct sgdma_chan *chan)
{
	u32 val = sgdma_coalesce_val(chan->tail - READ_ONCE(chan->head));

	if (FIELD_GET(SGDMA_CH_COALESCE_COUNT, val) >
	    FIELD_GET(SGDMA_CH_COALESCE_COUNT, chan->coalesce))
		sgdma_chan_coalesce_write(chan, val);
}

/*
 * Before the owner sleeps for @d: the count for what is outstanding. Off
 * already, it stays off: nothing was posted since the last post found too
 * few outstanding to coalesce, and reaping only makes them fewer.
 */
static void sgdma_chan_coalesce(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	u32 val;

	if (!chan->coalesce)
		return;
	sgdma_chan_reap(chan);
	if (sgdma_desc_done(d))
		return;
	val = sgdma_coalesce_val(chan->tail - READ_ONCE(chan->head));
	if (val == chan->coalesce)
		return;
	sgdma_chan_coalesce_write(chan, val);
	/*
	 * A completion that reached the device before the new count did was
	 * counted against the old one and may interrupt no one: flush the
	 * write with a read (which also flushes the device's completions
	 * ahead of it), then reap what came in between. What comes after
	 * sees the new count.
	 */
	chan_read(chan, SGDMA_CH_COALESCE);
	sgdma_chan_reap(chan);
}

/**
 * sgdma_chan_post() - hand one descriptor to the device
 * @chan: the channel, held by the caller, with a free slot
 *        (sgdma_chan_depth())
 * @d: the descriptor, its sides built; it belongs to the channel until
 *     sgdma_chan_wait() returns for it or sgdma_chan_cancel() ended it
 *
 * A slot belongs to the driver until its descriptor is posted, then to
 * the device until the reaper saw its completion: a slot is reused only
 * after that (tail - head never exceeds the ring's size).
 *
 * Return: 0, or -ENODEV, -EIO (the channel cannot be started) or -EBUSY
 * (no free slot); nothing was posted then.
 */
int sgdma_chan_post(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	struct sgdma_dev *sdev = chan->sdev;
	u32 mask = sdev->lim.ring_entries - 1;
	unsigned long flags;
	u32 index;
	int ret;

	if (READ_ONCE(sdev->dying))
		return -ENODEV;
	if (WARN_ON_ONCE((d->src && d->src->bytes != d->len) ||
			 (d->dst && d->dst->bytes != d->len)))
		return -EIO;
	ret = sgdma_chan_ready(chan);
	if (ret)
		return ret;
	if (WARN_ON_ONCE(!sgdma_chan_depth(chan)))
		return -EBUSY;

	d->done = false;
	d->status = 0;
	d->crc = 0;
	d->cookie = ++chan->cookie;
	spin_lock_irqsave(&chan->ring_lock, flags);
	index = chan->tail;
	d->index = index;
	d->deadline = jiffies + msecs_to_jiffies(READ_ONCE(sgdma_timeout_ms));
	/* The slot is ours: its previous completion was reaped. */
	memset(&chan->compl[index & mask], 0, sizeof(*chan->compl));
	sgdma_desc_fill(d, &chan->ring[index & mask]);
	chan->slots[index & mask] = d;
	chan->tail = index + 1;
	trace_sgdma_submit(sdev->minor, chan->index, index, d->cookie,
			   d->opcode, chan->ring[index & mask].flags, d->len,
			   le32_to_cpu(chan->ring[index & mask].src_n),
			   le32_to_cpu(chan->ring[index & mask].dst_n));
	/*
	 * The descriptor, its segment lists and the cleared completion must
	 * be visible to the device before it sees the doorbell.
	 */
	wmb();
	writel_relaxed(chan->tail, chan->regs + SGDMA_CH_DOORBELL);
	spin_unlock_irqrestore(&chan->ring_lock, flags);
	sgdma_inflight_note(sdev, index + 1 - READ_ONCE(chan->head));
	sgdma_chan_coalesce_raise(chan);
	return 0;
}

static int sgdma_chan_wait_kickable(struct sgdma_chan *chan,
				    struct sgdma_desc *d, bool kickable)
{
	struct sgdma_dev *sdev = chan->sdev;
	int ret;

	chan->abandoned = false;
	sgdma_chan_coalesce(chan, d);
	ret = sgdma_chan_await(chan, d, kickable);
	if (ret == -EAGAIN)
		return ret;
	if (!ret)
		ret = d->status;
	if (!ret)
		return 0;
	trace_sgdma_error(sdev->minor, chan->index, d->index, ret,
			  chan_read(chan, SGDMA_CH_STATUS));
	sgdma_chan_halt(chan);
	sgdma_chan_flush(chan, ret);
	if (ret == -EIO || ret == -ETIMEDOUT)
		atomic64_inc(&sdev->stats.errors);
	return ret;
}

/**
 * sgdma_chan_wait() - wait for the oldest descriptor the owner posted
 * @chan: the channel, held by the caller
 * @d: the descriptor, the oldest not yet waited for
 *
 * On any failure (an error or bogus completion, a timeout, a signal,
 * removal, a function reset) the channel is stopped and verified stopped,
 * then every descriptor still outstanding on it ends with the same errno
 * (they are all the owner's: no data past a failure). Unless
 * @chan->abandoned: it would not stop, and the owner must leak what they
 * describe (sgdma_leak()).
 *
 * Return: 0 (@d->crc is set), -EINTR, -ETIMEDOUT, -EIO or -ENODEV.
 */
int sgdma_chan_wait(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	return sgdma_chan_wait_kickable(chan, d, false);
}

/**
 * sgdma_chan_wait_or_kick() - wait for the oldest descriptor or new work
 * @chan: the channel, held by the caller
 * @d: the descriptor, the oldest not yet waited for
 *
 * As sgdma_chan_wait(), but returns early once the channel was kicked
 * (sgdma_chan_kick()), so that an owner with room in the ring posts what
 * came meanwhile instead of sleeping until @d completes. @d stays in flight
 * then, its time still running; the owner waits for it again.
 *
 * Return: as sgdma_chan_wait(), or -EAGAIN: kicked; nothing was stopped.
 */
int sgdma_chan_wait_or_kick(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	return sgdma_chan_wait_kickable(chan, d, true);
}

/**
 * sgdma_chan_kick() - tell the channel's owner that it has new work
 * @chan: the channel, its device live; any context that may sleep or not
 *
 * An owner waiting in sgdma_chan_wait_or_kick() wakes; others ignore it.
 */
void sgdma_chan_kick(struct sgdma_chan *chan)
{
	WRITE_ONCE(chan->kicked, true);
	wake_up(&chan->wq);
}

/**
 * sgdma_chan_run() - run one descriptor and wait for it
 * @chan: the channel, held by the caller, with nothing outstanding
 * @d: the descriptor
 *
 * Return: as sgdma_chan_wait(), or what sgdma_chan_post() failed with.
 */
int sgdma_chan_run(struct sgdma_chan *chan, struct sgdma_desc *d)
{
	int ret;

	chan->abandoned = false;
	ret = sgdma_chan_post(chan, d);
	return ret ? ret : sgdma_chan_wait(chan, d);
}
