// SPDX-License-Identifier: GPL-2.0-or-later
// libsgdma.h compiles as C++ and links: the build is the test.
#include <libsgdma.h>

#include <cerrno>
#include <cstdio>

int main()
{
	struct sgdma_dev *dev = nullptr;
	int ret = sgdma_open("/nonexistent/sgdma", &dev);

	std::printf("%s %s\n", sgdma_version(), sgdma_strerror(ret));
	return ret == -ENOENT ? 0 : 1;
}
