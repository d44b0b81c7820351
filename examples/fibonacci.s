# Fibonacci through bpf-to-bpf calls (uBPF syntax).
# what: fib(10) + fib(20) via two `call local` calls (r6 survives the second call)
# expect: 0x1aa4
#
# The caller keeps fib(10) in r6, which the callee must preserve (r6-r9 are callee-saved);
# arguments go in r1 and the result comes back in r0. 55 + 6765 = 6820 = 0x1aa4.
mov %r1, 10
call local fib
mov %r6, %r0
mov %r1, 20
call local fib
add %r0, %r6
exit

# fib(r1): iterative, a = fib(i), b = fib(i + 1); clobbers r6 and r7 on purpose.
fib:
mov %r6, 0          # a
mov %r7, 1          # b
step:
jeq %r1, 0, done
mov %r2, %r6
add %r2, %r7
mov %r6, %r7
mov %r7, %r2
sub %r1, 1
ja step
done:
mov %r0, %r6
exit
