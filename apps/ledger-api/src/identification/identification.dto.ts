import { ApiProperty } from '@nestjs/swagger';
import { GROUNDS_OUTCOMES, INDICATORS_OUTCOMES, RECONSIDERATION_REASONS } from '@nrm/identification';
import type { GroundsOutcome, IndicatorsOutcome, ReconsiderationReason } from '@nrm/identification';
import { EXPLOITATION_FORMS, type ExploitationForm } from '@nrm/shared-kernel';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsString,
  Matches,
} from 'class-validator';

/** Indicator and region values are codes, never prose: free text could carry personal data into immutable events. */
const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const CODE_MESSAGE = 'must be codes: letters, digits, ".", "_", ":" and "-", up to 64 characters';

export class ReportPotentialVictimDto {
  @ApiProperty({
    example: ['restricted-movement', 'debt-bondage', 'withheld-documents'],
    description: 'Indicator codes observed (1 to 50).',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(CODE, { each: true, message: `indicators ${CODE_MESSAGE}` })
  indicators!: string[];

  @ApiProperty({
    enum: EXPLOITATION_FORMS,
    isArray: true,
    example: ['labour'],
    description: 'Suspected forms; empty when unknown.',
  })
  @IsArray()
  @ArrayUnique()
  @IsIn(EXPLOITATION_FORMS, { each: true })
  exploitationForms!: ExploitationForm[];

  @ApiProperty({
    example: false,
    description: 'A minor is handled with a guardian (Palermo Protocol: no "means" needed).',
  })
  @IsBoolean()
  minor!: boolean;

  @ApiProperty({ example: 'NL-ZH', description: 'Coarse region code (e.g. ISO 3166-2), never an address.' })
  @Matches(CODE, { message: `region ${CODE_MESSAGE}` })
  region!: string;
}

export class AssessIndicatorsDto {
  @ApiProperty({ enum: INDICATORS_OUTCOMES, example: 'indicators-present' })
  @IsIn(INDICATORS_OUTCOMES)
  outcome!: IndicatorsOutcome;

  @ApiProperty({ example: ['debt-bondage', 'withheld-documents'] })
  @IsArray()
  @ArrayMaxSize(50)
  @ArrayUnique()
  @IsString({ each: true })
  @Matches(CODE, { each: true, message: `indicatorsConfirmed ${CODE_MESSAGE}` })
  indicatorsConfirmed!: string[];

  @ApiProperty({ enum: EXPLOITATION_FORMS, isArray: true, example: ['labour'] })
  @IsArray()
  @ArrayUnique()
  @IsIn(EXPLOITATION_FORMS, { each: true })
  exploitationForms!: ExploitationForm[];
}

export class GroundsDecisionDto {
  @ApiProperty({ enum: GROUNDS_OUTCOMES, example: 'positive' })
  @IsIn(GROUNDS_OUTCOMES)
  outcome!: GroundsOutcome;
}

export class ReconsiderIdentificationDto {
  @ApiProperty({ enum: RECONSIDERATION_REASONS, example: 'new-evidence' })
  @IsIn(RECONSIDERATION_REASONS)
  reason!: ReconsiderationReason;
}
