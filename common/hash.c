/* hash.c - FNV-1a 64 helpers. */
#include "hash.h"

#include <stdio.h>
#include <string.h>

uint64_t hash_fnv1a64_str(const char *s)
{
    return hash_fnv1a64(s, strlen(s));
}

char *hash_hex16(uint64_t h, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)h);
    return out;
}
