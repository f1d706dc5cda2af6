/*
 * sgdma entries of QEMU's generic-fuzz target (tests/qtest/fuzz/
 * generic_fuzz_configs.h): ci/fuzz.sh includes this file inside that
 * header's predefined_configs[] array, so each entry becomes a target
 * "generic-fuzz-<name>" of qemu-fuzz-x86_64.
 *
 * "sgdma*" matches the device's QOM type, so every MemoryRegion of the
 * function is fuzzed (BAR0 registers, the MSI-X table and PBA of BAR4;
 * BAR2's card RAM is RAM, which generic-fuzz leaves to DMA) and so is its
 * PCI configuration space. DMA the device reads from guest memory is
 * filled by generic-fuzz's DMA patterns. A small card keeps resets cheap.
 * Each entry turns on the properties that open paths of their own.
 *
 * This work is licensed under the terms of the GNU GPL, version 2 or later.
 * See the COPYING file in the top-level directory.
 */

/* The defaults: four channels, data moved as soon as the doorbell rings */
{
    .name = "sgdma",
    .args = "-machine q35 -nodefaults "
    "-device sgdma,card-size=1M",
    .objects = "sgdma*",
}, {
    /* The link model: transfers wait on the virtual clock (clock_step) */
    .name = "sgdma-timing",
    .args = "-machine q35 -nodefaults "
    "-device sgdma,card-size=1M,latency=20,bandwidth=100,c2h-hold=on,"
    "slice-size=4096,desc-prefetch=4",
    .objects = "sgdma*",
}, {
    /*
     * Every channel (31), an 8-descriptor prefetch and the strict
     * segment rules of the "strict" cell
     */
    .name = "sgdma-limits",
    .args = "-machine q35 -nodefaults "
    "-device sgdma,card-size=1M,channels=31,desc-prefetch=8,dma-bits=32,"
    "max-seg-size=65536,seg-boundary=0xffff,max-segments=64,seg-align=64,"
    "ring-max=4,max-transfer=1048576",
    .objects = "sgdma*",
}, {
    /*
     * ATS behind intel-iommu with a device IOTLB: the IOMMU's registers are
     * fuzzed too, so that translation can be turned on.
     */
    .name = "sgdma-ats",
    .args = "-machine q35 -nodefaults "
    "-device intel-iommu,intremap=off,device-iotlb=on "
    "-device sgdma,card-size=1M,ats=on,latency=20",
    .objects = "sgdma* intel_iommu",
},
