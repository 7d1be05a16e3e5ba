import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiHeader, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Actor } from '@nrm/shared-kernel';
import type { FastifyReply } from 'fastify';
import { CurrentActor, type AuthenticatedRequest } from '../access/current-actor.decorator';
import type { CommandContext, CommandOptions } from '@nrm/runtime/commands';
import { CommandCtx, Idempotent } from '../commands/request-context';
import { IdPipe } from '../http/ids';
import { renderAccessReportHtml } from './access-report';
import type { AccessReports } from './access-reports';
import { readRequestOf } from '../access/audit-trail';
import type { BreakGlassReads } from './break-glass-reads';
import {
  AccessAttemptsQuery,
  AccessLogQuery,
  AccessReportQuery,
  BreakGlassQueueQuery,
  BreakGlassReadDto,
  ConsentHistoryQuery,
  DenialsQuery,
  ReviewAccessDto,
} from './oversight.dto';
import type { OversightReads } from './oversight-reads';

export const OVERSIGHT_READS = Symbol('OVERSIGHT_READS');
export const BREAK_GLASS_READS = Symbol('BREAK_GLASS_READS');
export const ACCESS_REPORTS = Symbol('ACCESS_REPORTS');

const DEFAULT_LIMIT = 20;

function page(query: { limit?: number; cursor?: number; from?: string; to?: string }, limit = DEFAULT_LIMIT) {
  return {
    limit: query.limit ?? limit,
    ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
    ...(query.from !== undefined ? { from: query.from } : {}),
    ...(query.to !== undefined ? { to: query.to } : {}),
  };
}

@ApiTags('oversight')
@ApiBearerAuth()
@Controller('oversight')
export class OversightController {
  constructor(@Inject(OVERSIGHT_READS) private readonly reads: OversightReads) {}

  @Get('access-log')
  @ApiOperation({
    summary:
      'Who read which subject’s data, when and on which basis (consent, lawful basis or break-glass), newest first. Oversight body only; audited.',
  })
  accessLog(
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: AccessLogQuery,
  ) {
    return this.reads.accessLog(readRequestOf(actor, request), {
      ...page(query),
      ...(query.subjectId !== undefined ? { subjectId: query.subjectId } : {}),
      ...(query.caseId !== undefined ? { caseId: query.caseId } : {}),
      ...(query.agencyId !== undefined ? { agencyId: query.agencyId } : {}),
    });
  }

  @Get('access-attempts')
  @ApiOperation({
    summary:
      'Granted and refused attempts together (reads, break-glass reads, every refusal: commands and erasure included), each with its outcome, newest first; by agency, case, subject and period. Oversight body only; audited.',
  })
  accessAttempts(
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: AccessAttemptsQuery,
  ) {
    return this.reads.accessAttempts(readRequestOf(actor, request), {
      ...page(query),
      ...(query.agencyId !== undefined ? { agencyId: query.agencyId } : {}),
      ...(query.caseId !== undefined ? { caseId: query.caseId } : {}),
      ...(query.subjectId !== undefined ? { subjectId: query.subjectId } : {}),
      ...(query.outcome !== undefined ? { outcome: query.outcome } : {}),
    });
  }

  @Get('denials')
  @ApiOperation({
    summary: 'Refused requests, with the reason, newest first. Oversight body only; audited.',
  })
  denials(@CurrentActor() actor: Actor, @Req() request: AuthenticatedRequest, @Query() query: DenialsQuery) {
    return this.reads.denials(readRequestOf(actor, request), {
      ...page(query),
      ...(query.agencyId !== undefined ? { agencyId: query.agencyId } : {}),
    });
  }

  @Get('break-glass')
  @ApiOperation({
    summary:
      'Break-glass accesses with their justification and review state (pending or reviewed), newest first. Oversight body only; audited.',
  })
  breakGlassQueue(
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: BreakGlassQueueQuery,
  ) {
    return this.reads.breakGlassQueue(readRequestOf(actor, request), {
      ...page(query),
      ...(query.status !== undefined ? { status: query.status } : {}),
    });
  }

  @Post('break-glass/:accessEventId/review')
  @HttpCode(200)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Makes a retry return the first result and record nothing new.',
  })
  @ApiOperation({
    summary:
      'Record the finding on one break-glass access (AccessReviewed), once: 404 for an unknown access, 409 when already reviewed. Oversight body only.',
  })
  review(
    @Param('accessEventId', IdPipe) accessEventId: string,
    @Body() body: ReviewAccessDto,
    @CommandCtx() context: CommandContext,
    @Idempotent() options: CommandOptions,
  ) {
    return this.reads.review(
      context,
      accessEventId,
      {
        finding: body.finding,
        ...(body.note !== undefined ? { note: body.note } : {}),
      },
      options,
    );
  }

  @Get('subjects/:subjectId/consent-history')
  @ApiOperation({
    summary:
      'Every consent event of the subject’s cases, oldest first: grants with scope and expiry, withdrawals, refusals, lawful bases with their justification. Oversight body only; audited.',
  })
  consentHistory(
    @Param('subjectId', IdPipe) subjectId: string,
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: ConsentHistoryQuery,
  ) {
    return this.reads.consentHistory(readRequestOf(actor, request), subjectId, page(query));
  }
}

@ApiTags('cases (reads)')
@ApiBearerAuth()
@Controller('cases')
export class BreakGlassController {
  constructor(@Inject(BREAK_GLASS_READS) private readonly reads: BreakGlassReads) {}

  @Post(':caseId/break-glass-reads')
  @HttpCode(200)
  @ApiBody({ type: BreakGlassReadDto })
  @ApiOperation({
    summary:
      'Break-glass: read the whole case beyond consent, with a written justification (role break-glass, agency party to the case). Recorded as BreakGlassAccessUsed before the answer and reviewed by the oversight body.',
  })
  read(
    @Param('caseId', IdPipe) caseId: string,
    // Validated by the service, so that a malformed request is audited as a denial too.
    @Body() body: Record<string, unknown>,
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
  ) {
    return this.reads.read(readRequestOf(actor, request, undefined), caseId, body);
  }
}

@ApiTags('subject access report')
@ApiBearerAuth()
@Controller('subjects')
export class AccessReportController {
  constructor(@Inject(ACCESS_REPORTS) private readonly reports: AccessReports) {}

  @Get(':subjectId/access-report')
  @ApiProduces('application/json', 'text/html')
  @ApiOperation({
    summary:
      'Who accessed this person’s data, when and on which basis (break-glass accesses and their review included), oldest first; JSON or a printable HTML page. For a caseworker of an agency assisting the person; audited.',
  })
  async report(
    @Param('subjectId', IdPipe) subjectId: string,
    @CurrentActor() actor: Actor,
    @Req() request: AuthenticatedRequest,
    @Query() query: AccessReportQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const report = await this.reports.report(readRequestOf(actor, request), subjectId, page(query, 100));
    if (query.format !== 'html') return report;
    void reply
      .header('content-type', 'text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      )
      .header('x-content-type-options', 'nosniff');
    return renderAccessReportHtml(report);
  }
}
