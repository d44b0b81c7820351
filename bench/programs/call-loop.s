# Call-heavy program: 300k iterations, each calling a function that calls two helpers-in-BPF
# (bpf-to-bpf calls three frames deep; the kernel allows at most 8 frames, so no deep recursion).
    mov %r0, 0
    mov %r6, 0
loop:
    mov %r1, %r6
    call local mix
    add %r7, %r0
    add %r6, 1
    jlt %r6, 300000, loop
    mov %r0, %r7
    exit
mix:
    mov %r6, %r1
    call local square
    mov %r7, %r0
    mov %r1, %r6
    add %r1, 3
    call local square
    add %r0, %r7
    exit
square:
    mov %r0, %r1
    mul %r0, %r1
    exit
