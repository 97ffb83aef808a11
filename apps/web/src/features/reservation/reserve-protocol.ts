// Messages between the reservation page and its Web Worker (structured-clone friendly).

export interface ReserveRequest {
  type: 'reserve';
  /** The signed announce as synced; the worker checks it again before sealing to its key. */
  announce: Uint8Array;
  slotId: Uint8Array;
  contact: string;
  message: string;
  difficultyBits: number;
  nowMs: number;
}

export type ReserveReply =
  | { type: 'progress'; tries: number }
  | {
      type: 'done';
      reservation: Uint8Array;
      capability: Uint8Array;
      replySecretKey: Uint8Array;
      therapistKey: Uint8Array;
      slotId: Uint8Array;
    }
  | { type: 'error'; code: string; message: string };
