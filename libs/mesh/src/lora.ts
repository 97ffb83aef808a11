import { meshFail, MeshError } from './errors.js';
import type { VirtualClock } from './sim-clock.js';

/**
 * SIMULATED LoRa link (no radio is touched): EU868 sub-band g1 rules as a model — 51-byte
 * frames at SF12/125 kHz, time on air from the Semtech formula (~2.47 s per full frame),
 * 1 % duty cycle over a sliding hour (36 s of airtime, ~14 full frames per hour),
 * fragmentation with a 5-byte header, selective retransmission, random loss. Time is a
 * VirtualClock, so tests cover hours of airtime without sleeping.
 */

export const LORA_MAX_FRAME_BYTES = 51;
export const LORA_HEADER_BYTES = 5;
export const LORA_FRAGMENT_DATA_BYTES = LORA_MAX_FRAME_BYTES - LORA_HEADER_BYTES;
export const LORA_MAX_FRAGMENTS = 255;
export const LORA_MAX_MESSAGE_BYTES = LORA_FRAGMENT_DATA_BYTES * LORA_MAX_FRAGMENTS;
export const LORA_DUTY_CYCLE = 0.01;
export const LORA_DUTY_WINDOW_MS = 3600_000;
const VERSION = 1;
const TYPE_DATA = 1;
const TYPE_MISSING = 2;

export interface LoraRadioParams {
  spreadingFactor: number;
  bandwidthHz: number;
  /** Coding rate 4/(4+cr), cr 1..4. */
  codingRate: number;
  preambleSymbols: number;
}

export const EU868_SF12: LoraRadioParams = { spreadingFactor: 12, bandwidthHz: 125_000, codingRate: 1, preambleSymbols: 8 };

/** Time on air of one frame (Semtech AN1200.13; explicit header, CRC on, low-data-rate optimisation at SF11/12). */
export function loraAirtimeMs(payloadBytes: number, p: LoraRadioParams = EU868_SF12): number {
  const sf = p.spreadingFactor;
  const tSym = (2 ** sf / p.bandwidthHz) * 1000;
  const de = sf >= 11 && p.bandwidthHz === 125_000 ? 1 : 0;
  const n = Math.ceil((8 * payloadBytes - 4 * sf + 28 + 16) / (4 * (sf - 2 * de)));
  const payloadSymbols = 8 + Math.max(n * (p.codingRate + 4), 0);
  return (p.preambleSymbols + 4.25) * tSym + payloadSymbols * tSym;
}

// ----- frame codec ------------------------------------------------------------------------

export type LoraFrame =
  | { type: 'data'; messageId: number; index: number; count: number; data: Uint8Array }
  /** Receiver -> sender: the fragments still missing (empty = complete, an acknowledgement). */
  | { type: 'missing'; messageId: number; count: number; missing: number[] };

export function encodeLoraFrame(f: LoraFrame): Uint8Array {
  if (!Number.isInteger(f.messageId) || f.messageId < 0 || f.messageId > 0xffff) meshFail('MALFORMED', 'message id is 16 bits');
  if (!Number.isInteger(f.count) || f.count < 1 || f.count > LORA_MAX_FRAGMENTS) meshFail('MALFORMED', `fragment count 1..${LORA_MAX_FRAGMENTS}`);
  let body: Uint8Array;
  let index = 0;
  if (f.type === 'data') {
    if (f.index < 0 || f.index >= f.count) meshFail('MALFORMED', 'fragment index out of range');
    if (f.data.length === 0 || f.data.length > LORA_FRAGMENT_DATA_BYTES) meshFail('TOO_LARGE', `fragment data 1..${LORA_FRAGMENT_DATA_BYTES} bytes`);
    body = f.data;
    index = f.index;
  } else {
    body = new Uint8Array(Math.ceil(f.count / 8));
    for (const i of f.missing) {
      if (!Number.isInteger(i) || i < 0 || i >= f.count) meshFail('MALFORMED', 'missing index out of range');
      body[i >> 3]! |= 1 << (i & 7);
    }
  }
  const out = new Uint8Array(LORA_HEADER_BYTES + body.length);
  out[0] = (VERSION << 4) | (f.type === 'data' ? TYPE_DATA : TYPE_MISSING);
  out[1] = f.messageId >> 8;
  out[2] = f.messageId & 0xff;
  out[3] = index;
  out[4] = f.count;
  out.set(body, LORA_HEADER_BYTES);
  return out;
}

