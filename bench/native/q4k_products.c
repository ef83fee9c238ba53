// The Q4_K products alone, as a ceiling for StepSharp's Q4_K kernels (not part of the build).
//
// Each loop is the arithmetic the interleaved Q4_K kernel (src/StepSharp/Kernels/Dot/Q4_KInterleavedQ8Dot.cs) does
// per row and super-block for its products: four 32-byte weight vectors, low nibbles by AND, high nibbles by
// GFNI (or shift + AND), eight vpmaddubsw against int8 activations, int16 sums, two vpmaddwd against sub-block
// scales, one FMA. It leaves out everything else the real kernel does: the super-block header (6-bit scales and
// mins, fp16 d/dmin), the mins term, sharing activations over four rows, the final reductions. The 512-bit and
// 512-bit VNNI (vpdpbusd) forms show what those instructions would buy; .NET 10 exposes neither VNNI form on Zen 4.
// Weights stay in L1/L2 (64 rows x 1024 values), so this measures arithmetic, not memory.
//
// Build and run: gcc -O2 -march=native bench/native/q4k_products.c -o /tmp/q4k_products && /tmp/q4k_products
// Compare with `dotnet run -c Release --project bench/StepSharp.Bench -- quick rows Q4_K 1024` ("four rows
// interleaved") run right after it: on this machine 41-47 GB/s (ymm) here against 26-31 GB/s for the whole kernel.
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROWS 64
#define SUPER_BLOCKS 4   // 1024 values a row
#define BLOCK_BYTES 144  // a Q4_K super-block: 16 header bytes, then 128 bytes of nibbles

typedef void (*products_fn)(const uint8_t *w, const int8_t *q, const uint8_t *scales, float *y);

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// High nibbles: GFNI (one op, as the C# kernel does where the CPU has it) or shift + AND.
static inline __m256i high_gfni(__m256i w, __m256i mask) { (void)mask; return _mm256_gf2p8affine_epi64_epi8(w, _mm256_set1_epi64x(0x1020408000000000ULL), 0); }
static inline __m256i high_shift(__m256i w, __m256i mask) { return _mm256_and_si256(_mm256_srli_epi16(w, 4), mask); }

#define YMM_PRODUCTS(NAME, HIGH)                                                                                   \
    __attribute__((noinline)) static void NAME(const uint8_t *w, const int8_t *q, const uint8_t *sc, float *y) {    \
        __m256i mask = _mm256_set1_epi8(15);                                                                         \
        for (int r = 0; r < ROWS; r++) {                                                                             \
            __m256 acc = _mm256_setzero_ps();                                                                        \
            for (int b = 0; b < SUPER_BLOCKS; b++) {                                                                 \
                const uint8_t *p = w + (r * SUPER_BLOCKS + b) * BLOCK_BYTES + 16;                                    \
                const int8_t *qb = q + b * 256;                                                                      \
                __m256i w0 = _mm256_loadu_si256((const void *)p), w1 = _mm256_loadu_si256((const void *)(p + 32));   \
                __m256i w2 = _mm256_loadu_si256((const void *)(p + 64)), w3 = _mm256_loadu_si256((const void *)(p + 96)); \
                __m256i lo = _mm256_add_epi16(                                                                       \
                    _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w0, mask), _mm256_loadu_si256((const void *)qb)),         \
                                     _mm256_maddubs_epi16(_mm256_and_si256(w1, mask), _mm256_loadu_si256((const void *)(qb + 64)))), \
                    _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w2, mask), _mm256_loadu_si256((const void *)(qb + 128))), \
                                     _mm256_maddubs_epi16(_mm256_and_si256(w3, mask), _mm256_loadu_si256((const void *)(qb + 192))))); \
                __m256i hi = _mm256_add_epi16(                                                                       \
                    _mm256_add_epi16(_mm256_maddubs_epi16(HIGH(w0, mask), _mm256_loadu_si256((const void *)(qb + 32))),    \
                                     _mm256_maddubs_epi16(HIGH(w1, mask), _mm256_loadu_si256((const void *)(qb + 96)))),   \
                    _mm256_add_epi16(_mm256_maddubs_epi16(HIGH(w2, mask), _mm256_loadu_si256((const void *)(qb + 160))),   \
                                     _mm256_maddubs_epi16(HIGH(w3, mask), _mm256_loadu_si256((const void *)(qb + 224))))); \
                __m256i s = _mm256_loadu_si256((const void *)(sc + b * 32));                                         \
                __m256i sums = _mm256_add_epi32(_mm256_madd_epi16(lo, s), _mm256_madd_epi16(hi, _mm256_srli_epi16(s, 1))); \
                acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), _mm256_set1_ps(1.0f + b), acc);                      \
            }                                                                                                        \
            _mm256_storeu_ps(y + r * 8, acc);                                                                        \
        }                                                                                                            \
    }

