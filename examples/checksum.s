# Internet checksum (RFC 1071) of an IPv4 header (uBPF syntax).
# what: IPv4 header checksum over the input bytes (r1 = data, r2 = length)
# expect: 0xb861
# The header from Wikipedia's "IPv4 header checksum" example, checksum field zeroed:
# mem: 45 00 00 73 00 00 40 00 40 11 00 00 c0 a8 00 01 c0 a8 00 c7
#
# Sum the 16-bit big-endian words, fold the carries back in, and return the one's complement.
mov %r0, 0
loop:
jlt %r2, 2, fold
ldxh %r3, [%r1]
be16 %r3            # loads are little-endian; the header is in network byte order
add %r0, %r3
add %r1, 2
sub %r2, 2
ja loop
fold:
mov %r3, %r0
rsh %r3, 16
and %r0, 0xffff
add %r0, %r3
mov %r3, %r0
rsh %r3, 16
jne %r3, 0, fold
xor %r0, 0xffff
exit
