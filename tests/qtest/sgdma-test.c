/*
 * QTest for the sgdma device (docs/device-spec.md of the sgdma project)
 *
 * The constants below are transcribed from the spec independently of the
 * device model, so a misreading on either side fails here.
 *
 * Copyright (c) 2026 The sgdma authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "libqtest.h"
#include "libqos/malloc-pc.h"
#include "libqos/pci-pc.h"
#include "hw/pci/pci_regs.h"
#include "hw/pci/pci_ids.h"
/* QEMU 10.0 moved the QObject headers from qapi/qmp/ to qobject/. */
#if QEMU_VERSION_MAJOR >= 10
#include "qobject/qdict.h"
#else
#include "qapi/qmp/qdict.h"
#endif

#define SGDMA_VENDOR_ID         0x1234
#define SGDMA_DEVICE_ID         0x5347

#define REG_ID                  0x000
#define REG_VERSION             0x004
#define REG_SCRATCH             0x008
#define REG_CAPS                0x00c
#define REG_MAX_SEG_SIZE        0x010
#define REG_SEG_BOUND_LO        0x014
#define REG_SEG_BOUND_HI        0x018
#define REG_MAX_SEGMENTS        0x01c
#define REG_SEG_ALIGN           0x020
#define REG_CARD_SIZE_LO        0x024
#define REG_CARD_SIZE_HI        0x028
#define REG_RING_MAX            0x02c
#define REG_MAX_XFER            0x030
#define REG_CTRL                0x034
#define REG_INT_STATUS          0x038
#define REG_ATC_HITS            0x03c
#define REG_ATC_MISSES          0x040
#define REG_PERF_CTRL           0x044
#define REG_PERF_DESCS          0x048
#define REG_PERF_WAIT_US        0x04c
#define REG_PERF_MOVE_US        0x050
#define REG_PERF_BH_RUNS        0x054
#define REG_PERF_IRQS           0x058
#define REG_PERF_H2H_DIRECT     0x05c
#define PERF_CTRL_CLEAR         0x1
#define CAPS_OWNERSHIP          0x80000
#define REGS_SIZE               0x4000

#define ID_VALUE                0x5347444d
#define VERSION_VALUE           0x00010000

#define CH(n)                   (0x1000 + (n) * 0x100)
#define CH_RING_LO              0x00
#define CH_RING_HI              0x04
#define CH_RING_SIZE            0x08
#define CH_COMPL_LO             0x0c
#define CH_COMPL_HI             0x10
#define CH_CTRL                 0x14
#define CH_STATUS               0x18
#define CH_DOORBELL             0x1c
#define CH_HEAD                 0x20
#define CH_COALESCE             0x24
#define CH_ERR_ADDR_LO          0x28
#define CH_ERR_ADDR_HI          0x2c
#define CH_FAULT_INJECT         0x30

#define CTRL_ENABLE             0x1
#define CTRL_RESET              0x2
#define CTRL_IRQ                0x4
#define ST_ENABLED              0x1
#define ST_BUSY                 0x2
#define ST_HALTED               0x4
#define ST_CODE(st)             (((st) >> 8) & 0xff)
#define INT_ERROR               0x80000000u

#define OP_H2C                  1
#define OP_C2H                  2
#define OP_H2H                  3
#define OP_FILL                 4
#define F_CRC                   0x1
#define F_IRQ                   0x2
#define F_SRC_LIST              0x4
#define F_DST_LIST              0x8

enum {
    S_OK, S_BAD_DESC, S_BAD_LENGTH, S_CARD_RANGE, S_DMA_FAULT, S_ADDR_RANGE,
    S_SEG_SIZE, S_SEG_BOUNDARY, S_SEG_COUNT, S_SEG_ALIGN, S_SELF_TARGET,
    S_BAD_RING, S_BAD_DOORBELL, S_DESC_FETCH, S_DESC_OWNED,
};

enum {
    FI_DMA_ERROR = 1, FI_STALL, FI_DROP_IRQ, FI_DUP_IRQ, FI_BAD_COUNT,
    FI_LATE, FI_STUCK_RESET, FI_COALESCE_RACE,
};
#define FI_MS(ms)               ((ms) << 8)
#define FI_F_PCI_RESET          0x10

#define RING_ENTRIES            16
/* Guest-physical addresses where nothing answers: DMA there must fault. */
#define UNBACKED_ADDR           0x40000000000ULL

typedef struct Desc {
    uint8_t opcode;
    uint8_t flags;
    uint32_t length;
    uint64_t cookie;
    uint64_t src;
    uint32_t src_n;
    uint64_t dst;
    uint32_t dst_n;
    uint64_t pattern;
    uint8_t poison_reserved;    /* non-zero: write it into reserved byte 2 */
} Desc;

typedef struct Compl {
    uint64_t cookie;
    uint32_t bytes;
    uint32_t crc;
    uint16_t status;
    uint16_t flags;
    uint32_t index;
    uint64_t err_addr;
} Compl;

typedef struct Sg {
    QTestState *qts;
    QGuestAllocator alloc;
    QPCIBus *bus;
    QPCIDevice *dev;
    QPCIBar regs;
    QPCIBar card;
    uint64_t card_size;
    uint64_t ring[31];
    uint64_t compl[31];
    uint32_t tail[31];
} Sg;

/* Independent bitwise CRC32C (Castagnoli, reflected, iSCSI convention). */
static uint32_t ref_crc32c(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffff;
    int k;

    while (n--) {
        c ^= *p++;
        for (k = 0; k < 8; k++) {
            c = (c & 1) ? (c >> 1) ^ 0x82f63b78 : c >> 1;
        }
    }
    return ~c;
}

static void find_sgdma(QPCIDevice *dev, int devfn, void *data)
{
    QPCIDevice **found = data;

    g_assert_null(*found);
    *found = dev;
}

static uint32_t rd(Sg *t, uint64_t off)
{
    return qpci_io_readl(t->dev, t->regs, off);
}

static void wr(Sg *t, uint64_t off, uint32_t val)
{
    qpci_io_writel(t->dev, t->regs, off, val);
}

static void sg_map(Sg *t)
{
    t->dev = NULL;
    qpci_device_foreach(t->bus, SGDMA_VENDOR_ID, SGDMA_DEVICE_ID,
                        find_sgdma, &t->dev);
    g_assert_nonnull(t->dev);
    qpci_device_enable(t->dev);
    t->regs = qpci_iomap(t->dev, 0, NULL);
    t->card = qpci_iomap(t->dev, 2, &t->card_size);
}

/*
 * @before: devices to create before sgdma (an IOMMU must come first);
 * @props: extra ",prop=value" for -device sgdma.
 */
static void sg_start_after(Sg *t, const char *before, const char *props)
{
    memset(t, 0, sizeof(*t));
    t->qts = qtest_initf("-machine q35 -nodefaults -m 256 %s "
                         "-device sgdma,id=dma0,card-size=1M%s",
                         before, props ? props : "");
    pc_alloc_init(&t->alloc, t->qts, ALLOC_NO_FLAGS);
    t->bus = qpci_new_pc(t->qts, &t->alloc);
    sg_map(t);
}

static void sg_start(Sg *t, const char *props)
{
    sg_start_after(t, "", props);
}

static void sg_stop(Sg *t)
{
    g_free(t->dev);
    qpci_free_pc(t->bus);
    alloc_destroy(&t->alloc);
    qtest_quit(t->qts);
}

static uint64_t galloc(Sg *t, size_t size)
{
    return guest_alloc(&t->alloc, size);
}

static void chan_setup(Sg *t, int ch)
{
    uint8_t zero[RING_ENTRIES * 64] = { 0 };

    t->ring[ch] = galloc(t, RING_ENTRIES * 64);
    t->compl[ch] = galloc(t, RING_ENTRIES * 32);
    qtest_memwrite(t->qts, t->ring[ch], zero, RING_ENTRIES * 64);
    qtest_memwrite(t->qts, t->compl[ch], zero, RING_ENTRIES * 32);
    wr(t, CH(ch) + CH_RING_LO, t->ring[ch]);
    wr(t, CH(ch) + CH_RING_HI, t->ring[ch] >> 32);
    wr(t, CH(ch) + CH_COMPL_LO, t->compl[ch]);
    wr(t, CH(ch) + CH_COMPL_HI, t->compl[ch] >> 32);
    wr(t, CH(ch) + CH_RING_SIZE, RING_ENTRIES);
    wr(t, CH(ch) + CH_CTRL, CTRL_ENABLE | CTRL_IRQ);
    t->tail[ch] = 0;
}

static void put_desc(Sg *t, int ch, uint32_t index, const Desc *d)
{
    uint8_t b[64] = { 0 };

    b[0] = d->opcode;
    b[1] = d->flags;
    b[2] = d->poison_reserved;
    stl_le_p(b + 0x04, d->length);
    stq_le_p(b + 0x08, d->cookie);
    stq_le_p(b + 0x10, d->src);
    stl_le_p(b + 0x18, d->src_n);
    stq_le_p(b + 0x20, d->dst);
    stl_le_p(b + 0x28, d->dst_n);
    stq_le_p(b + 0x30, d->pattern);
    qtest_memwrite(t->qts, t->ring[ch] + (index % RING_ENTRIES) * 64, b, 64);
}

/* Queue a descriptor and ring the doorbell; returns its index. */
static uint32_t submit(Sg *t, int ch, const Desc *d)
{
    uint32_t index = t->tail[ch]++;
    uint8_t zero[32] = { 0 };

    qtest_memwrite(t->qts, t->compl[ch] + (index % RING_ENTRIES) * 32,
                   zero, 32);
    put_desc(t, ch, index, d);
    wr(t, CH(ch) + CH_DOORBELL, t->tail[ch]);
    return index;
}

/* Wait until HEAD reaches @head or the channel halts; returns STATUS. */
static uint32_t wait_chan(Sg *t, int ch, uint32_t head)
{
    gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
    uint32_t st;

    for (;;) {
        st = rd(t, CH(ch) + CH_STATUS);
        if (rd(t, CH(ch) + CH_HEAD) == head || (st & ST_HALTED)) {
            return st;
        }
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(100);
    }
}

static Compl get_compl(Sg *t, int ch, uint32_t index)
{
    uint8_t b[32];
    Compl c;

    qtest_memread(t->qts, t->compl[ch] + (index % RING_ENTRIES) * 32, b, 32);
    c.cookie = ldq_le_p(b);
    c.bytes = ldl_le_p(b + 0x08);
    c.crc = ldl_le_p(b + 0x0c);
    c.status = lduw_le_p(b + 0x10);
    c.flags = lduw_le_p(b + 0x12);
    c.index = ldl_le_p(b + 0x14);
    c.err_addr = ldq_le_p(b + 0x18);
    return c;
}

/* Run one descriptor to its completion on channel @ch. */
static Compl run(Sg *t, int ch, const Desc *d)
{
    uint32_t index = submit(t, ch, d);
    Compl c;

    wait_chan(t, ch, index + 1);
    c = get_compl(t, ch, index);
    g_assert_cmpuint(c.flags & 1, ==, 1);
    g_assert_cmpuint(c.index, ==, index);
    g_assert_cmphex(c.cookie, ==, d->cookie);
    return c;
}

static void chan_reset(Sg *t, int ch)
{
    wr(t, CH(ch) + CH_CTRL, CTRL_RESET);
    g_assert_cmphex(rd(t, CH(ch) + CH_STATUS), ==, 0);
    g_assert_cmphex(rd(t, CH(ch) + CH_HEAD), ==, 0);
    chan_setup(t, ch);
}

/* Expect the transfer to fail with @status, halting the channel. */
static Compl expect_error(Sg *t, int ch, const Desc *d, int status)
{
    Compl c = run(t, ch, d);
    uint32_t st = rd(t, CH(ch) + CH_STATUS);

    g_assert_cmpint(c.status, ==, status);
    g_assert_cmphex(st & ST_HALTED, ==, ST_HALTED);
    g_assert_cmpint(ST_CODE(st), ==, status);
    g_assert_cmphex(rd(t, REG_INT_STATUS) & INT_ERROR, ==, INT_ERROR);
    g_assert_cmphex(rd(t, CH(ch) + CH_ERR_ADDR_LO), ==, (uint32_t)c.err_addr);
    g_assert_cmphex(rd(t, CH(ch) + CH_ERR_ADDR_HI), ==, c.err_addr >> 32);
    wr(t, REG_INT_STATUS, INT_ERROR);
    chan_reset(t, ch);
    return c;
}

static uint8_t *random_buf(GRand *r, size_t n)
{
    uint8_t *b = g_malloc(n);
    size_t i;

    for (i = 0; i < n; i++) {
        b[i] = g_rand_int(r);
    }
    return b;
}

static void card_read(Sg *t, uint64_t off, void *buf, size_t n)
{
    qpci_memread(t->dev, t->card, off, buf, n);
}

static void card_write(Sg *t, uint64_t off, const void *buf, size_t n)
{
    qpci_memwrite(t->dev, t->card, off, buf, n);
}

/* Write a segment list of (addr, len) pairs into guest memory. */
static uint64_t put_list(Sg *t, const uint64_t *addr, const uint32_t *len,
                         int n)
{
    uint64_t list = galloc(t, n * 16);
    g_autofree uint8_t *b = g_malloc0(n * 16);
    int i;

    for (i = 0; i < n; i++) {
        stq_le_p(b + i * 16, addr[i]);
        stl_le_p(b + i * 16 + 8, len[i]);
    }
    qtest_memwrite(t->qts, list, b, n * 16);
    return list;
}

/* Identity and configuration */

static void test_pci_identity(void)
{
    Sg t;
    uint32_t bar0;

    sg_start(&t, NULL);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_VENDOR_ID), ==,
                    SGDMA_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_DEVICE_ID), ==,
                    SGDMA_DEVICE_ID);
    g_assert_cmphex(qpci_config_readw(t.dev, PCI_CLASS_DEVICE), ==,
                    PCI_CLASS_SYSTEM_DMA);
    bar0 = qpci_config_readl(t.dev, PCI_BASE_ADDRESS_0);
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_MEM_TYPE_MASK, ==,
                    PCI_BASE_ADDRESS_MEM_TYPE_64);
    g_assert_cmphex(qpci_config_readl(t.dev, PCI_BASE_ADDRESS_2) &
                    PCI_BASE_ADDRESS_MEM_PREFETCH, ==,
                    PCI_BASE_ADDRESS_MEM_PREFETCH);
    g_assert_cmpuint(t.card_size, ==, 1 << 20);
    g_assert_cmpuint(qpci_find_capability(t.dev, PCI_CAP_ID_EXP, 0), !=, 0);
    g_assert_cmpuint(qpci_find_capability(t.dev, PCI_CAP_ID_MSIX, 0), !=, 0);
    g_assert_cmpuint(qpci_find_capability(t.dev, PCI_CAP_ID_MSI, 0), !=, 0);
    sg_stop(&t);
}

