/* pacing: the command-line companion of libpacing.
 *
 *   pacing validate FILE...            check YAML configuration files
 *   pacing sim CONFIG [...]            synthetic users vs a fixed interval
 *   pacing replay CONFIG EVENTS [...]  replay an event log; off-policy
 *                                      estimates from logged decisions
 *   pacing inspect SNAPSHOT [...]      a snapshot as YAML, for audits
 *
 * Sub-commands live in one table (commands[] below); validate is here,
 * the others in tools/sim.c, tools/replay.c and tools/inspect.c, with
 * what they share in tools/common.c (tools/tools.h). The manual page is
 * tools/pacing.1. Exit status: 0 success, 1 a checked thing is bad (an
 * invalid file), 2 a usage error.
 *
 * SPDX-License-Identifier: MIT */
#include "tools.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

typedef struct command {
    const char *name;
    const char *summary;   /* one line for `pacing --help` */
    int (*run)(int argc, char **argv); /* argv[0] is the command's name */
    void (*help)(FILE *out);
} command;

static const command *find_command(const char *name);
static void usage(FILE *out);

static int is_help(const char *arg)
{
    return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

/* ------------------------------------------------------------------ */
/* validate                                                            */
/* ------------------------------------------------------------------ */

static void validate_help(FILE *out)
{
    fputs("usage: pacing validate FILE...\n"
          "\n"
          "Check libpacing YAML configuration files (docs/config-reference.md)\n"
          "exactly as pacing_ctx_new_from_yaml() reads them: syntax, keys,\n"
          "types, ranges, module names, references. The user table the file\n"
          "asks for is not allocated, so a configuration for a large server\n"
          "can be checked on a small machine.\n"
          "\n"
          "For each valid file prints one line to standard output:\n"
          "  FILE: ok: N points, N rules, capacity N\n"
          "and for each invalid one, to standard error:\n"
          "  FILE:LINE:COLUMN: message\n"
          "Every file is checked, even after a bad one.\n"
          "\n"
          "Exit status: 0 if every file is valid, 1 if any is not, 2 on a\n"
          "usage error.\n",
          out);
}

/* The loader allocates the context last, through base.allocator, after
 * everything else was checked. An allocator that refuses, and records that
 * it was asked, therefore tells "valid" (asked, PACING_E_NOMEM) from every
 * error, without allocating the table. */
typedef struct refusal {
    int asked;
} refusal;

static void *refuse_alloc(void *opaque, size_t size)
{
    (void)size;
    ((refusal *)opaque)->asked = 1;
    return NULL;
}

static void refuse_free(void *opaque, void *ptr, size_t size)
{
    (void)opaque;
    (void)ptr;
    (void)size;
}

/* Counts for the summary line, read from the (valid) file. */
typedef struct summary {
    size_t points, rules;
    char capacity[64];   /* as written, or "" for the default */
} summary;

static size_t seq_len(yaml_node_t *n)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return 0;
    return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *map_get(yaml_document_t *doc, yaml_node_t *map,
                            const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
         p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE &&
            !strcmp((const char *)k->data.scalar.value, key))
            return yaml_document_get_node(doc, p->value);
    }
    return NULL;
}

static void summarize(const char *path, summary *s)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    yaml_parser_t ps;
    yaml_document_t doc;
    if (yaml_parser_initialize(&ps)) {
        yaml_parser_set_input_file(&ps, f);
        if (yaml_parser_load(&ps, &doc)) {
            yaml_node_t *root = yaml_document_get_root_node(&doc);
            s->points = seq_len(map_get(&doc, root, "points"));
            s->rules = seq_len(map_get(&doc, root, "rules"));
            yaml_node_t *cap = map_get(&doc, map_get(&doc, root, "options"),
                                       "capacity");
            if (cap && cap->type == YAML_SCALAR_NODE)
                snprintf(s->capacity, sizeof s->capacity, "%s",
                         (const char *)cap->data.scalar.value);
            yaml_document_delete(&doc);
        }
        yaml_parser_delete(&ps);
    }
    fclose(f);
}

