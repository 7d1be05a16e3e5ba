import { Module } from '@nestjs/common';

/** The oversight body's views and commands: access log, denials, break-glass reviews, consent history. */
@Module({})
export class OversightModule {}