static void test_id_registers(void)
{
    Sg t;

    sg_start(&t, NULL);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    g_assert_cmphex(rd(&t, REG_VERSION), ==, VERSION_VALUE);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0);
    /* Defaults: 4 channels, 64 address bits, CRC, lists, fault injection */
    g_assert_cmphex(rd(&t, REG_CAPS), ==, 0x70000 | (64 << 8) | 4);
    g_assert_cmphex(rd(&t, REG_MAX_SEG_SIZE), ==, 0xffffffff);
    g_assert_cmphex(rd(&t, REG_SEG_BOUND_LO), ==, 0xffffffff);
    g_assert_cmphex(rd(&t, REG_SEG_BOUND_HI), ==, 0xffffffff);
    g_assert_cmphex(rd(&t, REG_MAX_SEGMENTS), ==, 65536);
    g_assert_cmphex(rd(&t, REG_SEG_ALIGN), ==, 1);
    g_assert_cmphex(rd(&t, REG_CARD_SIZE_LO), ==, 1 << 20);
    g_assert_cmphex(rd(&t, REG_CARD_SIZE_HI), ==, 0);
    g_assert_cmphex(rd(&t, REG_RING_MAX), ==, 4096);
    g_assert_cmphex(rd(&t, REG_MAX_XFER), ==, 256 << 20);

    /* Read-only and reserved registers ignore writes. */
    wr(&t, REG_ID, 0);
    wr(&t, REG_CAPS, 0);
    wr(&t, 0x0ffc, 0xffffffff);
    wr(&t, CH(4) + CH_RING_LO, 0xffffffff);      /* beyond the channels */
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    g_assert_cmphex(rd(&t, REG_CAPS), ==, 0x70000 | (64 << 8) | 4);
    g_assert_cmphex(rd(&t, 0x0ffc), ==, 0);
    g_assert_cmphex(rd(&t, CH(4) + CH_RING_LO), ==, 0);
    g_assert_cmphex(rd(&t, REGS_SIZE - 4), ==, 0);
    sg_stop(&t);
}

static void test_properties(void)
{
    Sg t;

    sg_start(&t, ",channels=7,dma-bits=36,max-seg-size=65536,"
             "seg-boundary=0xffff,max-segments=128,seg-align=8,"
             "ring-max=256,max-transfer=1000000");
    g_assert_cmphex(rd(&t, REG_CAPS), ==, 0x70000 | (36 << 8) | 7);
    g_assert_cmphex(rd(&t, REG_MAX_SEG_SIZE), ==, 65536);
    g_assert_cmphex(rd(&t, REG_SEG_BOUND_LO), ==, 0xffff);
    g_assert_cmphex(rd(&t, REG_SEG_BOUND_HI), ==, 0);
    g_assert_cmphex(rd(&t, REG_MAX_SEGMENTS), ==, 128);
    g_assert_cmphex(rd(&t, REG_SEG_ALIGN), ==, 8);
    g_assert_cmphex(rd(&t, REG_RING_MAX), ==, 256);
    g_assert_cmphex(rd(&t, REG_MAX_XFER), ==, 1000000);
    g_assert_cmphex(rd(&t, CH(6) + CH_STATUS), ==, 0);
    sg_stop(&t);
}

/* Hot-plug one sgdma with @prop=@val; returns the error text or NULL. */
static char *try_device_add(QTestState *qts, const char *prop, int64_t val)
{
    QDict *args = qdict_new();
    QDict *resp;
    char *err = NULL;

    qdict_put_str(args, "driver", "sgdma");
    qdict_put_str(args, "bus", "rp0");
    qdict_put_str(args, "id", "dma0");
    qdict_put_int(args, prop, val);
    resp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': %p}",
                     args);
    if (qdict_haskey(resp, "error")) {
        err = g_strdup(qdict_get_str(qdict_get_qdict(resp, "error"),
                                     "desc"));
    }
    qobject_unref(resp);
    return err;
}

static void test_bad_properties(void)
{
    static const struct {
        const char *prop;
        int64_t val;
    } bad[] = {
        { "channels", 0 }, { "channels", 32 }, { "card-size", 3000 },
        { "dma-bits", 31 }, { "dma-bits", 65 }, { "max-seg-size", 100 },
        { "seg-boundary", 0x1234 }, { "seg-boundary", 0xff },
        { "max-segments", 0 }, { "seg-align", 3 }, { "ring-max", 3 },
        { "slice-size", 1 }, { "desc-prefetch", 65 },
        { "desc-prefetch", 3 }, { "desc-prefetch", 48 },
    };
    QTestState *qts = qtest_init("-machine q35 -nodefaults "
                                 "-device pcie-root-port,id=rp0,chassis=1");
    size_t i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        g_autofree char *err = try_device_add(qts, bad[i].prop, bad[i].val);

        g_assert_nonnull(err);
        g_assert_nonnull(strstr(err, bad[i].prop));
    }
    /* The same way in, with a valid value, works. */
    g_assert_null(try_device_add(qts, "channels", 31));
    qtest_quit(qts);
}

static void test_scratch_and_sizes(void)
{
    Sg t;

    sg_start(&t, NULL);
    wr(&t, REG_SCRATCH, 0x11223344);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0x11223344);
    /* Narrow, wide and unaligned accesses are ignored. */
    qpci_io_writeb(t.dev, t.regs, REG_SCRATCH, 0xaa);
    qpci_io_writew(t.dev, t.regs, REG_SCRATCH + 2, 0xbbbb);
    qpci_io_writeq(t.dev, t.regs, REG_SCRATCH, ~0ULL);
    qpci_io_writel(t.dev, t.regs, REG_SCRATCH + 1, 0);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0x11223344);
    g_assert_cmphex(qpci_io_readb(t.dev, t.regs, REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readq(t.dev, t.regs, REG_ID), ==, 0);
    g_assert_cmphex(qpci_io_readl(t.dev, t.regs, REG_ID + 2), ==, 0);
    sg_stop(&t);
}

/* Data paths */

static void test_h2c_c2h_inline(void)
{
    const uint32_t sizes[] = { 1, 7, 4096, 4097, 65536 + 13, 300000 };
    g_autoptr(GRand) r = g_rand_new_with_seed(1);
    Sg t;
    size_t i;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        uint32_t n = sizes[i];
        uint64_t off = (i * 4099) % 4096;
        uint64_t src = galloc(&t, n + 64) + 3, dst = galloc(&t, n + 64) + 5;
        g_autofree uint8_t *data = random_buf(r, n);
        g_autofree uint8_t *back = g_malloc(n);
        Desc h2c = { .opcode = OP_H2C, .flags = F_CRC, .length = n,
                     .cookie = 0x1000 + i, .src = src, .src_n = n,
                     .dst = off };
        Desc c2h = { .opcode = OP_C2H, .flags = F_CRC, .length = n,
                     .cookie = 0x2000 + i, .src = off, .dst = dst,
                     .dst_n = n };
        Compl c;

        qtest_bufwrite(t.qts, src, data, n);
        c = run(&t, 0, &h2c);
        g_assert_cmpint(c.status, ==, S_OK);
        g_assert_cmpuint(c.bytes, ==, n);
        g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
        card_read(&t, off, back, n);
        g_assert_cmpmem(back, n, data, n);

        c = run(&t, 0, &c2h);
        g_assert_cmpint(c.status, ==, S_OK);
        g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
        qtest_bufread(t.qts, dst, back, n);
        g_assert_cmpmem(back, n, data, n);
    }
    sg_stop(&t);
}

static void test_crc_reference(void)
{
    g_assert_cmphex(ref_crc32c((const uint8_t *)"123456789", 9), ==,
                    0xe3069283);
}

/* Split @n bytes into @segs random pieces scattered over guest memory. */
static uint64_t scatter(Sg *t, GRand *r, uint32_t n, int segs,
                        uint64_t *addr, uint32_t *len)
{
    uint32_t left = n;
    int i;

    for (i = 0; i < segs; i++) {
        len[i] = i == segs - 1 ? left :
                 g_rand_int_range(r, 1, left - (segs - i - 1) + 1);
        left -= len[i];
        addr[i] = galloc(t, len[i] + 16) + g_rand_int_range(r, 0, 16);
    }
    return put_list(t, addr, len, segs);
}

static void test_segment_lists(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(2);
    const uint32_t n = 100000;
    const int segs = 37;
    uint64_t addr[37], daddr[37];
    uint32_t len[37], dlen[37];
    g_autofree uint8_t *data = random_buf(r, n);
    g_autofree uint8_t *back = g_malloc(n);
    uint64_t list, dlist;
    uint32_t pos;
    Sg t;
    Compl c;
    int i;

    sg_start(&t, NULL);
    chan_setup(&t, 1);
    list = scatter(&t, r, n, segs, addr, len);
    for (i = 0, pos = 0; i < segs; pos += len[i], i++) {
        qtest_bufwrite(t.qts, addr[i], data + pos, len[i]);
    }
    c = run(&t, 1, &(Desc){ .opcode = OP_H2C, .flags = F_CRC | F_SRC_LIST,
                            .length = n, .cookie = 1, .src = list,
                            .src_n = segs, .dst = 4096 });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
    card_read(&t, 4096, back, n);
    g_assert_cmpmem(back, n, data, n);

    /* Back out through a differently split list. */
    dlist = scatter(&t, r, n, segs, daddr, dlen);
    c = run(&t, 1, &(Desc){ .opcode = OP_C2H, .flags = F_DST_LIST,
                            .length = n, .cookie = 2, .src = 4096,
                            .dst = dlist, .dst_n = segs });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, 0);
    for (i = 0, pos = 0; i < segs; pos += dlen[i], i++) {
        qtest_bufread(t.qts, daddr[i], back + pos, dlen[i]);
    }
    g_assert_cmpmem(back, n, data, n);

    /* Host to host, list to list. */
    memset(back, 0, n);
    for (i = 0; i < segs; i++) {
        qtest_bufwrite(t.qts, daddr[i], back, dlen[i]);
    }
    c = run(&t, 1, &(Desc){ .opcode = OP_H2H,
                            .flags = F_CRC | F_SRC_LIST | F_DST_LIST,
                            .length = n, .cookie = 3, .src = list,
                            .src_n = segs, .dst = dlist, .dst_n = segs });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
    for (i = 0, pos = 0; i < segs; pos += dlen[i], i++) {
        qtest_bufread(t.qts, daddr[i], back + pos, dlen[i]);
    }
    g_assert_cmpmem(back, n, data, n);
    sg_stop(&t);
}

static void test_fill(void)
{
    const uint32_t n = 20011;
    const uint64_t pattern = 0x0123456789abcdefULL;
    g_autofree uint8_t *want = g_malloc(n);
    g_autofree uint8_t *back = g_malloc(n);
    uint64_t addr[3], list;
    uint32_t len[3] = { 3, 10000, n - 10003 };
    uint32_t i, pos;
    Sg t;
    Compl c;

    for (i = 0; i < n; i++) {
        want[i] = pattern >> (8 * (i % 8));
    }
    sg_start(&t, NULL);
    chan_setup(&t, 2);
    for (i = 0; i < 3; i++) {
        addr[i] = galloc(&t, len[i]) + 1;
    }
    list = put_list(&t, addr, len, 3);
    c = run(&t, 2, &(Desc){ .opcode = OP_FILL, .flags = F_CRC | F_DST_LIST,
                            .length = n, .cookie = 9, .dst = list,
                            .dst_n = 3, .pattern = pattern });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(want, n));
    for (i = 0, pos = 0; i < 3; pos += len[i], i++) {
        qtest_bufread(t.qts, addr[i], back + pos, len[i]);
    }
    g_assert_cmpmem(back, n, want, n);
    sg_stop(&t);
}

static void test_large_transfer(void)
{
    const uint32_t n = 16 << 20;
    g_autoptr(GRand) r = g_rand_new_with_seed(3);
    g_autofree uint8_t *data = random_buf(r, n);
    g_autofree uint8_t *back = g_malloc(n);
    uint64_t src, dst;
    Sg t;
    Compl c;

    memset(&t, 0, sizeof(t));
    t.qts = qtest_init("-machine q35 -nodefaults -m 256 "
                       "-device sgdma,card-size=16M,slice-size=65536");
    pc_alloc_init(&t.alloc, t.qts, ALLOC_NO_FLAGS);
    t.bus = qpci_new_pc(t.qts, &t.alloc);
    sg_map(&t);
    chan_setup(&t, 3);
    src = galloc(&t, n);
    dst = galloc(&t, n);
    qtest_bufwrite(t.qts, src, data, n);
    c = run(&t, 3, &(Desc){ .opcode = OP_H2C, .flags = F_CRC, .length = n,
                            .cookie = 1, .src = src, .src_n = n });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
    c = run(&t, 3, &(Desc){ .opcode = OP_C2H, .length = n, .cookie = 2,
                            .dst = dst, .dst_n = n });
    g_assert_cmpint(c.status, ==, S_OK);
    qtest_bufread(t.qts, dst, back, n);
    g_assert_cmpmem(back, n, data, n);
    sg_stop(&t);
}

static void test_channels_independent(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(4);
    const uint32_t n = 50000;
    uint8_t *data[4];
    uint32_t idx[4];
    Sg t;
    int ch;

    sg_start(&t, NULL);
    for (ch = 0; ch < 4; ch++) {
        uint64_t src = galloc(&t, n);

        chan_setup(&t, ch);
        data[ch] = random_buf(r, n);
        qtest_bufwrite(t.qts, src, data[ch], n);
        /* Queue without waiting: all four run concurrently. */
        idx[ch] = submit(&t, ch, &(Desc){ .opcode = OP_H2C, .length = n,
                                          .cookie = ch, .src = src,
                                          .src_n = n, .dst = ch * n });
    }
    for (ch = 0; ch < 4; ch++) {
        g_autofree uint8_t *back = g_malloc(n);

        wait_chan(&t, ch, idx[ch] + 1);
        g_assert_cmpint(get_compl(&t, ch, idx[ch]).status, ==, S_OK);
        card_read(&t, ch * n, back, n);
        g_assert_cmpmem(back, n, data[ch], n);
        g_free(data[ch]);
    }
    sg_stop(&t);
}

