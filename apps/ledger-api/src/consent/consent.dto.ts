import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  LAWFUL_BASES,
  MAX_AGENCIES_PER_GRANT,
  type ConsentCaptureMethod,
  type LawfulBasis,
} from '@nrm/consent';
import { DATA_CATEGORIES, PURPOSES, type DataCategory, type Purpose } from '@nrm/shared-kernel';
import { Type } from 'class-transformer';
import {
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsOptional,
  Matches,
  ValidateNested,
} from 'class-validator';
import { ID_PATTERN } from '../http/ids';
import { IsBoundedText, IsIdList, IsInstant } from '../http/value-rules';

const CAPTURE_METHODS: readonly ConsentCaptureMethod[] = ['written', 'verbal-with-witness', 'guardian'];

export class ConsentCaptureDto {
  @ApiProperty({ enum: CAPTURE_METHODS, example: 'written' })
  @IsIn(CAPTURE_METHODS)
  method!: ConsentCaptureMethod;

  @ApiProperty({ example: 'ro', description: 'Language the person was informed in (BCP 47 code).' })
  @Matches(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, {
    message: 'capture.language must be a language code such as en, ro or vi',
  })
  language!: string;

  @ApiProperty({ example: true })
  @IsBoolean()
  interpreterUsed!: boolean;

  @ApiPropertyOptional({
    description:
      'The principal who witnessed a verbal consent: a principal registered for the recording agency, by the id the registry gave it. An unknown id, or another agency’s principal, is refused (400, `CONSENT.WITNESS_UNKNOWN`).',
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'capture.witnessPrincipalId must be a principal id' })
  witnessPrincipalId?: string;

  @ApiPropertyOptional({
    description:
      "Reference to the guardian's appointment record, never the guardian's name. Recorded sealed under the person's key: the person's erasure makes it unreadable (oversight then sees `{\"erased\": true}`).",
    example: 'GRD-2026-0042',
  })
  @IsOptional()
  @Matches(ID_PATTERN, { message: 'capture.guardianReference must be a reference code, not a name' })
  guardianReference?: string;
}

class ScopeDto {
  @ApiProperty({ type: String, isArray: true, example: ['ngo-safe-harbour', 'shelter-east'] })
  @IsIdList({ min: 1, max: MAX_AGENCIES_PER_GRANT })
  agencyIds!: string[];

  @ApiProperty({ enum: DATA_CATEGORIES, isArray: true, example: ['case-status', 'support-needs', 'health'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(DATA_CATEGORIES, { each: true })
  categories!: DataCategory[];

  @ApiProperty({ enum: PURPOSES, isArray: true, example: ['assistance', 'referral'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(PURPOSES, { each: true })
  purposes!: Purpose[];
}

export class GrantConsentDto extends ScopeDto {
  @ApiProperty({
    example: '2027-06-30T00:00:00Z',
    description: 'When the consent ends unless withdrawn earlier.',
  })
  @IsInstant()
  expiresAt!: string;

  @ApiProperty({ type: ConsentCaptureDto })
  @IsDefined()
  @ValidateNested()
  @Type(() => ConsentCaptureDto)
  capture!: ConsentCaptureDto;
}

export class WithdrawConsentDto {
  @ApiPropertyOptional({
    type: String,
    isArray: true,
    description:
      'With no list at all, the whole consent is withdrawn. Otherwise exactly the (agency, category, purpose) triples matching every list given leave it; a list left out matches all its values.',
  })
  @IsOptional()
  @IsIdList({ min: 1, max: MAX_AGENCIES_PER_GRANT })
  agencyIds?: string[];

  @ApiPropertyOptional({ enum: DATA_CATEGORIES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(DATA_CATEGORIES, { each: true })
  categories?: DataCategory[];

  @ApiPropertyOptional({ enum: PURPOSES, isArray: true })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @ArrayUnique()
  @IsIn(PURPOSES, { each: true })
  purposes?: Purpose[];
}

export class RefuseConsentDto extends WithdrawConsentDto {}

export class RecordLawfulBasisDto extends ScopeDto {
  @ApiProperty({ enum: LAWFUL_BASES, example: 'child-protection' })
  @IsIn(LAWFUL_BASES)
  basis!: LawfulBasis;

  @ApiProperty({
    example:
      'Child protection order 2026/117 of the district court requires sharing with the guardianship authority.',
    description:
      'The legal reason, at least 20 characters. It is read by oversight: it must not describe the person.',
  })
  @IsBoundedText({ min: 1, max: 2000, multiline: true })
  justification!: string;

  @ApiPropertyOptional({ example: '2027-01-31T00:00:00Z' })
  @IsOptional()
  @IsInstant()
  expiresAt?: string;
}
