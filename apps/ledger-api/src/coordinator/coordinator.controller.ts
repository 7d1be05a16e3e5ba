import { Controller, Get, Inject, Query, Req, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { AuthenticatedRequest } from '../access/current-actor.decorator';
import type { StatisticsColumns } from './case-statistics';
import { CoordinatorOnly, readRequestOf, ServesView } from './coordinator-only.guard';
import { CoordinatorViews } from './coordinator-views';
import {
  HandoffBoardQueryDto,
  PublishedCellDto,
  StatisticsDto,
  StatisticsQueryDto,
  SuppressedCellDto,
} from './coordinator.dto';

export const COORDINATOR_VIEWS = Symbol('COORDINATOR_VIEWS');
export const STATS_MIN_CELL = Symbol('STATS_MIN_CELL');
export const STATS_COLUMNS = Symbol('STATS_COLUMNS');

@ApiTags('coordinator')
@ApiBearerAuth()
@ApiForbiddenResponse({
  description: 'COORDINATOR.ONLY: the caller is not a coordinator of the national coordinator (audited).',
})
@UseGuards(CoordinatorOnly)
@Controller('coordinator')
export class CoordinatorController {
  constructor(
    @Inject(COORDINATOR_VIEWS) private readonly views: CoordinatorViews,
    @Inject(STATS_MIN_CELL) private readonly minCell: number,
    @Inject(STATS_COLUMNS) private readonly columns: StatisticsColumns,
  ) {}

  @Get('handoff-board')
  @ServesView('handoff-board')
  @ApiOperation({
    summary:
      'The handoff board: referrals by sender, receiver and status, with time to acknowledge and to hand off, overdue and escalated referrals, and a summary (p50/p90) of the period; no case or subject ids. ?asOf= shows the board at a past instant. Audited.',
  })
  handoffBoard(@Req() request: AuthenticatedRequest, @Query() query: HandoffBoardQueryDto) {
    return this.views.handoffBoard(readRequestOf(request), { ...query, limit: query.limit ?? 20 });
  }

  @Get('statistics')
  @ServesView('statistics')
  @ApiOperation({
    summary:
      'Reported cases per completed calendar month (UTC): one row per month of the period, each with the number of cases and the cases by region, reporting agency kind and exploitation form. Every column is listed, zeros too; a cell under the installation’s STATS_MIN_CELL (k) is { suppressed: true }, and so are further cells where a margin would give it away. A row is the same in whatever period it is asked, and nothing is summed across months, so no answers can be subtracted. No identity data. Audited.',
  })
  @ApiExtraModels(PublishedCellDto, SuppressedCellDto)
  @ApiOkResponse({
    type: StatisticsDto,
    description: 'The rows of the statistics grid for the months of the period.',
  })
  @ApiBadRequestResponse({
    description:
      'REQUEST.INVALID naming the field: `from`/`to` not the start of a month, `to` after the start of the current month or not after `from`, more than 120 months, or any other parameter (`k` included).',
  })
  statistics(@Req() request: AuthenticatedRequest, @Query() query: StatisticsQueryDto) {
    // k is the installation's, never the request's: answers at two values of k could be combined.
    return this.views.statistics(readRequestOf(request), query, this.columns, this.minCell);
  }
}
