/**
 * `ledger demo`: seeds an invented scenario so that a new user sees a populated
 * ledger. Every name and id is invented; no real person is described.
 */
import type { EventStore } from '@nrm/event-store';
import { DomainError, type Actor, type AgencyKind, type Role } from '@nrm/shared-kernel';
import { randomUUID } from 'node:crypto';
import { RegistryCommands } from '@nrm/access';
import type { CommandContext } from '@nrm/runtime/commands';
import { ConsentCommands } from '@nrm/consent';
import { IdentificationCommands } from '@nrm/identification';
import { ReferralCommands } from '@nrm/referral';
import { CaseRecords } from '@nrm/runtime';
import { SupportCommands } from '@nrm/support';

interface DemoAgency {
  readonly agencyId: string;
  readonly name: string;
  readonly kind: AgencyKind;
  readonly country: string;
  readonly roles: Role[];
}

const AGENCIES: readonly DemoAgency[] = [
  {
    agencyId: 'clinic-harbour',
    name: 'Harbour Health Clinic',
    kind: 'health',
    country: 'NL',
    roles: ['caseworker'],
  },
  {
    agencyId: 'police-west',
    name: 'Police Region West, anti-trafficking unit',
    kind: 'law-enforcement',
    country: 'NL',
    roles: ['caseworker', 'decision-maker'],
  },
  {
    agencyId: 'ngo-lighthouse',
    name: 'Lighthouse Victim Support',
    kind: 'ngo',
    country: 'NL',
    roles: ['caseworker'],
  },
  {
    agencyId: 'shelter-dune',
    name: 'Dune Safe House',
    kind: 'shelter',
    country: 'NL',
    roles: ['caseworker'],
  },
  {
    agencyId: 'labour-inspectorate',
    name: 'Labour Inspectorate',
    kind: 'labour-inspectorate',
    country: 'NL',
    roles: ['caseworker'],
  },
  {
    agencyId: 'nrm-coordinator',
    name: 'National Coordinator',
    kind: 'national-coordinator',
    country: 'NL',
    roles: ['coordinator', 'registry-admin'],
  },
  {
    agencyId: 'oversight-dpa',
    name: 'Data Protection Authority',
    kind: 'oversight-body',
    country: 'NL',
    roles: ['oversight'],
  },
  {
    agencyId: 'nrm-romania',
    name: 'Romanian NRM contact point',
    kind: 'foreign-nrm',
    country: 'RO',
    roles: ['caseworker'],
  },
];

/** The name of the shell variable that holds each demo agency's API key (`ledger demo --env`). */
export const DEMO_KEY_VARIABLES: Readonly<Record<string, string>> = {
  'clinic-harbour': 'CLINIC',
  'police-west': 'POLICE',
  'ngo-lighthouse': 'NGO',
  'shelter-dune': 'SHELTER',
  'labour-inspectorate': 'INSPECTORATE',
  'nrm-coordinator': 'COORDINATOR',
  'oversight-dpa': 'OVERSIGHT',
  'nrm-romania': 'ROMANIA',
};

export interface DemoResult {
  readonly caseId: string;
  readonly subjectId: string;
  /** API key of each demo agency's desk, by agency id. */
  readonly keys: Record<string, string>;
  /** Principal id of each demo agency's desk, by agency id. */
  readonly principals: Record<string, string>;
  /** A police duty officer who may read beyond consent in an emergency (role break-glass). */
  readonly breakGlass: { readonly agencyId: string; readonly principalId: string; readonly apiKey: string };
  /** The referrals made, by receiving agency id. */
  readonly referrals: Record<string, string>;
  readonly steps: readonly string[];
}

function isoDay(now: Date, plusDays = 0): string {
  return new Date(now.getTime() + plusDays * 86_400_000).toISOString().slice(0, 10);
}

