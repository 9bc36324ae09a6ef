/* native.c: stub, to be written. */
typedef int native_placeholder;
