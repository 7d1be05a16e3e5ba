import { Global, Module, type DynamicModule } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { LedgerConfig } from '../config/config';
import { AuthGuard, JWT_VERIFIER } from './auth.guard';
import { JwtVerifier } from './jwt-verifier';
import { RegistryController } from './registry.controller';
import { RegistryService } from './registry.service';

@Global()
@Module({})
export class AccessModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    const jwt =
      config.AUTH_JWKS_URL !== undefined
        ? new JwtVerifier({
            jwksUrl: config.AUTH_JWKS_URL,
            issuer: config.AUTH_JWT_ISSUER!,
            audience: config.AUTH_JWT_AUDIENCE!,
            timeoutMs: config.AUTH_JWKS_TIMEOUT_MS,
            cooldownMs: config.AUTH_JWKS_COOLDOWN_MS,
          })
        : null;
    return {
      module: AccessModule,
      controllers: [RegistryController],
      providers: [
        RegistryService,
        { provide: JWT_VERIFIER, useValue: jwt },
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [RegistryService],
    };
  }
}
