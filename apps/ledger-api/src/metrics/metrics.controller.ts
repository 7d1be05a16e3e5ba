import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/public.decorator';
import { LedgerMetrics } from './metrics';
import { METRICS_ACCESS, MetricsAccess } from './metrics-access';

export const METRICS = Symbol('METRICS');

@Public()
@ApiTags('health')
@Controller()
export class MetricsController {
  constructor(
    @Inject(METRICS) private readonly metrics: LedgerMetrics,
    @Inject(METRICS_ACCESS) private readonly access: MetricsAccess,
  ) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary:
      'Prometheus metrics: requests by route template and status, latency, event-store head, projection checkpoints, process. No ids, no case data. For the scraper only: `Authorization: Bearer <METRICS_TOKEN>` (not an agency credential); without it 401, and 404 on a ledger without METRICS_TOKEN (off). Scrape it inside the cluster; do not publish it through the proxy.',
  })
  scrape(@Req() request: FastifyRequest): Promise<string> {
    this.access.check(request.method, request.url, request.headers.authorization);
    return this.metrics.registry.metrics();
  }

  @Get('health/live')
  @ApiOperation({
    summary: 'Liveness: 200 while the process answers (no dependency checked; /health checks them).',
  })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }
}
