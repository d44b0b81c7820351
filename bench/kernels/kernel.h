/*
 * The one macro layer between a kernel and its target, so native x86-64, BPF and wasm32 compile the
 * same C. A kernel defines KERNEL(kernel_init) (fills its inputs once, untimed) and KERNEL(kernel_run)
 * (the timed work, returning a checksum every engine must agree on). Inputs live in globals: a BPF
 * program has a 512-byte stack, and a global is plain memory on every target.
 */
#ifndef BENCH_KERNEL_H
#define BENCH_KERNEL_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#ifdef __bpf__
/* A syscall program: callable with any context, no packet, run by the loader like any other. */
#define KERNEL(name) __attribute__((section("syscall"), used)) u64 name(void *ctx)
#else
#define KERNEL(name) __attribute__((visibility("default"))) u64 name(void *ctx)
#endif

/* Subprograms: in BPF these stay bpf-to-bpf calls. */
#define NOINLINE static __attribute__((noinline))

#endif
