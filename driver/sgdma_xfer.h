/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma transfer internals shared by the transfer files only: the path
 * choice and what both paths share (sgdma_xfer.c), the copy path
 * (sgdma_copy.c) and the pinned path (sgdma_pin.c).
 */
#ifndef SGDMA_XFER_H
#define SGDMA_XFER_H

#include "sgdma.h"

/* Path choice, taking the device and a channel (sgdma_xfer.c) */
struct sgdma_chan *sgdma_hold(struct sgdma_dev *sdev, int index);
void sgdma_unhold(struct sgdma_chan *chan);

/* Copy path (sgdma_copy.c) */
int sgdma_xfer_copy(struct sgdma_dev *sdev, struct sgdma_req *req);

/* Pinned path (sgdma_pin.c) */
int sgdma_xfer_pinned(struct sgdma_dev *sdev, struct sgdma_req *req);

#endif /* SGDMA_XFER_H */
