/** XDP: `struct xdp_md` (data, data_end, data_meta as guest addresses) and the xdp_action verdicts. */
import type { GuestMemory } from '../../vm/memory/guest-memory.js';
import { XDP_HEADROOM } from '../helpers/packet-context.js';
import { ContextImage, type ContextResult, type ProgramContext, type XdpActionName } from './context.js';
import { expectHex, expectInteger, type JsonObject, usageError } from './json.js';
import { type ContextAccess, defineStruct, fieldsExcept, writeField } from './layout.js';
import { PacketBuffer, packetDataAddress, XDP_MAX_META } from './packet.js';
import { DEFAULT_IFINDEX } from './skb-context.js';
import type { SimulatedTask } from './task.js';

export const XDP_MD = defineStruct('struct xdp_md', [
  ['data', 4],
  ['data_end', 4],
  ['data_meta', 4],
  ['ingress_ifindex', 4],
  ['rx_queue_index', 4],
  ['egress_ifindex', 4],
]);

/** xdp_is_valid_access: nothing is writable; egress_ifindex is only for devmap programs. */
export const XDP_ACCESS: ContextAccess = {
  layout: XDP_MD,
  readable: fieldsExcept(XDP_MD, ['egress_ifindex']),
  writable: [],
};

/** enum xdp_action, by value. */
export const XDP_ACTIONS: readonly XdpActionName[] = ['ABORTED', 'DROP', 'PASS', 'TX', 'REDIRECT'];

/** The action of a return value; undefined when it is none (the kernel treats that as ABORTED). */
export function xdpAction(r0: bigint): XdpActionName | undefined {
  const v = r0 & 0xffffffffn; // the kernel reads the u32 result
  return v < BigInt(XDP_ACTIONS.length) ? XDP_ACTIONS[Number(v)] : undefined;
}

/** IN.json keys of an XDP run besides `packet`. */
export const XDP_INPUT_FIELDS = ['meta', 'ingress_ifindex', 'rx_queue_index', 'egress_ifindex'] as const;

export class XdpContext implements ProgramContext {
  readonly programType = 'xdp';
  readonly access = XDP_ACCESS;
  readonly packet: PacketBuffer;
  /** LD_ABS/LD_IND do not exist for XDP. */
  readonly packetSlot = undefined;
  private readonly image: ContextImage;

  constructor(
    memory: GuestMemory,
    readonly task: SimulatedTask,
    packet: Uint8Array,
    input: JsonObject,
  ) {
    const meta = input.meta === undefined ? new Uint8Array(0) : expectHex(input.meta, 'meta');
    if (meta.length > XDP_MAX_META || meta.length % 4 !== 0) {
      throw usageError(
        'meta',
        `${meta.length} bytes: XDP metadata is a multiple of 4 bytes, at most ${XDP_MAX_META}`,
      );
    }
    const b = new Uint8Array(XDP_MD.size);
    const data = packetDataAddress(XDP_HEADROOM);
    writeField(b, XDP_MD, 'data', data);
    writeField(b, XDP_MD, 'data_end', data + packet.length);
    writeField(b, XDP_MD, 'data_meta', data - meta.length);
    writeField(b, XDP_MD, 'ingress_ifindex', DEFAULT_IFINDEX);
    for (const name of ['ingress_ifindex', 'rx_queue_index', 'egress_ifindex'] as const) {
      if (input[name] !== undefined) writeField(b, XDP_MD, name, expectInteger(input[name], name, 32));
    }
    this.packet = new PacketBuffer(memory, packet, {
      kind: 'xdp',
      headroom: XDP_HEADROOM,
      meta,
      writable: true,
    });
    this.image = new ContextImage(memory, b);
    this.packet.onMove(() => {
      const live = this.image.bytes();
      writeField(live, XDP_MD, 'data', this.packet.data);
      writeField(live, XDP_MD, 'data_end', this.packet.dataEnd);
      writeField(live, XDP_MD, 'data_meta', this.packet.dataMeta);
    });
  }

  get r1(): bigint {
    return this.image.address;
  }

  reset(): void {
    this.image.reset();
    this.packet.reset();
  }

  result(r0: bigint): ContextResult {
    return { kind: 'xdp', packet: this.packet.bytes(), meta: this.packet.meta(), action: xdpAction(r0) };
  }
}