/** Decodes one radio frame; anything malformed is a MeshError. */
export function decodeLoraFrame(bytes: Uint8Array): LoraFrame {
  if (!(bytes instanceof Uint8Array)) meshFail('MALFORMED', 'expected bytes');
  if (bytes.length > LORA_MAX_FRAME_BYTES) meshFail('TOO_LARGE', `frame of ${bytes.length} bytes exceeds ${LORA_MAX_FRAME_BYTES}`);
  if (bytes.length < LORA_HEADER_BYTES) meshFail('MALFORMED', 'frame shorter than its header');
  const version = bytes[0]! >> 4;
  const type = bytes[0]! & 0x0f;
  if (version !== VERSION) meshFail('MALFORMED', `frame version ${version}`);
  const messageId = (bytes[1]! << 8) | bytes[2]!;
  const index = bytes[3]!;
  const count = bytes[4]!;
  if (count < 1) meshFail('MALFORMED', 'fragment count 0');
  const body = bytes.subarray(LORA_HEADER_BYTES);
  if (type === TYPE_DATA) {
    if (index >= count) meshFail('MALFORMED', 'fragment index out of range');
    if (body.length === 0) meshFail('MALFORMED', 'empty fragment');
    if (index < count - 1 && body.length !== LORA_FRAGMENT_DATA_BYTES) meshFail('MALFORMED', 'only the last fragment may be short');
    return { type: 'data', messageId, index, count, data: body.slice() };
  }
  if (type === TYPE_MISSING) {
    if (index !== 0) meshFail('MALFORMED', 'missing-list frames carry index 0');
    if (body.length !== Math.ceil(count / 8)) meshFail('MALFORMED', 'missing-list bitmap has the wrong length');
    const missing: number[] = [];
    for (let i = 0; i < body.length * 8; i++) {
      if ((body[i >> 3]! >> (i & 7)) & 1) {
        if (i >= count) meshFail('MALFORMED', 'missing-list bit beyond the fragment count');
        missing.push(i);
      }
    }
    return { type: 'missing', messageId, count, missing };
  }
  return meshFail('MALFORMED', `frame type ${type}`);
}

/** Splits a message into data frames (the last one may be short). */
export function fragmentMessage(messageId: number, payload: Uint8Array): Uint8Array[] {
  if (payload.length === 0) meshFail('MALFORMED', 'empty message');
  if (payload.length > LORA_MAX_MESSAGE_BYTES) meshFail('TOO_LARGE', `message of ${payload.length} bytes exceeds ${LORA_MAX_MESSAGE_BYTES} on LoRa`);
  const count = Math.ceil(payload.length / LORA_FRAGMENT_DATA_BYTES);
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    frames.push(encodeLoraFrame({ type: 'data', messageId, index: i, count, data: payload.subarray(i * LORA_FRAGMENT_DATA_BYTES, (i + 1) * LORA_FRAGMENT_DATA_BYTES) }));
  }
  return frames;
}

/** Number of radio frames a message needs (without retransmissions). */
export function loraFrameCount(payloadBytes: number): number {
  return Math.ceil(payloadBytes / LORA_FRAGMENT_DATA_BYTES);
}

// ----- reassembly -------------------------------------------------------------------------

interface Partial {
  count: number;
  parts: (Uint8Array | undefined)[];
  received: number;
  lastSeenMs: number;
}

