/**
 * Assembler and disassembler for the two eBPF text syntaxes:
 * - `ubpf`: the uBPF / bpf_conformance syntax (`ldxdw %r0, [%r1+2]`),
 * - `llvm`: the LLVM/kernel syntax printed by `llvm-objdump -d` (`r0 = *(u64 *)(r1 + 0x2)`).
 *
 * Both parsers produce raw instructions plus label fixups (labels.ts), which are encoded and then
 * validated by the one decoder; both printers format decoded instructions.
 */
export {
  type AsmSyntax,
  type AssembleOptions,
  assemble,
  assembleUnchecked,
  detectSyntax,
} from './assembler.js';
export { type DisassembleOptions, disassemble, formatInsn } from './disassembler.js';