static void test_ring_wrap(void)
{
    Sg t;
    uint64_t buf;
    uint32_t i, v;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    buf = galloc(&t, 4);
    /* Three times round the ring, each transfer checked. */
    for (i = 0; i < 3 * RING_ENTRIES; i++) {
        v = 0xa5000000 | i;
        qtest_writel(t.qts, buf, v);
        g_assert_cmpint(run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 4,
                                            .cookie = i, .src = buf,
                                            .src_n = 4, .dst = 8 }).status,
                        ==, S_OK);
        card_read(&t, 8, &v, 4);
        g_assert_cmphex(le32_to_cpu(v), ==, 0xa5000000 | i);
    }
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, 3 * RING_ENTRIES);
    sg_stop(&t);
}

/* Errors */

static void test_descriptor_errors(void)
{
    Sg t;
    uint64_t buf;
    Compl c;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    buf = galloc(&t, 8192);

    expect_error(&t, 0, &(Desc){ .opcode = 9, .length = 8, .src = buf,
                                 .src_n = 8 }, S_BAD_DESC);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = 0x10,
                                 .length = 8, .src = buf, .src_n = 8 },
                 S_BAD_DESC);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                                 .src_n = 8, .poison_reserved = 1 },
                 S_BAD_DESC);
    /* A card side with host-side fields set */
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                                 .src_n = 8, .dst_n = 8 }, S_BAD_DESC);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                                 .src_n = 8, .pattern = 1 }, S_BAD_DESC);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 0, .src = buf,
                                 .src_n = 0 }, S_BAD_LENGTH);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                                 .src_n = 7 }, S_BAD_LENGTH);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                                 .src_n = 8, .dst = (1 << 20) - 7 },
                 S_CARD_RANGE);
    expect_error(&t, 0, &(Desc){ .opcode = OP_C2H, .length = 8,
                                 .src = UINT64_MAX - 3, .dst = buf,
                                 .dst_n = 8 }, S_CARD_RANGE);
    c = expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                     .src = UNBACKED_ADDR, .src_n = 8 },
                     S_DMA_FAULT);
    g_assert_cmphex(c.err_addr, ==, UNBACKED_ADDR);
    g_assert_cmpuint(c.bytes, ==, 0);
    sg_stop(&t);
}

static void test_segment_rules(void)
{
    Sg t;
    uint64_t buf, list;
    uint64_t a[2];
    uint32_t l[2];
    Compl c;

    sg_start(&t, ",dma-bits=32,max-seg-size=4096,seg-boundary=0xffff,"
             "max-segments=4,seg-align=4");
    chan_setup(&t, 0);
    buf = galloc(&t, 0x30000);
    buf = (buf + 0xffff) & ~0xffffULL;       /* a boundary-aligned buffer */

    c = expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8192,
                                     .src = buf, .src_n = 8192 },
                     S_SEG_SIZE);
    g_assert_cmphex(c.err_addr, ==, buf);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                 .src = buf + 2, .src_n = 8 }, S_SEG_ALIGN);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 6,
                                 .src = buf, .src_n = 6 }, S_SEG_ALIGN);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 16,
                                 .src = buf + 0x10000 - 8, .src_n = 16 },
                 S_SEG_BOUNDARY);
    c = expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                     .src = 0x100000000ULL, .src_n = 8 },
                     S_ADDR_RANGE);
    g_assert_cmphex(c.err_addr, ==, 0x100000000ULL);

    a[0] = buf;
    l[0] = 8;
    a[1] = buf + 4096;
    l[1] = 0;
    list = put_list(&t, a, l, 2);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                 .length = 8, .src = list, .src_n = 2 },
                 S_BAD_LENGTH);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                 .length = 8, .src = list, .src_n = 5 },
                 S_SEG_COUNT);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                 .length = 8, .src = list, .src_n = 0 },
                 S_SEG_COUNT);
    /* A list that lies above 4G */
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                 .length = 8, .src = 0x200000000ULL,
                                 .src_n = 1 }, S_ADDR_RANGE);

    /* The same rules, obeyed, succeed. */
    c = run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 4096, .cookie = 5,
                            .src = buf, .src_n = 4096 });
    g_assert_cmpint(c.status, ==, S_OK);
    sg_stop(&t);
}

static void test_dma_bits_last_byte(void)
{
    Sg t;

    sg_start(&t, ",dma-bits=32");
    chan_setup(&t, 0);
    /* It starts below 4G, but its last byte is above. */
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                 .src = 0xfffffffcULL, .src_n = 8 },
                 S_ADDR_RANGE);
    sg_stop(&t);
}

static void test_no_write_past_fault(void)
{
    Sg t;
    uint64_t a[3], list;
    uint32_t l[3] = { 4096, 4096, 4096 };
    uint8_t card[12288], back[4096], canary[4096];
    Compl c;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    memset(card, 0x5a, sizeof(card));
    card_write(&t, 0, card, sizeof(card));
    memset(canary, 0xc3, sizeof(canary));
    a[0] = galloc(&t, 4096);
    a[1] = UNBACKED_ADDR;
    a[2] = galloc(&t, 4096);
    qtest_memwrite(t.qts, a[0], canary, 4096);
    qtest_memwrite(t.qts, a[2], canary, 4096);
    list = put_list(&t, a, l, 3);

    c = expect_error(&t, 0, &(Desc){ .opcode = OP_C2H, .flags = F_DST_LIST,
                                     .length = 12288, .src = 0, .dst = list,
                                     .dst_n = 3 }, S_DMA_FAULT);
    g_assert_cmpuint(c.bytes, ==, 4096);
    g_assert_cmphex(c.err_addr, ==, UNBACKED_ADDR);
    qtest_memread(t.qts, a[0], back, 4096);
    g_assert_cmpmem(back, 4096, card, 4096);
    qtest_memread(t.qts, a[2], back, 4096);
    g_assert_cmpmem(back, 4096, canary, 4096);
    sg_stop(&t);
}

static void test_self_target(void)
{
    Sg t;
    uint32_t scratch;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    wr(&t, REG_SCRATCH, 0x600d600d);
    /* Data aimed at the device's own registers is refused... */
    expect_error(&t, 0, &(Desc){ .opcode = OP_C2H, .length = 4, .src = 0,
                                 .dst = t.regs.addr + REG_SCRATCH,
                                 .dst_n = 4 }, S_SELF_TARGET);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 64,
                                 .src = t.card.addr, .src_n = 64 },
                 S_SELF_TARGET);
    scratch = rd(&t, REG_SCRATCH);
    g_assert_cmphex(scratch, ==, 0x600d600d);

    /* ...and so is a ring that points at them. */
    wr(&t, CH(1) + CH_RING_LO, t.regs.addr + CH(1));
    wr(&t, CH(1) + CH_RING_HI, t.regs.addr >> 32);
    wr(&t, CH(1) + CH_COMPL_LO, galloc(&t, 64 * 32));
    wr(&t, CH(1) + CH_RING_SIZE, 2);
    wr(&t, CH(1) + CH_CTRL, CTRL_ENABLE);
    wr(&t, CH(1) + CH_DOORBELL, 1);
    wait_chan(&t, 1, 1);
    g_assert_cmpint(ST_CODE(rd(&t, CH(1) + CH_STATUS)), ==, S_SELF_TARGET);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    sg_stop(&t);
}

static void test_ring_errors(void)
{
    Sg t;
    uint64_t ring;

    sg_start(&t, NULL);
    ring = galloc(&t, 4096);

    /* Not a power of two */
    wr(&t, CH(0) + CH_RING_LO, ring);
    wr(&t, CH(0) + CH_COMPL_LO, ring + 2048);
    wr(&t, CH(0) + CH_RING_SIZE, 3);
    wr(&t, CH(0) + CH_CTRL, CTRL_ENABLE);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_BAD_RING);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS) & ST_HALTED, ==, ST_HALTED);
    /* Halted: doorbells do nothing until reset. */
    wr(&t, CH(0) + CH_DOORBELL, 1);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, 0);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_RING_SIZE), ==, 0);

    /* Misaligned ring, then too large a ring */
    wr(&t, CH(0) + CH_RING_LO, ring + 32);
    wr(&t, CH(0) + CH_COMPL_LO, ring + 2048);
    wr(&t, CH(0) + CH_RING_SIZE, 16);
    wr(&t, CH(0) + CH_CTRL, CTRL_ENABLE);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_BAD_RING);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    wr(&t, CH(0) + CH_RING_LO, ring);
    wr(&t, CH(0) + CH_RING_SIZE, 8192);
    wr(&t, CH(0) + CH_CTRL, CTRL_ENABLE);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_BAD_RING);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);

    /* Ring registers are frozen while enabled. */
    chan_setup(&t, 0);
    wr(&t, CH(0) + CH_RING_SIZE, 4);
    g_assert_cmpuint(rd(&t, CH(0) + CH_RING_SIZE), ==, RING_ENTRIES);

    /* A doorbell beyond the ring's capacity: ERR_ADDR is its value. */
    wr(&t, CH(0) + CH_DOORBELL, RING_ENTRIES + 1);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_BAD_DOORBELL);
    g_assert_cmphex(rd(&t, CH(0) + CH_ERR_ADDR_LO), ==, RING_ENTRIES + 1);
    g_assert_cmphex(rd(&t, CH(0) + CH_ERR_ADDR_HI), ==, 0);
    chan_reset(&t, 0);

    /* A doorbell moving backwards, while the first descriptor is LATE */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(50));
    put_desc(&t, 0, 0, &(Desc){ .opcode = OP_FILL, .length = 64,
                                .dst = ring + 1024, .dst_n = 64 });
    put_desc(&t, 0, 1, &(Desc){ .opcode = OP_FILL, .length = 64,
                                .dst = ring + 1024, .dst_n = 64 });
    wr(&t, CH(0) + CH_DOORBELL, 2);
    wr(&t, CH(0) + CH_DOORBELL, 1);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_BAD_DOORBELL);
    g_assert_cmphex(rd(&t, CH(0) + CH_ERR_ADDR_LO), ==, 1);
    chan_reset(&t, 0);

    /* A ring in memory nobody backs: the fetch fails. */
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    wr(&t, CH(0) + CH_RING_LO, (uint32_t)UNBACKED_ADDR);
    wr(&t, CH(0) + CH_RING_HI, UNBACKED_ADDR >> 32);
    wr(&t, CH(0) + CH_COMPL_LO, ring + 2048);
    wr(&t, CH(0) + CH_RING_SIZE, 16);
    wr(&t, CH(0) + CH_CTRL, CTRL_ENABLE);
    wr(&t, CH(0) + CH_DOORBELL, 1);
    wait_chan(&t, 0, 1);
    g_assert_cmpint(ST_CODE(rd(&t, CH(0) + CH_STATUS)), ==, S_DESC_FETCH);
    g_assert_cmphex(rd(&t, CH(0) + CH_ERR_ADDR_HI), ==, UNBACKED_ADDR >> 32);
    sg_stop(&t);
}

/* Fault injection and interrupts */

/*
 * Advance virtual time in small steps: bottom halves run between qtest
 * commands only, so one big step would skip the work due at a timer.
 */
static void advance_us(Sg *t, int64_t us)
{
    for (; us > 0; us -= 100) {
        qtest_clock_step(t->qts, MIN(us, 100) * 1000);
    }
}

/* The first byte past RAM of "-m 256", where nothing else is mapped */
#define RAM_END                 0x10000000ULL

/* Move BAR2 (the card) to @addr. */
static void move_card_bar(Sg *t, uint64_t addr)
{
    qpci_config_writel(t->dev, PCI_BASE_ADDRESS_2, addr | 0xc);
    qpci_config_writel(t->dev, PCI_BASE_ADDRESS_3, addr >> 32);
    t->card.addr = addr;
}

/*
 * Addresses are checked when they are accessed, not when the transfer is
 * validated: a BAR moved onto the range meanwhile is refused, and
 * nothing past it is touched.
 */
static void test_self_target_moved_bar(void)
{
    uint8_t card[8192], back[4096], canary[4096];
    uint64_t buf = RAM_END - 4096;
    uint32_t index;
    Compl c;
    Sg t;

    sg_start(&t, ",latency=1000");
    chan_setup(&t, 0);
    memset(card, 0x5a, 4096);
    memset(card + 4096, 0xa5, 4096);
    card_write(&t, 0, card, sizeof(card));

    /*
     * The issue's case: an H2C from an unused address BAR2 moves onto,
     * into card bytes that overlap the source (ASan: memcpy-param-overlap).
     */
    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 4096,
                                   .src = RAM_END, .src_n = 4096,
                                   .dst = 2048 });
    move_card_bar(&t, RAM_END);
    advance_us(&t, 2000);
    wait_chan(&t, 0, index + 1);
    c = get_compl(&t, 0, index);
    g_assert_cmpint(c.status, ==, S_SELF_TARGET);
    g_assert_cmpuint(c.bytes, ==, 0);
    g_assert_cmphex(c.err_addr, ==, RAM_END);
    card_read(&t, 2048, back, 4096);
    g_assert_cmpmem(back, 4096, card + 2048, 4096);
    wr(&t, REG_INT_STATUS, INT_ERROR);
    chan_reset(&t, 0);

    /* A C2H across RAM's last page into the moved BAR stops at the BAR. */
    move_card_bar(&t, 0xe8000000);
    memset(canary, 0xc3, sizeof(canary));
    qtest_memwrite(t.qts, buf, canary, sizeof(canary));
    index = submit(&t, 0, &(Desc){ .opcode = OP_C2H, .length = 8192,
                                   .src = 0, .dst = buf, .dst_n = 8192 });
    move_card_bar(&t, RAM_END);
    advance_us(&t, 2000);
    wait_chan(&t, 0, index + 1);
    c = get_compl(&t, 0, index);
    g_assert_cmpint(c.status, ==, S_SELF_TARGET);
    g_assert_cmpuint(c.bytes, ==, 4096);
    g_assert_cmphex(c.err_addr, ==, RAM_END);
    qtest_memread(t.qts, buf, back, sizeof(back));
    g_assert_cmpmem(back, 4096, card, 4096);
    card_read(&t, 0, back, 4096);
    g_assert_cmpmem(back, 4096, card, 4096);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    sg_stop(&t);
}

