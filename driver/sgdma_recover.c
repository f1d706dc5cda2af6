// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma channel recovery: stopping a channel and verifying it stopped,
 * escalating to a reset of the function, leaking what a channel that does
 * not stop may still write, starting a channel, and the device's error
 * codes in the log.
 *
 * Failures. After anything but a verified completion (an error or bogus
 * completion, a timeout, a signal, removal, a function reset) the channel
 * is stopped at once (RESET, then STATUS polled until ENABLED and BUSY are
 * clear), so the device no longer touches the owner's buffers when the
 * owner unmaps them; then every descriptor still outstanding ends with the
 * same errno: they are all the owner's, and none of them runs (no data past
 * a failure). An owner that runs several transfers at once (the engine of
 * asynchronous queues) ends the failed one and posts the others again once
 * the channel restarted, unless sgdma_chan_lost_all(). A function reset
 * ends them with -EIO, removal with -ENODEV.
 * The channel is brought up again before its next use. A channel that
 * does not stop is escalated: bus mastering off and a reset of the
 * function through the PCI core. One that still runs is "wedged": what
 * its outstanding descriptors describe is leaked, never freed, since the
 * device may still write it (sgdma_leak()).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitfield.h>
#include <linux/iopoll.h>

#include "sgdma.h"
#include "sgdma_chan.h"

/*
 * How long a channel may take to show it stopped after RESET. The spec
 * makes the stop synchronous (4.2, "Stopping"); a device that takes longer
 * is broken, and the driver believes only STATUS, never the write.
 */
#define SGDMA_STOP_TIMEOUT_US	(100 * USEC_PER_MSEC)
#define SGDMA_STOP_POLL_US	1000

/*
 * ENABLED and BUSY clear: the channel does no DMA. All ones is a function
 * that no longer answers (surprise removal), which issues no DMA either.
 */
static bool sgdma_status_stopped(u32 status)
{
	return status == ~0U ||
	       !(status & (SGDMA_CH_STATUS_ENABLED | SGDMA_CH_STATUS_BUSY));
}

/* Poll STATUS until the channel shows it stopped, for a bounded time. */
static int sgdma_chan_wait_stopped(struct sgdma_chan *chan)
{
	u32 status;

	return read_poll_timeout(chan_read, status,
				 sgdma_status_stopped(status),
				 SGDMA_STOP_POLL_US, SGDMA_STOP_TIMEOUT_US,
				 false, chan, SGDMA_CH_STATUS);
}

/*
 * Stop the channel and verify it stopped: 0 once STATUS shows neither
 * ENABLED nor BUSY, -ETIMEDOUT if it still runs after the bounded poll.
 */
int sgdma_chan_stop(struct sgdma_chan *chan)
{
	chan->needs_reset = true;
	chan_write(chan, SGDMA_CH_CTRL, SGDMA_CH_CTRL_RESET);
	return sgdma_chan_wait_stopped(chan);
}

/**
 * sgdma_leak() - give up memory the device may still write
 * @sdev: the device
 * @npages: pages of it
 *
 * The device would not stop: freeing, unpinning or unmapping what it was
 * given would let it write into memory that belongs to someone else by
 * then. Such memory stays allocated, pinned and mapped for good; it is
 * counted in the sysfs attribute pages_leaked and logged once per device.
 */
void sgdma_leak(struct sgdma_dev *sdev, unsigned long npages)
{
	if (!npages)
		return;
	atomic_long_add(npages, &sdev->stats.pages_leaked);
	if (!xchg(&sdev->leak_logged, true))
		dev_err(&sdev->pdev->dev,
			"a channel that does not stop may still write: leaking its buffers (see pages_leaked)\n");
}

/*
 * Escalate for a channel that does not stop: bus mastering off, then a
 * reset of the function through the PCI core (under the device lock, so
 * only if it is free: removal holds it while it waits for our callers),
 * its config space saved before and restored after. Every channel is
 * reset with the function: their users' waits end with -EIO and each
 * channel is started again before its next use (@sdev->resets).
 *
 * Return: 0 when @chan has stopped, else -ETIMEDOUT.
 */
static int sgdma_chan_escalate(struct sgdma_chan *chan)
{
	struct sgdma_dev *sdev = chan->sdev;
	struct pci_dev *pdev = sdev->pdev;
	int reset = -EAGAIN, ret;

	mutex_lock(&sdev->recover_lock);
	/* An escalation for another channel may have stopped this one. */
	ret = sgdma_chan_wait_stopped(chan);
	if (!ret)
		goto out;
	dev_warn(&pdev->dev, "channel %u does not stop (status %#x): bus mastering off, resetting the function\n",
		 chan->index, chan_read(chan, SGDMA_CH_STATUS));
	atomic64_inc(&sdev->stats.escalations);

	pci_save_state(pdev);
	pci_clear_master(pdev);
	if (pci_dev_trylock(pdev)) {
		reset = __pci_reset_function_locked(pdev);
		pci_dev_unlock(pdev);
	}
	/*
	 * Config space (BARs, MSI-X, bus mastering) as it was. Restoring
	 * consumes the saved state: save it again for AER's slot_reset.
	 */
	pci_restore_state(pdev);
	pci_save_state(pdev);
	if (!reset) {
		atomic_inc(&sdev->resets);
		sgdma_chans_wake_all(sdev);
	}
	ret = sgdma_chan_wait_stopped(chan);
	if (ret)
		dev_err(&pdev->dev, "channel %u still runs (status %#x) after %s\n",
			chan->index, chan_read(chan, SGDMA_CH_STATUS),
			reset ? "bus mastering off (no function reset)" :
			"a function reset");
out:
	mutex_unlock(&sdev->recover_lock);
	return ret;
}

