/*
 * QTest for the sgdma device (docs/device-spec.md of the sgdma project)
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/pci/pci_ids.h"
#include "qapi/qmp/qdict.h"

#define SGDMA_VENDOR_ID         0x1234
#define SGDMA_DEVICE_ID         0x5347

#define SGDMA_REG_ID            0x000
#define SGDMA_REG_VERSION       0x004
#define SGDMA_REG_SCRATCH       0x008
#define SGDMA_REGS_SIZE         0x4000

#define SGDMA_ID_VALUE          0x5347444d
#define SGDMA_VERSION_VALUE     0x00010000

typedef struct SgdmaTest {
    QTestState *qts;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar regs;
    uint64_t regs_size;
} SgdmaTest;

static void find_sgdma(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice **found = data;

    g_assert_null(*found);
    *found = dev;
}

static void sgdma_map(SgdmaTest *t)
{
    t->dev = NULL;
    qpci_device_foreach(t->bus, SGDMA_VENDOR_ID, SGDMA_DEVICE_ID,
                        find_sgdma, &t->dev);
    g_assert_nonnull(t->dev);
    qpci_device_enable(t->dev);
    t->regs = qpci_iomap(t->dev, 0, &t->regs_size);
}

static void sgdma_start(SgdmaTest *t, const char *extra)
{
    t->qts = qtest_initf("-machine q35 -nodefaults -device sgdma%s",
                         extra ? extra : "");
    t->bus = qpci_new_pc(t->qts, NULL);
    sgdma_map(t);
}

static void sgdma_stop(SgdmaTest *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    qtest_quit(t->qts);
}

static uint32_t reg_read(SgdmaTest *t, uint64_t off)
{
    return qpci_io_readl(t->dev, t->regs, off);
}

static void reg_write(SgdmaTest *t, uint64_t off, uint32_t val)
{
    qpci_io_writel(t->dev, t->regs, off, val);
}

static void test_pci_identity(void)
{
    SgdmaTest t;
    uint32_t bar0;

    sgdma_start(&t, NULL);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_VENDOR_ID), ==,
                    SGDMA_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_DEVICE_ID), ==,
                    SGDMA_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_CLASS_DEVICE), ==,
                    PCI_CLASS_SYSTEM_DMA);
    bar0 = qpci_config_readl(t.dev, PCI_BASE_ADDRESS_0);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_SPACE, ==,
                    PCI_BASE_ADDRESS_SPACE_MEMORY);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmpuint(t.regs_size, ==, SGDMA_REGS_SIZE);
    g_assert_cmpuint(qpci_find_capability(t.dev, PCI_CAP_ID_EXP, 0), !=, 0);
    sgdma_stop(&t);
}

static void test_id_registers(void)
{
    SgdmaTest t;

    sgdma_start(&t, NULL);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_ID), ==, SGDMA_ID_VALUE);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_VERSION), ==, SGDMA_VERSION_VALUE);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_SCRATCH), ==, 0);

    /* Read-only and reserved registers ignore writes. */
    reg_write(&t, SGDMA_REG_ID, 0);
    reg_write(&t, SGDMA_REG_VERSION, 0);
    reg_write(&t, 0x0c, 0xffffffff);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_ID), ==, SGDMA_ID_VALUE);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_VERSION), ==, SGDMA_VERSION_VALUE);
    g_assert_cmphex(reg_read(&t, 0x0c), ==, 0);
    g_assert_cmphex(reg_read(&t, SGDMA_REGS_SIZE - 4), ==, 0);
    sgdma_stop(&t);
}

static void test_scratch(void)
{
    static const uint32_t patterns[] = {
        0xffffffff, 0xdeadbeef, 0x5a5a5a5a, 0x00000001, 0x80000000, 0,
    };
    SgdmaTest t;
    size_t i;

    sgdma_start(&t, NULL);
    for (i = 0; i < ARRAY_SIZE(patterns); i++) {
        reg_write(&t, SGDMA_REG_SCRATCH, patterns[i]);
        g_assert_cmphex(reg_read(&t, SGDMA_REG_SCRATCH), ==, patterns[i]);
    }
    sgdma_stop(&t);
}

static void test_bad_access_sizes(void)
{
    SgdmaTest t;

    sgdma_start(&t, NULL);
    reg_write(&t, SGDMA_REG_SCRATCH, 0x11223344);

    /* Narrow, wide and unaligned accesses are ignored: no partial update. */
    qpci_io_writeb(t.dev, t.regs, SGDMA_REG_SCRATCH, 0xaa);
    qpci_io_writew(t.dev, t.regs, SGDMA_REG_SCRATCH + 2, 0xbbbb);
    qpci_io_writeq(t.dev, t.regs, SGDMA_REG_SCRATCH, ~0ULL);
    qpci_io_writel(t.dev, t.regs, SGDMA_REG_SCRATCH + 1, 0);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_SCRATCH), ==, 0x11223344);
    g_assert_cmphex(qpci_io_readb(t.dev, t.regs, SGDMA_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readq(t.dev, t.regs, SGDMA_REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readl(t.dev, t.regs, SGDMA_REG_ID + 2), ==, 0);
    sgdma_stop(&t);
}

static void test_system_reset(void)
{
    SgdmaTest t;

    sgdma_start(&t, NULL);
    reg_write(&t, SGDMA_REG_SCRATCH, 0xcafef00d);
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(t.qts, "RESET");

    /* Reset also cleared the BARs: map them again. */
    g_free(t.dev);
    sgdma_map(&t);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_SCRATCH), ==, 0);
    g_assert_cmphex(reg_read(&t, SGDMA_REG_ID), ==, SGDMA_ID_VALUE);
    sgdma_stop(&t);
}

static void test_behind_root_port(void)
{
    QTestState *qts = qtest_init("-machine q35 -nodefaults "
                                 "-device pcie-root-port,id=rp0,chassis=1 "
                                 "-device sgdma,bus=rp0,id=dma0");
    QDict *resp = qtest_qmp(qts, "{'execute': 'qom-get', 'arguments': {"
                            "'path': '/machine/peripheral/dma0', "
                            "'property': 'realized'}}");

    g_assert_true(qdict_get_bool(resp, "return"));
    qobject_unref(resp);
    qtest_quit(qts);
}

static void count_sgdma(QPCIDevice *dev, int devfn, void *data)
{
    (*(int *)data)++;
    g_free(dev);
}

static void test_two_devices(void)
{
    QTestState *qts = qtest_init("-machine q35 -nodefaults "
                                 "-device sgdma -device sgdma");
    QPCIBus *bus = qpci_new_pc(qts, NULL);
    int count = 0;

    qpci_device_foreach(bus, SGDMA_VENDOR_ID, SGDMA_DEVICE_ID, count_sgdma,
                        &count);
    g_assert_cmpint(count, ==, 2);
    qpci_free_pc(bus);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/sgdma/pci-identity", test_pci_identity);
    qtest_add_func("/sgdma/id-registers", test_id_registers);
    qtest_add_func("/sgdma/scratch", test_scratch);
    qtest_add_func("/sgdma/bad-access-sizes", test_bad_access_sizes);
    qtest_add_func("/sgdma/system-reset", test_system_reset);
    qtest_add_func("/sgdma/behind-root-port", test_behind_root_port);
    qtest_add_func("/sgdma/two-devices", test_two_devices);

    return g_test_run();
}
