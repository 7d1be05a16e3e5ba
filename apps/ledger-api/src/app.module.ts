import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_INTERCEPTOR } from '@nestjs/core';
import { LoggerModule } from 'nestjs-pino';
import { AccessModule } from './access/access.module';
import type { LedgerConfig } from '@nrm/runtime';
import { EventStoreModule } from './event-store/event-store.module';
import { ConsentModule } from './consent/consent.module';
import { CoordinatorModule } from './coordinator/coordinator.module';
import { OversightModule } from './oversight/oversight.module';
import { HealthModule } from './health/health.module';
import { ProjectionsModule } from './projections/projections.module';
import { ReferralModule } from './referral/referral.module';
import { SupportModule } from './support/support.module';
import { IdentificationModule } from './identification/identification.module';
import { ProblemDetailsFilter } from './http/problem-details.filter';
import { RefusalAuditInterceptor } from './access/refusal-audit.interceptor';
import { loggerParams } from './logging';
import { PrivacyModule } from './privacy/privacy.module';
import { AuditModule } from './audit/audit.module';
import { MetricsModule } from './metrics/metrics.module';

@Module({})
export class AppModule {
  static forRoot(config: LedgerConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        LoggerModule.forRoot(loggerParams(config)),
        EventStoreModule.forRoot(config),
        AccessModule.forRoot(config),
        HealthModule,
        IdentificationModule.forRoot(config),
        ConsentModule,
        ReferralModule,
        SupportModule,
        ProjectionsModule.forRoot(config),
        PrivacyModule.forRoot(config),
        CoordinatorModule.forRoot(config),
        OversightModule,
        AuditModule.forRoot(config),
        MetricsModule.forRoot(config),
      ],
      providers: [
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
        // Every refused attempt is audited (see the interceptor), commands and erasure included.
        { provide: APP_INTERCEPTOR, useClass: RefusalAuditInterceptor },
      ],
    };
  }
}
