import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Public } from '../access/public.decorator';
import { LedgerMetrics } from './metrics';

export const METRICS = Symbol('METRICS');

@Public()
@ApiTags('health')
@Controller()
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: LedgerMetrics) {}

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({
    summary:
      'Prometheus metrics: requests by route template and status, latency, event-store head, projection checkpoints, process. No ids, no case data. Scrape it inside the cluster; do not publish it through the proxy.',
  })
  scrape(): Promise<string> {
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
