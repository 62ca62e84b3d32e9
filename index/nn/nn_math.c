/* nn_math.c - the element-wise kernels of the forward pass (activations, softmax, LayerNorm) in two
 * versions: portable C over libm (erff, expf, tanhf), and AVX2 + FMA for the CPUs that have them
 * (chosen at run time; the build itself targets plain x86-64).
 *
 * The AVX2 versions use their own exp (Cody-Waite range reduction, degree-7 Taylor polynomial,
 * relative error below 2e-7) and, for GELU, Abramowitz & Stegun's erfc approximation 7.1.26
 * (absolute error below 1.5e-7: GELU differs from the erff form by at most 0.75e-7 |x|).
 * tests/test_nn.c compares both versions on a range of inputs. */
#include "index/nn/nn_int.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define NN_HAVE_AVX2 1
#endif

/* ---------------------------------------------------------------- portable */

static void gelu_c(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * (float)M_SQRT1_2));
}

static void gelu_tanh_c(float *x, size_t n)
{
    const float c = 0.7978845608028654f; /* sqrt(2 / pi) */
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tanhf(c * (v + 0.044715f * v * v * v)));
    }
}

static void relu_c(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void softmax_c(float *s, int n)
{
    float mx = s[0], sum = 0.0f;
    for (int j = 1; j < n; j++)
        mx = s[j] > mx ? s[j] : mx;
    for (int j = 0; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    float inv = 1.0f / sum;
    for (int j = 0; j < n; j++)
        s[j] *= inv;
}

static void layer_norm_c(float *v, int n, const float *w, const float *b, float eps)
{
    double s = 0, q = 0;
    for (int j = 0; j < n; j++)
        s += v[j];
    float mean = (float)(s / n);
    for (int j = 0; j < n; j++) {
        float d = v[j] - mean;
        q += (double)d * d;
    }
    float inv = (float)(1.0 / sqrt(q / n + eps));
    for (int j = 0; j < n; j++)
        v[j] = (v[j] - mean) * inv * w[j] + b[j];
}

/* ---------------------------------------------------------------- AVX2 + FMA */

#ifdef NN_HAVE_AVX2
#define AVX2 __attribute__((target("avx2,fma")))

/* e^x for x in [-87.3, 88.7] (clamped there): x = k ln 2 + r, |r| <= ln2 / 2, e^r by Taylor to r^7,
 * 2^k put in the exponent bits. */
AVX2 static inline __m256 exp8(__m256 x)
{
    x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.7f)), _mm256_set1_ps(-87.3f));
    __m256 k = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(k, _mm256_set1_ps(0.693359375f), x); /* ln 2, high part */
    r = _mm256_fnmadd_ps(k, _mm256_set1_ps(-2.12194440e-4f), r);     /* ln 2, low part */
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(k), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

AVX2 static inline float hsum8(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline float hmax8(__m256 v)
{
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* GELU(x) = x/2 (1 + erf(x / sqrt 2)) with erfc(z) = t P(t) e^(-z^2), t = 1 / (1 + p z), z >= 0. */
AVX2 static void gelu_avx2(float *x, size_t n)
{
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f),
                 two = _mm256_set1_ps(2.0f);
    const __m256 sign = _mm256_set1_ps(-0.0f), rs2 = _mm256_set1_ps((float)M_SQRT1_2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 z = _mm256_andnot_ps(sign, _mm256_mul_ps(v, rs2));
        __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), z, one));
        __m256 p = _mm256_set1_ps(1.061405429f);
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
        p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
        p = _mm256_mul_ps(p, t);
        __m256 erfc = _mm256_mul_ps(p, exp8(_mm256_xor_ps(_mm256_mul_ps(z, z), sign)));
        /* x >= 0: 1 + erf = 2 - erfc(z); x < 0: 1 + erf = erfc(z) */
        __m256 neg = _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ);
        __m256 f = _mm256_blendv_ps(_mm256_sub_ps(two, erfc), erfc, neg);
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), f));
    }
    gelu_c(x + i, n - i);
}