static void test_fault_injection(void)
{
    Sg t;
    uint64_t buf, a[3], list;
    uint32_t l[3] = { 100, 100, 100 };
    uint32_t index;
    Compl c;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    buf = galloc(&t, 4096);
    a[0] = buf;
    a[1] = buf + 1000;
    a[2] = buf + 2000;
    list = put_list(&t, a, l, 3);

    /* The second segment access fails. */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_DMA_ERROR | (2 << 8));
    c = expect_error(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                     .length = 300, .cookie = 1, .src = list,
                                     .src_n = 3 }, S_DMA_FAULT);
    g_assert_cmpuint(c.bytes, ==, 100);
    g_assert_cmphex(c.err_addr, ==, a[1]);

    /* A wrong byte count, reported as success: the driver must notice. */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_BAD_COUNT);
    c = run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 300, .cookie = 2,
                            .src = buf, .src_n = 300 });
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmpuint(c.bytes, ==, 299);
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), ==, 0);
    c = run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 300, .cookie = 3,
                            .src = buf, .src_n = 300 });
    g_assert_cmpuint(c.bytes, ==, 300);

    /* A stall: busy until disabled, and nothing moves after that. */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STALL);
    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                   .cookie = 4, .src = buf, .src_n = 8 });
    g_usleep(20000);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS) & ST_BUSY, ==, ST_BUSY);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    wr(&t, CH(0) + CH_CTRL, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS) & (ST_BUSY | ST_ENABLED), ==,
                    0);
    g_assert_cmpuint(get_compl(&t, 0, index).flags, ==, 0);
    chan_reset(&t, 0);
    sg_stop(&t);
}

/* Has a C2H of @buf's 4096 bytes written anything over the 0xc3 canary? */
static bool host_written(Sg *t, uint64_t buf)
{
    uint8_t back[4096], canary[4096];

    memset(canary, 0xc3, sizeof(canary));
    qtest_memread(t->qts, buf, back, sizeof(back));
    return memcmp(back, canary, sizeof(back)) != 0;
}

static uint32_t submit_c2h_over_canary(Sg *t, uint64_t buf)
{
    uint8_t canary[4096];

    memset(canary, 0xc3, sizeof(canary));
    qtest_memwrite(t->qts, buf, canary, sizeof(canary));
    return submit(t, 0, &(Desc){ .opcode = OP_C2H, .length = 4096,
                                 .cookie = 5, .src = 0, .dst = buf,
                                 .dst_n = 4096 });
}

/* A LATE transfer stopped by writing @ctrl to CTRL writes nothing. */
static void late_transfer_stopped(Sg *t, uint64_t buf, uint32_t ctrl)
{
    uint32_t index;

    wr(t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(50));
    index = submit_c2h_over_canary(t, buf);
    advance_us(t, 10 * 1000);
    g_assert_cmphex(rd(t, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    wr(t, CH(0) + CH_CTRL, ctrl);
    g_assert_cmphex(rd(t, CH(0) + CH_STATUS), ==, 0);
    advance_us(t, 100 * 1000);
    g_assert_false(host_written(t, buf));
    g_assert_cmpuint(get_compl(t, 0, index).flags, ==, 0);
}

/*
 * LATE: the transfer is in flight for the armed time, then writes its
 * data, unless the channel was stopped meanwhile.
 */
static void test_fault_late_completion(void)
{
    uint8_t card[4096];
    uint64_t buf;
    uint32_t index;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    memset(card, 0x5a, sizeof(card));
    card_write(&t, 0, card, sizeof(card));
    buf = galloc(&t, 4096);

    wr(&t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(50));
    index = submit_c2h_over_canary(&t, buf);
    advance_us(&t, 45 * 1000);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    g_assert_false(host_written(&t, buf));
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), ==, 0);
    advance_us(&t, 10 * 1000);
    wait_chan(&t, 0, index + 1);
    g_assert_cmpint(get_compl(&t, 0, index).status, ==, S_OK);
    g_assert_true(host_written(&t, buf));

    /* Reset or disabled while it waits: it never writes. */
    late_transfer_stopped(&t, buf, CTRL_RESET);
    chan_setup(&t, 0);
    late_transfer_stopped(&t, buf, 0);
    sg_stop(&t);
}

/*
 * STUCK_RESET: every stop request in the armed time is ignored, the
 * transfer goes on; afterwards the next one works.
 */
static void test_fault_stuck_reset(void)
{
    const uint32_t busy = ST_ENABLED | ST_BUSY;
    uint64_t buf;
    uint32_t index;
    Sg t;

    /* Each transfer takes 200 ms of link latency: it stays busy. */
    sg_start(&t, ",latency=200000");
    chan_setup(&t, 0);
    buf = galloc(&t, 4096);

    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STUCK_RESET | FI_MS(50));
    index = submit_c2h_over_canary(&t, buf);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), ==, 0);
    advance_us(&t, 20 * 1000);
    wr(&t, CH(0) + CH_CTRL, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    g_assert_cmphex(rd(&t, CH(0) + CH_CTRL), ==, CTRL_ENABLE | CTRL_IRQ);
    wr(&t, REG_CTRL, 1);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    g_assert_cmphex(rd(&t, CH(0) + CH_RING_SIZE), ==, RING_ENTRIES);
    /* The window is over: nothing replays, the next request works. */
    advance_us(&t, 40 * 1000);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    advance_us(&t, 300 * 1000);
    g_assert_false(host_written(&t, buf));
    g_assert_cmpuint(get_compl(&t, 0, index).flags, ==, 0);

    /* Ignored requests do not stop the transfer: it completes. */
    chan_setup(&t, 0);
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STUCK_RESET | FI_MS(1000));
    index = submit_c2h_over_canary(&t, buf);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    advance_us(&t, 250 * 1000);
    wait_chan(&t, 0, index + 1);
    g_assert_cmpint(get_compl(&t, 0, index).status, ==, S_OK);
    g_assert_true(host_written(&t, buf));

    /* A system reset stops it, unless bit 4 says otherwise. */
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(t.qts, "RESET");
    g_free(t.dev);
    sg_map(&t);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    chan_setup(&t, 0);
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STUCK_RESET | FI_F_PCI_RESET |
                                    FI_MS(1000));
    submit_c2h_over_canary(&t, buf);
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(t.qts, "RESET");
    g_free(t.dev);
    sg_map(&t);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, busy);
    sg_stop(&t);
}

static void test_msix_and_faulty_irqs(void)
{
    Sg t;
    uint64_t buf;

    sg_start(&t, NULL);
    qpci_msix_enable(t.dev);     /* every vector starts masked */
    chan_setup(&t, 2);
    buf = galloc(&t, 64);

    /* No IRQ flag: no interrupt. */
    run(&t, 2, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                        .src_n = 8 });
    g_assert_false(qpci_msix_pending(t.dev, 2));
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);

    /* Dropped: the completion is there, the interrupt is not. */
    wr(&t, CH(2) + CH_FAULT_INJECT, FI_DROP_IRQ);
    run(&t, 2, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_false(qpci_msix_pending(t.dev, 2));

    /* The next one is delivered, on the channel's own vector. */
    run(&t, 2, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_true(qpci_msix_pending(t.dev, 2));
    g_assert_false(qpci_msix_pending(t.dev, 0));
    g_assert_false(qpci_msix_pending(t.dev, 4));
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 1 << 2);
    wr(&t, REG_INT_STATUS, 1 << 2);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);

    /* Errors use the last vector. */
    expect_error(&t, 2, &(Desc){ .opcode = 0, .length = 8 }, S_BAD_DESC);
    g_assert_true(qpci_msix_pending(t.dev, 4));

    /* A duplicated interrupt does not disturb the device. */
    wr(&t, CH(2) + CH_FAULT_INJECT, FI_DUP_IRQ);
    g_assert_cmpint(run(&t, 2, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ,
                                        .length = 8, .src = buf,
                                        .src_n = 8 }).status, ==, S_OK);
    g_assert_cmphex(rd(&t, CH(2) + CH_FAULT_INJECT), ==, 0);
    sg_stop(&t);
}

static void test_coalescing(void)
{
    Sg t;
    uint64_t buf;
    int i;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    buf = galloc(&t, 64);
    wr(&t, CH(0) + CH_COALESCE, 3);
    for (i = 0; i < 2; i++) {
        run(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                            .src = buf, .src_n = 8 });
        g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);
    }
    run(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 1);
    wr(&t, REG_INT_STATUS, 1);

    /* Or after the timeout, whichever comes first. */
    wr(&t, CH(0) + CH_COALESCE, (100 << 16) | 8);
    run(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);
    qtest_clock_step(t.qts, 200 * 1000);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 1);
    wr(&t, REG_INT_STATUS, 1);

    /* Clearing IRQ_ENABLE cancels the interrupt the timer would raise. */
    run(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    wr(&t, CH(0) + CH_CTRL, CTRL_ENABLE);
    qtest_clock_step(t.qts, 200 * 1000);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);
    sg_stop(&t);
}

/*
 * COALESCE_RACE: the channel holds its work until the COALESCE write that
 * lowers the count, whose effect its completion then overtakes: posted
 * under the old count, it raises no interrupt until the next completion.
 * With no write, the work runs once the armed time is over.
 */
static void test_fault_coalesce_race(void)
{
    Desc d = { .opcode = OP_H2C, .flags = F_IRQ, .length = 8, .src_n = 8 };
    uint32_t index;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    d.src = galloc(&t, 64);

    wr(&t, CH(0) + CH_COALESCE, 2);
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_COALESCE_RACE | FI_MS(1000));
    index = submit(&t, 0, &d);
    advance_us(&t, 10 * 1000);
    g_assert_cmpuint(get_compl(&t, 0, index).flags & 1, ==, 0);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    wr(&t, CH(0) + CH_COALESCE, 0);
    /* Posted by the time the write took effect, with no interrupt. */
    g_assert_cmpuint(get_compl(&t, 0, index).flags & 1, ==, 1);
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), ==, 0);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 0);
    /* The next completion signals both. */
    run(&t, 0, &d);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 1);
    wr(&t, REG_INT_STATUS, 1);

    /* No write: the work waits for the armed time only. */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_COALESCE_RACE | FI_MS(50));
    index = submit(&t, 0, &d);
    advance_us(&t, 45 * 1000);
    g_assert_cmpuint(get_compl(&t, 0, index).flags & 1, ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), !=, 0);
    advance_us(&t, 10 * 1000);
    wait_chan(&t, 0, index + 1);
    g_assert_cmpint(get_compl(&t, 0, index).status, ==, S_OK);
    g_assert_cmphex(rd(&t, CH(0) + CH_FAULT_INJECT), ==, 0);
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, 1);
    sg_stop(&t);
}

/* The function's INTx pin, as PCI_STATUS reflects it. */
static bool intx_asserted(Sg *t)
{
    return qpci_config_readw(t->dev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

/* INTx is asserted while INT_STATUS is not 0, unless MSI or MSI-X is on. */
static void test_intx(void)
{
    uint8_t msi;
    uint16_t flags;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    run(&t, 0, &(Desc){ .opcode = 0, .length = 8 });
    g_assert_cmphex(rd(&t, REG_INT_STATUS), ==, INT_ERROR);
    g_assert_true(intx_asserted(&t));

    msi = qpci_find_capability(t.dev, PCI_CAP_ID_MSI, 0);
    flags = qpci_config_readw(t.dev, msi + PCI_MSI_FLAGS);
    qpci_config_writew(t.dev, msi + PCI_MSI_FLAGS,
                       flags | PCI_MSI_FLAGS_ENABLE);
    g_assert_false(intx_asserted(&t));
    qpci_config_writew(t.dev, msi + PCI_MSI_FLAGS, flags);
    g_assert_true(intx_asserted(&t));

    qpci_msix_enable(t.dev);
    g_assert_false(intx_asserted(&t));
    sg_stop(&t);
}

/* Work per bottom-half run */

/*
 * The longest a qtest command took (a clock step or a register read: the
 * vCPUs' view) until @channels channels have all reached HEAD @head, in us.
 */
static int64_t longest_command_while_busy(Sg *t, int channels, uint32_t head)
{
    int64_t longest = 0, start;
    int ch = 0;

    while (ch < channels) {
        start = g_get_monotonic_time();
        qtest_clock_step(t->qts, 100 * 1000);
        longest = MAX(longest, g_get_monotonic_time() - start);
        start = g_get_monotonic_time();
        g_assert_cmphex(rd(t, CH(ch) + CH_STATUS) & ST_HALTED, ==, 0);
        longest = MAX(longest, g_get_monotonic_time() - start);
        if (rd(t, CH(ch) + CH_HEAD) == head) {
            ch++;
        }
    }
    return longest;
}

/*
 * The cheapest work a guest can ask for, 1-byte segments, on many
 * channels whose link latency expires at the same instant, so that one
 * bottom-half run finds them all ready: each run is bounded by work, not
 * by bytes alone, so the vCPUs (here: the qtest's commands) are never
 * held up for long. Before, one run moved a whole slice (1 MiB) of
 * 1-byte segments per channel: seconds with the lock held.
 */
static void test_work_bound(void)
{
    /* Otherwise a cheaper case, that ASan's qtests can afford as well */
    const int channels = g_test_perf() ? 31 : 4;
    const uint32_t segs = g_test_perf() ? 1024 * 1024 : 512 * 1024;
    g_autofree char *props = g_strdup_printf(
        ",channels=%d,latency=1000,max-segments=%u", channels, segs);
    g_autofree uint8_t *l = g_malloc0(segs * 16);
    uint64_t buf, list;
    int64_t longest;
    uint32_t i;
    int ch;
    Sg t;

    sg_start(&t, props);
    buf = galloc(&t, 4096);
    for (i = 0; i < segs; i++) {
        stq_le_p(l + i * 16, buf + i % 4096);
        stl_le_p(l + i * 16 + 8, 1);
    }
    list = galloc(&t, segs * 16);
    qtest_bufwrite(t.qts, list, l, segs * 16);
    for (ch = 0; ch < channels; ch++) {
        chan_setup(&t, ch);
        submit(&t, ch, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                .length = segs, .src = list,
                                .src_n = segs });
    }
    longest = longest_command_while_busy(&t, channels, 1);
    g_test_message("%d channels of one descriptor of %u 1-byte segments: "
                   "longest qtest command %" PRId64 " us", channels, segs,
                   longest);
    g_assert_cmpint(longest, <, G_USEC_PER_SEC / 5);
    sg_stop(&t);
}

/* Link model, prefetch cache and held completions: virtual time only */

static void test_link_model(void)
{
    Sg t;
    uint64_t buf;
    uint32_t index;

    /* 1 MB/s: 65536 bytes take 65.536 ms of virtual time. */
    sg_start(&t, ",bandwidth=1,latency=1000");
    chan_setup(&t, 0);
    buf = galloc(&t, 65536);
    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 65536,
                                   .src = buf, .src_n = 65536 });
    advance_us(&t, 60 * 1000);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS) & ST_BUSY, ==, ST_BUSY);
    advance_us(&t, 10 * 1000);
    g_assert_cmpuint(wait_chan(&t, 0, index + 1) & ST_HALTED, ==, 0);

    /* Latency alone: 1 ms for one byte. */
    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 1,
                                   .src = buf, .src_n = 1 });
    advance_us(&t, 500);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    advance_us(&t, 1000);
    g_assert_cmpuint(wait_chan(&t, 0, index + 1) & ST_HALTED, ==, 0);
    sg_stop(&t);
}

