import { Global, Module } from '@nestjs/common';
import { ServerConfig } from '../config/config.js';
import { ServerSecrets } from './server-secrets.js';

@Global()
@Module({
  providers: [{ provide: ServerSecrets, inject: [ServerConfig], useFactory: (config: ServerConfig) => ServerSecrets.load(config) }],
  exports: [ServerSecrets],
})
export class SecretsModule {}
