import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { type FieldProblem, ServerError } from './server-error.js';

function flatten(errors: ValidationError[], parent = ''): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

/** Validates DTOs; a failure is a 400 problem listing each offending field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      return new ServerError('request.invalid', 400, `Invalid request: ${fields.map((f) => f.field).join(', ')}`, { errors: fields });
    },
  });
}
