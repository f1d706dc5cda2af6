/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Minimal KTAP (v1) output for the guest test programs.
 *
 * A program declares its plan, reports each case once, and returns
 * ktap_finish() from main(): non-zero if a case failed or the plan was not
 * met, so the runner marks the whole program failed as well.
 */
#ifndef SGDMA_KTAP_H
#define SGDMA_KTAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int ktap_planned, ktap_done, ktap_failed;

static inline void ktap_plan(int cases)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	ktap_planned = cases;
	printf("KTAP version 1\n1..%d\n", cases);
}

static inline void ktap_diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void ktap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline bool ktap_result(bool ok, const char *name)
{
	ktap_done++;
	if (!ok)
		ktap_failed++;
	printf("%sok %d %s\n", ok ? "" : "not ", ktap_done, name);
	return ok;
}

/*
 * A case that cannot run here. @needs names the boot features it lacks
 * (comma-separated, from the harness' vocabulary: iommu, ats, bounce,
 * strict-device, fault-injection, hotplug, ...): the judge counts the skip
 * only if the boot does not provide one of them, else it fails the case.
 */
static inline void ktap_skip_needs(const char *name, const char *needs,
				   const char *why)
{
	ktap_done++;
	printf("ok %d %s # SKIP needs=%s: %s\n", ktap_done, name, needs, why);
}

static inline int ktap_finish(void)
{
	if (ktap_done != ktap_planned)
		ktap_diag("planned %d cases, ran %d", ktap_planned, ktap_done);
	return ktap_failed || ktap_done != ktap_planned;
}

/* Report a failed expectation with its location, then fail the case. */
#define EXPECT(cond)							\
	({								\
		bool ok_ = (cond);					\
		if (!ok_)						\
			ktap_diag("%s:%d: expected %s", __FILE__,	\
				  __LINE__, #cond);			\
		ok_;							\
	})

#endif /* SGDMA_KTAP_H */
