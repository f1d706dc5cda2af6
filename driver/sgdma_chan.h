/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma channel internals shared by the channel files only: the ring hot
 * path (sgdma_chan.c), recovery (sgdma_recover.c), the channel set
 * (sgdma_chans.c) and interrupts (sgdma_irq.c).
 */
#ifndef SGDMA_CHAN_H
#define SGDMA_CHAN_H

#include "sgdma.h"

static inline u32 chan_read(struct sgdma_chan *chan, unsigned int reg)
{
	return readl(chan->regs + reg);
}

static inline void chan_write(struct sgdma_chan *chan, unsigned int reg,
			      u32 val)
{
	writel(val, chan->regs + reg);
}

/* Ring hot path (sgdma_chan.c) */
void sgdma_chan_reap_irq(struct sgdma_chan *chan);
void sgdma_chan_flush(struct sgdma_chan *chan, int err);

/* Recovery (sgdma_recover.c) */
int sgdma_chan_stop(struct sgdma_chan *chan);
void sgdma_chan_halt(struct sgdma_chan *chan);
int sgdma_chan_start(struct sgdma_chan *chan);
const char *sgdma_hw_strerror(unsigned int code);
void sgdma_chan_report_halt(struct sgdma_chan *chan);

#endif /* SGDMA_CHAN_H */