/* tanh(u) = 1 - 2 / (e^(2u) + 1). */
AVX2 static void gelu_tanh_avx2(float *x, size_t n)
{
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f),
                 two = _mm256_set1_ps(2.0f);
    const __m256 c = _mm256_set1_ps(0.7978845608028654f), c3 = _mm256_set1_ps(0.044715f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 u = _mm256_mul_ps(c, _mm256_fmadd_ps(_mm256_mul_ps(c3, v), _mm256_mul_ps(v, v), v));
        __m256 th =
            _mm256_sub_ps(one, _mm256_div_ps(two, _mm256_add_ps(exp8(_mm256_mul_ps(two, u)), one)));
        _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, th)));
    }
    gelu_tanh_c(x + i, n - i);
}

AVX2 static void softmax_avx2(float *s, int n)
{
    int j = 0;
    __m256 m8 = _mm256_set1_ps(-INFINITY);
    for (; j + 8 <= n; j += 8)
        m8 = _mm256_max_ps(m8, _mm256_loadu_ps(s + j));
    float mx = hmax8(m8);
    for (; j < n; j++)
        mx = s[j] > mx ? s[j] : mx;
    __m256 mxv = _mm256_set1_ps(mx), sum8 = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + j), mxv));
        _mm256_storeu_ps(s + j, e);
        sum8 = _mm256_add_ps(sum8, e);
    }
    float sum = hsum8(sum8);
    for (; j < n; j++) {
        s[j] = expf(s[j] - mx);
        sum += s[j];
    }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (j = 0; j + 8 <= n; j += 8)
        _mm256_storeu_ps(s + j, _mm256_mul_ps(_mm256_loadu_ps(s + j), inv));
    for (; j < n; j++)
        s[j] *= 1.0f / sum;
}

AVX2 static void layer_norm_avx2(float *v, int n, const float *w, const float *b, float eps)
{
    int j = 0;
    __m256 s8 = _mm256_setzero_ps();
    for (; j + 8 <= n; j += 8)
        s8 = _mm256_add_ps(s8, _mm256_loadu_ps(v + j));
    float s = hsum8(s8);
    for (; j < n; j++)
        s += v[j];
    float mean = s / (float)n;
    __m256 mv = _mm256_set1_ps(mean), q8 = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 d = _mm256_sub_ps(_mm256_loadu_ps(v + j), mv);
        q8 = _mm256_fmadd_ps(d, d, q8);
    }
    float q = hsum8(q8);
    for (; j < n; j++)
        q += (v[j] - mean) * (v[j] - mean);
    float inv = (float)(1.0 / sqrt((double)q / n + eps));
    __m256 iv = _mm256_set1_ps(inv);
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(v + j), mv), iv);
        _mm256_storeu_ps(v + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(w + j), _mm256_loadu_ps(b + j)));
    }
    for (; j < n; j++)
        v[j] = (v[j] - mean) * inv * w[j] + b[j];
}
#endif

/* ---------------------------------------------------------------- choice */

void nn_kern_portable(struct nn_kern *k)
{
    k->act[NN_ACT_GELU] = gelu_c;
    k->act[NN_ACT_GELU_TANH] = gelu_tanh_c;
    k->act[NN_ACT_RELU] = relu_c;
    k->softmax = softmax_c;
    k->layer_norm = layer_norm_c;
    k->name = "portable";
}

void nn_kern_pick(struct nn_kern *k)
{
    nn_kern_portable(k);
#ifdef NN_HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        k->act[NN_ACT_GELU] = gelu_avx2;
        k->act[NN_ACT_GELU_TANH] = gelu_tanh_avx2;
        k->softmax = softmax_avx2;
        k->layer_norm = layer_norm_avx2;
        k->name = "avx2";
    }
#endif
}