export async function seedDemo(
  store: EventStore,
  competentKinds: readonly AgencyKind[],
): Promise<DemoResult> {
  const registry = new RegistryCommands(store);
  const consoleCtx = (): CommandContext => ({
    now: new Date().toISOString(),
    requestId: `demo-${randomUUID()}`,
    fingerprint: 'demo',
  });
  const actors = new Map<string, Actor>();
  const keys: Record<string, string> = {};
  const principals: Record<string, string> = {};
  for (const a of AGENCIES) {
    const existing = await registry.agencyExists(a.agencyId);
    if (!existing)
      await registry.registerAgency(
        { agencyId: a.agencyId, name: a.name, kind: a.kind, country: a.country },
        consoleCtx(),
      );
    const { principalId } = await registry.registerPrincipal(
      { agencyId: a.agencyId, label: `${a.agencyId} demo desk`, roles: a.roles },
      consoleCtx(),
    );
    const { apiKey } = await registry.issueApiKey(principalId, consoleCtx());
    keys[a.agencyId] = apiKey ?? '';
    principals[a.agencyId] = principalId;
    actors.set(a.agencyId, { principalId, agencyId: a.agencyId, agencyKind: a.kind, roles: a.roles });
  }
  const dutyOfficer = await registry.registerPrincipal(
    { agencyId: 'police-west', label: 'police-west duty officer', roles: ['caseworker', 'break-glass'] },
    consoleCtx(),
  );
  const breakGlass = {
    agencyId: 'police-west',
    principalId: dutyOfficer.principalId,
    apiKey: (await registry.issueApiKey(dutyOfficer.principalId, consoleCtx())).apiKey ?? '',
  };
  const as = (agencyId: string): CommandContext => ({
    actor: actors.get(agencyId)!,
    now: new Date().toISOString(),
    requestId: `demo-${randomUUID()}`,
    fingerprint: 'demo',
  });

  const identification = new IdentificationCommands(store, { competentKinds }, new CaseRecords(store));
  const consent = new ConsentCommands(store, new CaseRecords(store));
  const referral = new ReferralCommands(store, new CaseRecords(store));
  const support = new SupportCommands(store, new CaseRecords(store));
  const steps: string[] = [];
  const now = new Date();
  const respondBy = new Date(now.getTime() + 2 * 86_400_000).toISOString();

  const { caseId, subjectId } = await identification.report(
    {
      indicators: ['restricted-movement', 'debt-bondage', 'withheld-documents'],
      exploitationForms: ['labour'],
      minor: false,
      region: 'NL-ZH',
    },
    as('clinic-harbour'),
  );
  steps.push(`clinic-harbour reported a potential victim: case ${caseId}, subject ${subjectId}`);
  await identification.assessIndicators(
    {
      caseId,
      outcome: 'indicators-present',
      indicatorsConfirmed: ['debt-bondage', 'withheld-documents'],
      exploitationForms: ['labour'],
    },
    as('clinic-harbour'),
  );
  steps.push('clinic-harbour assessed the indicators: present');

  await consent.grant(
    {
      caseId,
      agencyIds: ['ngo-lighthouse', 'shelter-dune', 'nrm-romania'],
      categories: ['case-status', 'support-needs', 'health'],
      purposes: ['assistance', 'referral'],
      expiresAt: new Date(now.getTime() + 180 * 86_400_000).toISOString(),
      capture: { method: 'written', language: 'ro', interpreterUsed: true },
    },
    as('clinic-harbour'),
  );
  steps.push(
    'consent recorded (written, in Romanian with an interpreter): NGO, shelter and the Romanian contact point; not the labour inspectorate',
  );

  const toPolice = await referral.make(
    {
      caseId,
      toAgencyId: 'police-west',
      purpose: 'protection',
      servicesRequested: [],
      urgency: 'urgent',
      respondBy,
      sharedCategories: [],
    },
    as('clinic-harbour'),
  );
  const toNgo = await referral.make(
    {
      caseId,
      toAgencyId: 'ngo-lighthouse',
      purpose: 'assistance',
      servicesRequested: ['accommodation', 'psychological', 'legal'],
      urgency: 'urgent',
      respondBy,
      sharedCategories: ['case-status', 'support-needs'],
    },
    as('clinic-harbour'),
  );
  steps.push(
    'clinic-harbour referred the person to police-west (no personal data shared) and to ngo-lighthouse (case status, support needs)',
  );

  for (const t of ['AcknowledgeReferral', 'AcceptReferral'] as const)
    await referral.transition(toPolice.referralId, t, as('police-west'));
  await identification.decideReasonableGrounds({ caseId, outcome: 'positive' }, as('police-west'));
  steps.push('police-west accepted its referral and decided reasonable grounds: positive');

  for (const t of ['AcknowledgeReferral', 'AcceptReferral', 'CompleteHandoff'] as const)
    await referral.transition(toNgo.referralId, t, as('ngo-lighthouse'));
  steps.push('ngo-lighthouse acknowledged, accepted and completed the handoff');

  await support.startReflectionPeriod({ caseId, startsOn: isoDay(now), days: 30 }, as('ngo-lighthouse'));
  await support.agreePlan(
    {
      caseId,
      services: ['accommodation', 'psychological', 'legal', 'interpretation'],
      reviewOn: isoDay(now, 21),
    },
    as('ngo-lighthouse'),
  );
  await support.recordService(
    { caseId, serviceType: 'psychological', providedOn: isoDay(now) },
    as('ngo-lighthouse'),
  );
  steps.push(
    'ngo-lighthouse started a 30-day reflection period, agreed a support plan and recorded a first counselling session',
  );

  const toShelter = await referral.make(
    {
      caseId,
      toAgencyId: 'shelter-dune',
      purpose: 'assistance',
      servicesRequested: ['accommodation'],
      urgency: 'emergency',
      respondBy,
      sharedCategories: ['case-status'],
    },
    as('ngo-lighthouse'),
  );
  await referral.transition(toShelter.referralId, 'AcknowledgeReferral', as('shelter-dune'));
  steps.push('ngo-lighthouse referred the person to shelter-dune, which acknowledged');

  try {
    await referral.make(
      {
        caseId,
        toAgencyId: 'labour-inspectorate',
        purpose: 'investigation',
        servicesRequested: [],
        urgency: 'routine',
        respondBy,
        sharedCategories: ['exploitation'],
      },
      as('ngo-lighthouse'),
    );
    steps.push('UNEXPECTED: a referral sharing uncovered data was accepted');
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    steps.push(
      `a referral to the labour inspectorate sharing exploitation details was refused: ${error.code}`,
    );
  }

  const toRomania = await referral.make(
    {
      caseId,
      toAgencyId: 'nrm-romania',
      purpose: 'referral',
      servicesRequested: ['return-assistance'],
      urgency: 'routine',
      respondBy,
      sharedCategories: ['case-status'],
    },
    as('ngo-lighthouse'),
  );
  steps.push(
    'ngo-lighthouse made a transnational referral to the Romanian contact point (case status only, by consent)',
  );
  const referrals = {
    'police-west': toPolice.referralId,
    'ngo-lighthouse': toNgo.referralId,
    'shelter-dune': toShelter.referralId,
    'nrm-romania': toRomania.referralId,
  };
  return { caseId, subjectId, keys, principals, breakGlass, referrals, steps };
}
