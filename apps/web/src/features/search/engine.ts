// What the search needs once the patient submits: the region sync with verification in the
// browser (Ed25519, licence attestations), form parsing and the matcher. Loaded with a dynamic
// import so the page becomes interactive before this code (and @qpc/fapp behind it) arrives.
export { matchSlots } from '@qpc/fapp';
export { parseFilterForm } from './filter-form';
export { syncRegion, trustStoreOf } from './region-sync';
