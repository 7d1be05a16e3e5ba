/**
 * `npm run ledger -- <command>`: the operator's console. It writes to the same
 * event store as the API (the SQLite file under DATA_DIR; WAL lets both run at
 * once), through the same command handlers, as the operator at the console.
 */
import { DISABLE_REASONS, RegistryCommands, type DisableReason } from '@nrm/access';
import { Logger } from '@nestjs/common';
import type { EventStore } from '@nrm/event-store';
import {
  AGENCY_KINDS,
  ID_DESCRIPTION,
  ID_SHAPE,
  ROLES,
  type AgencyKind,
  type Role,
} from '@nrm/shared-kernel';
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import type { CommandContext } from '@nrm/runtime/commands';
import { ConfigError, openEventStore, openSubjectKeys, openReadModelStore, PROJECTIONS } from '@nrm/runtime';
import { DEMO_KEY_VARIABLES, seedDemo, type DemoResult } from './demo';
import { printRows, quietOnClosedPipe, rounded } from './output';
import { listRegistry } from './registry-listing';
import { ERASURE_GROUNDS } from '@nrm/privacy';
import { eraseSubject } from './erase-subject';
import { UsageError, consoleConfig, registerAuditCommands } from './audit-commands';
import { registerWitnessCommands } from './witness-commands';
import { registerBackupCommands } from './backup-commands';
import { registerReadModelCommands } from './read-model-commands';
import { Projector } from '@nrm/projections';
import { Presets, SingleBar } from 'cli-progress';

function consoleContext(): CommandContext {
  return { now: new Date().toISOString(), requestId: `cli-${randomUUID()}`, fingerprint: 'cli' };
}

function openStore(dataDir: string | undefined): EventStore {
  const config = consoleConfig(dataDir);
  return openEventStore(config, new Logger('EventStore'));
}

function id(value: string): string {
  if (!ID_SHAPE.test(value)) throw new InvalidArgumentError(`must be ${ID_DESCRIPTION}`);
  return value;
}

function roles(value: string): Role[] {
  const list = value.split(',').map((r) => r.trim());
  for (const r of list)
    if (!ROLES.includes(r as Role)) throw new InvalidArgumentError(`roles must be among ${ROLES.join(', ')}`);
  return list as Role[];
}

