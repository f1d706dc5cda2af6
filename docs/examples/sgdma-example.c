// SPDX-License-Identifier: MIT
/*
 * sgdma-example: the smallest useful libsgdma program. Writes 64 KiB to
 * card memory, reads it back, and checks the data and the device's CRC32C.
 *
 *   cc sgdma-example.c $(pkg-config --cflags --libs libsgdma) -o sgdma-example
 *   ./sgdma-example [/dev/sgdmaN]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsgdma.h>

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "/dev/sgdma0";
	static unsigned char out[65536], in[65536];
	uint32_t wcrc, rcrc;
	struct sgdma_info info;
	struct sgdma_dev *dev;
	int ret;

	ret = sgdma_open(path, &dev);
	if (ret) {
		fprintf(stderr, "%s: %s\n", path, sgdma_strerror(ret));
		return 1;
	}
	ret = sgdma_get_info(dev, &info);
	if (ret)
		goto fail;
	printf("%s: ABI %u, %llu bytes of card memory\n", path,
	       info.abi_version, (unsigned long long)info.card_size);

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 31 + 7);
	ret = sgdma_write_card(dev, 0, out, sizeof(out), SGDMA_XFER_CRC, &wcrc);
	if (!ret)
		ret = sgdma_read_card(dev, 0, in, sizeof(in), SGDMA_XFER_CRC,
				      &rcrc);
	if (ret)
		goto fail;
	sgdma_close(dev);

	if (memcmp(out, in, sizeof(in)) || wcrc != rcrc ||
	    wcrc != sgdma_crc32c(0, out, sizeof(out))) {
		fprintf(stderr, "%s: data or CRC mismatch\n", path);
		return 1;
	}
	printf("64 KiB round trip OK, crc32c %#010x\n", wcrc);
	return 0;
fail:
	fprintf(stderr, "%s: %s\n", path, sgdma_strerror(ret));
	sgdma_close(dev);
	return 1;
}
