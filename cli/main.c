/* main.c - vericite's entry point: global setup and command dispatch. */
#include <curl/curl.h>
#include <getopt.h>
#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "version.h"

static const char main_help[] =
    "vericite " VERICITE_VERSION " - retrieval and citation verification on your own corpus\n"
    "\n"
    "usage: vericite COMMAND [options]   (vericite COMMAND --help for each)\n"
    "\n"
    "commands:\n"
    "  audit    check every citation of articles (wikitext, Markdown, claims JSONL)\n"
    "  verify   check one claim against one source (URL or file)\n"
    "  report   review queue, dead links, better sources, failing sites from stored batch audits\n"
    "  index    read a corpus (JSONL/BEIR, a folder, a MediaWiki dump) into an index folder\n"
    "  search   find the passages that best match a claim (BM25, dense, hybrid)\n"
    "  eval     nDCG@10 / Recall@100 / MRR@10 of the ranking against BEIR qrels\n"
    "  stats    counts, sizes and settings of an index\n"
    "  remove   delete documents from an index by id\n"
    "  serve    an HTTP JSON API for search, verify and audit\n"
    "  model    import, list, inspect and run models (word vectors, BERT-family networks)\n"
    "  train-verifier  fit the support model on the labelled data in ../shared/data\n"
    "\n"
    "quick start:\n"
    "  vericite index --db my-idx corpus.jsonl\n"
    "  vericite search --db my-idx \"the claim to check\"\n"
    "  vericite audit --db my-idx article.wiki --html report.html\n"
    "\n"
    "exit status: 0 ok, 1 error (the message names the file, line or URL), 2 usage error,\n"
    "3 a citation scored below --fail-under\n";

int main(int argc, char **argv)
{
    char *hargv[] = {NULL, "--help", NULL};
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        if (argc >= 3 && !strcmp(argv[1], "help")) {
            hargv[0] = argv[2];
            argv = hargv;
            argc = 2;
        } else {
            fputs(main_help, argc < 2 ? stderr : stdout);
            return argc < 2 ? CLI_USAGE : CLI_OK;
        }
    } else {
        argv++;
        argc--;
    }
    if (!strcmp(argv[0], "--version")) {
        printf("vericite %s\n", VERICITE_VERSION);
        return CLI_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(int, char **);
    } cmds[] = {{"index", cmd_index},   {"search", cmd_search}, {"eval", cmd_eval},
                {"stats", cmd_stats},   {"remove", cmd_remove}, {"model", cmd_model},
                {"audit", cmd_audit},   {"verify", cmd_verify}, {"train-verifier", cmd_train},
                {"report", cmd_report}, {"serve", cmd_serve}};
    opterr = 0; /* unknown options are reported by cli_bad_option, with a "did you mean" */
    struct option names[sizeof cmds / sizeof cmds[0] + 1] = {{0}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        names[i].name = cmds[i].name;
        if (!strcmp(argv[0], cmds[i].name)) {
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "vericite: libcurl could not be initialised\n");
                return CLI_FAIL;
            }
            xmlInitParser();
            int rc = cmds[i].fn(argc, argv);
            xmlCleanupParser();
            curl_global_cleanup();
            return rc;
        }
    }
    const char *near = cli_closest_option(argv[0], names);
    if (near) fprintf(stderr, "vericite: unknown command '%s' (did you mean %s?)\n", argv[0], near);
    else fprintf(stderr, "vericite: unknown command '%s' (see: vericite --help)\n", argv[0]);
    return CLI_USAGE;
}
