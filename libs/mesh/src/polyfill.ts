// libp2p 3 calls Promise.withResolvers (Node 22+). Node 20 lacks it; this module is imported
// before libp2p so the method exists by the time libp2p runs. Likewise @libp2p/websockets
// dials with the global WebSocket, which Node 20 does not have: `ws` stands in for it.
import { WebSocket as WsWebSocket } from 'ws';
interface WithResolvers {
  withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T | PromiseLike<T>) => void; reject: (e?: unknown) => void };
}

const P = Promise as unknown as WithResolvers;
if (typeof P.withResolvers !== 'function') {
  P.withResolvers = <T>() => {
    let resolve!: (v: T | PromiseLike<T>) => void;
    let reject!: (e?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

const G = globalThis as unknown as { WebSocket?: unknown };
G.WebSocket ??= WsWebSocket;

export {};
