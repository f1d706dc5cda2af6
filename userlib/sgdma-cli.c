// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device-independent parts of the sgdma tool; see sgdma-cli.h.
 */
#define _GNU_SOURCE
#include "sgdma-cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case -ENOENT:
	case -ENODEV:
	case -ENXIO:
		return EXIT_NODEV;
	case -EACCES:
	case -EPERM:
		return EXIT_PERM;
	default:
		return EXIT_FAIL;
	}
}

static const struct {
	const char *name;
	unsigned int shift;
} suffixes[] = {
	{ "", 0 },
	{ "k", 10 }, { "K", 10 }, { "KiB", 10 },
	{ "M", 20 }, { "MiB", 20 },
	{ "G", 30 }, { "GiB", 30 },
	{ "T", 40 }, { "TiB", 40 },
};

int cli_parse_size(const char *s, uint64_t *v)
{
	unsigned long long n;
	char *end;

	/* strtoull accepts "-1" and leading blanks; sizes do not. */
	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (end == s)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		unsigned int shift = suffixes[i].shift;

		if (strcmp(end, suffixes[i].name))
			continue;
		if (shift && n > UINT64_MAX >> shift)
			return -ERANGE;
		*v = (uint64_t)n << shift;
		return 0;
	}
	return -EINVAL;
}

int cli_parse_uint(const char *s, unsigned long min, unsigned long max,
		   unsigned long *v)
{
	unsigned long n;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || n < min || n > max)
		return -ERANGE;
	*v = n;
	return 0;
}

static int add_size(uint64_t *out, int max, int *count, uint64_t v)
{
	if (!v)
		return -ERANGE;
	if (*count == max)
		return -E2BIG;
	out[(*count)++] = v;
	return 0;
}

int cli_parse_size_list(const char *s, uint64_t *out, int max)
{
	char *copy, *item, *save = NULL;
	int count = 0, ret = 0;

	if (!s || !*s)
		return -EINVAL;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save)) {
		char *dots = strstr(item, "..");
		uint64_t a, b;

		if (!dots) {
			ret = cli_parse_size(item, &a);
			if (!ret)
				ret = add_size(out, max, &count, a);
			continue;
		}
		*dots = '\0';
		ret = cli_parse_size(item, &a);
		if (!ret)
			ret = cli_parse_size(dots + 2, &b);
		if (!ret && (!a || b < a))
			ret = -ERANGE;
		for (uint64_t x = a; !ret && x <= b; x *= 2) {
			ret = add_size(out, max, &count, x);
			if (x > UINT64_MAX / 2)
				break;
		}
	}
	/* "4k,,8k" and a trailing comma are typos, not empty items. */
	if (!ret && (strstr(s, ",,") || s[0] == ',' || s[strlen(s) - 1] == ','))
		ret = -EINVAL;
	free(copy);
	return ret ? ret : count;
}

int cli_parse_names(const char *s, const char *const *names, int n,
		    unsigned int *mask)
{
	const char *p = s;

	*mask = 0;
	if (!s || !*s)
		return -EINVAL;
	while (*p) {
		size_t len = strcspn(p, ",");
		int i;

		if (len == 3 && !strncmp(p, "all", 3)) {
			*mask |= (1u << n) - 1;
		} else {
			for (i = 0; i < n; i++)
				if (strlen(names[i]) == len &&
				    !strncasecmp(p, names[i], len))
					break;
			if (i == n)
				return -EINVAL;
			*mask |= 1u << i;
		}
		p += len;
		if (*p == ',' && !*++p)
			return -EINVAL;
	}
	return 0;
}

int cli_parse_pattern(const char *s, struct cli_pattern *p)
{
	uint64_t v;

	memset(p, 0, sizeof(*p));
	if (!s)
		return -EINVAL;
	if (!strcmp(s, "zero")) {
		p->kind = PAT_BYTE;
		p->byte = 0;
	} else if (!strcmp(s, "ones")) {
		p->kind = PAT_BYTE;
		p->byte = 0xff;
	} else if (!strcmp(s, "incr")) {
		p->kind = PAT_INCR;
	} else if (!strcmp(s, "random")) {
		p->kind = PAT_RANDOM;
		p->seed = 1;
	} else if (!strncmp(s, "random:", 7)) {
		p->kind = PAT_RANDOM;
		if (cli_parse_size(s + 7, &p->seed))
			return -EINVAL;
	} else {
		if (cli_parse_size(s, &v) || v > 0xff || strpbrk(s, "kKMGTi"))
			return -EINVAL;
		p->kind = PAT_BYTE;
		p->byte = (uint8_t)v;
	}
	return 0;
}

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

