/* idx_faiss_capi.cpp - the subset of the FAISS C API that vericite calls, built over libfaiss.a.
 *
 * Why this file exists: Debian 12's libfaiss-dev (1.7.3) ships the upstream C API headers in
 * /usr/include/faiss/c_api/ but not the compiled C API library (no libfaiss_c, and libfaiss.a has
 * no faiss_* C symbols). index/idx_faiss.c is written against those upstream headers only, so this
 * translation unit supplies the few functions it uses, with exactly the upstream signatures.
 * When a system libfaiss_c exists the Makefile links it instead and this file is not compiled.
 *
 * Semantics follow the upstream header comments: every function that can fail returns 0 on
 * success and a negative FaissErrorCode on failure (FAISS_EXCEPT -2 for a faiss::FaissException,
 * STD_EXCEPT -4 for another std::exception, UNKNOWN_EXCEPT -1 for anything else); the message of
 * the last failure on this thread is kept for faiss_get_last_error(). No exception ever crosses
 * into C. Handles are the C++ objects themselves, cast to the opaque C types. */

#include <faiss/AutoTune.h>
#include <faiss/Index.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>
#include <faiss/index_io.h>

#include <exception>
#include <string>

extern "C" {
#include <faiss/c_api/AutoTune_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/IndexIVF_c.h>
#include <faiss/c_api/IndexPreTransform_c.h>
#include <faiss/c_api/impl/AuxIndexStructures_c.h>
#include <faiss/c_api/index_factory_c.h>
#include <faiss/c_api/index_io_c.h>
}
#include "index/idx_faiss_ext.h"

namespace {

/* The message of the last failed call on this thread; empty until something fails. */
thread_local std::string last_error;
thread_local bool have_error = false;

int remember(const char *what, int code)
{
    try {
        last_error = what ? what : "unknown error";
    } catch (...) { /* out of memory while copying the message: keep a fixed one */
        last_error.clear();
    }
    have_error = true;
    return code;
}

/* Run `body`, turning any exception into a stored message and an upstream error code. */
template <typename F> int guarded(F body)
{
    try {
        body();
        return 0;
    } catch (const faiss::FaissException &e) {
        return remember(e.what(), FAISS_EXCEPT);
    } catch (const std::exception &e) {
        return remember(e.what(), STD_EXCEPT);
    } catch (...) {
        return remember("unknown C++ exception", UNKNOWN_EXCEPT);
    }
}

faiss::Index *cxx(FaissIndex *p) { return reinterpret_cast<faiss::Index *>(p); }
const faiss::Index *cxx(const FaissIndex *p) { return reinterpret_cast<const faiss::Index *>(p); }

} // namespace

