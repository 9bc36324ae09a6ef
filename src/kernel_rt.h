/* kernel_rt.h: stub; the runtime header that generated kernels start with. */
