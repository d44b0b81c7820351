# Memory-bound loop: sums the 64 KiB input as u64 words (ldxdw), 32 passes, and writes a running
# checksum back into the buffer every word (stxdw), so both loads and stores are exercised.
    mov %r0, 0
    mov %r6, 0
pass:
    mov %r3, %r1
    mov %r4, %r1
    add %r4, %r2
word:
    ldxdw %r5, [%r3]
    add %r0, %r5
    stxdw [%r3], %r0
    add %r3, 8
    jlt %r3, %r4, word
    add %r6, 1
    jlt %r6, 32, pass
    exit