extern "C" {

/* Upstream returns NULL when nothing has failed yet; so do we. */
const char *faiss_get_last_error()
{
    if (!have_error) return nullptr;
    return last_error.empty() ? "unknown error (message lost)" : last_error.c_str();
}

int faiss_index_factory(FaissIndex **p_index, int d, const char *description, FaissMetricType metric)
{
    return guarded([&] {
        *p_index = nullptr;
        faiss::Index *ix =
            faiss::index_factory(d, description, static_cast<faiss::MetricType>(metric));
        *p_index = reinterpret_cast<FaissIndex *>(ix);
    });
}

void faiss_Index_free(FaissIndex *obj) { delete cxx(obj); }

int faiss_Index_d(const FaissIndex *obj) { return static_cast<int>(cxx(obj)->d); }

idx_t faiss_Index_ntotal(const FaissIndex *obj) { return static_cast<idx_t>(cxx(obj)->ntotal); }

int faiss_Index_is_trained(const FaissIndex *obj) { return cxx(obj)->is_trained ? 1 : 0; }

int faiss_Index_train(FaissIndex *index, idx_t n, const float *x)
{
    return guarded([&] { cxx(index)->train(n, x); });
}

int faiss_Index_add_with_ids(FaissIndex *index, idx_t n, const float *x, const idx_t *xids)
{
    return guarded([&] { cxx(index)->add_with_ids(n, x, xids); });
}

int faiss_Index_search(const FaissIndex *index, idx_t n, const float *x, idx_t k, float *distances,
                       idx_t *labels)
{
    return guarded([&] { cxx(index)->search(n, x, k, distances, labels); });
}

int faiss_Index_reset(FaissIndex *index)
{
    return guarded([&] { cxx(index)->reset(); });
}

int faiss_Index_remove_ids(FaissIndex *index, const FaissIDSelector *sel, size_t *n_removed)
{
    return guarded([&] {
        size_t n = cxx(index)->remove_ids(*reinterpret_cast<const faiss::IDSelector *>(sel));
        if (n_removed) *n_removed = n;
    });
}

int faiss_write_index(const FaissIndex *idx, FILE *f)
{
    return guarded([&] { faiss::write_index(cxx(idx), f); });
}

int faiss_write_index_fname(const FaissIndex *idx, const char *fname)
{
    return guarded([&] { faiss::write_index(cxx(idx), fname); });
}

int faiss_read_index_fname(const char *fname, int io_flags, FaissIndex **p_out)
{
    return guarded([&] {
        *p_out = nullptr;
        *p_out = reinterpret_cast<FaissIndex *>(faiss::read_index(fname, io_flags));
    });
}

int faiss_read_index(FILE *f, int io_flags, FaissIndex **p_out)
{
    return guarded([&] {
        *p_out = nullptr;
        *p_out = reinterpret_cast<FaissIndex *>(faiss::read_index(f, io_flags));
    });
}

FaissIndexIVF *faiss_IndexIVF_cast(FaissIndex *index)
{
    return reinterpret_cast<FaissIndexIVF *>(dynamic_cast<faiss::IndexIVF *>(cxx(index)));
}

size_t faiss_IndexIVF_nlist(const FaissIndexIVF *index)
{
    return reinterpret_cast<const faiss::IndexIVF *>(index)->nlist;
}

FaissIndexPreTransform *faiss_IndexPreTransform_cast(FaissIndex *index)
{
    return reinterpret_cast<FaissIndexPreTransform *>(
        dynamic_cast<faiss::IndexPreTransform *>(cxx(index)));
}

FaissIndex *faiss_IndexPreTransform_index(const FaissIndexPreTransform *index)
{
    return reinterpret_cast<FaissIndex *>(
        reinterpret_cast<const faiss::IndexPreTransform *>(index)->index);
}

void faiss_SearchParameters_free(FaissSearchParameters *obj)
{
    delete reinterpret_cast<faiss::SearchParameters *>(obj);
}

int faiss_SearchParametersIVF_new_with(FaissSearchParametersIVF **p_sp, FaissIDSelector *sel,
                                       size_t nprobe, size_t max_codes)
{
    return guarded([&] {
        *p_sp = nullptr;
        auto *sp = new faiss::SearchParametersIVF();
        sp->sel = reinterpret_cast<faiss::IDSelector *>(sel);
        sp->nprobe = nprobe;
        sp->max_codes = max_codes;
        /* stored as the base class, so faiss_SearchParameters_free deletes it through it */
        *p_sp = reinterpret_cast<FaissSearchParametersIVF *>(
            static_cast<faiss::SearchParameters *>(sp));
    });
}

int faiss_Index_search_with_params(const FaissIndex *index, idx_t n, const float *x, idx_t k,
                                   const FaissSearchParameters *params, float *distances,
                                   idx_t *labels)
{
    return guarded([&] {
        cxx(index)->search(n, x, k, distances, labels,
                           reinterpret_cast<const faiss::SearchParameters *>(params));
    });
}

int faiss_IDSelectorBatch_new(FaissIDSelectorBatch **p_sel, size_t n, const idx_t *indices)
{
    return guarded([&] {
        *p_sel = nullptr;
        /* IDSelectorBatch has IDSelector as its only base, so both views share one address and
         * callers may pass the result where a FaissIDSelector* is expected (as upstream). */
        faiss::IDSelector *sel = new faiss::IDSelectorBatch(n, indices);
        *p_sel = reinterpret_cast<FaissIDSelectorBatch *>(sel);
    });
}

void faiss_IDSelector_free(FaissIDSelector *obj)
{
    delete reinterpret_cast<faiss::IDSelector *>(obj);
}

int faiss_ParameterSpace_new(FaissParameterSpace **space)
{
    return guarded([&] {
        *space = nullptr;
        *space = reinterpret_cast<FaissParameterSpace *>(new faiss::ParameterSpace());
    });
}

void faiss_ParameterSpace_free(FaissParameterSpace *obj)
{
    delete reinterpret_cast<faiss::ParameterSpace *>(obj);
}

int faiss_ParameterSpace_set_index_parameter(const FaissParameterSpace *space, FaissIndex *index,
                                             const char *name, double value)
{
    return guarded([&] {
        reinterpret_cast<const faiss::ParameterSpace *>(space)->set_index_parameter(cxx(index),
                                                                                    name, value);
    });
}

} // extern "C"
