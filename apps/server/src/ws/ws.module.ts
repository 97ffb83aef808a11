import { Module } from '@nestjs/common';
import { DeliveryModule } from '../delivery/delivery.module.js';
import { GroupsModule } from '../groups/groups.module.js';
import { PushGateway } from './push.gateway.js';

@Module({ imports: [DeliveryModule, GroupsModule], providers: [PushGateway] })
export class WsModule {}
