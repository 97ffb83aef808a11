/**
 * @qpc/seed: demo data built by the same factories the tests use. Everything here is
 * DEMO material (public seeds, a demo licensing authority); nothing belongs in production.
 */
export { DemoRandom } from './random.js';
export { DEMO_REGIONS, type DemoRegion } from './regions.js';
export {
  DEMO_AUTHORITY_NAME,
  DEMO_AUTHORITY_SEED_LABEL,
  demoAuthority,
  issueDemoAttestation,
  type DemoAuthority,
  type DemoAttestationInput,
} from './authority.js';
export {
  OFFICE_HOUR_STARTS,
  officeHourSlots,
  buildDemoTherapist,
  type DemoTherapist,
  type DemoTherapistOptions,
  type SlotPlanOptions,
} from './therapists.js';
export { buildDemoDataset, DEFAULT_DEMO_SEED, type DemoDataset, type DemoDatasetOptions } from './dataset.js';
