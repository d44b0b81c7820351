# Factorial with a loop (uBPF syntax).
# what: 10! computed with a counting-down loop
# expect: 0x375f00
#
# r0 accumulates the product, r1 counts down from N to 1.
mov %r0, 1
mov %r1, 10
loop:
mul %r0, %r1
sub %r1, 1
jgt %r1, 1, loop    # unsigned compare: stop once r1 reaches 1
exit
