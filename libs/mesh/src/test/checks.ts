import { isMeshError, LORA_DUTY_WINDOW_MS, type TransmissionLog } from '../index.js';

/** The MeshError code `fn` throws, or 'no error'; anything else is rethrown. */
export function meshErrorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (isMeshError(e)) return e.code;
    throw e;
  }
  return 'no error';
}

/** The most airtime any sliding hour (by transmission start) holds. */
export function maxHourlyAirtime(log: readonly TransmissionLog[]): number {
  let max = 0;
  for (const s of log) {
    const used = log.filter((x) => x.startMs + LORA_DUTY_WINDOW_MS > s.startMs && x.startMs <= s.startMs).reduce((n, x) => n + x.airtimeMs, 0);
    max = Math.max(max, used);
  }
  return max;
}
