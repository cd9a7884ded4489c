/* decimal.h - the common short decimal ([+-]digits[.digits], at most 8 digits on each side of the point)
 * read without a loop per digit (SSE2 + SWAR), for the value checks of checks/schema_check.c and the
 * statistics of checks/stats.c. Callers fall back to their byte-at-a-time parser whenever it declines. */
#ifndef MLCI_DECIMAL_H
#define MLCI_DECIMAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#include <emmintrin.h>

#define DECIMAL_SWAR 1
/* Bytes that must be readable from the start of a field of at most 16 bytes for decimal_swar. */
#define DECIMAL_READABLE 32

static const uint64_t decimal_pow10_u64[9] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000 };

/* The value of the n (0 to 8) decimal digits at p, 8 bytes readable there. */
static inline uint64_t decimal_digits8(const char *p, size_t n)
{
	uint64_t w;
	memcpy(&w, p, 8);
	w = ((w & UINT64_C(0x0F0F0F0F0F0F0F0F)) << (4 * (8 - n))) << (4 * (8 - n)); /* n digits, zeros before */
	w = (w * 10 + (w >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
	w = (w * 100 + (w >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
	return (w * 10000 + (w >> 32)) & UINT64_C(0xFFFFFFFF);
}

/* The field p[0, len), 1 <= len <= 16, with DECIMAL_READABLE bytes readable at p: when it is
 * [+-]digits[.digits] with at least one digit, at most 8 before and 8 after the point, 1 with the
 * digits as one integer in *m and the number of digits after the point in *nf (the value is +-m/10^nf;
 * the sign is p[0]); 0 for any other text. */
static inline __attribute__((always_inline)) int decimal_swar(const char *p, size_t len, uint64_t *m, size_t *nf)
{
	const __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_set1_epi8('0'));
	unsigned all = (1u << len) - 1, sgn = p[0] == '-' || p[0] == '+',
		 dig = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(9)), x)) & all,
		 other = ~dig & all & ~sgn;
	size_t k, n_int;
	if (!other) {
		k = len;
		n_int = len - sgn;
		*nf = 0;
	} else {
		k = (size_t)__builtin_ctz(other);
		if (other & (other - 1) || p[k] != '.')
			return 0;
		n_int = k - sgn;
		*nf = len - k - 1;
	}
	if (n_int > 8 || *nf > 8 || !(n_int + *nf))
		return 0;
	*m = decimal_digits8(p + sgn, n_int) * decimal_pow10_u64[*nf] + decimal_digits8(p + k + 1, *nf);
	return 1;
}
#endif

#endif
