// StepSharp's four-row interleaved Q4_K kernel (src/StepSharp/Kernels/Dot/Q4_KInterleavedQ8Dot.cs, Avx2Rows4 with
// Q4_KQ8Dot.Headers4) ported to C, with parts taken out, to see where its time goes (not part of the build).
//
// Forms, alternated within each round so a change in what the shared machine leaves us hits all of them alike:
//   full          the kernel as StepSharp runs it (less its software prefetch)
//   products      the same with constant scales: only the products (the compiler folds the scale shuffles away)
//   header        only the super-block header work: 4x4 transposition, 6-bit scales/mins, fp16 d/dmin, mins term
//   no-transpose  full, with each row's header taken as if already transposed (wrong numbers, the same other work)
//   lane-pairs    full, with row scale bytes broadcast to 128-bit lanes two rows at a time instead of vpermq a row
// Weights stay in L1/L2 (64 rows x 1024 values): arithmetic, not memory.
//
// Build and run: gcc -O2 -march=native bench/native/q4k_kernel_ablation.c -o /tmp/q4k_ablation && /tmp/q4k_ablation
// Seen on the project's Zen 4 (2026-12-07, GB/s of weights, two runs of 5 rounds): full 16-20, products 30-43,
// header 34-41 (its loads are the first touch of each group's lines), no-transpose 18-24, lane-pairs 13-18. The
// header costs about as much as the products and the two add up; computing the next super-block's header a step
// ahead did not help (tried, not kept). The C# kernel itself runs at 21-31 in cache (`quick rows Q4_K 1024`, with
// its software prefetch): a pre-transposed header layout is the lead worth following (see the README).
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROWS 64
#define VALUES 1024
#define BLOCK_BYTES 144

enum form { FULL, PRODUCTS, HEADER, NO_TRANSPOSE, LANE_PAIRS, FORMS };
static const char *names[FORMS] = {"full", "products", "header", "no-transpose", "lane-pairs"};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

// Widen.HalfBits256: 8 fp16 bit patterns (low 16 bits of each lane) to floats, inf/NaN kept.
static inline __m256 half_bits(__m256i u) {
    __m256i magnitude = _mm256_slli_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fff)), 13);
    __m256 f = _mm256_mul_ps(_mm256_castsi256_ps(magnitude), _mm256_set1_ps(0x1p112f));
    __m256i special = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7c00)), _mm256_set1_epi32(0x7c00));
    __m256i bits = _mm256_blendv_epi8(_mm256_castps_si256(f), _mm256_or_si256(magnitude, _mm256_set1_epi32(0x7f800000)), special);
    return _mm256_castsi256_ps(_mm256_or_si256(bits, _mm256_slli_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x8000)), 16)));
}

static inline __m256i high_nibbles(__m256i w) { return _mm256_gf2p8affine_epi64_epi8(w, _mm256_set1_epi64x(0x1020408000000000ULL), 0); }

static inline __m256i load(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

// Q4_KInterleavedQ8Dot.Products: one row's super-block, low nibbles (sub-blocks 0-3) and high (4-7) scaled once each.
static inline __m256i products(const uint8_t *p, const int8_t *qb, __m256i sc, __m256i low_control, __m256i high_control) {
    __m256i mask = _mm256_set1_epi8(15);
    __m256i w0 = load(p + 16), w1 = load(p + 48), w2 = load(p + 80), w3 = load(p + 112);
    __m256i lo = _mm256_add_epi16(
        _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w0, mask), load(qb)), _mm256_maddubs_epi16(_mm256_and_si256(w1, mask), load(qb + 64))),
        _mm256_add_epi16(_mm256_maddubs_epi16(_mm256_and_si256(w2, mask), load(qb + 128)), _mm256_maddubs_epi16(_mm256_and_si256(w3, mask), load(qb + 192))));
    __m256i hi = _mm256_add_epi16(
        _mm256_add_epi16(_mm256_maddubs_epi16(high_nibbles(w0), load(qb + 32)), _mm256_maddubs_epi16(high_nibbles(w1), load(qb + 96))),
        _mm256_add_epi16(_mm256_maddubs_epi16(high_nibbles(w2), load(qb + 160)), _mm256_maddubs_epi16(high_nibbles(w3), load(qb + 224))));
    return _mm256_add_epi32(_mm256_madd_epi16(lo, _mm256_shuffle_epi8(sc, low_control)), _mm256_madd_epi16(hi, _mm256_shuffle_epi8(sc, high_control)));
}

