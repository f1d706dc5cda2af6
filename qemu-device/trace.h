#include "trace/trace-hw_sgdma.h"
