import type { Stream } from '@libp2p/interface';
import * as lp from 'it-length-prefixed';
import type { Uint8ArrayList } from 'uint8arraylist';
import { MeshError, meshFail } from './errors.js';

/**
 * Length-prefixed (unsigned varint) protobuf frames over one libp2p stream. The length
 * prefix is checked against `maxFrameBytes` before any data is buffered.
 */
export class FrameChannel {
  private readonly frames: AsyncGenerator<Uint8ArrayList>;

  constructor(
    readonly stream: Stream,
    maxFrameBytes: number,
  ) {
    this.frames = lp.decode(stream, { maxDataLength: maxFrameBytes });
  }

  /** Next frame, or MeshError (TOO_LARGE, MALFORMED on early end, TIMEOUT). */
  async read(timeoutMs: number): Promise<Uint8Array> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new MeshError('TIMEOUT', `no frame within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const r = await Promise.race([this.frames.next(), timeout]);
      if (r.done) meshFail('MALFORMED', 'stream ended before a frame');
      return r.value.subarray();
    } catch (e) {
      if (e instanceof MeshError) throw e;
      const name = e instanceof Error ? e.name : '';
      if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') meshFail('TOO_LARGE', 'frame exceeds the protocol limit', e);
      return meshFail('MALFORMED', 'cannot read frame', e);
    } finally {
      clearTimeout(timer);
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (!this.stream.send(lp.encode.single(bytes))) await this.stream.onDrain();
  }

  /** Closes our writable end (the remote sees the end of stream). */
  async close(): Promise<void> {
    try {
      await this.stream.close();
    } catch {
      this.stream.abort(new Error('close failed'));
    }
  }

  abort(reason: Error): void {
    this.stream.abort(reason);
  }
}