/*
 * Edit descriptor 1 after ringing its doorbell, while descriptor 0 is
 * still moving: with the prefetch cache the stale copy is used.
 */
static uint32_t edit_after_doorbell(int prefetch)
{
    g_autofree char *props = g_strdup_printf(",bandwidth=1,desc-prefetch=%d",
                                             prefetch);
    Sg t;
    uint64_t big, a, b;
    uint32_t i0, i1, got;

    sg_start(&t, props);
    chan_setup(&t, 0);
    big = galloc(&t, 65536);
    a = galloc(&t, 4);
    b = galloc(&t, 4);
    qtest_writel(t.qts, a, 0xaaaaaaaa);
    qtest_writel(t.qts, b, 0xbbbbbbbb);
    i0 = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 65536,
                                .src = big, .src_n = 65536 });
    i1 = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 4, .cookie = 7,
                                .src = a, .src_n = 4, .dst = 0x80000 });
    put_desc(&t, 0, i1, &(Desc){ .opcode = OP_H2C, .length = 4, .cookie = 7,
                                 .src = b, .src_n = 4, .dst = 0x80000 });
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, i0);
    advance_us(&t, 100 * 1000);
    wait_chan(&t, 0, i1 + 1);
    g_assert_cmpint(get_compl(&t, 0, i1).status, ==, S_OK);
    card_read(&t, 0x80000, &got, 4);
    sg_stop(&t);
    return le32_to_cpu(got);
}

static void test_desc_prefetch(void)
{
    g_assert_cmphex(edit_after_doorbell(4), ==, 0xaaaaaaaa);
    g_assert_cmphex(edit_after_doorbell(0), ==, 0xbbbbbbbb);
}

/* Host bytes visible 1 ms into a 65.5 ms card-to-host transfer */
static int c2h_visible_early(bool hold)
{
    g_autofree char *props = g_strdup_printf(",bandwidth=1,c2h-hold=%s",
                                             hold ? "on" : "off");
    uint8_t data[65536], back[65536];
    Sg t;
    uint64_t dst;
    uint32_t index;
    int i, visible = 0;

    for (i = 0; i < sizeof(data); i++) {
        data[i] = i % 251 + 1;
    }
    sg_start(&t, props);
    chan_setup(&t, 0);
    card_write(&t, 0, data, sizeof(data));
    dst = galloc(&t, sizeof(data));
    memset(back, 0, sizeof(back));
    qtest_bufwrite(t.qts, dst, back, sizeof(back));
    index = submit(&t, 0, &(Desc){ .opcode = OP_C2H, .flags = F_CRC,
                                   .length = sizeof(data), .dst = dst,
                                   .dst_n = sizeof(data) });
    advance_us(&t, 1000);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    qtest_bufread(t.qts, dst, back, sizeof(back));
    for (i = 0; i < sizeof(back); i++) {
        visible += back[i] != 0;
    }
    advance_us(&t, 100 * 1000);
    wait_chan(&t, 0, index + 1);
    g_assert_cmphex(get_compl(&t, 0, index).crc, ==,
                    ref_crc32c(data, sizeof(data)));
    qtest_bufread(t.qts, dst, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), data, sizeof(data));
    sg_stop(&t);
    return visible;
}

static void test_c2h_hold(void)
{
    g_assert_cmpint(c2h_visible_early(true), ==, 0);
    g_assert_cmpint(c2h_visible_early(false), >, 0);
}

/*
 * The translation cache needs an IOMMU to be of use (a guest test covers
 * it under intel-iommu); here: the capability, and DMA without an IOMMU.
 */
#define Q35_PCIEXBAR            0x60
#define ECAM_BASE               0xb0000000ULL

/* Extended config space through ECAM, which q35 firmware would enable. */
static uint64_t ecam(Sg *t, unsigned off)
{
    QPCIDevice *host = qpci_device_find(t->bus, 0);

    qpci_config_writel(host, Q35_PCIEXBAR + 4, 0);
    qpci_config_writel(host, Q35_PCIEXBAR, ECAM_BASE | 1);
    g_free(host);
    return ECAM_BASE + ((uint64_t)t->dev->devfn << 12) + off;
}

static void test_ats_capability(void)
{
    QTestState *qts;
    QDict *resp;
    uint64_t buf;
    uint32_t hdr;
    Sg t;

    sg_start(&t, ",ats=on");
    hdr = qtest_readl(t.qts, ecam(&t, 0x100));
    g_assert_cmphex(hdr & 0xffff, ==, 0x000f);              /* ATS */
    /* Guest enables ATS; with no IOMMU, requests stay untranslated. */
    qtest_writew(t.qts, ecam(&t, 0x106), 0x8000);
    g_assert_cmphex(qtest_readw(t.qts, ecam(&t, 0x106)), ==, 0x8000);
    chan_setup(&t, 0);
    buf = galloc(&t, 4096);
    g_assert_cmpint(run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 4096,
                                        .src = buf,
                                        .src_n = 4096 }).status, ==, S_OK);
    /* ...so the translation cache is not used, and its counters say so. */
    wr(&t, REG_ATC_HITS, 5);
    wr(&t, REG_ATC_MISSES, 5);
    g_assert_cmphex(rd(&t, REG_ATC_HITS), ==, 0);
    g_assert_cmphex(rd(&t, REG_ATC_MISSES), ==, 0);
    sg_stop(&t);

    /* Without it, no capability. */
    sg_start(&t, NULL);
    g_assert_cmphex(qtest_readl(t.qts, ecam(&t, 0x100)) & 0xffff, !=,
                    0x000f);
    sg_stop(&t);

    /* ATS is PCI Express only. */
    qts = qtest_init("-machine pc -nodefaults");
    resp = qtest_qmp(qts, "{'execute': 'device_add', 'arguments': "
                     "{'driver': 'sgdma', 'ats': true}}");
    g_assert_true(qdict_haskey(resp, "error"));
    g_assert_nonnull(strstr(qdict_get_str(qdict_get_qdict(resp, "error"),
                                          "desc"), "Express"));
    qobject_unref(resp);
    qtest_quit(qts);
}

/*
 * Translations through intel-iommu: the first 256 MiB of IOVA map 1:1
 * (2 MiB pages), IOVA_X maps to one 4 KiB page of the test's choice.
 */
#define VTD_BASE                0xfed90000ULL
#define VTD_GCMD                0x18
#define VTD_RTADDR              0x20
#define VTD_IOTLB               0xf8
#define VTD_GCMD_TE             (1u << 31)
#define VTD_GCMD_SRTP           (1u << 30)
#define VTD_IOTLB_GLOBAL        ((1ULL << 63) | (1ULL << 60))
#define VTD_RW                  3
#define IOVA_X                  0x40000000ULL

typedef struct Vtd {
    uint64_t pt;                /* the page table that maps IOVA_X */
} Vtd;

static uint64_t zeroed_page(Sg *t)
{
    uint64_t page = guest_alloc(&t->alloc, 4096);

    g_assert_cmphex(page & 4095, ==, 0);
    qtest_memset(t->qts, page, 0, 4096);
    return page;
}

static void vtd_setup(Sg *t, Vtd *v)
{
    uint64_t root = zeroed_page(t), ctx = zeroed_page(t);
    uint64_t pdpt = zeroed_page(t), pd_low = zeroed_page(t);
    uint64_t pd_x = zeroed_page(t);
    int i;

    v->pt = zeroed_page(t);
    qtest_writeq(t->qts, root, ctx | 1);                    /* bus 0 */
    /* Translation type "device-TLB", 3-level (39-bit), domain 1 */
    qtest_writeq(t->qts, ctx + t->dev->devfn * 16, pdpt | 4 | 1);
    qtest_writeq(t->qts, ctx + t->dev->devfn * 16 + 8, (1 << 8) | 1);
    qtest_writeq(t->qts, pdpt, pd_low | VTD_RW);
    for (i = 0; i < 128; i++) {
        qtest_writeq(t->qts, pd_low + i * 8,
                     ((uint64_t)i << 21) | (1 << 7) | VTD_RW);
    }
    qtest_writeq(t->qts, pdpt + (IOVA_X >> 30) * 8, pd_x | VTD_RW);
    qtest_writeq(t->qts, pd_x, v->pt | VTD_RW);
    qtest_writeq(t->qts, VTD_BASE + VTD_RTADDR, root);
    qtest_writel(t->qts, VTD_BASE + VTD_GCMD, VTD_GCMD_SRTP);
    qtest_writel(t->qts, VTD_BASE + VTD_GCMD, VTD_GCMD_TE);
}

/*
 * Point IOVA_X at @page and empty the IOMMU's own IOTLB, with no
 * device-IOTLB invalidation: only the device's cache still knows better.
 */
static void vtd_remap_silently(Sg *t, Vtd *v, uint64_t page)
{
    qtest_writeq(t->qts, v->pt, page | VTD_RW);
    qtest_writeq(t->qts, VTD_BASE + VTD_IOTLB, VTD_IOTLB_GLOBAL);
}

/* The word an H2C from IOVA_X brings to card offset @off */
static uint32_t h2c_from_x(Sg *t, uint64_t off)
{
    uint32_t got;

    g_assert_cmpint(run(t, 0, &(Desc){ .opcode = OP_H2C, .length = 4,
                                       .src = IOVA_X, .src_n = 4,
                                       .dst = off }).status, ==, S_OK);
    card_read(t, off, &got, 4);
    return le32_to_cpu(got);
}

static void set_ats_enable(Sg *t, bool on)
{
    qtest_writew(t->qts, ecam(t, 0x106), on ? 0x8000 : 0);
}

/*
 * The translation cache (ATS) keeps a translation the IOMMU changed
 * without invalidating it, until CTRL.RESET or ATS Enable toggled.
 */
static void test_ats_cache_flush(void)
{
    uint64_t a, b;
    Vtd v;
    Sg t;

    sg_start_after(&t, "-device intel-iommu,intremap=off,device-iotlb=on",
                   ",ats=on");
    vtd_setup(&t, &v);
    a = zeroed_page(&t);
    b = zeroed_page(&t);
    qtest_writel(t.qts, a, 0xaaaaaaaa);
    qtest_writel(t.qts, b, 0xbbbbbbbb);
    set_ats_enable(&t, true);
    chan_setup(&t, 0);

    vtd_remap_silently(&t, &v, a);
    g_assert_cmphex(h2c_from_x(&t, 0), ==, 0xaaaaaaaa);
    vtd_remap_silently(&t, &v, b);
    g_assert_cmphex(h2c_from_x(&t, 4), ==, 0xaaaaaaaa);    /* cached */
    wr(&t, REG_CTRL, 1);
    chan_setup(&t, 0);
    g_assert_cmphex(h2c_from_x(&t, 8), ==, 0xbbbbbbbb);

    vtd_remap_silently(&t, &v, a);
    g_assert_cmphex(h2c_from_x(&t, 12), ==, 0xbbbbbbbb);   /* cached */
    set_ats_enable(&t, false);
    set_ats_enable(&t, true);
    g_assert_cmphex(h2c_from_x(&t, 16), ==, 0xaaaaaaaa);
    sg_stop(&t);
}

/* Reset */

static void test_resets(void)
{
    Sg t;
    uint64_t buf;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    buf = galloc(&t, 64);
    run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                        .src_n = 8 });
    wr(&t, REG_SCRATCH, 0xcafef00d);
    wr(&t, REG_CTRL, 1);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_HEAD), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_RING_LO), ==, 0);

    /* A system reset as well; it clears the BARs, so map again. */
    wr(&t, REG_SCRATCH, 0xcafef00d);
    chan_setup(&t, 1);
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    qtest_qmp_eventwait(t.qts, "RESET");
    g_free(t.dev);
    sg_map(&t);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&t, CH(1) + CH_CTRL), ==, 0);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    sg_stop(&t);
}

#define PCIE_CAP                0x80
#define PCIE_DEVCAP_FLR         (1u << 28)
#define PCIE_DEVCTL_FLR         0x8000

static void flr(Sg *t)
{
    qpci_config_writew(t->dev, PCIE_CAP + PCI_EXP_DEVCTL, PCIE_DEVCTL_FLR);
    /* FLR clears the BARs and the command register: map again. */
    g_free(t->dev);
    sg_map(t);
}

/* Function-level reset: advertised, and it resets as CTRL.RESET does. */
static void test_flr(void)
{
    uint64_t buf;
    Sg t;

    sg_start(&t, NULL);
    g_assert_cmphex(qpci_config_readl(t.dev, PCIE_CAP + PCI_EXP_DEVCAP) &
                    PCIE_DEVCAP_FLR, ==, PCIE_DEVCAP_FLR);
    chan_setup(&t, 0);
    buf = galloc(&t, 64);
    run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                        .src_n = 8 });
    wr(&t, REG_SCRATCH, 0xcafef00d);
    wr(&t, CH(0) + CH_COALESCE, 5);
    flr(&t);
    g_assert_cmphex(qpci_config_readw(t.dev, PCIE_CAP + PCI_EXP_DEVCTL) &
                    PCIE_DEVCTL_FLR, ==, 0);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);
    g_assert_cmphex(rd(&t, REG_SCRATCH), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_HEAD), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_RING_LO), ==, 0);
    g_assert_cmphex(rd(&t, CH(0) + CH_COALESCE), ==, 0);

    /* The channel works afterwards. */
    chan_setup(&t, 0);
    g_assert_cmpint(run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                        .src = buf,
                                        .src_n = 8 }).status, ==, S_OK);

    /* A stalled transfer stops; a stuck channel with bit 4 does not. */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STALL);
    submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                           .src_n = 8 });
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    flr(&t);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, 0);
    chan_setup(&t, 0);
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_STUCK_RESET | FI_F_PCI_RESET |
                                    FI_MS(1000));
    wr(&t, CH(0) + CH_CTRL, CTRL_RESET);
    flr(&t);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED);
    sg_stop(&t);
}

/* Topology */

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

static void wait_device_deleted(QTestState *qts, const char *id)
{
    for (;;) {
        QDict *resp = qtest_qmp_eventwait_ref(qts, "DEVICE_DELETED");
        QDict *data = qdict_get_qdict(resp, "data");
        bool match = data && qdict_haskey(data, "device") &&
                     !strcmp(qdict_get_str(data, "device"), id);

        qobject_unref(resp);
        if (match) {
            return;
        }
    }
}