export type ReassemblyResult =
  | { kind: 'partial'; missing: number[] }
  | { kind: 'complete'; messageId: number; payload: Uint8Array }
  /** Fragment of a message already delivered. */
  | { kind: 'duplicate' }
  | { kind: 'rejected'; error: MeshError };

/** Collects fragments per message id; drops partial messages idle for `timeoutMs`. */
export class LoraReassembler {
  private readonly partials = new Map<number, Partial>();
  private readonly done = new Map<number, number>();

  constructor(
    private readonly timeoutMs = 6 * 3600_000,
    private readonly maxPartials = 16,
  ) {}

  accept(frame: Extract<LoraFrame, { type: 'data' }>, nowMs: number): ReassemblyResult {
    this.expire(nowMs);
    if (this.done.has(frame.messageId)) return { kind: 'duplicate' };
    let p = this.partials.get(frame.messageId);
    if (p && p.count !== frame.count) return { kind: 'rejected', error: new MeshError('MALFORMED', 'fragment count changed within a message') };
    if (!p) {
      if (this.partials.size >= this.maxPartials) return { kind: 'rejected', error: new MeshError('QUEUE_FULL', 'too many messages in reassembly') };
      p = { count: frame.count, parts: new Array<Uint8Array | undefined>(frame.count).fill(undefined), received: 0, lastSeenMs: nowMs };
      this.partials.set(frame.messageId, p);
    }
    p.lastSeenMs = nowMs;
    if (!p.parts[frame.index]) {
      p.parts[frame.index] = frame.data;
      p.received++;
    }
    if (p.received < p.count) return { kind: 'partial', missing: this.missing(frame.messageId) };
    this.partials.delete(frame.messageId);
    this.done.set(frame.messageId, nowMs);
    const len = p.parts.reduce((n, d) => n + d!.length, 0);
    const payload = new Uint8Array(len);
    let off = 0;
    for (const d of p.parts) {
      payload.set(d!, off);
      off += d!.length;
    }
    return { kind: 'complete', messageId: frame.messageId, payload };
  }

  missing(messageId: number): number[] {
    const p = this.partials.get(messageId);
    if (!p) return [];
    const out: number[] = [];
    p.parts.forEach((d, i) => {
      if (!d) out.push(i);
    });
    return out;
  }

  private expire(nowMs: number): void {
    for (const [id, p] of this.partials) if (nowMs - p.lastSeenMs > this.timeoutMs) this.partials.delete(id);
    for (const [id, t] of this.done) if (nowMs - t > this.timeoutMs) this.done.delete(id);
  }
}

// ----- duty cycle -------------------------------------------------------------------------

/** 1 % duty cycle over a sliding hour: airtime of transmissions started in (t - 1 h, t] stays <= 36 s. */
export class DutyCycle {
  private readonly sent: { startMs: number; airtimeMs: number }[] = [];

  constructor(
    readonly share = LORA_DUTY_CYCLE,
    readonly windowMs = LORA_DUTY_WINDOW_MS,
  ) {}

  get budgetMs(): number {
    return this.share * this.windowMs;
  }

  /** Earliest start at or after `nowMs` at which `airtimeMs` fits the budget and the radio is idle. */
  earliestStart(nowMs: number, airtimeMs: number): number {
    if (airtimeMs > this.budgetMs) meshFail('DUTY_CYCLE', 'frame longer than the whole duty-cycle budget');
    const last = this.sent.at(-1);
    let t = Math.max(nowMs, last ? last.startMs + last.airtimeMs : nowMs);
    for (;;) {
      const inWindow = this.sent.filter((s) => s.startMs + this.windowMs > t);
      const used = inWindow.reduce((n, s) => n + s.airtimeMs, 0);
      if (used + airtimeMs <= this.budgetMs + 1e-9) return t;
      t = inWindow[0]!.startMs + this.windowMs;
    }
  }

