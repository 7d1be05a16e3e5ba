import { ModulesContainer } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { PUBLIC_ROUTE } from './access/public.decorator';
import { completeDocument } from './http/openapi-contract';

/**
 * The operationIds (`Controller_method`, as @nestjs/swagger names them) of the routes marked @Public():
 * read from the same metadata the auth guard reads, so the document cannot call a route public that is not.
 */
function publicOperations(app: NestFastifyApplication): Set<string> {
  const found = new Set<string>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const prototype = controller.prototype as Record<string, unknown>;
      const wholeController = Reflect.getMetadata(PUBLIC_ROUTE, controller) === true;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        if (wholeController || Reflect.getMetadata(PUBLIC_ROUTE, handler) === true)
          found.add(`${controller.name}_${name}`);
      }
    }
  }
  return found;
}

/** Serves the OpenAPI document at /openapi.json and a browsable UI at /docs. */
export function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('nrm-ledger')
    .setDescription(
      'Event-sourced coordination ledger for a national referral mechanism against human trafficking. ' +
        'Every command is recorded as an immutable event. Send `Authorization: Bearer <API key or JWT>` ' +
        '(or `X-API-Key: <API key>`), and an `Idempotency-Key` header on commands so that a retry returns the ' +
        'first result and records nothing new. Errors are `application/problem+json` with a stable `code` and ' +
        'the offending `field`; each operation lists the statuses and codes it can answer.\n\n' +
        'Versioning: `info.version` follows semantic versioning. Within a major version nothing is removed or ' +
        'narrowed: no path, operation, response field or enum value disappears, and no request field becomes ' +
        'required. New operations, optional request fields, response fields and problem codes may be added in ' +
        'a minor version: clients must ignore unknown fields and treat an unknown `code` by its status.',
    )
    .setVersion('0.1.0')
    .build();
  const document = completeDocument(SwaggerModule.createDocument(app, config), publicOperations(app));
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}
