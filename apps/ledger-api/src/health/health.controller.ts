import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { Public } from '../access/public.decorator';
import { READ_MODEL } from '../projections/projections.module';
import type { ReadModel } from '@nrm/runtime';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';

@Public()
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(READ_MODEL) private readonly readModel: ReadModel,
    @Inject(APPEND_GATE) private readonly gate: AppendGate,
  ) {}

  /** 200 when the event store answers, 503 otherwise. */
  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      'Liveness and readiness: 200 when the event store answers, the projector runs, the store matches the audit log and the read models match a rebuild from the events; 503 otherwise (a divergence is named by kind and position, or by table with counts).',
  })
  check() {
    return this.health.check([
      async () => {
        const indicator = this.indicators.check('eventStore');
        const state = await this.store.health();
        return state.ok
          ? indicator.up({ adapter: state.adapter, headPosition: state.headPosition ?? 0 })
          : indicator.down({ adapter: state.adapter, detail: state.detail ?? 'unavailable' });
      },
      async () => {
        const indicator = this.indicators.check('projector');
        const health = await this.readModel.health();
        const details = {
          // The file's name, never its path on disk: /health answers without a credential.
          store: this.readModel.store.description.replace(/^sqlite .*[\\/]/, 'sqlite '),
          state: health.state,
          positions: health.positions,
          ...(health.detail ? { detail: health.detail } : {}),
          ...(health.failure ? { failure: health.failure } : {}),
        };
        return health.ok ? indicator.up(details) : indicator.down(details);
      },
      () => {
        // The store against the audit log: a divergence fails the ledger closed (appends refused).
        const indicator = this.indicators.check('auditIntegrity');
        const finding = this.gate.finding;
        const rehash = this.gate.status()?.rehash;
        const health = this.gate.logHealth();
        const log = health
          ? { state: health.state, role: health.role, treeSize: health.treeSize }
          : undefined;
        // The log's thread exited: nothing compares the store with the log any more.
        const halted = this.gate.halted;
        if (!finding && halted !== undefined) return indicator.down({ detail: halted, appends: 'refused' });
        // The log stopped following the store (its subscription failed, the shared log forked): the
        // reason is in the error log, not here (it may name a host), only the position at fault.
        if (!finding && health?.state === 'failed') {
          const position = health.failure?.position;
          return indicator.down({
            log,
            detail: 'the audit log stopped following the event store',
            ...(position !== undefined ? { position } : {}),
          });
        }
        if (!finding) return indicator.up({ ...(rehash ? { rehash } : {}), ...(log ? { log } : {}) });
        return indicator.down({
          kind: finding.kind,
          position: finding.position,
          findingId: finding.id,
          detectedAt: finding.detectedAt,
          detectedBy: finding.by,
          appends: 'refused',
        });
      },
      () => {
        // The read models against a rebuild from the events: a divergence refuses every query.
        const indicator = this.indicators.check('readModelIntegrity');
        const integrity = this.readModel.integrity;
        if (!integrity) return indicator.up({ checked: false });
        const last = integrity.lastCheck;
        const lastCheck = last ? { at: last.at, result: last.result, seconds: last.seconds } : undefined;
        const finding = integrity.finding;
        if (!finding) return indicator.up({ checked: true, ...(lastCheck ? { lastCheck } : {}) });
        return indicator.down({
          kind: 'read-model-diverged',
          detectedAt: finding.detectedAt,
          // Table names and counts only: never a row's content.
          tables: finding.divergences.map((d) => ({
            table: d.table,
            missing: d.missing,
            unjustified: d.unjustified,
            ...(d.schema ? { schema: d.schema } : {}),
          })),
          queries: 'refused',
        });
      },
    ]);
  }
}