  /** Records a transmission; throws DUTY_CYCLE if it would break the rule. */
  record(startMs: number, airtimeMs: number): void {
    if (this.earliestStart(startMs, airtimeMs) !== startMs) meshFail('DUTY_CYCLE', 'transmission would exceed the 1 % duty cycle');
    this.sent.push({ startMs, airtimeMs });
    while (this.sent.length > 0 && this.sent[0]!.startMs + this.windowMs <= startMs) this.sent.shift();
  }

  usedMs(nowMs: number): number {
    return this.sent.filter((s) => s.startMs + this.windowMs > nowMs).reduce((n, s) => n + s.airtimeMs, 0);
  }
}

// ----- simulated link ---------------------------------------------------------------------

/** Deterministic PRNG for loss (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TransmissionLog {
  startMs: number;
  airtimeMs: number;
  bytes: number;
  lost: boolean;
}

export interface LoraRadioOptions {
  clock: VirtualClock;
  /** Probability that a frame is lost on air (0..1). */
  loss?: number;
  random?: () => number;
  params?: LoraRadioParams;
  /** Retransmission rounds before a message is given up. */
  maxRounds?: number;
}

export type LoraSendOutcome = { kind: 'delivered'; messageId: number; atMs: number; rounds: number } | { kind: 'failed'; messageId: number; error: MeshError };

interface Outgoing {
  messageId: number;
  frames: Uint8Array[];
  rounds: number;
  done: (o: LoraSendOutcome) => void;
  pollTimer: number;
}

/**
 * One end of a SIMULATED point-to-point LoRa link. Frames carry no addresses (a real
 * deployment adds a link address byte); the two ends are connected with connectLora().
 * Sender-driven selective repeat: every round ends with the last fragment, the receiver
 * answers each last fragment with its missing-list (empty = acknowledged), the sender
 * resends what is missing, and re-polls if the answer is lost.
 */
export class LoraRadio {
  readonly duty = new DutyCycle();
  readonly log: TransmissionLog[] = [];
  onMessage: (payload: Uint8Array) => void = () => undefined;
  peer: LoraRadio | undefined;
  private readonly clock: VirtualClock;
  private readonly loss: number;
  private readonly random: () => number;
  private readonly params: LoraRadioParams;
  private readonly maxRounds: number;
  private readonly txQueue: Uint8Array[] = [];
  private txBusy = false;
  private nextMessageId = 0;
  private readonly outgoing = new Map<number, Outgoing>();
  private readonly reassembler = new LoraReassembler();
  private pollSeq = 0;

  constructor(opts: LoraRadioOptions) {
    this.clock = opts.clock;
    this.loss = opts.loss ?? 0;
    this.random = opts.random ?? seededRandom(1);
    this.params = opts.params ?? EU868_SF12;
    this.maxRounds = opts.maxRounds ?? 16;
  }

  /** Queues a message; resolves when the receiver has acknowledged every fragment. */
  send(payload: Uint8Array): Promise<LoraSendOutcome> {
    const messageId = this.nextMessageId;
    this.nextMessageId = (this.nextMessageId + 1) & 0xffff;
    const frames = fragmentMessage(messageId, payload);
    return new Promise((resolve) => {
      const o: Outgoing = { messageId, frames, rounds: 1, done: resolve, pollTimer: 0 };
      this.outgoing.set(messageId, o);
      for (const f of frames) this.enqueue(f);
    });
  }

  /** Virtual ms until `bytes` could be through, if the link were otherwise idle and lossless. */
  estimateDeliveryMs(bytes: number, nowMs: number): number {
    const probe = new DutyCycle(this.duty.share, this.duty.windowMs);
    for (const s of this.log.filter((l) => l.startMs + this.duty.windowMs > nowMs)) probe.record(s.startMs, s.airtimeMs);
    let t = nowMs;
    for (const size of frameSizes(bytes)) {
      const air = loraAirtimeMs(size, this.params);
      t = probe.earliestStart(t, air);
      probe.record(t, air);
      t += air;
    }
    return t - nowMs;
  }

