import { type DynamicModule, Module } from '@nestjs/common';
import type { ServerConfig } from '../config/config.js';
import { FappModule } from '../fapp/fapp.module.js';
import { MeshBridgeService } from './mesh-bridge.service.js';
import { MeshReplyRepository } from './mesh-reply.repository.js';

/** The in-process mesh node and its FAPP bridge; nothing at all unless MESH_ENABLED. */
@Module({})
export class MeshModule {
  static forRoot(config: ServerConfig): DynamicModule {
    if (!config.MESH_ENABLED) return { module: MeshModule };
    return { module: MeshModule, imports: [FappModule], providers: [MeshReplyRepository, MeshBridgeService], exports: [MeshBridgeService] };
  }
}
