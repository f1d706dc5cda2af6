/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma channel internals shared by the channel files only: the ring hot
 * path (sgdma_chan.c) and interrupts (sgdma_irq.c).
 */
#ifndef SGDMA_CHAN_H
#define SGDMA_CHAN_H

#include "sgdma.h"

/* Ring hot path (sgdma_chan.c) */
void sgdma_chan_reap_irq(struct sgdma_chan *chan);

#endif /* SGDMA_CHAN_H */
