/* vec.c - growing arrays. */
#include "vec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int vec_grow(void **data, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap) return 0;
    if (size == 0) return -1;
    size_t ncap = *cap > SIZE_MAX / 2 ? need : *cap * 2;
    if (ncap < need) ncap = need;
    if (ncap < 8) ncap = 8;
    if (ncap > SIZE_MAX / size) return -1;
    void *p = realloc(*data, ncap * size);
    if (!p) return -1;
    *data = p;
    *cap = ncap;
    return 0;
}

int vec_grow_zero(void **data, size_t *cap, size_t need, size_t size)
{
    size_t old = *cap;
    if (vec_grow(data, cap, need, size)) return -1;
    if (*cap > old) memset((char *)*data + old * size, 0, (*cap - old) * size);
    return 0;
}
