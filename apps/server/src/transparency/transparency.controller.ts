import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, Min } from 'class-validator';
import { TransparencyService } from './transparency.service.js';

export class ConsistencyQueryDto {
  @Type(() => Number) @IsInt() @Min(0) first: number;
  @Type(() => Number) @IsInt() @Min(0) second: number;
}

export class InclusionQueryDto {
  @Type(() => Number) @IsInt() @Min(0) index: number;
  @Type(() => Number) @IsInt() @Min(1) treeSize: number;
}

/** Public: anyone may audit the log. */
@ApiTags('transparency')
@Controller('transparency')
export class TransparencyController {
  constructor(@Inject(TransparencyService) private readonly kt: TransparencyService) {}

  @Get('head')
  @ApiOperation({ summary: 'The signed tree head (size, root, time, Ed25519 signature)' })
  head() {
    return this.kt.head();
  }

  @Get('key')
  @ApiOperation({ summary: 'The Ed25519 key that signs tree heads (pin it in clients)' })
  key() {
    return this.kt.publicKey();
  }

  @Get('consistency')
  @ApiOperation({ summary: 'RFC 9162 consistency proof between two tree sizes' })
  consistency(@Query() q: ConsistencyQueryDto) {
    return this.kt.consistency(q.first, q.second);
  }

  @Get('inclusion')
  @ApiOperation({ summary: 'RFC 9162 inclusion proof of one leaf in a tree size' })
  inclusion(@Query() q: InclusionQueryDto) {
    return this.kt.inclusion(q.index, q.treeSize);
  }

  @Get('users/:username/devices')
  @ApiOperation({ summary: "A user's active device keys, each with its inclusion proof under one signed head" })
  devices(@Param('username') username: string) {
    return this.kt.userDevices(username);
  }
}