async function withStore<T>(
  dataDir: string | undefined,
  work: (store: EventStore) => Promise<T>,
): Promise<T> {
  const store = openStore(dataDir);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

export function program(): Command {
  const cli = new Command('ledger')
    .description('nrm-ledger operator console')
    .option('--data-dir <dir>', 'directory of the embedded store (default: $DATA_DIR or ./data)');
  const dataDir = (): string | undefined => cli.opts<{ dataDir?: string }>().dataDir;

  const agency = cli.command('agency').description('agencies of the referral mechanism');
  agency
    .command('create')
    .description('register an agency')
    .requiredOption('--name <name>', 'organisation name')
    .addOption(new Option('--kind <kind>', 'agency kind').choices(AGENCY_KINDS).makeOptionMandatory())
    .requiredOption('--country <cc>', 'ISO 3166-1 alpha-2 country code')
    .option('--id <id>', 'agency id (default: a new UUID)', id)
    .action(async (o: { name: string; kind: AgencyKind; country: string; id?: string }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).registerAgency(
          { name: o.name, kind: o.kind, country: o.country, agencyId: o.id },
          consoleContext(),
        ),
      );
      console.log(JSON.stringify({ agencyId: result.agencyId }));
    });
  agency
    .command('list')
    .description('list registered agencies (a table, or one JSON object per line with --json)')
    .option('--json', 'one JSON object per line')
    .action(async (o: { json?: boolean }) => {
      const { agencies } = await withStore(dataDir(), listRegistry);
      printRows(agencies, ['agencyId', 'kind', 'country', 'status', 'name'], o.json);
    });

  agency
    .command('disable')
    .description('switch an agency off: all its principals are refused, whatever their credentials')
    .requiredOption('--id <id>', 'agency id', id)
    .addOption(new Option('--reason <reason>', 'why').choices(DISABLE_REASONS).makeOptionMandatory())
    .action(async (o: { id: string; reason: DisableReason }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).disableAgency(o.id, o.reason, consoleContext()),
      );
      console.log(JSON.stringify({ disabled: o.id, changed: result.eventIds.length > 0 }));
    });
  agency
    .command('enable')
    .description('switch an agency on again')
    .requiredOption('--id <id>', 'agency id', id)
    .action(async (o: { id: string }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).enableAgency(o.id, consoleContext()),
      );
      console.log(JSON.stringify({ enabled: o.id, changed: result.eventIds.length > 0 }));
    });

  const principal = cli.command('principal').description('principals acting for an agency');
  principal
    .command('list')
    .description('list principals: id, agency, roles, status (a table, or JSON lines with --json)')
    .option('--agency <id>', 'of this agency only', id)
    .option('--json', 'one JSON object per line')
    .action(async (o: { agency?: string; json?: boolean }) => {
      const { principals } = await withStore(dataDir(), listRegistry);
      const rows = principals.filter((p) => o.agency === undefined || p.agencyId === o.agency);
      printRows(rows, ['principalId', 'agencyId', 'roles', 'status', 'label'], o.json);
    });
  principal
    .command('disable')
    .description('switch a principal off: refused whatever its credential (API key or JWT)')
    .requiredOption('--principal <id>', 'principal id', id)
    .addOption(new Option('--reason <reason>', 'why').choices(DISABLE_REASONS).makeOptionMandatory())
    .action(async (o: { principal: string; reason: DisableReason }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).disablePrincipal(o.principal, o.reason, consoleContext()),
      );
      console.log(JSON.stringify({ disabled: o.principal, changed: result.eventIds.length > 0 }));
    });
  principal
    .command('enable')
    .description('switch a principal on again')
    .requiredOption('--principal <id>', 'principal id', id)
    .action(async (o: { principal: string }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).enablePrincipal(o.principal, consoleContext()),
      );
      console.log(JSON.stringify({ enabled: o.principal, changed: result.eventIds.length > 0 }));
    });
  principal
    .command('create')
    .description('register a principal for an agency')
    .requiredOption('--agency <id>', 'agency id', id)
    .requiredOption('--label <label>', 'a label for the seat or system (not a person’s name)')
    .requiredOption('--roles <roles>', `comma-separated roles among ${ROLES.join(', ')}`, roles)
    .option('--id <id>', 'principal id (default: a new UUID)', id)
    .action(async (o: { agency: string; label: string; roles: Role[]; id?: string }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).registerPrincipal(
          { agencyId: o.agency, label: o.label, roles: o.roles, principalId: o.id },
          consoleContext(),
        ),
      );
      console.log(JSON.stringify({ principalId: result.principalId }));
    });

  const key = cli.command('key').description('API keys of principals');
  key
    .command('list')
    .description('list API keys: key id, principal, issued, status; never a secret')
    .option('--principal <id>', 'of this principal only', id)
    .option('--agency <id>', 'of this agency’s principals only', id)
    .option('--json', 'one JSON object per line')
    .action(async (o: { principal?: string; agency?: string; json?: boolean }) => {
      const { keys } = await withStore(dataDir(), listRegistry);
      const rows = keys.filter(
        (k) =>
          (o.principal === undefined || k.principalId === o.principal) &&
          (o.agency === undefined || k.agencyId === o.agency),
      );
      printRows(rows, ['keyId', 'principalId', 'agencyId', 'issuedAt', 'status'], o.json);
    });
  key
    .command('issue')
    .description('issue an API key; it is printed once and stored only as a hash')
    .requiredOption('--principal <id>', 'principal id', id)
    .option(
      '--key-only',
      'print the API key alone, e.g. CLINIC=$(npm run -s ledger -- key issue … --key-only)',
    )
    .option('--json', 'print {principalId, keyId, apiKey} (the default)')
    .action(async (o: { principal: string; keyOnly?: boolean }) => {
      const result = await withStore(dataDir(), (s) =>
        new RegistryCommands(s).issueApiKey(o.principal, consoleContext()),
      );
      if (o.keyOnly) console.log(result.apiKey);
      else
        console.log(JSON.stringify({ principalId: o.principal, keyId: result.keyId, apiKey: result.apiKey }));
    });
  key
    .command('revoke')
    .description('revoke an API key')
    .requiredOption('--principal <id>', 'principal id', id)
    .requiredOption('--key <keyId>', 'key id')
    .action(async (o: { principal: string; key: string }) => {
      await withStore(dataDir(), (s) =>
        new RegistryCommands(s).revokeApiKey(o.principal, o.key, consoleContext()),
      );
      console.log(JSON.stringify({ revoked: o.key }));
    });

  cli
    .command('rebuild')
    .description('rebuild a projection (or all) from the first event, with progress and an events/s figure')
    .argument('[name]', `projection name: ${PROJECTIONS.map((p) => p.name).join(', ')}`)
    .action(async (name: string | undefined) => {
      const config = consoleConfig(dataDir());
      const names = name ? [name] : PROJECTIONS.map((p) => p.name);
      for (const n of names) {
        if (!PROJECTIONS.some((p) => p.name === n)) throw new InvalidArgumentError(`unknown projection ${n}`);
      }
      await withStore(dataDir(), async (store) => {
        const readModels = openReadModelStore(config);
        const projector = new Projector({ store, readModels, projections: PROJECTIONS });
        try {
          for (const n of names) {
            const bar = new SingleBar(
              {
                format: `${n} [{bar}] {percentage}% | {value}/{total} events | {rate} events/s`,
                hideCursor: true,
              },
              Presets.shades_classic,
            );
            bar.start(1, 0, { rate: 0 });
            const result = await projector.rebuild(n, (p) => {
              bar.setTotal(Math.max(1, p.total));
              bar.update(p.processed, { rate: Math.round(p.eventsPerSec) });
            });
            bar.stop();
            console.log(
              JSON.stringify({
                projection: n,
                events: result.events,
                seconds: rounded(result.seconds, 3),
                eventsPerSec: rounded(result.eventsPerSec),
              }),
            );
          }
        } finally {
          await projector.close();
          await readModels.close();
        }
      });
    });

  cli
    .command('erase-subject')
    .description(
      "erase a subject's identity data by destroying its key (crypto-shredding); recorded as SubjectErased with who, the legal ground and a reference",
    )
    .requiredOption('--subject <subjectId>', 'the subject', id)
    .addOption(
      new Option('--ground <ground>', 'the legal ground (GDPR Art. 17(1), a court or DPA order)').choices(
        ERASURE_GROUNDS,
      ),
    )
    .option(
      '--reference <code>',
      'the file number of the request or order: letters, digits, . _ : / - (no spaces, no personal data)',
    )
    .option(
      '--reason <code>',
      'deprecated: a reference code only (prose is refused); use --ground and --reference',
    )
    .requiredOption(
      '--as <principalId>',
      'acting principal: oversight (oversight body) or coordinator (national coordinator)',
      id,
    )
    .action(
      async (o: { subject: string; ground?: string; reference?: string; reason?: string; as: string }) => {
        const config = consoleConfig(dataDir());
        const keys = openSubjectKeys(config);
        try {
          const result = await withStore(dataDir(), (s) =>
            eraseSubject(s, keys, {
              subjectId: o.subject,
              ...(o.ground !== undefined ? { ground: o.ground } : {}),
              ...(o.reference !== undefined ? { reference: o.reference } : {}),
              ...(o.reason !== undefined ? { reason: o.reason } : {}),
              as: o.as,
            }),
          );
          console.log(JSON.stringify({ erased: result.subjectId, replayed: result.replayed }));
        } finally {
          await keys.close();
        }
      },
    );

  cli
    .command('demo')
    .description(
      'seed an invented scenario: agencies, principals with keys, and one case through identification, consent, referral and support',
    )
    .option('--json', 'print what was made as one JSON object')
    .option('--env', 'print `export NAME=value` lines (keys and ids) for a shell to source')
    .action(async (o: { json?: boolean; env?: boolean }) => {
      const config = consoleConfig(dataDir());
      const result = await withStore(dataDir(), (s) => seedDemo(s, config.COMPETENT_AGENCY_KINDS));
      if (o.env) process.stdout.write(demoEnv(result));
      else if (o.json) console.log(JSON.stringify(result));
      else printDemo(result);
    });

  registerAuditCommands(cli, dataDir);
  registerWitnessCommands(cli);
  registerBackupCommands(cli, dataDir);
  registerReadModelCommands(cli, dataDir);

  return cli;
}