YMM_PRODUCTS(ymm_gfni, high_gfni)
YMM_PRODUCTS(ymm_shift, high_shift)

// 512-bit: two weight vectors a load; VNNI: vpdpbusd instead of vpmaddubsw + vpaddw.
#define ZMM_PRODUCTS(NAME, DOT)                                                                                    \
    __attribute__((noinline)) static void NAME(const uint8_t *w, const int8_t *q, const uint8_t *sc, float *y) {    \
        __m512i mask = _mm512_set1_epi8(15), shift4 = _mm512_set1_epi64(0x1020408000000000ULL);                      \
        for (int r = 0; r < ROWS; r++) {                                                                             \
            __m512 acc = _mm512_setzero_ps();                                                                        \
            for (int b = 0; b < SUPER_BLOCKS; b++) {                                                                 \
                const uint8_t *p = w + (r * SUPER_BLOCKS + b) * BLOCK_BYTES + 16;                                    \
                const int8_t *qb = q + b * 256;                                                                      \
                __m512i wa = _mm512_loadu_si512((const void *)p), wb = _mm512_loadu_si512((const void *)(p + 64));   \
                __m512i lo = DOT(_mm512_and_si512(wa, mask), _mm512_loadu_si512((const void *)qb),                   \
                                 _mm512_and_si512(wb, mask), _mm512_loadu_si512((const void *)(qb + 64)));           \
                __m512i hi = DOT(_mm512_gf2p8affine_epi64_epi8(wa, shift4, 0), _mm512_loadu_si512((const void *)(qb + 128)), \
                                 _mm512_gf2p8affine_epi64_epi8(wb, shift4, 0), _mm512_loadu_si512((const void *)(qb + 192))); \
                __m512i s = _mm512_loadu_si512((const void *)(sc + b * 64));                                         \
                __m512i sums = _mm512_add_epi32(SCALE(lo, s), SCALE(hi, _mm512_srli_epi16(s, 1)));                   \
                acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_set1_ps(1.0f + b), acc);                      \
            }                                                                                                        \
            _mm512_storeu_ps(y + r * 16, acc);                                                                       \
        }                                                                                                            \
    }

#define SCALE(v, s) _mm512_madd_epi16(v, s)
#define DOT_MADDUBS(a, x, b, z) _mm512_add_epi16(_mm512_maddubs_epi16(a, x), _mm512_maddubs_epi16(b, z))
ZMM_PRODUCTS(zmm, DOT_MADDUBS)
#undef SCALE
#define SCALE(v, s) _mm512_mullo_epi32(v, s)
#define DOT_VNNI(a, x, b, z) _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(_mm512_setzero_si512(), a, x), b, z)
ZMM_PRODUCTS(zmm_vnni, DOT_VNNI)

int main(void) {
    size_t weight_bytes = ROWS * SUPER_BLOCKS * BLOCK_BYTES + 256;
    uint8_t *w = aligned_alloc(64, weight_bytes);
    int8_t *q = aligned_alloc(64, SUPER_BLOCKS * 256 + 64);
    uint8_t *sc = aligned_alloc(64, SUPER_BLOCKS * 64);
    float *y = aligned_alloc(64, ROWS * 16 * sizeof(float));
    for (size_t i = 0; i < weight_bytes; i++) w[i] = (uint8_t)rand();
    for (int i = 0; i < SUPER_BLOCKS * 256 + 64; i++) q[i] = (int8_t)rand();
    for (int i = 0; i < SUPER_BLOCKS * 64; i++) sc[i] = rand() & 63;
    const char *names[] = {"ymm gfni", "ymm shift", "zmm", "zmm vnni"};
    products_fn fns[] = {ymm_gfni, ymm_shift, zmm, zmm_vnni};
    // Rounds alternate the forms, so a change in what the machine leaves us hits all of them alike.
    for (int round = 0; round < 5; round++) {
        for (int k = 0; k < 4; k++) {
            for (int i = 0; i < 1000; i++) fns[k](w, q, sc, y);
            double start = now();
            long calls = 0;
            while (now() - start < 0.3) {
                for (int i = 0; i < 1000; i++) fns[k](w, q, sc, y);
                calls += 1000;
            }
            printf("%s %.1f GB/s   ", names[k], calls * (double)ROWS * SUPER_BLOCKS * BLOCK_BYTES / (now() - start) / 1e9);
        }
        printf("\n");
    }
    return 0;
}
