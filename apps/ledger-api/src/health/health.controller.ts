import { Controller, Get, Inject, Req, ServiceUnavailableException } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { EVENT_STORE, type EventStore } from '@nrm/event-store';
import { Public } from '../access/public.decorator';
import { READ_MODEL } from '../projections/projections.module';
import type { ReadModel } from '@nrm/runtime';
import { APPEND_GATE, type AppendGate } from '../event-store/append-gate';
import { METRICS_ACCESS, MetricsAccess } from '../metrics/metrics-access';

/** Each check's status alone (up/down): what /health tells a caller without the scraper's token. */
function statusOnly(checks: Partial<HealthIndicatorResult> | undefined): HealthIndicatorResult | undefined {
  if (checks === undefined) return undefined;
  const out: HealthIndicatorResult = {};
  for (const [name, check] of Object.entries(checks)) if (check) out[name] = { status: check.status };
  return out;
}

function redacted(result: HealthCheckResult): HealthCheckResult {
  return {
    status: result.status,
    info: statusOnly(result.info),
    error: statusOnly(result.error),
    details: statusOnly(result.details) ?? {},
  };
}

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
    @Inject(METRICS_ACCESS) private readonly scraper: MetricsAccess,
  ) {}

  /**
   * 200 when every check is up, 503 otherwise. The detail (store head, projection positions, the
   * audit re-hash cursor, read-model check times, a finding's kind and position) counts the activity
   * of every agency, so only the scraper's METRICS_TOKEN gets it, as for /metrics; anyone else (no
   * credential, an agency's or oversight's: their credentials are for case work and for the audit,
   * and a probe must not depend on the registry nor append an event) gets each check's status.
   */
  @Get()
  @HealthCheck()
  @ApiOperation({
    summary:
      "Liveness and readiness: 200 when the event store answers, the projector runs, the store matches the audit log and the read models match a rebuild from the events; 503 otherwise. Without the scraper's credential (`Authorization: Bearer <METRICS_TOKEN>`, as for `/metrics`), each check's status only (`up`/`down`); with it, the detail too: store head, projection positions, audit re-hash cursor, read-model check times, and a divergence named by kind and position, or by table with counts.",
  })
  async check(@Req() request: FastifyRequest): Promise<HealthCheckResult> {
    if (this.scraper.grants(request.headers.authorization)) return this.checks();
    try {
      return redacted(await this.checks());
    } catch (error) {
      if (error instanceof ServiceUnavailableException)
        throw new ServiceUnavailableException(redacted(error.getResponse() as HealthCheckResult));
      throw error;
    }
  }

  private checks(): Promise<HealthCheckResult> {
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
          // The file's name, never its path on disk (the detail goes to the scraper only, still).
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
