import { ApiProperty } from '@nestjs/swagger';
import {
  DECLINE_REASONS,
  URGENCIES,
  WITHDRAW_REASONS,
  type DeclineReason,
  type Urgency,
  type WithdrawReason,
} from '@nrm/referral';
import {
  DATA_CATEGORIES,
  PURPOSES,
  SUPPORT_SERVICE_TYPES,
  type DataCategory,
  type Purpose,
  type SupportServiceType,
} from '@nrm/shared-kernel';
import { ArrayUnique, IsArray, IsIn, Matches } from 'class-validator';
import { ID_PATTERN } from '../http/ids';
import { IsInstant } from '../http/value-rules';

export class MakeReferralDto {
  @ApiProperty({ example: 'shelter-east', description: 'The receiving agency (see GET /agencies).' })
  @Matches(ID_PATTERN, { message: 'toAgencyId must be an agency id (a UUID or slug)' })
  toAgencyId!: string;

  @ApiProperty({ enum: PURPOSES, example: 'assistance' })
  @IsIn(PURPOSES)
  purpose!: Purpose;

  @ApiProperty({ enum: SUPPORT_SERVICE_TYPES, isArray: true, example: ['accommodation', 'psychological'] })
  @IsArray()
  @ArrayUnique()
  @IsIn(SUPPORT_SERVICE_TYPES, { each: true })
  servicesRequested!: SupportServiceType[];

  @ApiProperty({ enum: URGENCIES, example: 'urgent' })
  @IsIn(URGENCIES)
  urgency!: Urgency;

  @ApiProperty({
    example: '2026-12-02T17:00:00Z',
    description: 'When the receiving agency should have answered.',
  })
  @IsInstant()
  respondBy!: string;

  @ApiProperty({
    enum: DATA_CATEGORIES,
    isArray: true,
    example: ['case-status', 'support-needs'],
    description:
      'Categories shared with the receiver; each must be covered by consent or a recorded lawful basis (by consent alone when abroad).',
  })
  @IsArray()
  @ArrayUnique()
  @IsIn(DATA_CATEGORIES, { each: true })
  sharedCategories!: DataCategory[];
}

export class DeclineReferralDto {
  @ApiProperty({ enum: DECLINE_REASONS, example: 'no-capacity' })
  @IsIn(DECLINE_REASONS)
  reason!: DeclineReason;
}

export class WithdrawReferralDto {
  @ApiProperty({ enum: WITHDRAW_REASONS, example: 'no-longer-needed' })
  @IsIn(WITHDRAW_REASONS)
  reason!: WithdrawReason;
}
