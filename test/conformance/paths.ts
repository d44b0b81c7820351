/** Locations of the shared test suites (checked out next to the repository). */
import { fileURLToPath } from 'node:url';

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const BPF_CONFORMANCE_TESTS = `${SHARED}bpf_conformance/tests`;
export const BPF_CONFORMANCE_NEGATIVE = `${SHARED}bpf_conformance/negative`;
export const UBPF_TESTS = `${SHARED}ubpf_tests`;
