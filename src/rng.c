/* rng.c: stub */
typedef int rng_placeholder;
