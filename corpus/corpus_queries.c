/* corpus_queries.c - reads a batch of queries: BEIR queries JSON Lines or id<TAB>text TSV. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"
#include "corpus.h"

#define QUERY_MAX_LINE (1u << 20)

int corpus_queries_read(const char *path, corpus_query_cb cb, void *ctx, struct err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return err_set(err, errno == ENOENT ? ERR_NOTFOUND : ERR_IO, "%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = ERR_OK, jsonl = -1, seen = 0;
    char idbuf[64];
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if ((size_t)len > QUERY_MAX_LINE) {
            rc = err_set(err, ERR_LIMIT, "%s:%ld: line longer than %u bytes", path, lineno, QUERY_MAX_LINE);
            break;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        size_t sp = strspn(line, " \t");
        if (line[sp] == '\0') continue;
        size_t bad;
        if (!utf8_valid(line, (size_t)len, &bad)) {
            rc = err_set(err, ERR_UTF8, "%s:%ld: invalid UTF-8 at byte %zu", path, lineno, bad + 1);
            break;
        }
        if (jsonl < 0) jsonl = line[sp] == '{';
        if (jsonl) {
            json_error_t je;
            json_t *o = json_loadb(line, (size_t)len, 0, &je);
            if (!o || !json_is_object(o)) {
                rc = err_set(err, ERR_PARSE, "%s:%ld:%d: %s", path, lineno, o ? 1 : je.column,
                             o ? "not a JSON object" : je.text);
                json_decref(o);
                break;
            }
            json_t *id = json_object_get(o, "_id");
            if (!id) id = json_object_get(o, "id");
            json_t *text = json_object_get(o, "text");
            if (!text) text = json_object_get(o, "query");
            if (!text) text = json_object_get(o, "claim");
            const char *ids = NULL;
            if (json_is_string(id)) ids = json_string_value(id);
            else if (json_is_integer(id)) {
                snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(id));
                ids = idbuf;
            }
            if (!ids || !json_is_string(text)) {
                rc = err_set(err, ERR_PARSE, "%s:%ld: a query needs \"_id\" (or \"id\") and \"text\"", path, lineno);
                json_decref(o);
                break;
            }
            rc = cb(ctx, ids, json_string_value(text), lineno);
            json_decref(o);
        } else {
            char *tab = strchr(line, '\t');
            if (!tab) {
                rc = err_set(err, ERR_PARSE, "%s:%ld: expected id<TAB>text", path, lineno);
                break;
            }
            *tab = '\0';
            if (!seen && (!strcmp(line, "query-id") || !strcmp(line, "id") || !strcmp(line, "_id"))) {
                seen = 1;
                continue;
            }
            rc = cb(ctx, line, tab + 1, lineno);
        }
        seen = 1;
        if (rc) break;
    }
    free(line);
    fclose(f);
    return rc;
}
