/* test_common.c - common/: hashing, UTF-8, ASCII classes, atomic files, growing arrays, HTML escaping. */
#include <stdlib.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "hash.h"
#include "test.h"
#include "utf8.h"
#include "vec.h"

TEST(common_hash_fnv1a)
{
    /* Reference values of FNV-1a 64 (Fowler/Noll/Vo test vectors). */
    CHECK(hash_fnv1a64("", 0) == 0xcbf29ce484222325ull);
    CHECK(hash_fnv1a64("a", 1) == 0xaf63dc4c8601ec8cull);
    CHECK(hash_fnv1a64_str("foobar") == 0x85944171f73967e8ull);
    uint64_t h = hash_fnv1a64_update(HASH_FNV_INIT, "foo", 3);
    CHECK(hash_fnv1a64_update(h, "bar", 3) == 0x85944171f73967e8ull);
    char hex[17];
    CHECK(strcmp(hash_hex16(0xaf63dc4c8601ec8cull, hex), "af63dc4c8601ec8c") == 0);
}

TEST(common_utf8)
{
    uint32_t cp = 0;
    CHECK(utf8_dec((const unsigned char *)"\xc3\xa9", 2, &cp) == 2 && cp == 0xe9);
    CHECK(utf8_dec((const unsigned char *)"\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
    CHECK(utf8_dec((const unsigned char *)"\xc0\xa3", 2, &cp) == 0);         /* overlong */
    CHECK(utf8_dec((const unsigned char *)"\xed\xa0\x80", 3, &cp) == 0);     /* surrogate */
    CHECK(utf8_dec((const unsigned char *)"\xe2\x82", 2, &cp) == 0);         /* truncated */
    CHECK(utf8_dec((const unsigned char *)"\xf4\x90\x80\x80", 4, &cp) == 0); /* > U+10FFFF */
    char out[4];
    CHECK(utf8_enc(0x20ac, out) == 3 && memcmp(out, "\xe2\x82\xac", 3) == 0);
    CHECK(utf8_enc(0xd800, out) == 3 && memcmp(out, "\xef\xbf\xbd", 3) == 0);
    size_t bad = 0;
    CHECK(utf8_valid("caf\xc3\xa9", 5, &bad) && bad == 5);
    CHECK(!utf8_valid("ab\xc0\xa3", 4, &bad) && bad == 2);
    struct buf b = {0};
    size_t rep = 0;
    /* C0 A3: two maximal subparts (C0 is never a lead byte); E2 82 then 'x': one. */
    REQUIRE(utf8_repair(&b, "a\xc0\xa3" "b\xe2\x82x", 7, &rep) == 0);
    CHECK(rep == 3);
    CHECK(strcmp(b.data, "a\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbdx") == 0);
    CHECK(utf8_valid(b.data, b.len, NULL));
    buf_cleanup(&b);
}

TEST(common_ascii)
{
    CHECK(ascii_isalpha('q') && !ascii_isalpha('1') && !ascii_isalpha(0xe9));
    CHECK(ascii_isspace('\v') && !ascii_isspace(0xa0));
    CHECK(ascii_tolower('Q') == 'q' && ascii_tolower('1') == '1');
    CHECK(ascii_casecmp("Hello", "hELLO") == 0 && ascii_casecmp("a", "b") < 0);
    CHECK(ascii_ncasecmp("RefX", "refY", 3) == 0);
    CHECK(ascii_eq_word("CITE", 4, "cite") && !ascii_eq_word("CITES", 5, "cite"));
    CHECK(ascii_hexval('F') == 15 && ascii_hexval('g') == -1);
    size_t n = 8;
    const char *s = ascii_trim("  ab c \t", &n);
    CHECK(n == 4 && memcmp(s, "ab c", 4) == 0);
    char sq[] = " \t a \n\n b\vc  ";
    CHECK(ascii_squash(sq, strlen(sq)) == 5 && strcmp(sq, "a b c") == 0);
    char none[] = " \n ";
    CHECK(ascii_squash(none, 3) == 0 && none[0] == '\0');
}

TEST(common_file_atomic)
{
    struct err e = {0};
    const char *dir = t_tmpdir(t_);
    char path[512], nested[512];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    REQUIRE_OK(file_write_atomic(path, "one", 3, &e), e);
    struct file_atomic fa;
    REQUIRE_OK(file_atomic_open(&fa, path, &e), e);
    fputs("two", fa.f);
    /* Until the commit the old content stays. */
    char *got = t_read(path, NULL);
    CHECK(got && strcmp(got, "one") == 0);
    free(got);
    struct file_atomic fb;
    REQUIRE_OK(file_atomic_open(&fb, path, &e), e);
    CHECK(strcmp(fa.tmp, fb.tmp) != 0); /* two writers never share a temporary name */
    file_atomic_abort(&fb);
    REQUIRE_OK(file_atomic_commit(&fa, &e), e);
    got = t_read(path, NULL);
    CHECK(got && strcmp(got, "two") == 0);
    free(got);
    /* No temporary file is left behind. */
    DIR *d = opendir(dir);
    REQUIRE(d);
    int files = 0;
    for (struct dirent *de; (de = readdir(d));)
        if (de->d_name[0] != '.') files++;
    closedir(d);
    CHECK(files == 1);
    /* A folder that does not exist: a clear error naming it, nothing written. */
    snprintf(nested, sizeof nested, "%s/no/such/x.txt", dir);
    CHECK(file_write_atomic(nested, "x", 1, &e) == ERR_IO);
    CHECK(t_contains(e.msg, "/no/such"));
    REQUIRE_OK(file_mkparents(nested, &e), e);
    REQUIRE_OK(file_write_atomic(nested, "x", 1, &e), e);
    /* mkdir -p over a file is refused. */
    CHECK(file_mkdirs(path, 0777, &e) == ERR_IO && t_contains(e.msg, "not a folder"));
    struct buf b = {0};
    REQUIRE_OK(file_read_all(path, 0, &b, &e), e);
    CHECK(b.len == 3 && strcmp(b.data, "two") == 0);
    buf_reset(&b);
    CHECK(file_read_all(path, 2, &b, &e) == ERR_LIMIT);
    snprintf(nested, sizeof nested, "%s/missing", dir);
    CHECK(file_read_all(nested, 0, &b, &e) == ERR_NOTFOUND && t_contains(e.msg, "missing"));
    buf_cleanup(&b);
}

TEST(common_vec_and_html)
{
    int *a = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < 1000; i++) {
        REQUIRE(vec_grow((void **)&a, &cap, i + 1, sizeof *a) == 0);
        a[i] = (int)i;
    }
    CHECK(cap >= 1000 && a[999] == 999);
    CHECK(vec_grow((void **)&a, &cap, SIZE_MAX / 2, sizeof *a) == -1 && a[5] == 5);
    free(a);
    long *z = NULL;
    cap = 0;
    REQUIRE(vec_grow_zero((void **)&z, &cap, 3, sizeof *z) == 0);
    CHECK(z[0] == 0 && z[cap - 1] == 0);
    free(z);
    struct buf b = {0};
    REQUIRE(buf_put_html(&b, "<a href=\"x\">&'</a>", 18) == 0);
    CHECK(strcmp(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;") == 0);
    buf_cleanup(&b);
}
