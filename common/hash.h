/* hash.h - FNV-1a 64: the one non-cryptographic hash of vericite (content hashes, cache keys,
 * seeds), and its 32-bit variant where a 32-bit value is kept (term slots, held-out splits).
 * Stable across versions and machines: stored hashes and the trainer's splits depend on them. */
#ifndef VC_HASH_H
#define VC_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_INIT 0xcbf29ce484222325ull
#define HASH_FNV_PRIME 0x100000001b3ull

/* Continue an FNV-1a 64 hash `h` (start from HASH_FNV_INIT) over `n` bytes of `p`. */
static inline uint64_t hash_fnv1a64_update(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * HASH_FNV_PRIME;
    return h;
}

/* FNV-1a 64 of `n` bytes of `p`. */
static inline uint64_t hash_fnv1a64(const void *p, size_t n)
{
    return hash_fnv1a64_update(HASH_FNV_INIT, p, n);
}

#define HASH_FNV32_INIT 2166136261u
#define HASH_FNV32_PRIME 16777619u

/* FNV-1a 32 of `n` bytes of `p`. */
static inline uint32_t hash_fnv1a32(const void *p, size_t n)
{
    const unsigned char *s = p;
    uint32_t h = HASH_FNV32_INIT;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * HASH_FNV32_PRIME;
    return h;
}

/* FNV-1a 64 of a NUL-terminated string (the NUL not included). */
uint64_t hash_fnv1a64_str(const char *s);

/* Write h as 16 lowercase hex digits and a NUL to out (17 bytes). Returns out. */
char *hash_hex16(uint64_t h, char out[17]);

#endif