/* Check one file; print its line; return 1 if it is valid. */
static int validate_one(const char *path)
{
    refusal r = {0};
    pacing_options base;
    pacing_options_init(&base);
    base.allocator.alloc = refuse_alloc;
    base.allocator.free = refuse_free;
    base.allocator.opaque = &r;
    pacing_config_error err = PACING_CONFIG_ERROR_INIT;
    pacing_ctx *ctx = NULL;
    int rc = pacing_ctx_new_from_yaml(path, &base, &ctx, &err);
    pacing_ctx_free(ctx); /* NULL: the allocator refused */
    if (rc == PACING_OK || (rc == PACING_E_NOMEM && r.asked)) {
        summary s;
        summarize(path, &s);
        printf("%s: ok: %zu point%s, %zu rule%s, capacity %s%s\n", path,
               s.points, s.points == 1 ? "" : "s", s.rules,
               s.rules == 1 ? "" : "s", s.capacity[0] ? s.capacity : "100000",
               s.capacity[0] ? "" : " (default)");
        return 1;
    }
    if (err.line)
        fprintf(stderr, "%s:%u:%u: %s\n", path, err.line, err.column, err.message);
    else if (err.message[0])
        fprintf(stderr, "%s: %s\n", path, err.message);
    else
        fprintf(stderr, "%s: %s\n", path, pacing_strerror(rc));
    return 0;
}

static int cmd_validate(int argc, char **argv)
{
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (is_help(a)) {
            validate_help(stdout);
            return 0;
        }
        if (!strcmp(a, "--")) {
            first++;
            break;
        }
        if (a[0] != '-' || !a[1])
            break;
        fprintf(stderr, "pacing validate: unknown option '%s'\n"
                "usage: pacing validate FILE...\n", a);
        return EXIT_USAGE;
    }
    if (first >= argc) {
        fprintf(stderr, "pacing validate: no files given\n"
                "usage: pacing validate FILE...\n");
        return EXIT_USAGE;
    }
    int bad = 0;
    for (int i = first; i < argc; i++)
        if (!validate_one(argv[i]))
            bad++;
    fflush(stdout);
    return bad ? EXIT_BAD : 0;
}

/* ------------------------------------------------------------------ */
/* The command table                                                   */
/* ------------------------------------------------------------------ */

static const command commands[] = {
    {"validate", "check YAML configuration files", cmd_validate, validate_help},
    {"sim", "simulate users against a configuration and a fixed-interval baseline",
     cmd_sim, sim_help},
    {"replay", "replay an event log; estimate a policy from logged decisions",
     cmd_replay, replay_help},
    {"inspect", "print a snapshot as YAML", cmd_inspect, inspect_help},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: pacing COMMAND [ARGS...]\n"
                 "       pacing COMMAND --help\n"
                 "\n"
                 "The command-line tool of libpacing %s, the attention-pacing "
                 "engine.\n\ncommands:\n", pacing_version_string());
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\noptions:\n"
          "  -h, --help  show this help\n"
          "  --version   show the library version\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *name = argv[1];
    if (is_help(name)) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("pacing (libpacing %s)\n", pacing_version_string());
        return 0;
    }
    if (!strcmp(name, "help")) { /* pacing help [COMMAND] */
        const command *c = argc > 2 ? find_command(argv[2]) : NULL;
        if (argc > 2 && !c) {
            fprintf(stderr, "pacing: unknown command '%s'\n", argv[2]);
            return EXIT_USAGE;
        }
        if (c)
            c->help(stdout);
        else
            usage(stdout);
        return 0;
    }
    const command *c = find_command(name);
    if (!c) {
        fprintf(stderr, "pacing: unknown command '%s' (see pacing --help)\n", name);
        return EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
