/*
** stream_batch.h: the first two draws of the streams of PRT_BATCH
** consecutive iterations of a parallel loop, computed together
** (kernel_rt.h's prt_batch). Generated kernels reach it through their context
** (prt_ctx.batch_fill); the hand-written references of scripts/bench/ref
** call it directly.
*/
#ifndef PARLUA_STREAM_BATCH_H
#define PARLUA_STREAM_BATCH_H

#include "kernel_rt.h"

/* Fills b with the first two draws of the streams of iterations first ..
** first + PRT_BATCH - 1 (1-based) of the loop whose keys are s. */
void par_stream_batch(prt_batch *restrict b, const prt_keys *s, int64_t first);

/* The portable version of par_stream_batch, and whether the CPU runs the
** AVX-512 one (for tests, which compare the two). */
void par_stream_batch_portable(prt_batch *restrict b, const prt_keys *s, int64_t first);
int par_stream_batch_has_avx512(void);

#endif
