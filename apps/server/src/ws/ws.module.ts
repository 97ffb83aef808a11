import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { PushGateway } from './push.gateway.js';

@Module({ imports: [DeliveryModule], providers: [PushGateway] })
export class WsModule {}
