#ifndef CSHA256_H
#define CSHA256_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA extensions (and SSSE3, SSE4.1) that csha256_blocks uses, else 0.
int csha256_hardware_available(void);

/// Runs SHA-256's compression function over `blocks` 64-byte blocks at `data`, updating `state` (the
/// eight working words H0..H7, in order). Only call it when csha256_hardware_available() returned 1.
void csha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

/// FIPS 180-4's 64 round constants (a static table of exactly 64 words): the portable rounds use it too.
const uint32_t *csha256_round_constants(void);

#endif
