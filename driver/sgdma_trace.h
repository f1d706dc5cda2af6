/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgdma tracepoints: the hot path of a transfer, in order
 * pin -> map -> submit -> complete, and error when it fails; an engine of
 * asynchronous queues traces each hold of its channel (engine_batch).
 *
 *   echo 1 > /sys/kernel/tracing/events/sgdma/enable
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM sgdma

#if !defined(_SGDMA_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _SGDMA_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(sgdma_pin,
	    TP_PROTO(int minor, unsigned long uaddr, unsigned int npages,
		     bool write),
	    TP_ARGS(minor, uaddr, npages, write),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned long, uaddr)
			     __field(unsigned int, npages)
			     __field(bool, write)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->uaddr = uaddr;
			   __entry->npages = npages;
			   __entry->write = write;),
	    TP_printk("sgdma%d uaddr=%#lx pages=%u%s", __entry->minor,
		      __entry->uaddr, __entry->npages,
		      __entry->write ? " write" : "")
);

TRACE_EVENT(sgdma_map,
	    TP_PROTO(int minor, unsigned int nents, unsigned int dma_nents,
		     int dir),
	    TP_ARGS(minor, nents, dma_nents, dir),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, nents)
			     __field(unsigned int, dma_nents)
			     __field(int, dir)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->nents = nents;
			   __entry->dma_nents = dma_nents;
			   __entry->dir = dir;),
	    TP_printk("sgdma%d nents=%u dma_nents=%u dir=%d", __entry->minor,
		      __entry->nents, __entry->dma_nents, __entry->dir)
);

TRACE_EVENT(sgdma_reap,
	    TP_PROTO(int minor, unsigned int chan, unsigned int n),
	    TP_ARGS(minor, chan, n),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(unsigned int, n)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->n = n;),
	    TP_printk("sgdma%d chan=%u completions=%u", __entry->minor,
		      __entry->chan, __entry->n)
);

TRACE_EVENT(sgdma_coalesce,
	    TP_PROTO(int minor, unsigned int chan, unsigned int count,
		     unsigned int usecs),
	    TP_ARGS(minor, chan, count, usecs),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(unsigned int, count)
			     __field(unsigned int, usecs)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->count = count;
			   __entry->usecs = usecs;),
	    TP_printk("sgdma%d chan=%u completions=%u usecs=%u",
		      __entry->minor, __entry->chan, __entry->count,
		      __entry->usecs)
);

TRACE_EVENT(sgdma_engine_batch,
	    TP_PROTO(int minor, unsigned int chan, unsigned int requests,
		     unsigned int pieces),
	    TP_ARGS(minor, chan, requests, pieces),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(unsigned int, requests)
			     __field(unsigned int, pieces)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->requests = requests;
			   __entry->pieces = pieces;),
	    TP_printk("sgdma%d chan=%u requests=%u pieces=%u", __entry->minor,
		      __entry->chan, __entry->requests, __entry->pieces)
);

TRACE_EVENT(sgdma_submit,
	    TP_PROTO(int minor, unsigned int chan, u32 index, u64 cookie,
		     u8 opcode, u8 flags, u32 len, u32 src_n, u32 dst_n),
	    TP_ARGS(minor, chan, index, cookie, opcode, flags, len, src_n, dst_n),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(u32, index)
			     __field(u64, cookie)
			     __field(u8, opcode)
			     __field(u8, flags)
			     __field(u32, len)
			     __field(u32, src_n)
			     __field(u32, dst_n)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->index = index;
			   __entry->cookie = cookie;
			   __entry->opcode = opcode;
			   __entry->flags = flags;
			   __entry->len = len;
			   __entry->src_n = src_n;
			   __entry->dst_n = dst_n;),
	    TP_printk("sgdma%d ch=%u index=%u cookie=%#llx op=%u flags=%#x len=%u src_n=%u dst_n=%u",
		      __entry->minor, __entry->chan, __entry->index,
		      __entry->cookie, __entry->opcode, __entry->flags,
		      __entry->len, __entry->src_n, __entry->dst_n)
);

TRACE_EVENT(sgdma_complete,
	    TP_PROTO(int minor, unsigned int chan, u32 index, u64 cookie,
		     u16 status, u32 bytes, u32 crc),
	    TP_ARGS(minor, chan, index, cookie, status, bytes, crc),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(u32, index)
			     __field(u64, cookie)
			     __field(u16, status)
			     __field(u32, bytes)
			     __field(u32, crc)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->index = index;
			   __entry->cookie = cookie;
			   __entry->status = status;
			   __entry->bytes = bytes;
			   __entry->crc = crc;),
	    TP_printk("sgdma%d ch=%u index=%u cookie=%#llx status=%u bytes=%u crc=%#x",
		      __entry->minor, __entry->chan, __entry->index,
		      __entry->cookie, __entry->status, __entry->bytes,
		      __entry->crc)
);

TRACE_EVENT(sgdma_error,
	    TP_PROTO(int minor, unsigned int chan, u32 index, int err,
		     u32 status),
	    TP_ARGS(minor, chan, index, err, status),
	    TP_STRUCT__entry(__field(int, minor)
			     __field(unsigned int, chan)
			     __field(u32, index)
			     __field(int, err)
			     __field(u32, status)),
	    TP_fast_assign(__entry->minor = minor;
			   __entry->chan = chan;
			   __entry->index = index;
			   __entry->err = err;
			   __entry->status = status;),
	    TP_printk("sgdma%d ch=%u index=%u err=%d status=%#x",
		      __entry->minor, __entry->chan, __entry->index,
		      __entry->err, __entry->status)
);

#endif /* _SGDMA_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE sgdma_trace
#include <trace/define_trace.h>
