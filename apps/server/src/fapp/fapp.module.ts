import { Module } from '@nestjs/common';
import './fapp.errors.js';
import { FappController } from './fapp.controller.js';
import { FappRepository } from './fapp.repository.js';
import { FappService } from './fapp.service.js';
import { ReservationService } from './reservation.service.js';
import { RevocationRepository } from './revocation.repository.js';
import { FappSearchIndex } from './search-index.js';
import { MessengerModule } from '../messenger/messenger.module.js';

@Module({
  imports: [MessengerModule],
  controllers: [FappController],
  providers: [FappRepository, RevocationRepository, FappSearchIndex, FappService, ReservationService],
  exports: [FappService, ReservationService, FappSearchIndex],
})
export class FappModule {}