static inline __m256 row_scale(__m256 scales, int lane) { return _mm256_permutevar8x32_ps(scales, _mm256_set1_epi32(lane)); }

__attribute__((noinline)) static void rows4(enum form form, const uint8_t *group, const int8_t *q, const float *dq, const int16_t *bsums, int n, float *y) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0, mins = acc0;
    __m256i low_control = _mm256_setr_epi16(0x8000, 0x8000, 0x8000, 0x8000, 0x8001, 0x8001, 0x8001, 0x8001,
                                            0x8002, 0x8002, 0x8002, 0x8002, 0x8003, 0x8003, 0x8003, 0x8003);
    __m256i high_control = _mm256_add_epi16(low_control, _mm256_set1_epi16(4));
    for (int b = 0; b < n / 256; b++) {
        const uint8_t *p0 = group + b * 4 * BLOCK_BYTES, *p1 = p0 + BLOCK_BYTES, *p2 = p1 + BLOCK_BYTES, *p3 = p2 + BLOCK_BYTES;
        const int8_t *qb = q + b * 256;
        __m256i row_scale_bytes;
        __m256 row_scales;
        if (form == PRODUCTS) {
            row_scale_bytes = _mm256_set1_epi8(3);
            row_scales = _mm256_set1_ps(0.5f);
        } else {
            // Q4_KQ8Dot.Headers4: the four 16-byte headers transposed to d|dmin, and the 6-bit scales and mins.
            __m128i h0 = _mm_loadu_si128((const __m128i *)p0), h1 = _mm_loadu_si128((const __m128i *)p1);
            __m128i h2 = _mm_loadu_si128((const __m128i *)p2), h3 = _mm_loadu_si128((const __m128i *)p3);
            __m128i d_and_min = h0, a = h1, bb = h2, c = h3;
            if (form != NO_TRANSPOSE) {
                __m128i t0 = _mm_unpacklo_epi32(h0, h1), t1 = _mm_unpacklo_epi32(h2, h3);
                __m128i t2 = _mm_unpackhi_epi32(h0, h1), t3 = _mm_unpackhi_epi32(h2, h3);
                d_and_min = _mm_unpacklo_epi64(t0, t1), a = _mm_unpackhi_epi64(t0, t1), bb = _mm_unpacklo_epi64(t2, t3), c = _mm_unpackhi_epi64(t2, t3);
            }
            __m128i six = _mm_set1_epi32(0x3f3f3f3f), four = _mm_set1_epi32(0x0f0f0f0f), two = _mm_set1_epi32(0x03030303);
            __m128i scales_lo = _mm_and_si128(a, six), mins_lo = _mm_and_si128(bb, six);
            __m128i scales_hi = _mm_or_si128(_mm_and_si128(c, four), _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(a, 6), two), 4));
            __m128i mins_hi = _mm_or_si128(_mm_and_si128(_mm_srli_epi32(c, 4), four), _mm_slli_epi32(_mm_and_si128(_mm_srli_epi32(bb, 6), two), 4));
            row_scales = _mm256_mul_ps(half_bits(_mm256_cvtepu16_epi32(d_and_min)), _mm256_set1_ps(dq[b]));
            __m256i pair_sums = _mm256_madd_epi16(load(bsums + 16 * b), _mm256_set1_epi16(1));
            __m256i packed = _mm256_packs_epi32(pair_sums, pair_sums);
            __m256i m = _mm256_add_epi32(_mm256_madd_epi16(_mm256_cvtepu8_epi16(mins_lo), _mm256_permute4x64_epi64(packed, 0x00)),
                                         _mm256_madd_epi16(_mm256_cvtepu8_epi16(mins_hi), _mm256_permute4x64_epi64(packed, 0xAA)));
            mins = _mm256_fmadd_ps(_mm256_cvtepi32_ps(m), _mm256_movehdup_ps(row_scales), mins);
            row_scale_bytes = _mm256_set_m128i(_mm_unpackhi_epi32(scales_lo, scales_hi), _mm_unpacklo_epi32(scales_lo, scales_hi));
        }
        if (form == HEADER) {
            acc0 = _mm256_add_ps(acc0, _mm256_castsi256_ps(row_scale_bytes));
            acc1 = _mm256_add_ps(acc1, row_scales);
            continue;
        }
        __m256i s0, s1, s2, s3, c_lo = low_control, c_hi = high_control, c_lo1 = low_control, c_hi1 = high_control;
        if (form == LANE_PAIRS) {
            __m128i rows01 = _mm256_castsi256_si128(row_scale_bytes), rows23 = _mm256_extracti128_si256(row_scale_bytes, 1);
            s0 = s1 = _mm256_set_m128i(rows01, rows01);
            s2 = s3 = _mm256_set_m128i(rows23, rows23);
            c_lo1 = _mm256_add_epi16(low_control, _mm256_set1_epi16(8));
            c_hi1 = _mm256_add_epi16(high_control, _mm256_set1_epi16(8));
        } else {
            s0 = _mm256_permute4x64_epi64(row_scale_bytes, 0x00), s1 = _mm256_permute4x64_epi64(row_scale_bytes, 0x55);
            s2 = _mm256_permute4x64_epi64(row_scale_bytes, 0xAA), s3 = _mm256_permute4x64_epi64(row_scale_bytes, 0xFF);
        }
        acc0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(p0, qb, s0, c_lo, c_hi)), row_scale(row_scales, 0), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(p1, qb, s1, c_lo1, c_hi1)), row_scale(row_scales, 2), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(p2, qb, s2, c_lo, c_hi)), row_scale(row_scales, 4), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(products(p3, qb, s3, c_lo1, c_hi1)), row_scale(row_scales, 6), acc3);
    }
    // Q4_KQ8Dot.Store4: the four rows' totals minus their mins terms.
    __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(acc0, acc1), _mm256_hadd_ps(acc2, acc3));
    __m128 sums = _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
    __m256 min_pairs = _mm256_hadd_ps(mins, mins);
    __m128 row_mins = _mm256_castps256_ps128(_mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(min_pairs), 0x08)));
    _mm_storeu_ps(y, _mm_sub_ps(sums, row_mins));
}

