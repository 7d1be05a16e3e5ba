import { ApiProperty } from '@nestjs/swagger';
import {
  REFLECTION_END_REASONS,
  SUPPORT_CASE_OUTCOMES,
  type ReflectionEndReason,
  type SupportCaseOutcome,
} from '@nrm/support';
import { DATE_SHAPE, SUPPORT_SERVICE_TYPES, type SupportServiceType } from '@nrm/shared-kernel';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsInt, Matches, Max, Min } from 'class-validator';

/** The shape only (the support decider refuses a day that does not exist: 422). */
const DATE = DATE_SHAPE;

export class StartReflectionPeriodDto {
  @ApiProperty({ example: '2026-11-30', description: 'First day of the period (YYYY-MM-DD).' })
  @Matches(DATE, { message: 'startsOn must be a date YYYY-MM-DD' })
  startsOn!: string;

  @ApiProperty({
    example: 30,
    minimum: 30,
    description: 'Length in days: at least 30 (Council of Europe Convention, art. 13).',
  })
  @IsInt()
  @Min(1)
  @Max(3650)
  days!: number;
}

export class ExtendReflectionPeriodDto {
  @ApiProperty({ example: 30 })
  @IsInt()
  @Min(1)
  @Max(3650)
  additionalDays!: number;
}

export class EndReflectionPeriodDto {
  @ApiProperty({ enum: REFLECTION_END_REASONS, example: 'elapsed' })
  @IsIn(REFLECTION_END_REASONS)
  reason!: ReflectionEndReason;
}

export class AgreeSupportPlanDto {
  @ApiProperty({
    enum: SUPPORT_SERVICE_TYPES,
    isArray: true,
    example: ['accommodation', 'psychological', 'legal'],
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(SUPPORT_SERVICE_TYPES, { each: true })
  services!: SupportServiceType[];

  @ApiProperty({ example: '2027-01-15', description: 'When the plan is reviewed (YYYY-MM-DD).' })
  @Matches(DATE, { message: 'reviewOn must be a date YYYY-MM-DD' })
  reviewOn!: string;
}

export class RecordServiceProvidedDto {
  @ApiProperty({ enum: SUPPORT_SERVICE_TYPES, example: 'accommodation' })
  @IsIn(SUPPORT_SERVICE_TYPES)
  serviceType!: SupportServiceType;

  @ApiProperty({ example: '2026-11-30' })
  @Matches(DATE, { message: 'providedOn must be a date YYYY-MM-DD' })
  providedOn!: string;
}

export class CloseSupportCaseDto {
  @ApiProperty({ enum: SUPPORT_CASE_OUTCOMES, example: 'integrated' })
  @IsIn(SUPPORT_CASE_OUTCOMES)
  outcome!: SupportCaseOutcome;
}
