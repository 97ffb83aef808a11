import { type ArgumentMetadata, ValidationPipe, type ValidationError } from '@nestjs/common';
import { type FieldProblem, ServerError } from './server-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** The 400 problem for invalid input, one entry per offending field. */
export function invalidRequest(fields: FieldProblem[]): ServerError {
  return new ServerError('request.invalid', 400, `Invalid request: ${fields.map((f) => f.field).join(', ')}`, { errors: fields });
}

/**
 * A DTO class may parse its input itself, under this static key, in place of
 * class-transformer and class-validator: for a hot route, whose decorators would rebuild
 * their metadata on every request. The class keeps its `@ApiProperty` decorators for the
 * OpenAPI document; the parser must throw `invalidRequest` for the same inputs.
 */
export const PARSE = Symbol('qpc.parse');

interface SelfParsing {
  [PARSE](value: unknown): unknown;
}

function selfParsing(metatype: unknown): metatype is SelfParsing {
  return typeof metatype === 'function' && typeof (metatype as Partial<SelfParsing>)[PARSE] === 'function';
}

class DtoValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { metatype } = metadata;
    if (selfParsing(metatype)) {
      try {
        return Promise.resolve(metatype[PARSE](value));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return super.transform(value, metadata);
  }
}

/** Validates DTOs; a failure is a 400 problem listing each offending field. */
export function createValidationPipe(): ValidationPipe {
  return new DtoValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => invalidRequest(flatten(errors)),
  });
}
