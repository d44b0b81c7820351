/**
 * What the packet helpers need from a network program's context: the packet's bounds as guest
 * addresses, movable by the xdp_adjust_* helpers. contexts/packet.ts's PacketBuffer implements it
 * (its setters keep the mapped window and the context struct's pointer fields in step). The bytes
 * live in the Slot.PACKET region, which the helpers address through the region itself, so moving
 * data or data_end outside the current window works as in the kernel.
 */

export interface PacketContext {
  /** `skb` for socket filter and tc programs, `xdp` for XDP programs. */
  readonly kind: 'skb' | 'xdp';
  /** Guest addresses: first byte of the packet, one past its last byte, first byte of metadata. */
  data: number;
  dataEnd: number;
  dataMeta: number;
  /** data_hard_start: the first byte of headroom. */
  readonly hardStart: number;
  /** The end of the buffer that the packet may grow into (xdp_data_hard_end: frame minus skb_shared_info). */
  readonly hardEnd: number;
  /** Whether the skb's data may be written by helpers (tc: yes; socket filters are read-only). */
  readonly writable: boolean;
  /** skb_clear_hash, for BPF_F_INVALIDATE_HASH; optional because XDP has no hash to clear. */
  clearHash?(): void;
}

/** XDP_PACKET_HEADROOM. */
export const XDP_HEADROOM = 256;
/** sizeof(struct xdp_frame), which the kernel keeps at data_hard_start, so data can never move below it. */
export const XDP_FRAME_SIZE = 40;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: reserved at the end of every XDP frame. */
export const SKB_SHARED_INFO_SIZE = 320;
/** NET_SKB_PAD: headroom in front of a received skb's data. */
export const SKB_HEADROOM = 64;
/** The usual XDP frame size (one page). */
export const XDP_FRAME_SZ = 4096;
