import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  DESIGNATION_REASONS,
  GROUNDS_OUTCOMES,
  INDICATOR_CODES,
  INDICATOR_LIST_VERSION,
  INDICATORS_OUTCOMES,
  RECONSIDERATION_REASONS,
} from '@nrm/identification';
import type {
  DesignationReason,
  GroundsOutcome,
  IndicatorsOutcome,
  ReconsiderationReason,
} from '@nrm/identification';
import { ID_PATTERN } from '../http/ids';
import { EXPLOITATION_FORMS, type ExploitationForm } from '@nrm/shared-kernel';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
} from 'class-validator';
import { IsBoundedText, IsCalendarDate, IsRegionCode } from '../http/value-rules';

/**
 * Indicator values are codes, never prose: free text could carry personal data into immutable events.
 * The shape is checked here; that a code is on the closed list (shown as the schema's enum) is
 * checked by the decider (`@nrm/identification`), whose 400 names the item (`indicators[1]`).
 */
const CODE = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
const FROM_THE_LIST = `From the closed list of indicator codes, version ${INDICATOR_LIST_VERSION} (an unknown code: 400 IDENTIFICATION.UNKNOWN_INDICATOR naming the item).`;
const CODE_MESSAGE = 'must be codes: letters, digits, ".", "_", ":" and "-", up to 64 characters';

/**
 * Who the person is: the only free text the ledger takes, and it never reaches
 * an event, a read model, a log or Kafka in the clear. It is sealed under the
 * subject's own key; erasing the subject destroys the key.
 */
export class IdentityDto {
  @ApiPropertyOptional({ example: 'Ana Inventada', maxLength: 200 })
  @IsOptional()
  @IsBoundedText({ min: 1, max: 200 })
  fullName?: string;

  @ApiPropertyOptional({ example: '1999-04-01', description: 'YYYY-MM-DD' })
  @IsOptional()
  @IsCalendarDate()
  birthDate?: string;

  @ApiPropertyOptional({ example: 'MD', description: 'ISO 3166-1 alpha-2 or alpha-3' })
  @IsOptional()
  @Matches(/^[A-Z]{2,3}$/, { message: 'nationality must be an ISO 3166-1 alpha-2 or alpha-3 code, e.g. MD' })
  nationality?: string;

  @ApiPropertyOptional({ example: '+00 000 0000', maxLength: 200, description: 'Data category contact.' })
  @IsOptional()
  @IsBoundedText({ min: 1, max: 200 })
  contact?: string;

  @ApiPropertyOptional({ maxLength: 2000 })
  @IsOptional()
  @IsBoundedText({ min: 1, max: 2000, multiline: true })
  notes?: string;
}

export class ReportPotentialVictimDto {
  @ApiProperty({
    enum: INDICATOR_CODES,
    isArray: true,
    example: ['restricted-movement', 'debt-bondage', 'withheld-documents'],
    description: `Indicator codes observed (1 to 50). ${FROM_THE_LIST}`,
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
  @IsRegionCode()
  region!: string;

  @ApiPropertyOptional({
    type: IdentityDto,
    description:
      "Data categories identity (name, birth date, nationality, notes) and contact: sealed under the subject's key before it is recorded.",
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => IdentityDto)
  identity?: IdentityDto;
}

export class AssessIndicatorsDto {
  @ApiProperty({ enum: INDICATORS_OUTCOMES, example: 'indicators-present' })
  @IsIn(INDICATORS_OUTCOMES)
  outcome!: IndicatorsOutcome;

  @ApiProperty({
    enum: INDICATOR_CODES,
    isArray: true,
    example: ['debt-bondage', 'withheld-documents'],
    description: `Indicator codes confirmed (up to 50; at least one when indicators are present). ${FROM_THE_LIST}`,
  })
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

export class DesignateCompetentAuthorityDto {
  @ApiProperty({
    example: 'police-south',
    description:
      'The competent authority designated (see GET /agencies): of a kind competent to decide, registered in this country and not switched off.',
  })
  @Matches(ID_PATTERN, { message: 'authorityId must be an agency id (a UUID or slug)' })
  authorityId!: string;

  @ApiPropertyOptional({ enum: DESIGNATION_REASONS, example: 'no-authority-seized' })
  @IsOptional()
  @IsIn(DESIGNATION_REASONS)
  reason?: DesignationReason;
}
