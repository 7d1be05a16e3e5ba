import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Serves the OpenAPI document at /openapi.json and a browsable UI at /docs. */
export function setUpOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('nrm-ledger')
    .setDescription(
      'Event-sourced coordination ledger for a national referral mechanism against human trafficking. ' +
        'Every command is recorded as an immutable event. Send `Authorization: Bearer <API key or JWT>`, and an ' +
        '`Idempotency-Key` header on commands so that a retry returns the first result and records nothing new. ' +
        'Errors are `application/problem+json` with a stable `code` and the offending `field`.',
    )
    .setVersion('0.1.0')
    .addBearerAuth({
      type: 'http',
      scheme: 'bearer',
      description: 'An API key (nrm_…) or a JWT from the configured identity provider.',
    })
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, {
    jsonDocumentUrl: 'openapi.json',
    yamlDocumentUrl: 'openapi.yaml',
  });
}