int main(void) {
    const long row_bytes = (VALUES / 256) * BLOCK_BYTES;
    uint8_t *w = aligned_alloc(64, ROWS * row_bytes + 64);
    int8_t *q = aligned_alloc(64, VALUES);
    float *dq = aligned_alloc(64, 64), *y = aligned_alloc(64, ROWS * sizeof(float)), check[4];
    int16_t *bsums = aligned_alloc(64, VALUES / 16 * sizeof(int16_t) + 64);
    for (long i = 0; i < ROWS * row_bytes; i++) w[i] = (uint8_t)rand();
    for (int i = 0; i < VALUES; i++) q[i] = (int8_t)rand();
    for (int i = 0; i < VALUES / 256; i++) dq[i] = 0.01f;
    for (int i = 0; i < VALUES / 16; i++) bsums[i] = (int16_t)(rand() % 2000);
    for (long blk = 0; blk < ROWS * (VALUES / 256); blk++) {  // finite, modest d and dmin
        w[blk * BLOCK_BYTES + 1] &= 0x3b;
        w[blk * BLOCK_BYTES + 3] &= 0x3b;
    }
    rows4(FULL, w, q, dq, bsums, VALUES, y);
    rows4(LANE_PAIRS, w, q, dq, bsums, VALUES, check);
    printf("lane-pairs gives the full form's results: %s\n", y[0] == check[0] && y[3] == check[3] ? "yes" : "NO");
    for (int round = 0; round < 5; round++) {
        for (int form = 0; form < FORMS; form++) {
            double start = now();
            long calls = 0;
            while (now() - start < 0.3) {
                for (int i = 0; i < 100; i++)
                    for (int r = 0; r < ROWS; r += 4) rows4((enum form)form, w + r * row_bytes, q, dq, bsums, VALUES, y + r);
                calls += 100;
            }
            printf("%s %.1f   ", names[form], calls * (double)ROWS * row_bytes / (now() - start) / 1e9);
        }
        printf("GB/s\n");
    }
    return 0;
}
