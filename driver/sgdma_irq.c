// SPDX-License-Identifier: GPL-2.0
/*
 * sgdma interrupts: MSI-X with a vector per channel and one for errors,
 * else a single MSI or INTx vector; the handlers reap (sgdma_chan.c) and
 * wake the owners.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/interrupt.h>

#include "sgdma.h"
#include "sgdma_chan.h"

/* MSI-X: one vector per channel... */
static irqreturn_t sgdma_chan_irq(int irq, void *data)
{
	sgdma_chan_reap_irq(data);
	return IRQ_HANDLED;
}

/* Reap every channel: an error may have posted a completion anywhere. */
static void sgdma_chans_reap_all(struct sgdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->lim.channels; i++)
		sgdma_chan_reap_irq(&sdev->chans[i]);
}

/* ...and one for errors: the waiters find out which channel halted. */
static irqreturn_t sgdma_err_irq(int irq, void *data)
{
	sgdma_chans_reap_all(data);
	return IRQ_HANDLED;
}

/* MSI or INTx: one vector; INT_STATUS says why. */
static irqreturn_t sgdma_shared_irq(int irq, void *data)
{
	struct sgdma_dev *sdev = data;
	unsigned long pending;
	unsigned int i;
	u32 status;

	status = sgdma_read(sdev, SGDMA_REG_INT_STATUS);
	if (!status || status == ~0U)
		return IRQ_NONE;
	sgdma_write(sdev, SGDMA_REG_INT_STATUS, status);

	if (status & SGDMA_INT_ERROR) {
		sgdma_chans_reap_all(sdev);
		return IRQ_HANDLED;
	}
	pending = status & GENMASK(sdev->lim.channels - 1, 0);
	for_each_set_bit(i, &pending, sdev->lim.channels)
		sgdma_chan_reap_irq(&sdev->chans[i]);
	return IRQ_HANDLED;
}

#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX PCI_IRQ_LEGACY
#endif

/**
 * sgdma_irqs_init() - allocate interrupt vectors and request them
 * @sdev: the device, channels initialised
 * @force_mode: 0 for the best available, else SGDMA_IRQ_* to use only
 *
 * MSI-X with a vector per channel and one for errors; else MSI; else INTx.
 *
 * Return: 0 or a negative errno; on failure sgdma_irqs_fini() cleans up.
 */
int sgdma_irqs_init(struct sgdma_dev *sdev, int force_mode)
{
	struct pci_dev *pdev = sdev->pdev;
	unsigned int nch = sdev->lim.channels, i;
	unsigned int types;
	int nvecs, ret;

	if (!force_mode || force_mode == SGDMA_IRQ_MSIX) {
		nvecs = pci_alloc_irq_vectors(pdev, nch + 1, nch + 1,
					      PCI_IRQ_MSIX);
		if (nvecs > 0) {
			sdev->irq_mode = SGDMA_IRQ_MSIX;
			sdev->nvecs = nvecs;
			for (i = 0; i < nch; i++) {
				ret = request_irq(pci_irq_vector(pdev, i),
						  sgdma_chan_irq, 0,
						  KBUILD_MODNAME,
						  &sdev->chans[i]);
				if (ret)
					return ret;
				sdev->chans[i].irq = pci_irq_vector(pdev, i);
			}
			ret = request_irq(pci_irq_vector(pdev, nch),
					  sgdma_err_irq, 0, KBUILD_MODNAME, sdev);
			if (ret)
				return ret;
			sdev->irq = pci_irq_vector(pdev, nch);
			return 0;
		}
		if (force_mode)
			return nvecs;
	}

	types = force_mode == SGDMA_IRQ_MSI ? PCI_IRQ_MSI :
		force_mode == SGDMA_IRQ_INTX ? PCI_IRQ_INTX :
		PCI_IRQ_MSI | PCI_IRQ_INTX;
	nvecs = pci_alloc_irq_vectors(pdev, 1, 1, types);
	if (nvecs < 0)
		return nvecs;
	sdev->nvecs = nvecs;
	sdev->irq_mode = pdev->msi_enabled ? SGDMA_IRQ_MSI : SGDMA_IRQ_INTX;
	ret = request_irq(pci_irq_vector(pdev, 0), sgdma_shared_irq,
			  sdev->irq_mode == SGDMA_IRQ_INTX ? IRQF_SHARED : 0,
			  KBUILD_MODNAME, sdev);
	if (ret)
		return ret;
	sdev->irq = pci_irq_vector(pdev, 0);
	return 0;
}

/**
 * sgdma_irqs_fini() - free what sgdma_irqs_init() set up
 * @sdev: the device; its channels no longer interrupt
 */
void sgdma_irqs_fini(struct sgdma_dev *sdev)
{
	unsigned int i;

	for (i = 0; i < sdev->lim.channels; i++) {
		if (sdev->chans[i].irq)
			free_irq(sdev->chans[i].irq, &sdev->chans[i]);
		sdev->chans[i].irq = 0;
	}
	if (sdev->irq)
		free_irq(sdev->irq, sdev);
	sdev->irq = 0;
	if (sdev->nvecs)
		pci_free_irq_vectors(sdev->pdev);
	sdev->nvecs = 0;
	sdev->irq_mode = 0;
}