/*
 * Open the root port at 00:01.0 onto bus 1 with a window over the MMIO
 * range libqos allocates from, as firmware would: libqos scans bus 0 only.
 */
static void open_root_port(QPCIBus *bus)
{
    QPCIDevice *rp = qpci_device_find(bus, QPCI_DEVFN(1, 0));

    g_assert_nonnull(rp);
    qpci_config_writeb(rp, PCI_PRIMARY_BUS, 0);
    qpci_config_writeb(rp, PCI_SECONDARY_BUS, 1);
    qpci_config_writeb(rp, PCI_SUBORDINATE_BUS, 1);
    qpci_config_writew(rp, PCI_MEMORY_BASE, 0xe000);
    qpci_config_writew(rp, PCI_MEMORY_LIMIT, 0xeff0);
    qpci_config_writew(rp, PCI_PREF_MEMORY_BASE, 0xfff0);
    qpci_config_writew(rp, PCI_PREF_MEMORY_LIMIT, 0);
    qpci_device_enable(rp);
    g_free(rp);
}

/* Pull the device out from under a transfer in flight; plug it back. */
static void test_surprise_removal(void)
{
    Sg t;
    uint64_t buf;
    uint32_t index;
    QDict *resp;

    memset(&t, 0, sizeof(t));
    t.qts = qtest_init("-machine q35 -nodefaults -m 256 "
                       "-device pcie-root-port,id=rp0,chassis=1,addr=1.0 "
                       "-device sgdma,bus=rp0,id=dma0,card-size=1M,"
                       "bandwidth=1");
    pc_alloc_init(&t.alloc, t.qts, ALLOC_NO_FLAGS);
    t.bus = qpci_new_pc(t.qts, &t.alloc);
    open_root_port(t.bus);
    t.dev = qpci_device_find(t.bus, 1 << 8);
    g_assert_nonnull(t.dev);
    qpci_device_enable(t.dev);
    t.regs = qpci_iomap(t.dev, 0, NULL);
    t.card = qpci_iomap(t.dev, 2, NULL);
    g_assert_cmphex(rd(&t, REG_ID), ==, ID_VALUE);

    /* Virtual time stands still: the transfer stays in flight. */
    chan_setup(&t, 0);
    buf = galloc(&t, 65536);
    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 65536,
                                   .src = buf, .src_n = 65536 });
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS) & ST_BUSY, ==, ST_BUSY);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);

    qtest_qmp_device_del_send(t.qts, "dma0");
    qtest_qmp_assert_success(t.qts, "{'execute': 'system_reset'}");
    wait_device_deleted(t.qts, "dma0");
    advance_us(&t, 200 * 1000);      /* any timer left behind would fire */
    resp = qtest_qmp(t.qts, "{'execute': 'qom-get', 'arguments': {"
                     "'path': '/machine/peripheral/dma0', "
                     "'property': 'realized'}}");
    g_assert_true(qdict_haskey(resp, "error"));
    qobject_unref(resp);

    qtest_qmp_assert_success(t.qts, "{'execute': 'device_add', 'arguments': "
                             "{'driver': 'sgdma', 'bus': 'rp0', "
                             "'id': 'dma0'}}");
    qtest_qmp_assert_success(t.qts, "{'execute': 'query-status'}");
    g_free(t.dev);
    qpci_free_pc(t.bus);
    alloc_destroy(&t.alloc);
    qtest_quit(t.qts);
}

static const char *migration_status(QTestState *qts)
{
    static char status[32];
    QDict *resp = qtest_qmp(qts, "{'execute': 'query-migrate'}");
    QDict *ret = qdict_get_qdict(resp, "return");

    g_strlcpy(status, qdict_haskey(ret, "status") ?
              qdict_get_str(ret, "status") : "", sizeof(status));
    qobject_unref(resp);
    return status;
}

static void wait_migration(QTestState *qts)
{
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;

    while (strcmp(migration_status(qts), "completed")) {
        g_assert_cmpstr(migration_status(qts), !=, "failed");
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(10000);
    }
}

/*
 * Migrate @a, stopped, into a new QEMU with "-device sgdma@props" in @b,
 * and map the device there.
 */
static void migrate(Sg *a, Sg *b, const char *props)
{
    g_autofree char *file = g_strdup_printf("%s/sgdma-migration-%d",
                                            g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("exec:cat > %s", file);

    qtest_qmp_assert_success(a->qts, "{'execute': 'migrate', 'arguments': "
                             "{'uri': %s}}", uri);
    wait_migration(a->qts);

    memset(b, 0, sizeof(*b));
    b->qts = qtest_initf("-machine q35 -nodefaults -m 256 "
                         "-device sgdma,id=dma0,card-size=1M%s "
                         "-incoming 'exec:cat %s'", props, file);
    wait_migration(b->qts);
    unlink(file);
    pc_alloc_init(&b->alloc, b->qts, ALLOC_NO_FLAGS);
    b->bus = qpci_new_pc(b->qts, &b->alloc);
    sg_map(b);
}

/*
 * Migrate the stopped @a, whose channel 0 is running, to @b, and let @b
 * run: its channel 0 starts again from HEAD.
 */
static void migrate_running(Sg *a, Sg *b, const char *props)
{
    qtest_qmp_assert_success(a->qts, "{'execute': 'stop'}");
    migrate(a, b, props);
    b->ring[0] = a->ring[0];
    b->compl[0] = a->compl[0];
    qtest_qmp_assert_success(b->qts, "{'execute': 'cont'}");
}

/* An idle, configured device survives a migration (savevm/loadvm). */
static void test_migration(void)
{
    static const uint32_t regs[] = {
        REG_SCRATCH, REG_INT_STATUS, CH(1) + CH_RING_LO, CH(1) + CH_RING_HI,
        CH(1) + CH_RING_SIZE, CH(1) + CH_COMPL_LO, CH(1) + CH_COMPL_HI,
        CH(1) + CH_CTRL, CH(1) + CH_STATUS, CH(1) + CH_HEAD,
        CH(1) + CH_COALESCE, CH(1) + CH_FAULT_INJECT,
        CH(0) + CH_STATUS, CH(0) + CH_ERR_ADDR_HI,
    };
    uint32_t before[ARRAY_SIZE(regs)];
    uint8_t card[256], back[256];
    uint64_t buf;
    Sg a, b;
    size_t i;

    sg_start(&a, ",channels=2");
    wr(&a, REG_SCRATCH, 0x12345678);
    chan_setup(&a, 1);
    buf = galloc(&a, 256);
    for (i = 0; i < sizeof(card); i++) {
        card[i] = i ^ 0x5a;
    }
    qtest_memwrite(a.qts, buf, card, sizeof(card));
    g_assert_cmpint(run(&a, 1, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ,
                                        .length = 256, .cookie = 1,
                                        .src = buf, .src_n = 256,
                                        .dst = 512 }).status, ==, S_OK);
    wr(&a, CH(1) + CH_COALESCE, 0x00500003);
    wr(&a, CH(1) + CH_FAULT_INJECT, FI_BAD_COUNT | (5 << 8));
    chan_setup(&a, 0);
    expect_error(&a, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                 .src = UNBACKED_ADDR, .src_n = 8 },
                 S_DMA_FAULT);
    qtest_qmp_assert_success(a.qts, "{'execute': 'stop'}");
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        before[i] = rd(&a, regs[i]);
    }
    /*
     * The H2C is done: a destination that ran it again (a lost HEAD)
     * would now copy these bytes over the card.
     */
    qtest_memset(a.qts, buf, 0x77, sizeof(card));
    migrate(&a, &b, ",channels=2");
    for (i = 0; i < ARRAY_SIZE(regs); i++) {
        g_assert_cmphex(rd(&b, regs[i]), ==, before[i]);
    }
    card_read(&b, 512, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), card, sizeof(card));

    /*
     * Channel 1 carries on from where it was, in the migrated ring. The
     * host buffer still holds what was sent to the card: clear it, so only
     * data the device moves on the destination can match.
     */
    b.ring[1] = a.ring[1];
    b.compl[1] = a.compl[1];
    b.tail[1] = a.tail[1];
    qtest_qmp_assert_success(b.qts, "{'execute': 'cont'}");
    qtest_memset(b.qts, buf, 0xee, sizeof(back));
    g_assert_cmpint(run(&b, 1, &(Desc){ .opcode = OP_C2H, .length = 256,
                                        .cookie = 2, .src = 512,
                                        .dst = buf, .dst_n = 256 }).status,
                    ==, S_OK);
    qtest_memread(b.qts, buf, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), card, sizeof(card));
    sg_stop(&a);
    sg_stop(&b);
}

/*
 * Interrupts survive migration: a completion waiting for the coalescing
 * timer is signalled on the destination, and MSI-X vectors work there.
 */
