import { EventEmitter } from 'node:events';

export interface QueuedMessage {
  seq: number;
  payload: string;
  enqueuedAt: string;
  /** Absent for sealed-sender messages. */
  senderDeviceId?: string;
  groupId?: string;
}

/**
 * In-process fan-out of committed events to WebSocket connections and long-polls. Emitted only
 * after the writing transaction commits. Across instances the same interface rides on NATS.
 */
export class MessengerEvents {
  private readonly bus = new EventEmitter();

  constructor() {
    this.bus.setMaxListeners(0);
  }

  messages(deviceId: string, messages: QueuedMessage[]): void {
    this.bus.emit(`m:${deviceId}`, messages);
  }
  onMessages(deviceId: string, fn: (m: QueuedMessage[]) => void): () => void {
    this.bus.on(`m:${deviceId}`, fn);
    return () => this.bus.off(`m:${deviceId}`, fn);
  }

  /** The device was revoked or its account deleted: drop its connections now. */
  deviceGone(deviceId: string): void {
    this.bus.emit(`g:${deviceId}`);
  }
  onDeviceGone(deviceId: string, fn: () => void): () => void {
    this.bus.on(`g:${deviceId}`, fn);
    return () => this.bus.off(`g:${deviceId}`, fn);
  }

  keysLow(deviceId: string, available: number): void {
    this.bus.emit(`k:${deviceId}`, available);
  }
  onKeysLow(deviceId: string, fn: (available: number) => void): () => void {
    this.bus.on(`k:${deviceId}`, fn);
    return () => this.bus.off(`k:${deviceId}`, fn);
  }
}
