// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sgdma: command-line access to sgdma devices, built on libsgdma.
 *
 * See "sgdma --help", "sgdma COMMAND --help" and docs/sgdma.1.md. Exit codes
 * are in sgdma-cli.h. Each command is a file cmd-NAME.c that defines its
 * options, help and handler; this one has the table of commands, the
 * global options and the help that lists them.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

#define EXIT_CODES							\
	"exit status:\n"						\
	"  0  success\n"						\
	"  1  the request failed (device error, file error)\n"		\
	"  2  usage error: bad option, argument out of range\n"	\
	"  3  no device: node missing, module not loaded, device gone\n" \
	"  4  permission denied on the device node\n"			\
	"  5  data or CRC mismatch (verify, selftest, bench --verify)\n"

/* In the order "sgdma --help" lists them. */
static const struct command *const commands[] = {
	&info_command,
	&write_command,
	&read_command,
	&copy_command,
	&fill_command,
	&verify_command,
	&bench_command,
	&selftest_command,
};

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i]->name, name))
			return commands[i];
	return NULL;
}

void command_help(const char *name, FILE *out)
{
	fputs(find_command(name)->help, out);
	fputs("\n" EXIT_CODES, out);
}

static void main_usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-d DEV] COMMAND [OPTIONS]\n"
		"       %s COMMAND --help\n"
		"\n"
		"  -d, --device DEV  device node path, or N for /dev/sgdmaN (default 0)\n"
		"  -h, --help        show this help\n"
		"  -Q, --quiet       no summaries on stderr (read, copy)\n"
		"  -V, --version     show the version of the tool and libsgdma\n"
		"\n"
		"commands:\n", progname, progname);
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		fprintf(out, "  %-9s  %s\n", commands[i]->name,
			commands[i]->summary);
	fputs("\n" EXIT_CODES, out);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'Q' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	const char *device = "0";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:hVQ", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'h':
			main_usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("sgdma %s (libsgdma %s, uapi ABI %d)\n",
			       SGDMA_TOOL_VERSION, sgdma_version(),
			       SGDMA_ABI_VERSION);
			return EXIT_OK;
		case 'Q':
			quiet = true;
			break;
		default:
			fprintf(stderr, "%s: bad or incomplete option '%s'\n",
				progname, argv[optind - 1]);
			main_usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		main_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 < argc && find_command(argv[optind + 1])) {
			command_help(argv[optind + 1], stdout);
			return EXIT_OK;
		}
		main_usage(stdout);
		return EXIT_OK;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "%s: unknown command '%s'\n", progname,
			argv[optind]);
		main_usage(stderr);
		return EXIT_USAGE;
	}
	global_device = device;
	return cmd->run(argc - optind, argv + optind);
}
