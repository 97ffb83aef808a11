import { Module } from '@nestjs/common';
import './fapp.errors.js';
import { FappController } from './fapp.controller.js';
import { FappRepository } from './fapp.repository.js';
import { FappService } from './fapp.service.js';
import { ReservationService } from './reservation.service.js';
import { RevocationRepository } from './revocation.repository.js';

@Module({
  controllers: [FappController],
  providers: [FappRepository, RevocationRepository, FappService, ReservationService],
  exports: [FappService, ReservationService],
})
export class FappModule {}
