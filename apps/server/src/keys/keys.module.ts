import { Module } from '@nestjs/common';
import { KeysController } from './keys.controller.js';
import { KeysRepository } from './keys.repository.js';
import { KeysService } from './keys.service.js';

@Module({ controllers: [KeysController], providers: [KeysRepository, KeysService], exports: [KeysService] })
export class KeysModule {}
