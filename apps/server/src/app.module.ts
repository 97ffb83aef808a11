import { type DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Clock, SystemClock } from './common/clock.js';
import { ServerConfig } from './config/config.js';
import { dataSourceOptions } from './database/data-source.js';
import { ChurnVacuum } from './database/vacuum.js';
import { RateLimits } from './common/rate-limits.js';
import { AccountsModule } from './accounts/accounts.module.js';
import { DevicesModule } from './devices/devices.module.js';
import { FappModule } from './fapp/fapp.module.js';
import { KeysModule } from './keys/keys.module.js';
import { DeliveryModule } from './delivery/delivery.module.js';
import { GroupsModule } from './groups/groups.module.js';
import { WsModule } from './ws/ws.module.js';
import { TransparencyModule } from './transparency/transparency.module.js';
import { MessengerModule } from './messenger/messenger.module.js';
import { SecretsModule } from './secrets/secrets.module.js';
import { HealthModule } from './health/health.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { KeyBackupModule } from './key-backup/key-backup.module.js';
import { MeshModule } from './mesh/mesh.module.js';

export interface AppModuleOptions {
  config: ServerConfig;
  databaseUrl: string;
  clock?: Clock;
}

@Module({})
export class AppModule {
  static forRoot({ config, databaseUrl, clock = new SystemClock() }: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot(dataSourceOptions(databaseUrl, config.DB_POOL_SIZE)),
        MetricsModule,
        HealthModule,
        FappModule,
        SecretsModule,
        MessengerModule,
        TransparencyModule,
        DevicesModule,
        AccountsModule,
        KeysModule,
        DeliveryModule,
        GroupsModule,
        WsModule,
        KeyBackupModule,
        MeshModule.forRoot(config),
      ],
      providers: [
        { provide: ServerConfig, useValue: config },
        { provide: Clock, useValue: clock },
        ChurnVacuum,
        RateLimits,
      ],
      exports: [ServerConfig, Clock, ChurnVacuum, RateLimits],
      global: true,
    };
  }
}
