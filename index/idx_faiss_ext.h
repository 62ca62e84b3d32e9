/* idx_faiss_ext.h - FAISS C API functions that upstream added after Debian's 1.7.3 headers
 * (FAISS 1.7.4's c_api/Index_c.h and c_api/IndexIVF_c.h), declared with the upstream names and
 * signatures. idx_faiss_capi.cpp implements them over libfaiss.a; a system libfaiss_c of 1.7.4 or
 * later has them itself. Only index/idx_faiss.c and index/idx_faiss_capi.cpp include this file. */
#ifndef VC_IDX_FAISS_EXT_H
#define VC_IDX_FAISS_EXT_H

#include <stddef.h>

#include <faiss/c_api/Index_c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Search-time parameters (faiss::SearchParameters); an IVF subclass adds nprobe. Both C names
 * denote the same opaque type, as upstream's FAISS_DECLARE_CLASS_INHERITED makes them. */
typedef struct FaissSearchParameters_H FaissSearchParameters;
typedef struct FaissSearchParameters_H FaissSearchParametersIVF;

void faiss_SearchParameters_free(FaissSearchParameters *obj);

/* New IVF search parameters: `sel` (may be NULL: no id filter, not taken over), `nprobe` lists
 * probed, `max_codes` codes visited at most (0: no limit). 0 on success, as every call here. */
int faiss_SearchParametersIVF_new_with(FaissSearchParametersIVF **p_sp, FaissIDSelector *sel,
                                       size_t nprobe, size_t max_codes);

/* faiss_Index_search() with parameters (NULL: the index's own settings). */
int faiss_Index_search_with_params(const FaissIndex *index, idx_t n, const float *x, idx_t k,
                                   const FaissSearchParameters *params, float *distances,
                                   idx_t *labels);

#ifdef __cplusplus
}
#endif

#endif
