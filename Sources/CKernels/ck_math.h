/*
 * ck_math.h — branch-free float math for the kernels in this folder, written so that loops
 * calling it vectorise (no libm calls, selects instead of branches).
 */
#ifndef CK_MATH_H
#define CK_MATH_H

#include <stdint.h>
#include <string.h>

/** Forces inlining: the loops that call these only vectorise when the calls are gone. */
#define CK_INLINE static inline __attribute__((always_inline))

/** e^x for x <= 0 (arguments above 0 are not supported): 0 below -87.3 (where e^x leaves the
 *  normal range), NaN for NaN, else the Cephes expf polynomial (about 1 ulp). Restricting the
 *  range saves the general version's second exponent scale and overflow/NaN selects. */
CK_INLINE float ck_exp_nonpositive(float x) {
    const float lo = -87.33654f, magic = 12582912.0f; /* 1.5 * 2^23 */
    const float xc = x < lo ? lo : x;
    const float t = xc * 1.44269504088896341f + magic;
    const float n = t - magic;
    const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f, y, s;
    int32_t ti, b;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    y = p * (r * r) + r + 1.0f;
    memcpy(&ti, &t, sizeof ti);
    b = (ti - 0x4B400000 + 127) << 23;
    memcpy(&s, &b, sizeof s);
    return x < lo ? 0.0f : y * s;
}

/** ½·erfc(z) for z >= 0, given e^(-z²) (callers that also need the normal density compute it
 *  once): erfc(z) = t·e^(-z²)·Q(t) with t = 1/(1 + z/2), as in Numerical Recipes' `erfcc`, but
 *  with Q, the scaled complementary error function erfc(z)·e^(z²)/t, a degree-10 polynomial in
 *  u = 2t - 1 (a least-squares Chebyshev fit, relative error 1.4e-8, about 2e-7 evaluated in
 *  float) instead of e^P(t): one exponential less, and the tails keep their relative accuracy
 *  (unlike 1 - erf). */
CK_INLINE float ck_half_erfc(float z, float exp_minus_z2) {
    const float t = 1.0f / (1.0f + 0.5f * z);
    const float u = 2.0f * t - 1.0f;
    float q = 4.222910017e-05f;
    q = q * u + -3.664192058e-05f;
    q = q * u + -2.995522068e-04f;
    q = q * u + 4.307569436e-04f;
    q = q * u + 1.529306739e-03f;
    q = q * u + -3.243513896e-03f;
    q = q * u + -1.075168086e-02f;
    q = q * u + 1.822168579e-02f;
    q = q * u + 1.397357407e-01f;
    q = q * u + 3.435803176e-01f;
    q = q * u + 5.107913568e-01f;
    return 0.5f * t * q * exp_minus_z2;
}

/** The standard normal CDF Φ(x) = ½·erfc(-x/√2) given e^(-x²/2), relative error about 3e-7. */
CK_INLINE float ck_normal_cdf(float x, float exp_minus_half_x2) {
    const float h = ck_half_erfc(__builtin_fabsf(x) * 0.70710678118654752f, exp_minus_half_x2);
    return x > 0.0f ? 1.0f - h : h;
}

#endif
