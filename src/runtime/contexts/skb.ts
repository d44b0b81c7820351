/**
 * `struct __sk_buff` for socket filters and tc (sched_cls/sched_act): the UAPI layout, which fields
 * each type may read and write (the kernel's sk_filter_is_valid_access / tc_cls_act_is_valid_access),
 * and the field values of a received packet.
 */
import { type ContextAccess, defineStruct, fieldsExcept, fieldsNamed } from './layout.js';

export const SK_BUFF = defineStruct('struct __sk_buff', [
  ['len', 4],
  ['pkt_type', 4],
  ['mark', 4],
  ['queue_mapping', 4],
  ['protocol', 4],
  ['vlan_present', 4],
  ['vlan_tci', 4],
  ['vlan_proto', 4],
  ['priority', 4],
  ['ingress_ifindex', 4],
  ['ifindex', 4],
  ['tc_index', 4],
  ['cb', 4, 5],
  ['hash', 4],
  ['tc_classid', 4],
  ['data', 4],
  ['data_end', 4],
  ['napi_id', 4],
  ['family', 4],
  ['remote_ip4', 4],
  ['local_ip4', 4],
  ['remote_ip6', 4, 4],
  ['local_ip6', 4, 4],
  ['remote_port', 4],
  ['local_port', 4],
  ['data_meta', 4],
  ['flow_keys', 8], // __bpf_md_ptr: a pointer in a u64-aligned union
  ['tstamp', 8],
  ['wire_len', 4],
  ['gso_segs', 4],
  ['sk', 8],
  ['gso_size', 4],
  ['tstamp_type', 1],
  [null, 1, 3], // __u32 :24
  ['hwtstamp', 8],
]);

/** Fields only sk_skb/sk_msg programs may read; socket filters and tc may not. */
const SOCKET_FIELDS = [
  'family',
  'remote_ip4',
  'local_ip4',
  'remote_ip6',
  'local_ip6',
  'remote_port',
  'local_port',
];

/** Socket filters: no direct packet access, no tc/timestamp fields; only cb[] is writable. */
export const SOCKET_FILTER_ACCESS: ContextAccess = {
  layout: SK_BUFF,
  readable: fieldsExcept(SK_BUFF, [
    'tc_classid',
    'data',
    'data_end',
    'data_meta',
    ...SOCKET_FIELDS,
    'tstamp',
    'wire_len',
    'hwtstamp',
    'flow_keys',
    'tstamp_type',
  ]),
  writable: fieldsNamed(SK_BUFF, ['cb']),
};

/** tc classifiers and actions: direct packet access; mark, priority, cb, tc fields and tstamp writable. */
export const TC_ACCESS: ContextAccess = {
  layout: SK_BUFF,
  readable: fieldsExcept(SK_BUFF, [...SOCKET_FIELDS, 'flow_keys']),
  writable: fieldsNamed(SK_BUFF, [
    'mark',
    'queue_mapping',
    'priority',
    'tc_index',
    'cb',
    'tc_classid',
    'tstamp',
  ]),
};

/** __sk_buff fields IN.json may set (the rest follow from the packet). Values are u32 unless listed. */
export const SKB_INPUT_FIELDS = [
  'pkt_type',
  'mark',
  'queue_mapping',
  'protocol',
  'vlan_tci',
  'vlan_proto',
  'priority',
  'ingress_ifindex',
  'ifindex',
  'tc_index',
  'cb',
  'hash',
  'tc_classid',
  'napi_id',
  'tstamp',
  'wire_len',
  'gso_segs',
  'gso_size',
  'hwtstamp',
] as const;

export const SKB_U64_FIELDS: readonly string[] = ['tstamp', 'hwtstamp'];

/** tc verdicts (TC_ACT_*), by the value of r0. */
export const TC_ACTIONS: Readonly<Record<number, string>> = {
  [-1]: 'UNSPEC',
  0: 'OK',
  1: 'RECLASSIFY',
  2: 'SHOT',
  3: 'PIPE',
  4: 'STOLEN',
  5: 'QUEUED',
  6: 'REPEAT',
  7: 'REDIRECT',
  8: 'TRAP',
};
