/** The time port: services ask it for "now" so tests can move time (hold expiry, stamps). */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}