  get queuedFrames(): number {
    return this.txQueue.length;
  }

  private enqueue(frame: Uint8Array): void {
    this.txQueue.push(frame);
    this.pump();
  }

  private pump(): void {
    if (this.txBusy || this.txQueue.length === 0) return;
    const frame = this.txQueue.shift()!;
    const air = loraAirtimeMs(frame.length, this.params);
    const start = this.duty.earliestStart(this.clock.now(), air);
    this.txBusy = true;
    this.clock.schedule(start, () => {
      this.duty.record(start, air);
      const lost = this.random() < this.loss;
      this.log.push({ startMs: start, airtimeMs: air, bytes: frame.length, lost });
      this.clock.schedule(start + air, () => {
        this.txBusy = false;
        if (!lost) this.peer?.receive(frame);
        this.afterSent(frame);
        this.pump();
      });
    });
  }

  private afterSent(frame: Uint8Array): void {
    const f = decodeLoraFrame(frame);
    if (f.type !== 'data' || f.index !== f.count - 1) return;
    const o = this.outgoing.get(f.messageId);
    if (!o) return;
    // No answer within a generous window (the peer's own duty cycle may delay it): poll again.
    const token = ++this.pollSeq;
    o.pollTimer = token;
    const wait = LORA_DUTY_WINDOW_MS / 4;
    this.clock.schedule(this.clock.now() + wait, () => {
      if (this.outgoing.get(f.messageId) !== o || o.pollTimer !== token) return;
      this.nextRound(o, [f.count - 1]);
    });
  }

  private nextRound(o: Outgoing, missing: number[]): void {
    if (o.rounds >= this.maxRounds) {
      this.outgoing.delete(o.messageId);
      o.done({ kind: 'failed', messageId: o.messageId, error: new MeshError('TIMEOUT', `message ${o.messageId} not acknowledged after ${o.rounds} rounds`) });
      return;
    }
    o.rounds++;
    o.pollTimer = 0;
    const last = o.frames.length - 1;
    for (const i of missing) if (i !== last) this.enqueue(o.frames[i]!);
    this.enqueue(o.frames[last]!);
  }

  private receive(bytes: Uint8Array): void {
    let f: LoraFrame;
    try {
      f = decodeLoraFrame(bytes);
    } catch {
      return;
    }
    if (f.type === 'missing') {
      const o = this.outgoing.get(f.messageId);
      if (!o || o.frames.length !== f.count) return;
      if (f.missing.length === 0) {
        this.outgoing.delete(f.messageId);
        o.done({ kind: 'delivered', messageId: f.messageId, atMs: this.clock.now(), rounds: o.rounds });
      } else {
        this.nextRound(o, f.missing);
      }
      return;
    }
    const r = this.reassembler.accept(f, this.clock.now());
    if (r.kind === 'complete') this.onMessage(r.payload);
    if (f.index === f.count - 1) {
      const missing = r.kind === 'partial' ? r.missing : [];
      if (r.kind !== 'rejected') this.enqueue(encodeLoraFrame({ type: 'missing', messageId: f.messageId, count: f.count, missing }));
    }
  }
}

function frameSizes(bytes: number): number[] {
  const n = loraFrameCount(bytes);
  const sizes = new Array<number>(n).fill(LORA_MAX_FRAME_BYTES);
  const rest = bytes - (n - 1) * LORA_FRAGMENT_DATA_BYTES;
  sizes[n - 1] = LORA_HEADER_BYTES + rest;
  return sizes;
}

/** Connects two simulated radios back to back. */
export function connectLora(a: LoraRadio, b: LoraRadio): void {
  a.peer = b;
  b.peer = a;
}
