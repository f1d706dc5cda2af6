// SPDX-License-Identifier: GPL-2.0
/*
 * CRC32C arithmetic on the device's CRCs.
 *
 * The device computes CRC32C per descriptor. A transfer split into several
 * descriptors combines their CRCs; a piece the driver had to pad to the
 * device's segment alignment strips the padding's contribution again, so
 * the caller always gets the CRC of exactly its bytes, computed by the
 * device. All values here are final CRCs: initial value ~0, final
 * complement, as iSCSI and the device use them. For these,
 *
 *	crc(A B) = shift(crc(A), |B|) ^ crc(B)
 *
 * where shift() multiplies by x^(8 |B|) modulo the polynomial, as feeding
 * |B| zero bytes through the raw CRC register does.
 */

#include <linux/crc32.h>
#include <linux/crc32poly.h>

#include "sgdma.h"

/**
 * sgdma_crc32c() - CRC32C of a buffer, in software
 * @buf: the bytes
 * @len: their number
 *
 * Return: the final CRC32C; 0 for no bytes.
 */
u32 sgdma_crc32c(const void *buf, size_t len)
{
	return ~__crc32c_le(~0U, buf, len);
}

/**
 * sgdma_crc32c_combine() - CRC32C of two concatenated pieces
 * @crc1: CRC32C of the first piece
 * @crc2: CRC32C of the second piece
 * @len2: bytes in the second piece
 *
 * Return: the CRC32C of the first piece followed by the second.
 */
u32 sgdma_crc32c_combine(u32 crc1, u32 crc2, size_t len2)
{
	return __crc32c_le_shift(crc1, len2) ^ crc2;
}

/* Undo shift(): step the raw CRC register back over @len zero bytes. */
static u32 sgdma_crc32c_unshift(u32 crc, size_t len)
{
	size_t bits = len * 8;

	/*
	 * A forward step is crc = crc >> 1 ^ (crc & 1 ? POLY : 0); POLY has
	 * bit 31 set and crc >> 1 has not, so bit 31 tells which it was.
	 */
	while (bits--) {
		if (crc & BIT(31))
			crc = ((crc ^ CRC32C_POLY_LE) << 1) | 1;
		else
			crc <<= 1;
	}
	return crc;
}

/**
 * sgdma_crc32c_strip() - CRC32C of the middle of a padded piece
 * @crc: CRC32C of head, middle and tail together
 * @head: the bytes before the middle
 * @head_len: their number
 * @mid_len: bytes in the middle
 * @tail: the bytes after the middle
 * @tail_len: their number (below the device's alignment, so the loop in
 *            sgdma_crc32c_unshift() stays short)
 *
 * Return: the CRC32C of the middle alone.
 */
u32 sgdma_crc32c_strip(u32 crc, const void *head, size_t head_len,
		       size_t mid_len, const void *tail, size_t tail_len)
{
	/* crc(H M T) = shift(crc(H M), |T|) ^ crc(T) */
	crc = sgdma_crc32c_unshift(crc ^ sgdma_crc32c(tail, tail_len),
				   tail_len);
	/* crc(H M) = shift(crc(H), |M|) ^ crc(M) */
	return crc ^ __crc32c_le_shift(sgdma_crc32c(head, head_len), mid_len);
}
