import {
  Global,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { LedgerConfig } from '@nrm/runtime';
import { AuthGuard, JWT_VERIFIER, RATE_LIMITS } from './auth.guard';
import { JwtVerifier } from './jwt-verifier';
import { RateLimits } from './rate-limits';
import { RegistryController } from './registry.controller';
import { RegistryService } from './registry.service';

/** Lets go of the rate limits' Redis connection when the app closes. */
@Injectable()
class RateLimitsCloser implements OnApplicationShutdown {
  constructor(@Inject(RATE_LIMITS) private readonly limits: RateLimits) {}

  async onApplicationShutdown(): Promise<void> {
    await this.limits.close();
  }
}

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
        { provide: RATE_LIMITS, useValue: new RateLimits(config) },
        RateLimitsCloser,
        { provide: APP_GUARD, useClass: AuthGuard },
      ],
      exports: [RegistryService, RATE_LIMITS],
    };
  }
}
