import { Module } from '@nestjs/common';

/** The national coordinator's views: the handoff board and statistics, without identity data. */
@Module({})
export class CoordinatorModule {}