void cli_pattern_fill(const struct cli_pattern *p, void *buf, size_t len,
		      uint64_t pos)
{
	unsigned char *b = buf;
	uint64_t word = 0;

	switch (p->kind) {
	case PAT_BYTE:
		memset(buf, p->byte, len);
		return;
	case PAT_INCR:
		for (size_t i = 0; i < len; i++, pos++)
			b[i] = (uint8_t)((uint32_t)(pos / 4) >> (pos % 4 * 8));
		return;
	case PAT_RANDOM:
		for (size_t i = 0; i < len; i++, pos++) {
			if (!i || !(pos % 8))
				word = splitmix64(p->seed ^
						  splitmix64(pos / 8));
			b[i] = (uint8_t)(word >> (pos % 8 * 8));
		}
		return;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void cli_stats(const double *v, size_t n, struct cli_stats *out)
{
	double *s = malloc(n * sizeof(*s));
	double sum = 0, sq = 0;

	memset(out, 0, sizeof(*out));
	if (!n || !s) {
		free(s);
		return;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	out->min = s[0];
	out->max = s[n - 1];
	out->median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	for (size_t i = 0; i < n; i++)
		sum += s[i];
	out->mean = sum / n;
	for (size_t i = 0; i < n; i++)
		sq += (s[i] - out->mean) * (s[i] - out->mean);
	out->stddev = n > 1 ? sqrt(sq / (n - 1)) : 0;
	free(s);
}

int64_t cli_ns_between(const struct timespec *a, const struct timespec *b)
{
	return ((int64_t)b->tv_sec - (int64_t)a->tv_sec) * 1000000000 +
	       ((int64_t)b->tv_nsec - (int64_t)a->tv_nsec);
}

double cli_mbps(uint64_t bytes, int64_t ns)
{
	return ns > 0 ? (double)bytes * 1e3 / (double)ns : 0;
}

int cli_parse_format(const char *s, enum cli_format *f)
{
	if (!strcmp(s, "table"))
		*f = FMT_TABLE;
	else if (!strcmp(s, "csv"))
		*f = FMT_CSV;
	else if (!strcmp(s, "json"))
		*f = FMT_JSON;
	else
		return -EINVAL;
	return 0;
}

#define CSV_HEADER "path,direction,size,threads,qd,reps,iters," \
		   "median_MBps,min_MBps,max_MBps,mean_MBps,stddev_MBps," \
		   "median_lat_us,verified"

void cli_bench_begin(struct cli_out *o, FILE *f, enum cli_format fmt)
{
	o->f = f;
	o->fmt = fmt;
	o->rows = 0;
	switch (fmt) {
	case FMT_TABLE:
		fprintf(f, "%-7s %-4s %10s %3s %3s %4s %8s %10s %10s %10s %9s %10s\n",
			"path", "dir", "size", "thr", "qd", "reps", "iters",
			"MB/s med", "min", "max", "stddev", "lat us");
		break;
	case FMT_CSV:
		fprintf(f, "%s\n", CSV_HEADER);
		break;
	case FMT_JSON:
		fputs("[", f);
		break;
	}
	fflush(f);
}

void cli_bench_row(struct cli_out *o, const struct cli_bench_row *r)
{
	const struct cli_stats *m = &r->mbps;

	switch (o->fmt) {
	case FMT_TABLE:
		fprintf(o->f, "%-7s %-4s %10" PRIu64 " %3u %3u %4u %8" PRIu64
			" %10.1f %10.1f %10.1f %9.1f %10.2f\n",
			r->path, r->direction, r->size, r->threads, r->qd,
			r->reps, r->iters, m->median, m->min, m->max,
			m->stddev, r->lat_us);
		break;
	case FMT_CSV:
		fprintf(o->f, "%s,%s,%" PRIu64 ",%u,%u,%u,%" PRIu64
			",%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%d\n",
			r->path, r->direction, r->size, r->threads, r->qd,
			r->reps, r->iters, m->median, m->min, m->max, m->mean,
			m->stddev, r->lat_us, r->verified);
		break;
	case FMT_JSON:
		fprintf(o->f, "%s\n  {\"path\": \"%s\", \"direction\": \"%s\", "
			"\"size\": %" PRIu64 ", \"threads\": %u, \"qd\": %u, "
			"\"reps\": %u, \"iters\": %" PRIu64 ", "
			"\"median_MBps\": %.3f, \"min_MBps\": %.3f, "
			"\"max_MBps\": %.3f, \"mean_MBps\": %.3f, "
			"\"stddev_MBps\": %.3f, \"median_lat_us\": %.3f, "
			"\"verified\": %s}",
			o->rows ? "," : "", r->path, r->direction, r->size,
			r->threads, r->qd, r->reps, r->iters, m->median,
			m->min, m->max, m->mean, m->stddev, r->lat_us,
			r->verified ? "true" : "false");
		break;
	}
	o->rows++;
	fflush(o->f);
}

void cli_bench_end(struct cli_out *o)
{
	if (o->fmt == FMT_JSON)
		fputs(o->rows ? "\n]\n" : "]\n", o->f);
	fflush(o->f);
}

char *cli_progress_line(char *buf, size_t size, unsigned int done,
			unsigned int total, unsigned int width,
			const char *label)
{
	unsigned int fill = total ? (uint64_t)done * width / total : width;
	size_t n = 0;

	if (size < 2) {
		if (size)
			buf[0] = '\0';
		return buf;
	}
	if (fill > width)
		fill = width;
	n += snprintf(buf + n, size - n, "[");
	for (unsigned int i = 0; i < width && n + 1 < size; i++)
		buf[n++] = i < fill ? '#' : '.';
	if (n < size)
		snprintf(buf + n, size - n, "] %u/%u %s", done, total,
			 label ? label : "");
	return buf;
}
