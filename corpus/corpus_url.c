/* corpus_url.c - URL normalisation, so a cited URL finds the corpus document that carries it:
 * scheme, "www.", default ports, fragments, trailing slashes and tracking parameters are ignored. */
#include <string.h>

#include "ascii.h"
#include "corpus.h"

/* Query parameters that only track the visitor. */
static int is_tracking(const char *k, size_t n)
{
    static const char *const names[] = {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid",
                                        "_ga", "igshid", "yclid", "_hsenc", "_hsmi", NULL};
    if (n > 4 && !strncmp(k, "utm_", 4)) return 1;
    for (int i = 0; names[i]; i++)
        if (strlen(names[i]) == n && !strncmp(names[i], k, n)) return 1;
    return 0;
}

int corpus_url_normalize(const char *url, struct buf *out)
{
    buf_reset(out);
    if (!url) return -1;
    const char *p = url;
    while (*p == ' ' || *p == '\t' || *p == '\n') p++;
    const char *end = p + strlen(p);
    while (end > p && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r')) end--;
    const char *hash = memchr(p, '#', (size_t)(end - p));
    if (hash) end = hash;
    const char *colon = strstr(p, "://");
    if (colon && colon < end) {
        for (const char *s = p; s < colon; s++)
            if (!(ascii_isalpha((unsigned char)*s) || *s == '+' || *s == '-' || *s == '.'))
                return -1;
        p = colon + 3;
    } else if (end - p >= 2 && p[0] == '/' && p[1] == '/') {
        p += 2;
    }
    /* host[:port] */
    const char *h = p;
    while (p < end && *p != '/' && *p != '?') p++;
    const char *hend = p;
    const char *at = memchr(h, '@', (size_t)(hend - h));
    if (at) h = at + 1; /* drop user:password@ */
    if (hend - h > 4 && !ascii_ncasecmp(h, "www.", 4)) h += 4;
    const char *port = NULL;
    for (const char *s = hend; s > h; s--)
        if (s[-1] == ':') { port = s - 1; break; } else if (!ascii_isdigit((unsigned char)s[-1])) break;
    const char *hstop = hend;
    if (port && ((hend - port == 3 && !strncmp(port, ":80", 3)) || (hend - port == 4 && !strncmp(port, ":443", 4))))
        hstop = port;
    if (hstop == h) return -1;
    for (const char *s = h; s < hstop; s++)
        if (buf_putc(out, (char)ascii_tolower((unsigned char)*s))) return -1;
    while (hstop > h && out->len > 0 && out->data[out->len - 1] == '.') out->data[--out->len] = '\0';
    /* path, without trailing slashes */
    const char *path = p;
    while (p < end && *p != '?') p++;
    const char *pend = p;
    while (pend > path && pend[-1] == '/') pend--;
    if (pend > path && buf_append(out, path, (size_t)(pend - path))) return -1;
    /* query, without tracking parameters */
    if (p < end && *p == '?') {
        p++;
        int first = 1;
        while (p < end) {
            const char *amp = memchr(p, '&', (size_t)(end - p));
            const char *pe = amp ? amp : end;
            const char *eq = memchr(p, '=', (size_t)(pe - p));
            size_t klen = (size_t)((eq ? eq : pe) - p);
            if (pe > p && !is_tracking(p, klen)) {
                if (buf_putc(out, first ? '?' : '&') || buf_append(out, p, (size_t)(pe - p))) return -1;
                first = 0;
            }
            p = amp ? amp + 1 : end;
        }
    }
    return out->len ? 0 : -1;
}
