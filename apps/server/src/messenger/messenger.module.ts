import { Global, Module } from '@nestjs/common';
import { MessengerEvents } from './messenger-events.js';
import { SessionGuard, SessionStore } from './session.guard.js';

/** What every messenger feature shares: session resolution and the in-process event bus. */
@Global()
@Module({ providers: [MessengerEvents, SessionStore, SessionGuard], exports: [MessengerEvents, SessionStore, SessionGuard] })
export class MessengerModule {}
