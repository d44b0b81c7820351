/**
 * bpf_get_prandom_u32's generator: the kernel's prandom_u32_state, a combined Tausworthe generator
 * (L'Ecuyer's LFSR113), seeded like prandom_seed_state and warmed up like prandom_warmup. The kernel
 * seeds it randomly at boot; here the seed is part of the configuration, so a run is reproducible.
 */
export class Prandom {
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;
  private s4 = 0;

  constructor(seed: bigint | number = 0) {
    this.seed(seed);
  }

  /** prandom_seed_state: one 32-bit mix of the 64-bit seed, each component kept above its minimum. */
  seed(seed: bigint | number): void {
    const s = BigInt.asUintN(64, BigInt(seed));
    const i = Number(((s >> 32n) ^ (s << 10n) ^ s) & 0xffffffffn) >>> 0;
    const atLeast = (x: number, m: number) => (x < m ? x + m : x) >>> 0;
    this.s1 = atLeast(i, 2);
    this.s2 = atLeast(i, 8);
    this.s3 = atLeast(i, 16);
    this.s4 = atLeast(i, 128);
    // prandom_warmup: the first outputs of a fresh state are poorly mixed.
    for (let k = 0; k < 10; k++) this.next();
  }

  next(): number {
    const taus = (s: number, a: number, b: number, c: number, d: number) =>
      (((s & c) << d) ^ (((s << a) ^ s) >>> b)) >>> 0;
    this.s1 = taus(this.s1, 6, 13, 0xfffffffe, 18);
    this.s2 = taus(this.s2, 2, 27, 0xfffffff8, 2);
    this.s3 = taus(this.s3, 13, 21, 0xfffffff0, 7);
    this.s4 = taus(this.s4, 3, 12, 0xffffff80, 13);
    return (this.s1 ^ this.s2 ^ this.s3 ^ this.s4) >>> 0;
  }
}
