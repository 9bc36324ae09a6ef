/* worker_pool.c: stub, to be written. */
typedef int worker_pool_placeholder;
