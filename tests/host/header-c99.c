// SPDX-License-Identifier: GPL-2.0-or-later
/* libsgdma.h compiles as strict C99 (-Wpedantic -Werror): the build is the test. */
#include <errno.h>
#include <stdio.h>

#include <libsgdma.h>

int main(void)
{
	struct sgdma_dev *dev = NULL;
	int ret = sgdma_open("/nonexistent/sgdma", &dev);

	printf("%s %s\n", sgdma_version(), sgdma_strerror(ret));
	return ret == -ENOENT ? 0 : 1;
}
