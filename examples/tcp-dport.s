; Packet field parsing (LLVM syntax, as printed by llvm-objdump -d).
; what: TCP destination port of an Ethernet/IPv4 packet (0 when not IPv4/TCP)
; expect: 0x50
; The packet (r1 = its bytes, r2 = its length): Ethernet, IPv4 (IHL 5), TCP 10000 -> 80.
; mem: 00 01 02 03 04 05 00 06 07 08 09 0a 08 00 45 00
; mem: 00 28 00 01 00 00 40 06 f9 4d c0 a8 00 01 c0 a8
; mem: 00 02 27 10 00 50 00 00 00 00 00 00 00 00 50 02
; mem: 20 00 c5 18 00 00
	r0 = 0
	r3 = *(u16 *)(r1 + 12)      ; EtherType, in network byte order
	r3 = be16 r3
	if r3 != 0x800 goto out
	r3 = *(u8 *)(r1 + 23)       ; IPv4 protocol
	if r3 != 6 goto out
	r3 = *(u8 *)(r1 + 14)       ; version and IHL: the IPv4 header is IHL * 4 bytes
	r3 &= 0xf
	r3 <<= 2
	r1 += r3
	r0 = *(u16 *)(r1 + 16)      ; 14 (Ethernet) + IHL * 4 + 2: the TCP destination port
	r0 = be16 r0
out:
	exit
