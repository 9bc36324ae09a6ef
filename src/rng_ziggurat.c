/* rng_ziggurat.c: stub */
typedef int ziggurat_placeholder;
