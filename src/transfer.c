/* transfer.c: stub, to be written. */
typedef int transfer_placeholder;