/** `ledger demo --env`: one `export` line per value, quoted for a POSIX shell. */
export function demoEnv(result: DemoResult): string {
  const lines = ['# nrm-ledger demo: API keys (secrets: keep them to yourself) and the ids it made'];
  const q = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;
  for (const [agencyId, apiKey] of Object.entries(result.keys)) {
    const name = DEMO_KEY_VARIABLES[agencyId];
    if (name === undefined) continue;
    lines.push(`export ${name}=${q(apiKey)} ${name}_PRINCIPAL=${q(result.principals[agencyId] ?? '')}`);
  }
  lines.push(
    `export BREAK_GLASS=${q(result.breakGlass.apiKey)} BREAK_GLASS_PRINCIPAL=${q(result.breakGlass.principalId)}`,
  );
  lines.push(`export DEMO_CASE=${q(result.caseId)} DEMO_SUBJECT=${q(result.subjectId)}`);
  return `${lines.join('\n')}\n`;
}

function printDemo(result: DemoResult): void {
  for (const step of result.steps) console.log(`- ${step}`);
  console.log(`\ncase ${result.caseId}, subject ${result.subjectId}`);
  console.log('referrals:');
  for (const [to, referralId] of Object.entries(result.referrals))
    console.log(`  to ${to.padEnd(20)} ${referralId}`);
  console.log('\nAPI keys (shown once; each acts for one demo agency) and the principals they belong to:');
  for (const [agencyId, apiKey] of Object.entries(result.keys))
    console.log(
      `  ${agencyId.padEnd(20)} ${(DEMO_KEY_VARIABLES[agencyId] ?? '').padEnd(13)} ${apiKey}  ${result.principals[agencyId]}`,
    );
  console.log(
    `  ${'police-west'.padEnd(20)} ${'BREAK_GLASS'.padEnd(13)} ${result.breakGlass.apiKey}  ${result.breakGlass.principalId} (roles caseworker, break-glass)`,
  );
  console.log('\n`ledger demo --env` prints the same as `export NAME=value` lines for a shell.');
}

if (require.main === module) {
  quietOnClosedPipe(process.stdout);
  quietOnClosedPipe(process.stderr);
  program()
    .parseAsync(process.argv)
    .catch((error: unknown) => {
      if (error instanceof ConfigError || error instanceof UsageError)
        process.stderr.write(`${error.message}\n`);
      else process.stderr.write(`ledger: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
