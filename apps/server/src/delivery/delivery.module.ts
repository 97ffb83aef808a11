import { Module } from '@nestjs/common';
import { DeliveryController } from './delivery.controller.js';
import { DeliveryRepository } from './delivery.repository.js';
import { DeliveryService } from './delivery.service.js';

@Module({ controllers: [DeliveryController], providers: [DeliveryRepository, DeliveryService], exports: [DeliveryService, DeliveryRepository] })
export class DeliveryModule {}
