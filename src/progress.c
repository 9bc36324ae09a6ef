/* progress.c: stub, to be written. */
typedef int progress_placeholder;
