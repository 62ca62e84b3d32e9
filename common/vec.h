/* vec.h - growing a malloc'ed array: the one way vericite does "append to an array".
 *     struct item *a = NULL; size_t n = 0, cap = 0;
 *     if (vec_grow((void **)&a, &cap, n + 1, sizeof *a)) return err_set(err, ERR_NOMEM, "...");
 *     a[n++] = x;
 *     ...
 *     free(a);
 */
#ifndef VC_VEC_H
#define VC_VEC_H

#include <stddef.h>

/* Make *data hold at least `need` elements of `size` bytes: when *cap is smaller, reallocate to
 * max(need, 2 * *cap, 8) elements and update *cap. New elements are not initialised (see
 * vec_grow_zero). Returns 0, or -1 on overflow or out of memory (then *data and *cap are
 * unchanged and still owned by the caller). */
int vec_grow(void **data, size_t *cap, size_t need, size_t size);

/* As vec_grow, and the elements past the old capacity are zero. */
int vec_grow_zero(void **data, size_t *cap, size_t need, size_t size);

#endif
