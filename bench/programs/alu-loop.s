# ALU-bound loop: 64-bit xorshift PRNG plus 32-bit mixing, 2M iterations, registers only.
    lddw %r1, 0x9e3779b97f4a7c15
    mov %r0, 0
    mov %r3, 0
    lddw %r4, 2000000
loop:
    mov %r2, %r1
    lsh %r2, 13
    xor %r1, %r2
    mov %r2, %r1
    rsh %r2, 7
    xor %r1, %r2
    mov %r2, %r1
    lsh %r2, 17
    xor %r1, %r2
    add %r0, %r1
    add32 %r0, 0x1234
    add %r3, 1
    jlt %r3, %r4, loop
    exit