/*
 * After a failure: stop the channel, escalating if need be. When it cannot
 * be stopped, the descriptor is abandoned: its caller must leak
 * (sgdma_leak()) what it handed the device instead of releasing it.
 */
void sgdma_chan_halt(struct sgdma_chan *chan)
{
	if (sgdma_chan_stop(chan) && sgdma_chan_escalate(chan)) {
		chan->wedged = true;
		chan->abandoned = true;
	}
}

/* Reset the channel and hand it its (empty) rings again. */
int sgdma_chan_start(struct sgdma_chan *chan)
{
	struct sgdma_dev *sdev = chan->sdev;
	u32 status;

	if (sgdma_chan_stop(chan)) {
		dev_err_ratelimited(&sdev->pdev->dev, "channel %u does not stop: status %#x\n",
				    chan->index, chan_read(chan, SGDMA_CH_STATUS));
		return -EIO;
	}
	if (chan->wedged)
		dev_info(&sdev->pdev->dev, "channel %u has stopped at last\n",
			 chan->index);
	chan->wedged = false;
	chan->resets_seen = atomic_read(&sdev->resets);
	/* Anything still outstanding ended when the channel stopped. */
	sgdma_chan_flush(chan, -EIO);
	memset(chan->compl, 0, sdev->lim.ring_entries * sizeof(*chan->compl));
	spin_lock_irq(&chan->ring_lock);
	chan->tail = 0;
	chan->head = 0;
	chan->broken = false;
	spin_unlock_irq(&chan->ring_lock);

	chan_write(chan, SGDMA_CH_RING_LO, lower_32_bits(chan->ring_dma));
	chan_write(chan, SGDMA_CH_RING_HI, upper_32_bits(chan->ring_dma));
	chan_write(chan, SGDMA_CH_RING_SIZE, sdev->lim.ring_entries);
	chan_write(chan, SGDMA_CH_COMPL_LO, lower_32_bits(chan->compl_dma));
	chan_write(chan, SGDMA_CH_COMPL_HI, upper_32_bits(chan->compl_dma));
	chan_write(chan, SGDMA_CH_COALESCE, 0);
	chan->coalesce = 0;
	/* The ring writes above are ordered before ENABLE by writel(). */
	chan_write(chan, SGDMA_CH_CTRL,
		   SGDMA_CH_CTRL_ENABLE | SGDMA_CH_CTRL_IRQ_ENABLE);

	status = chan_read(chan, SGDMA_CH_STATUS);
	if ((status & (SGDMA_CH_STATUS_ENABLED | SGDMA_CH_STATUS_HALTED)) !=
	    SGDMA_CH_STATUS_ENABLED) {
		dev_err(&sdev->pdev->dev, "channel %u does not start: status %#x\n",
			chan->index, status);
		return -EIO;
	}
	chan->needs_reset = false;
	return 0;
}

/* The device's own description of an error code, for the log. */
const char *sgdma_hw_strerror(unsigned int code)
{
	static const char * const names[] = {
		[SGDMA_ERR_OK] = "ok",
		[SGDMA_ERR_BAD_DESC] = "bad descriptor",
		[SGDMA_ERR_BAD_LENGTH] = "bad length",
		[SGDMA_ERR_CARD_RANGE] = "card range",
		[SGDMA_ERR_DMA_FAULT] = "DMA fault",
		[SGDMA_ERR_ADDR_RANGE] = "address beyond DMA mask",
		[SGDMA_ERR_SEG_SIZE] = "segment too long",
		[SGDMA_ERR_SEG_BOUNDARY] = "segment crosses boundary",
		[SGDMA_ERR_SEG_COUNT] = "segment count",
		[SGDMA_ERR_SEG_ALIGN] = "segment alignment",
		[SGDMA_ERR_SELF_TARGET] = "access to own BAR",
		[SGDMA_ERR_BAD_RING] = "bad ring",
		[SGDMA_ERR_BAD_DOORBELL] = "bad doorbell",
		[SGDMA_ERR_DESC_FETCH] = "descriptor fetch",
	};

	return code < ARRAY_SIZE(names) ? names[code] : "unknown error";
}

/*
 * The channel halted without posting a completion (the completion itself
 * was beyond the device's reach, say): log its error code and address.
 */
void sgdma_chan_report_halt(struct sgdma_chan *chan)
{
	u32 status = chan_read(chan, SGDMA_CH_STATUS);
	unsigned int code = FIELD_GET(SGDMA_CH_STATUS_ERROR, status);
	u64 addr = chan_read(chan, SGDMA_CH_ERR_ADDR_LO) |
		   (u64)chan_read(chan, SGDMA_CH_ERR_ADDR_HI) << 32;

	dev_err_ratelimited(&chan->sdev->pdev->dev,
			    "channel %u halted without a completion: %s (%u) at %#llx\n",
			    chan->index, sgdma_hw_strerror(code), code, addr);
}