static void test_migration_irqs(void)
{
    uint64_t buf;
    Sg a, b;
    int ch;

    sg_start(&a, ",channels=2");
    qpci_msix_enable(a.dev);     /* every vector starts masked */
    chan_setup(&a, 0);
    chan_setup(&a, 1);
    buf = galloc(&a, 64);
    wr(&a, CH(1) + CH_COALESCE, (100 << 16) | 8);
    run(&a, 1, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_cmphex(rd(&a, REG_INT_STATUS), ==, 0);
    qtest_qmp_assert_success(a.qts, "{'execute': 'stop'}");
    migrate(&a, &b, ",channels=2");
    qpci_msix_enable(b.dev);     /* maps table and PBA as on the source */
    for (ch = 0; ch < 2; ch++) {
        b.ring[ch] = a.ring[ch];
        b.compl[ch] = a.compl[ch];
        b.tail[ch] = a.tail[ch];
    }
    qtest_qmp_assert_success(b.qts, "{'execute': 'cont'}");
    g_assert_false(qpci_msix_pending(b.dev, 1));
    qtest_clock_step(b.qts, 200 * 1000);
    g_assert_cmphex(rd(&b, REG_INT_STATUS), ==, 1 << 1);
    g_assert_true(qpci_msix_pending(b.dev, 1));

    run(&b, 0, &(Desc){ .opcode = OP_H2C, .flags = F_IRQ, .length = 8,
                        .src = buf, .src_n = 8 });
    g_assert_true(qpci_msix_pending(b.dev, 0));
    sg_stop(&a);
    sg_stop(&b);
}

/*
 * Descriptors prefetched before a migration are used on the destination
 * as they were read, however the ring changed afterwards.
 */
static void test_migration_prefetch(void)
{
    const char *props = ",desc-prefetch=4";
    uint64_t buf, a32, b32;
    uint32_t i1, got;
    Sg a, b;

    sg_start(&a, props);
    chan_setup(&a, 0);
    buf = galloc(&a, 64);
    a32 = galloc(&a, 4);
    b32 = galloc(&a, 4);
    qtest_writel(a.qts, a32, 0xaaaaaaaa);
    qtest_writel(a.qts, b32, 0xbbbbbbbb);
    /* Descriptor 0 stalls; 1 is prefetched behind it, then rewritten. */
    wr(&a, CH(0) + CH_FAULT_INJECT, FI_STALL);
    submit(&a, 0, &(Desc){ .opcode = OP_H2C, .length = 8, .src = buf,
                           .src_n = 8 });
    i1 = submit(&a, 0, &(Desc){ .opcode = OP_H2C, .length = 4, .src = a32,
                                .src_n = 4, .dst = 0x80000 });
    put_desc(&a, 0, i1, &(Desc){ .opcode = OP_H2C, .length = 4, .src = b32,
                                 .src_n = 4, .dst = 0x80000 });
    g_assert_cmphex(rd(&a, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    /* The transfer in progress starts again there, from the cache. */
    migrate_running(&a, &b, props);
    wait_chan(&b, 0, i1 + 1);
    g_assert_cmpint(get_compl(&b, 0, i1).status, ==, S_OK);
    card_read(&b, 0x80000, &got, 4);
    g_assert_cmphex(le32_to_cpu(got), ==, 0xaaaaaaaa);
    sg_stop(&a);
    sg_stop(&b);
}

/* Issue 16: slot ownership, completions across channels, H2H, counters */

static uint64_t slot_addr(Sg *t, int ch, uint32_t index)
{
    return t->ring[ch] + (index % RING_ENTRIES) * 64;
}

/*
 * Rewrite (with another cookie) a descriptor slot the device owns while
 * channel 0's first descriptor is held in flight by a LATE fault: with
 * @in_flight that descriptor's own slot, else the slot of the next one,
 * queued behind it. Returns the rewritten descriptor's completion.
 */
static Compl rewrite_owned_slot(Sg *t, uint64_t buf, bool in_flight)
{
    Desc d = { .opcode = OP_H2C, .length = 4096, .cookie = 1, .src = buf,
               .src_n = 4096 };
    uint32_t late, victim;
    Compl c;

    wr(t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(10));
    late = submit(t, 0, &d);
    d.cookie = 2;
    victim = in_flight ? late : submit(t, 0, &d);
    advance_us(t, 1000);
    g_assert_cmphex(rd(t, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    g_assert_cmpuint(rd(t, CH(0) + CH_HEAD), ==, late);
    d.cookie = 3;
    put_desc(t, 0, victim, &d);
    advance_us(t, 20 * 1000);
    wait_chan(t, 0, victim + 1);
    if (!in_flight) {
        g_assert_cmpint(get_compl(t, 0, late).status, ==, S_OK);
    }
    c = get_compl(t, 0, victim);
    g_assert_cmpuint(c.flags & 1, ==, 1);
    g_assert_cmpuint(c.index, ==, victim);
    return c;
}

/* Expect DESC_OWNED for the slot of @index; the channel halted. */
static void expect_owned(Sg *t, Compl c, uint32_t index)
{
    uint32_t st = rd(t, CH(0) + CH_STATUS);
    uint64_t addr = slot_addr(t, 0, index);

    g_assert_cmpint(c.status, ==, S_DESC_OWNED);
    g_assert_cmphex(c.err_addr, ==, addr);
    g_assert_cmphex(st & ST_HALTED, ==, ST_HALTED);
    g_assert_cmpint(ST_CODE(st), ==, S_DESC_OWNED);
    g_assert_cmphex(rd(t, CH(0) + CH_ERR_ADDR_LO), ==, (uint32_t)addr);
    g_assert_cmphex(rd(t, CH(0) + CH_ERR_ADDR_HI), ==, addr >> 32);
    wr(t, REG_INT_STATUS, INT_ERROR);
    chan_reset(t, 0);
}

/*
 * ownership-check: a slot rewritten between its doorbell and its
 * completion is DESC_OWNED, found when the descriptor starts or just
 * before its completion; one rewritten after its completion is the
 * driver's again. Without the property the same rewrites pass.
 */
static void test_ownership_check(void)
{
    const char *props[] = { ",ownership-check=on",
                            ",ownership-check=on,desc-prefetch=4" };
    Desc d;
    uint64_t buf;
    uint32_t i, n;
    Compl c;
    Sg t;

    for (i = 0; i < ARRAY_SIZE(props); i++) {
        sg_start(&t, props[i]);
        g_assert_cmphex(rd(&t, REG_CAPS) & CAPS_OWNERSHIP, ==,
                        CAPS_OWNERSHIP);
        chan_setup(&t, 0);
        buf = galloc(&t, 4096);
        /* Before its processing: queued behind a LATE one */
        c = rewrite_owned_slot(&t, buf, false);
        g_assert_cmpuint(c.bytes, ==, 0);
        expect_owned(&t, c, 1);
        /* In flight: before its completion, its data moved */
        c = rewrite_owned_slot(&t, buf, true);
        g_assert_cmpuint(c.bytes, ==, 4096);
        expect_owned(&t, c, 0);

        /* After its completion; every slot reused, the ring wrapped */
        d = (Desc){ .opcode = OP_H2C, .length = 4096, .src = buf,
                    .src_n = 4096 };
        for (n = 0; n < RING_ENTRIES + 2; n++) {
            d.cookie = 100 + n;
            g_assert_cmpint(run(&t, 0, &d).status, ==, S_OK);
            d.cookie = 200 + n;
            put_desc(&t, 0, n, &d);
        }
        g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED);
        sg_stop(&t);
    }

    /* The property off: nothing is reported. */
    sg_start(&t, NULL);
    g_assert_cmphex(rd(&t, REG_CAPS) & CAPS_OWNERSHIP, ==, 0);
    chan_setup(&t, 0);
    buf = galloc(&t, 4096);
    c = rewrite_owned_slot(&t, buf, false);
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.cookie, ==, 3);
    c = rewrite_owned_slot(&t, buf, true);
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED);
    sg_stop(&t);
}

/*
 * Channels complete independently: a descriptor rung later on channel 1
 * completes while an earlier one on channel 0 is still in flight.
 */
static void test_out_of_order_channels(void)
{
    Desc d = { .opcode = OP_C2H, .length = 4096, .src = 0, .dst_n = 4096 };
    uint32_t ia, ib;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    chan_setup(&t, 1);
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(20));
    d.cookie = 10;
    d.dst = galloc(&t, 4096);
    ia = submit(&t, 0, &d);
    d.cookie = 11;
    d.dst = galloc(&t, 4096);
    ib = submit(&t, 1, &d);
    wait_chan(&t, 1, ib + 1);
    g_assert_cmpint(get_compl(&t, 1, ib).status, ==, S_OK);
    g_assert_cmpuint(get_compl(&t, 1, ib).flags & 1, ==, 1);
    g_assert_cmphex(rd(&t, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, ia);
    g_assert_cmpuint(get_compl(&t, 0, ia).flags, ==, 0);
    advance_us(&t, 30 * 1000);
    wait_chan(&t, 0, ia + 1);
    g_assert_cmpint(get_compl(&t, 0, ia).status, ==, S_OK);
    g_assert_cmphex(get_compl(&t, 0, ia).cookie, ==, 10);
    sg_stop(&t);
}

/* An H2H of @len bytes with CRC from @src to @dst, which may overlap. */
static Compl h2h(Sg *t, uint64_t src, uint64_t dst, uint32_t len)
{
    return run(t, 0, &(Desc){ .opcode = OP_H2H, .flags = F_CRC,
                              .length = len, .src = src, .src_n = len,
                              .dst = dst, .dst_n = len });
}

/*
 * H2H between RAM moves each byte once (PERF_H2H_DIRECT counts them);
 * overlapping buffers, faults on either side mid-way and the device's
 * own BARs behave as through the staging buffer.
 */
static void test_h2h_single_copy(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(16);
    const uint32_t n = 300 * 1024, big = 16 * 1024 * 1024;
    g_autofree uint8_t *data = random_buf(r, n);
    g_autofree uint8_t *back = g_malloc(n);
    uint8_t canary[4096];
    uint64_t src, dst;
    gint64 start;
    Compl c;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    wr(&t, REG_PERF_CTRL, PERF_CTRL_CLEAR);
    src = galloc(&t, n);
    dst = galloc(&t, n);
    qtest_bufwrite(t.qts, src, data, n);
    c = h2h(&t, src, dst, n);
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
    qtest_bufread(t.qts, dst, back, n);
    g_assert_cmpmem(back, n, data, n);
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, n);

    /* Overlapping: as memmove, in either direction */
    c = h2h(&t, src, src + 100, 8192);
    g_assert_cmpint(c.status, ==, S_OK);
    memmove(data + 100, data, 8192);
    qtest_bufread(t.qts, src, back, 8292);
    g_assert_cmpmem(back, 8292, data, 8292);
    c = h2h(&t, src + 100, src, 8192);
    memmove(data, data + 100, 8192);
    qtest_bufread(t.qts, src, back, 8292);
    g_assert_cmpmem(back, 8292, data, 8292);
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, n + 2 * 8192);

    /*
     * The destination, then the source, ends in the middle of the piece:
     * as through the staging buffer, the source is read whole first.
     */
    memset(canary, 0xc3, sizeof(canary));
    qtest_memwrite(t.qts, RAM_END - 4096, canary, 4096);
    c = h2h(&t, src, RAM_END - 4096, 3 * 4096);
    g_assert_cmpint(c.status, ==, S_DMA_FAULT);
    g_assert_cmpuint(c.bytes, ==, 4096);
    g_assert_cmphex(c.err_addr, ==, RAM_END);
    qtest_bufread(t.qts, RAM_END - 4096, back, 4096);
    g_assert_cmpmem(back, 4096, data, 4096);
    wr(&t, REG_INT_STATUS, INT_ERROR);
    chan_reset(&t, 0);
    qtest_memwrite(t.qts, dst, canary, 4096);
    qtest_memwrite(t.qts, dst + 4096, canary, 4096);
    c = h2h(&t, RAM_END - 4096, dst, 2 * 4096);
    g_assert_cmpint(c.status, ==, S_DMA_FAULT);
    g_assert_cmpuint(c.bytes, ==, 0);
    g_assert_cmphex(c.err_addr, ==, RAM_END);
    qtest_bufread(t.qts, dst, back, 4096);
    g_assert_cmpmem(back, 4096, canary, 4096);
    qtest_bufread(t.qts, dst + 4096, back, 4096);
    g_assert_cmpmem(back, 4096, canary, 4096);
    wr(&t, REG_INT_STATUS, INT_ERROR);
    chan_reset(&t, 0);
    /* Pieces that fault are not copied directly, in any part. */
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, n + 2 * 8192);

    /* The card is RAM, but the device's own: never taken directly */
    wr(&t, REG_PERF_CTRL, PERF_CTRL_CLEAR);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2H, .length = 64,
                                 .src = src, .src_n = 64,
                                 .dst = t.card.addr, .dst_n = 64 },
                 S_SELF_TARGET);
    expect_error(&t, 0, &(Desc){ .opcode = OP_H2H, .length = 64,
                                 .src = t.card.addr, .src_n = 64,
                                 .dst = dst, .dst_n = 64 },
                 S_SELF_TARGET);
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, 0);

    /* 16 MiB, timed (the figure is for people, not asserted) */
    src = galloc(&t, big);
    dst = galloc(&t, big);
    qtest_memset(t.qts, src, 0x5a, big);
    start = g_get_monotonic_time();
    c = run(&t, 0, &(Desc){ .opcode = OP_H2H, .length = big, .src = src,
                            .src_n = big, .dst = dst, .dst_n = big });
    g_test_message("H2H of 16 MiB: %" PRId64 " us",
                   g_get_monotonic_time() - start);
    g_assert_cmpint(c.status, ==, S_OK);
    qtest_bufread(t.qts, dst + big - 4096, back, 4096);
    memset(canary, 0x5a, sizeof(canary));
    g_assert_cmpmem(back, 4096, canary, 4096);
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, big);
    sg_stop(&t);
}

/*
 * ownership-check: the hashes of the slots handed over travel with the
 * state, so a slot rewritten before the migration is still caught.
 */
static void test_migration_ownership(void)
{
    const char *props = ",ownership-check=on";
    Desc d = { .opcode = OP_H2C, .length = 4, .cookie = 1, .src_n = 4 };
    uint32_t i1;
    Compl c;
    Sg a, b;

    sg_start(&a, props);
    chan_setup(&a, 0);
    d.src = galloc(&a, 64);
    /* Descriptor 0 stalls; 1 waits behind it, then is rewritten. */
    wr(&a, CH(0) + CH_FAULT_INJECT, FI_STALL);
    submit(&a, 0, &d);
    i1 = submit(&a, 0, &d);
    d.cookie = 2;
    put_desc(&a, 0, i1, &d);
    g_assert_cmphex(rd(&a, CH(0) + CH_STATUS), ==, ST_ENABLED | ST_BUSY);
    migrate_running(&a, &b, props);
    wait_chan(&b, 0, i1 + 1);
    c = get_compl(&b, 0, i1);
    g_assert_cmpint(c.status, ==, S_DESC_OWNED);
    g_assert_cmphex(c.err_addr, ==, slot_addr(&a, 0, i1));
    g_assert_cmpint(get_compl(&b, 0, i1 - 1).status, ==, S_OK);
    sg_stop(&a);
    sg_stop(&b);
}

/*
 * H2H through intel-iommu: a destination of IOMMU pages scattered in
 * memory is copied directly, a mapping per page; with its third page
 * unmapped, the piece takes the staging path and faults there, nothing
 * written at or beyond that page.
 */
static void test_h2h_single_copy_iommu(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(17);
    const uint32_t n = 4 * 4096;
    g_autofree uint8_t *data = random_buf(r, n);
    uint8_t back[4096], canary[4096];
    uint64_t src, page[4];
    Compl c;
    Vtd v;
    Sg t;
    int i;

    sg_start_after(&t, "-device intel-iommu,intremap=off,device-iotlb=on",
                   NULL);
    vtd_setup(&t, &v);
    chan_setup(&t, 0);
    src = galloc(&t, n);
    qtest_bufwrite(t.qts, src, data, n);
    memset(canary, 0xc3, sizeof(canary));
    for (i = 3; i >= 0; i--) {
        page[i] = zeroed_page(&t);      /* descending: not contiguous */
        qtest_writeq(t.qts, v.pt + i * 8, page[i] | VTD_RW);
    }
    qtest_writeq(t.qts, VTD_BASE + VTD_IOTLB, VTD_IOTLB_GLOBAL);
    wr(&t, REG_PERF_CTRL, PERF_CTRL_CLEAR);
    c = h2h(&t, src, IOVA_X, n);
    g_assert_cmpint(c.status, ==, S_OK);
    g_assert_cmphex(c.crc, ==, ref_crc32c(data, n));
    for (i = 0; i < 4; i++) {
        qtest_memread(t.qts, page[i], back, 4096);
        g_assert_cmpmem(back, 4096, data + i * 4096, 4096);
        qtest_memwrite(t.qts, page[i], canary, 4096);
    }
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, n);

    qtest_writeq(t.qts, v.pt + 2 * 8, 0);
    qtest_writeq(t.qts, VTD_BASE + VTD_IOTLB, VTD_IOTLB_GLOBAL);
    c = h2h(&t, src, IOVA_X, n);
    g_assert_cmpint(c.status, ==, S_DMA_FAULT);
    g_assert_cmpuint(c.bytes, ==, 2 * 4096);
    g_assert_cmphex(c.err_addr, ==, IOVA_X + 2 * 4096);
    for (i = 0; i < 4; i++) {
        qtest_memread(t.qts, page[i], back, 4096);
        if (i < 2) {
            g_assert_cmpmem(back, 4096, data + i * 4096, 4096);
        } else {
            g_assert_cmpmem(back, 4096, canary, 4096);
        }
    }
    g_assert_cmpuint(rd(&t, REG_PERF_H2H_DIRECT), ==, n);
    sg_stop(&t);
}

/*
 * Run @descs copies of @d on channel @ch, rung at once, @rounds times;
 * returns the best wall-clock time of a round per descriptor, in us.
 */
static double time_descs(Sg *t, int ch, const Desc *d, int descs,
                         int rounds)
{
    uint8_t zero[32] = { 0 };
    int64_t best = INT64_MAX, start;
    uint32_t first;
    int r, i;

    for (r = 0; r < rounds; r++) {
        first = t->tail[ch];
        for (i = 0; i < descs; i++) {
            qtest_memwrite(t->qts, t->compl[ch] +
                           (t->tail[ch] % RING_ENTRIES) * 32, zero, 32);
            put_desc(t, ch, t->tail[ch]++, d);
        }
        start = g_get_monotonic_time();
        wr(t, CH(ch) + CH_DOORBELL, t->tail[ch]);
        g_assert_cmphex(wait_chan(t, ch, t->tail[ch]) & ST_HALTED, ==, 0);
        best = MIN(best, g_get_monotonic_time() - start);
        for (i = 0; i < descs; i++) {
            g_assert_cmpint(get_compl(t, ch, first + i).status, ==, S_OK);
        }
    }
    return (double)best / descs;
}

/*
 * H2C then C2H through lists of @pages 4 KiB pages, in descending order
 * so that no two are adjacent, with or without intel-iommu in front of
 * the device; the data must come back whole. Reports the device's time
 * per segment: the best of @rounds of @descs descriptors each, of which
 * the qtest's polling takes about 0.1 ms a round.
 */
