import { Global, Module } from '@nestjs/common';
import { TransparencyController } from './transparency.controller.js';
import { TransparencyService } from './transparency.service.js';

/** Global: device registration and revocation append to the log inside their transactions. */
@Global()
@Module({ controllers: [TransparencyController], providers: [TransparencyService], exports: [TransparencyService] })
export class TransparencyModule {}
