/* kernel_cache.c: stub, to be written. */
typedef int kernel_cache_placeholder;
