import { ApiProperty } from '@nestjs/swagger';
import { DISABLE_REASONS, type DisableReason } from '@nrm/access';
import { AGENCY_KINDS, ROLES, type AgencyKind, type Role } from '@nrm/shared-kernel';
import { ArrayMaxSize, ArrayMinSize, ArrayUnique, IsArray, IsIn, Matches } from 'class-validator';
import { IsBoundedText } from '../http/value-rules';

export class RegisterAgencyDto {
  @ApiProperty({ example: 'Safe Harbour NGO', description: 'The organisation’s name (not a person’s).' })
  @IsBoundedText({ min: 2, max: 200 })
  name!: string;

  @ApiProperty({ enum: AGENCY_KINDS, example: 'ngo' })
  @IsIn(AGENCY_KINDS)
  kind!: AgencyKind;

  @ApiProperty({ example: 'NL', description: 'ISO 3166-1 alpha-2 country code.' })
  @Matches(/^[A-Z]{2}$/, { message: 'country must be an ISO 3166-1 alpha-2 code such as NL' })
  country!: string;
}

export class RegisterPrincipalDto {
  @ApiProperty({
    example: 'intake desk 2',
    description: 'A label for the seat or system, not a person’s name.',
  })
  @IsBoundedText({ min: 1, max: 120 })
  label!: string;

  @ApiProperty({ enum: ROLES, isArray: true, example: ['caseworker'] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(ROLES.length)
  @ArrayUnique()
  @IsIn(ROLES, { each: true })
  roles!: Role[];
}

export class DisableDto {
  @ApiProperty({
    enum: DISABLE_REASONS,
    example: 'offboarded',
    description: 'Why: a reason from the list, never prose (the event is permanent).',
  })
  @IsIn(DISABLE_REASONS)
  reason!: DisableReason;
}