static void segment_cost(bool iommu, uint32_t pages, int descs, int rounds)
{
    const uint32_t n = pages * 4096;
    g_autofree uint8_t *data = g_malloc(n);
    g_autofree uint8_t *back = g_malloc(n);
    g_autofree uint64_t *addr = g_new(uint64_t, pages);
    g_autofree uint32_t *len = g_new(uint32_t, pages);
    uint64_t src, dst, slist, dlist;
    double h2c, c2h;
    uint32_t i;
    Vtd v;
    Sg t;

    memset(&t, 0, sizeof(t));
    t.qts = qtest_initf("-machine q35 -nodefaults -m 256 %s "
                        "-device sgdma,card-size=16M",
                        iommu ? "-device intel-iommu,intremap=off,"
                        "device-iotlb=on" : "");
    pc_alloc_init(&t.alloc, t.qts, ALLOC_NO_FLAGS);
    t.bus = qpci_new_pc(t.qts, &t.alloc);
    sg_map(&t);
    if (iommu) {
        vtd_setup(&t, &v);      /* the first 256 MiB 1:1 */
    }
    chan_setup(&t, 0);
    src = galloc(&t, n);
    dst = galloc(&t, n);
    for (i = 0; i < pages; i++) {
        addr[i] = src + (uint64_t)(pages - 1 - i) * 4096;
        len[i] = 4096;
    }
    slist = put_list(&t, addr, len, pages);
    for (i = 0; i < pages; i++) {
        addr[i] = dst + (uint64_t)(pages - 1 - i) * 4096;
    }
    dlist = put_list(&t, addr, len, pages);
    /* A byte per page, never 0: cheaper to write than random data */
    for (i = 0; i < pages; i++) {
        memset(data + i * 4096, i % 255 + 1, 4096);
        qtest_memset(t.qts, src + i * 4096, i % 255 + 1, 4096);
    }

    h2c = time_descs(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                     .length = n, .src = slist,
                                     .src_n = pages }, descs, rounds);
    c2h = time_descs(&t, 0, &(Desc){ .opcode = OP_C2H, .flags = F_DST_LIST,
                                     .length = n, .dst = dlist,
                                     .dst_n = pages }, descs, rounds);
    qtest_bufread(t.qts, dst, back, n);
    g_assert_cmpmem(back, n, data, n);
    g_test_message("%s%u x 4 KiB segments, best of %d rounds of %d: "
                   "H2C %.3f us, C2H %.3f us per segment",
                   iommu ? "intel-iommu, " : "", pages, rounds, descs,
                   h2c / pages, c2h / pages);
    sg_stop(&t);
}

/*
 * The data pass's cost per list entry, in perf mode over 1 MiB and
 * 16 MiB transfers; otherwise once, over more entries than one read of
 * the list takes.
 */
static void test_segment_cost(void)
{
    int iommu;

    for (iommu = 0; iommu < 2; iommu++) {
        if (g_test_perf()) {
            segment_cost(iommu, 256, 15, 20);
            segment_cost(iommu, 4096, 4, 10);
        } else {
            segment_cost(iommu, 200, 1, 1);
        }
    }
}

/*
 * A list the IOMMU stops mapping after it was checked, while the link
 * model holds the data back: the data pass reads the list again as it
 * goes, moves the segments of the entries it can still read, and fails
 * at the first it cannot, as DESC_FETCH at that entry's address. The
 * list's 300 entries start 100 entries before the end of IOVA_X's page,
 * the rest on the next page, which is unmapped.
 */
static void test_list_fault_in_data_pass(void)
{
    const uint32_t segs = 300, before = 100, seg = 16;
    g_autofree uint8_t *l = g_malloc0(segs * 16);
    g_autofree uint8_t *back = g_malloc(segs * seg);
    g_autofree uint8_t *data = g_malloc(segs * seg);
    uint64_t buf, page[2], list = IOVA_X + 4096 - before * 16;
    uint32_t i, index;
    Compl c;
    Vtd v;
    Sg t;

    sg_start_after(&t, "-device intel-iommu,intremap=off,device-iotlb=on",
                   ",latency=1000");
    vtd_setup(&t, &v);
    chan_setup(&t, 0);
    buf = galloc(&t, segs * seg);
    for (i = 0; i < segs * seg; i++) {
        data[i] = i % 251 + 1;
    }
    qtest_bufwrite(t.qts, buf, data, segs * seg);
    for (i = 0; i < segs; i++) {
        stq_le_p(l + i * 16, buf + i * seg);
        stl_le_p(l + i * 16 + 8, seg);
    }
    for (i = 0; i < 2; i++) {
        page[i] = zeroed_page(&t);
        qtest_writeq(t.qts, v.pt + i * 8, page[i] | VTD_RW);
    }
    qtest_memwrite(t.qts, page[0] + 4096 - before * 16, l, before * 16);
    qtest_memwrite(t.qts, page[1], l + before * 16, (segs - before) * 16);
    qtest_writeq(t.qts, VTD_BASE + VTD_IOTLB, VTD_IOTLB_GLOBAL);

    index = submit(&t, 0, &(Desc){ .opcode = OP_H2C, .flags = F_SRC_LIST,
                                   .length = segs * seg, .src = list,
                                   .src_n = segs });
    advance_us(&t, 500);        /* checked; the data waits for latency */
    g_assert_cmpuint(rd(&t, CH(0) + CH_HEAD), ==, index);
    qtest_writeq(t.qts, v.pt + 8, 0);
    qtest_writeq(t.qts, VTD_BASE + VTD_IOTLB, VTD_IOTLB_GLOBAL);
    advance_us(&t, 1000);
    wait_chan(&t, 0, index + 1);
    c = get_compl(&t, 0, index);
    g_assert_cmpint(c.status, ==, S_DESC_FETCH);
    g_assert_cmphex(c.err_addr, ==, IOVA_X + 4096);
    g_assert_cmpuint(c.bytes, ==, before * seg);
    card_read(&t, 0, back, segs * seg);
    g_assert_cmpmem(back, before * seg, data, before * seg);
    for (i = before * seg; i < segs * seg; i++) {
        g_assert_cmpuint(back[i], ==, 0);
    }
    sg_stop(&t);
}

static void assert_perf_cleared(Sg *t)
{
    g_assert_cmpuint(rd(t, REG_PERF_DESCS), ==, 0);
    g_assert_cmpuint(rd(t, REG_PERF_WAIT_US), ==, 0);
    g_assert_cmpuint(rd(t, REG_PERF_MOVE_US), ==, 0);
    g_assert_cmpuint(rd(t, REG_PERF_BH_RUNS), ==, 0);
    g_assert_cmpuint(rd(t, REG_PERF_IRQS), ==, 0);
    g_assert_cmpuint(rd(t, REG_PERF_H2H_DIRECT), ==, 0);
}

/*
 * The performance counters count descriptors, the virtual time they
 * waited and moved, bottom-half runs and interrupts; PERF_CTRL and every
 * reset clear them.
 */
static void test_perf_counters(void)
{
    Desc d = { .opcode = OP_FILL, .flags = F_IRQ, .length = 64,
               .dst_n = 64 };
    uint32_t i, runs;
    Sg t;

    sg_start(&t, NULL);
    chan_setup(&t, 0);
    d.dst = galloc(&t, 64);
    g_assert_cmpuint(rd(&t, REG_PERF_CTRL), ==, 0);
    wr(&t, REG_PERF_CTRL, PERF_CTRL_CLEAR);
    assert_perf_cleared(&t);
    for (i = 0; i < 3; i++) {
        g_assert_cmpint(run(&t, 0, &d).status, ==, S_OK);
    }
    g_assert_cmpuint(rd(&t, REG_PERF_DESCS), ==, 3);
    g_assert_cmpuint(rd(&t, REG_PERF_IRQS), ==, 3);
    runs = rd(&t, REG_PERF_BH_RUNS);
    g_assert_cmpuint(runs, >=, 3);
    g_assert_cmpuint(rd(&t, REG_PERF_MOVE_US), ==, 0);

    /* 10 ms in flight (LATE), and the next one waits behind it */
    wr(&t, CH(0) + CH_FAULT_INJECT, FI_LATE | FI_MS(10));
    submit(&t, 0, &d);
    i = submit(&t, 0, &d);
    advance_us(&t, 15 * 1000);
    wait_chan(&t, 0, i + 1);
    g_assert_cmpuint(rd(&t, REG_PERF_DESCS), ==, 5);
    g_assert_cmpuint(rd(&t, REG_PERF_IRQS), ==, 5);
    g_assert_cmpuint(rd(&t, REG_PERF_MOVE_US), >=, 10 * 1000);
    g_assert_cmpuint(rd(&t, REG_PERF_MOVE_US), <, 11 * 1000);
    g_assert_cmpuint(rd(&t, REG_PERF_WAIT_US), >=, 10 * 1000);
    g_assert_cmpuint(rd(&t, REG_PERF_WAIT_US), <, 11 * 1000);
    g_assert_cmpuint(rd(&t, REG_PERF_BH_RUNS), >, runs);
    wr(&t, REG_PERF_CTRL, PERF_CTRL_CLEAR);
    assert_perf_cleared(&t);

    g_assert_cmpint(run(&t, 0, &d).status, ==, S_OK);
    g_assert_cmpuint(rd(&t, REG_PERF_DESCS), ==, 1);
    wr(&t, REG_CTRL, 1);
    assert_perf_cleared(&t);
    sg_stop(&t);
}

/* A malicious guest: random registers and descriptors, QEMU must live. */
static void test_garbage(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(0x5ead);
    Sg t;
    uint64_t mem;
    uint8_t junk[4096];
    int i, j;

    sg_start(&t, ",channels=2");
    mem = galloc(&t, 1 << 20);
    for (i = 0; i < 2000; i++) {
        uint32_t what = g_rand_int_range(r, 0, 10);

        if (what < 3) {
            for (j = 0; j < sizeof(junk); j++) {
                junk[j] = g_rand_int(r);
            }
            /* Sometimes plausible: a real opcode and small lengths. */
            if (what == 0) {
                junk[0] = g_rand_int_range(r, 0, 6);
                junk[1] &= 0x0f;
                stl_le_p(junk + 4, g_rand_int_range(r, 0, 70000));
                stq_le_p(junk + 0x10, mem + g_rand_int_range(r, 0, 1 << 20));
                stq_le_p(junk + 0x20, g_rand_int_range(r, 0, 1 << 21));
            }
            qtest_memwrite(t.qts, mem + g_rand_int_range(r, 0, 256) * 4096,
                           junk, sizeof(junk));
        } else {
            uint32_t ch = g_rand_int_range(r, 0, 3);
            uint32_t reg = g_rand_int_range(r, 0, 0x40) & ~3;
            uint32_t val = g_rand_int(r);

            if (reg == CH_RING_LO || reg == CH_COMPL_LO) {
                val = mem + (val % (1 << 20));
            } else if (reg == CH_RING_HI || reg == CH_COMPL_HI) {
                val = 0;
            } else if (reg == CH_RING_SIZE || reg == CH_DOORBELL) {
                val %= 64;
            } else if (reg == CH_COALESCE) {
                val &= 0x000f000f;
            }
            wr(&t, ch < 2 ? CH(ch) + reg : reg, val);
        }
        if (i % 100 == 0) {
            qtest_clock_step(t.qts, 1000 * 1000);
        }
    }
    qtest_qmp_assert_success(t.qts, "{'execute': 'query-status'}");

    /* After a device reset, it works as new. */
    wr(&t, REG_CTRL, 1);
    chan_setup(&t, 0);
    g_assert_cmpint(run(&t, 0, &(Desc){ .opcode = OP_H2C, .length = 8,
                                        .src = mem, .src_n = 8 }).status,
                    ==, S_OK);
    sg_stop(&t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/sgdma/crc-reference", test_crc_reference);
    qtest_add_func("/sgdma/pci-identity", test_pci_identity);
    qtest_add_func("/sgdma/id-registers", test_id_registers);
    qtest_add_func("/sgdma/properties", test_properties);
    qtest_add_func("/sgdma/bad-properties", test_bad_properties);
    qtest_add_func("/sgdma/scratch-and-sizes", test_scratch_and_sizes);
    qtest_add_func("/sgdma/h2c-c2h-inline", test_h2c_c2h_inline);
    qtest_add_func("/sgdma/segment-lists", test_segment_lists);
    qtest_add_func("/sgdma/fill", test_fill);
    qtest_add_func("/sgdma/large-transfer", test_large_transfer);
    qtest_add_func("/sgdma/channels-independent", test_channels_independent);
    qtest_add_func("/sgdma/ring-wrap", test_ring_wrap);
    qtest_add_func("/sgdma/descriptor-errors", test_descriptor_errors);
    qtest_add_func("/sgdma/segment-rules", test_segment_rules);
    qtest_add_func("/sgdma/dma-bits-last-byte", test_dma_bits_last_byte);
    qtest_add_func("/sgdma/no-write-past-fault", test_no_write_past_fault);
    qtest_add_func("/sgdma/self-target", test_self_target);
    qtest_add_func("/sgdma/self-target-moved-bar",
                   test_self_target_moved_bar);
    qtest_add_func("/sgdma/ring-errors", test_ring_errors);
    qtest_add_func("/sgdma/fault-injection", test_fault_injection);
    qtest_add_func("/sgdma/fault-late-completion",
                   test_fault_late_completion);
    qtest_add_func("/sgdma/fault-stuck-reset", test_fault_stuck_reset);
    qtest_add_func("/sgdma/msix-and-faulty-irqs", test_msix_and_faulty_irqs);
    qtest_add_func("/sgdma/coalescing", test_coalescing);
    qtest_add_func("/sgdma/fault-coalesce-race", test_fault_coalesce_race);
    qtest_add_func("/sgdma/intx", test_intx);
    qtest_add_func("/sgdma/work-bound", test_work_bound);
    qtest_add_func("/sgdma/link-model", test_link_model);
    qtest_add_func("/sgdma/desc-prefetch", test_desc_prefetch);
    qtest_add_func("/sgdma/c2h-hold", test_c2h_hold);
    qtest_add_func("/sgdma/ats-capability", test_ats_capability);
    qtest_add_func("/sgdma/ats-cache-flush", test_ats_cache_flush);
    qtest_add_func("/sgdma/resets", test_resets);
    qtest_add_func("/sgdma/flr", test_flr);
    qtest_add_func("/sgdma/behind-root-port", test_behind_root_port);
    qtest_add_func("/sgdma/two-devices", test_two_devices);
    qtest_add_func("/sgdma/surprise-removal", test_surprise_removal);
    qtest_add_func("/sgdma/migration", test_migration);
    qtest_add_func("/sgdma/migration-irqs", test_migration_irqs);
    qtest_add_func("/sgdma/migration-prefetch", test_migration_prefetch);
    qtest_add_func("/sgdma/ownership-check", test_ownership_check);
    qtest_add_func("/sgdma/out-of-order-channels",
                   test_out_of_order_channels);
    qtest_add_func("/sgdma/h2h-single-copy", test_h2h_single_copy);
    qtest_add_func("/sgdma/h2h-single-copy-iommu",
                   test_h2h_single_copy_iommu);
    qtest_add_func("/sgdma/perf-counters", test_perf_counters);
    qtest_add_func("/sgdma/segment-cost", test_segment_cost);
    qtest_add_func("/sgdma/list-fault-in-data-pass",
                   test_list_fault_in_data_pass);
    qtest_add_func("/sgdma/migration-ownership", test_migration_ownership);
    qtest_add_func("/sgdma/garbage", test_garbage);

    return g_test_run();
}
