/*
 * Test fixture: plain C functions (not a plugin) that the tests bind by library + symbol +
 * prototype and call through libffi. Together they cover every argument and return type the
 * prototype parser accepts: each narrow integer is widened or narrowed by the callee so that a
 * value passed or read with the wrong width or signedness gives a different result; floats and
 * doubles cross in both directions; many mixed arguments overflow the registers onto the stack;
 * buffers are read and written by the callee.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Arguments of each width, returned widened to 64 bits (sign or zero extension by the callee). */
int64_t widen_i8(int8_t x) { return x; }
int64_t widen_i16(int16_t x) { return x; }
int64_t widen_i32(int32_t x) { return x; }
uint64_t widen_u8(uint8_t x) { return x; }
uint64_t widen_u16(uint16_t x) { return x; }
uint64_t widen_u32(uint32_t x) { return x; }

/* Returns of each width, from a 64-bit argument that is within the narrow type's range. */
int8_t narrow_i8(int64_t x) { return (int8_t)x; }
int16_t narrow_i16(int64_t x) { return (int16_t)x; }
int32_t narrow_i32(int64_t x) { return (int32_t)x; }
uint8_t narrow_u8(uint64_t x) { return (uint8_t)x; }
uint16_t narrow_u16(uint64_t x) { return (uint16_t)x; }
uint32_t narrow_u32(uint64_t x) { return (uint32_t)x; }

/* 64-bit and the C names. */
int64_t sub_i64(int64_t a, int64_t b) { return a - b; }
uint64_t add_u64(uint64_t a, uint64_t b) { return a + b; }
int mul_int(int a, int b) { return a * b; }
long sub_long(long a, long b) { return a - b; }
size_t add_size(size_t a, size_t b) { return a + b; }

/* bool both ways. */
bool both(bool a, _Bool b) { return a && b; }
bool is_negative(double x) { return x < 0; }

/* float and double both ways: a float passed or returned as a double reads as another value. */
double float_to_double(float x) { return (double)x; }
float double_to_float(double x) { return (float)x; }
float third_f(float x) { return x / 3.0f; }
double third_d(double x) { return x / 3.0; }

/* 18 parameters: 8 integers and 10 floating-point values, more than the x86-64 System V
 * registers (6 integer, 8 vector), so the last ones are passed on the stack. */
double mixed(int8_t a, uint16_t b, int32_t c, int64_t d, float e, double f, bool g, uint8_t h,
             float i, double j, int64_t k, double l, float m, double n, double o, double p,
             double q, int32_t r) {
    return a + 2.0 * b + 3.0 * c + 4.0 * (double)d + 5.0 * e + 6.0 * f + 7.0 * g + 8.0 * h +
           9.0 * i + 10.0 * j + 11.0 * (double)k + 12.0 * l + 13.0 * m + 14.0 * n + 15.0 * o +
           16.0 * p + 17.0 * q + 18.0 * r;
}

/* Strings in and out. */
size_t byte_length(const char *s) { return strlen(s); }
bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }
const char *ordinal(int32_t i) {
    static const char *const names[] = {"zero", "one", "two"};
    return i >= 0 && i < 3 ? names[i] : NULL; /* NULL for anything else */
}

/* Buffers read and written by the callee. */
double sum_floats(const float *x, size_t n) {
    double s = 0;
    size_t i;
    for (i = 0; i < n; ++i) s += x[i];
    return s;
}
void scale_floats(float *x, int64_t n, float factor) {
    int64_t i;
    for (i = 0; i < n; ++i) x[i] *= factor;
}
double dot(const float *a, size_t na, const float *b, int64_t nb) {
    double s = 0;
    size_t i;
    if ((int64_t)na != nb) return -1;
    for (i = 0; i < na; ++i) s += (double)a[i] * b[i];
    return s;
}
/* Writes prefix sums of x into out; returns how many it wrote. */
int64_t prefix_sums(const float *x, size_t n, float *out, size_t m) {
    float s = 0;
    size_t i;
    for (i = 0; i < n && i < m; ++i) out[i] = s += x[i];
    return (int64_t)i;
}

/* No parameters, and no result. */
int32_t forty_two(void) { return 42; }
static int32_t counter;
void bump(int32_t by) { counter += by; }
int32_t counter_value(void) { return counter; }

/* Pure and a little slow: for calls from several threads at once. */
int64_t collatz_steps(int64_t n) {
    int64_t steps = 0;
    while (n > 1) {
        n = n % 2 == 0 ? n / 2 : 3 * n + 1;
        ++steps;
    }
    return steps;
}
