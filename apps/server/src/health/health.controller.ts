import { Controller, Get, HttpCode, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { ServerError } from '../common/server-error.js';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get('healthz')
  @HttpCode(200)
  @ApiOkResponse({ description: 'The process is up.' })
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOkResponse({ description: 'The database is reachable and every migration is applied.' })
  @ApiServiceUnavailableResponse({ description: 'Not ready: problem+json with code health.database_unreachable or health.migrations_pending.' })
  async readyz() {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw new ServerError('health.database_unreachable', 503, 'The database cannot be reached.');
    }
    if (await this.dataSource.showMigrations()) {
      throw new ServerError('health.migrations_pending', 503, 'Database migrations are pending.');
    }
    return { status: 'ready' };
  }
}
