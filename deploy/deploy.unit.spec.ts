/**
 * Checks deploy/: every YAML file parses; every environment variable that compose.yaml and the
 * Kubernetes manifests give our apps is one their configuration reads, and the concrete values
 * (placeholders for secrets, from the committed examples) pass that configuration's validation;
 * the Deployments carry probes, resources and a non-root, read-only security context; the single
 * writers stay single; Services, PDBs and the HPA point at real Deployments; no secret is committed.
 * Hardening: default-deny NetworkPolicies with only the topology's flows, a TLS Ingress publishing
 * only the api's routes, the restricted Pod Security Standard, ServiceMonitors and alert rules on
 * metrics the code exports, scheduled backups, and Kafka users that read only their own topic.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  ConfigError,
  LedgerConfig,
  loadConfig,
  TRACING_VARIABLES,
  tracingConfigProblems,
} from '@nrm/runtime';
import { loadRelayConfig, RelayConfigError } from '../apps/relay/src/config';

const DEPLOY = __dirname;
const ROOT = join(DEPLOY, '..');
const PLACEHOLDER = 'REPLACE_ME';
/** Setting names that hold a secret wherever they appear. */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|PRIVATE/i;
/** user:password@ in a URL; in compose.yaml the password may be an interpolation, ${...}. */
const URL_CREDENTIALS = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]+:(\$\{[^}]*\}|[^@\s]+)@/i;

type App = 'ledger-api' | 'projector' | 'relay';
const APPS: readonly App[] = ['ledger-api', 'projector', 'relay'];
/** A process of ours that runs no app: the compose stack's one-shot maker of the audit signing key. */
const COMPOSE_HELPERS: ReadonlySet<string> = new Set(['audit-key']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj => (isObj(v) ? v : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? (v as unknown[]) : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const at = (v: unknown, ...path: string[]): unknown => path.reduce<unknown>((o, k) => obj(o)[k], v);

// ---------------------------------------------------------------------------------------------
// Files

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** Path relative to deploy/, with forward slashes. */
const rel = (path: string): string => relative(DEPLOY, path).split(sep).join(posix.sep);

interface Doc {
  readonly file: string;
  readonly value: unknown;
}

const yamlFiles = filesUnder(DEPLOY).filter((f) => /\.ya?ml$/.test(f));
const parseProblems: string[] = [];
const docs: Doc[] = [];
for (const file of yamlFiles) {
  for (const [index, doc] of parseAllDocuments(readFileSync(file, 'utf8'), { merge: true }).entries()) {
    const issues = [...doc.errors, ...doc.warnings];
    for (const issue of issues) parseProblems.push(`${rel(file)} document ${index + 1}: ${issue.message}`);
    if (issues.length === 0) docs.push({ file: rel(file), value: doc.toJS({ maxAliasCount: 1000 }) });
  }
}

const kind = (d: Doc): string =>
  `${str(at(d.value, 'apiVersion')) ?? '?'}/${str(at(d.value, 'kind')) ?? '?'}`;
const nameOf = (d: Doc): string => str(at(d.value, 'metadata', 'name')) ?? '?';
const ofKind = (k: string): Doc[] => docs.filter((d) => kind(d) === k);
const isExampleFile = (file: string): boolean => /\.example\.ya?ml$/.test(file);

// ---------------------------------------------------------------------------------------------
// What the builds produce: entry file per app, from the Nest CLI configurations the Dockerfile uses.

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

function entryPoints(nestConfig: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const [project, settings] of Object.entries(obj(at(readJson(join(ROOT, nestConfig)), 'projects')))) {
    const tsconfig = str(at(settings, 'compilerOptions', 'tsConfigPath'));
    const entryFile = str(at(settings, 'entryFile'));
    if (at(settings, 'type') !== 'application' || tsconfig === undefined || entryFile === undefined) continue;
    const outDir = str(at(readJson(join(ROOT, tsconfig)), 'compilerOptions', 'outDir'));
    if (outDir === undefined) continue;
    const out = relative(ROOT, join(ROOT, dirname(tsconfig), outDir))
      .split(sep)
      .join(posix.sep);
    entries.set(project, `${out}/${entryFile}.js`);
  }
  return entries;
}

const dockerfile = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8');
const builtEntries = new Map([...entryPoints('nest-cli.json'), ...entryPoints('deploy/build/nest-cli.json')]);
const entryOfApp = (app: App): string | undefined => builtEntries.get(app);
const appOfCommand = (command: readonly string[]): App | undefined =>
  APPS.find((app) => entryOfApp(app) !== undefined && command.includes(entryOfApp(app) ?? ''));
/** The image's default command (CMD), for containers that set none. */
const imageCommand: string[] = (() => {
  const cmd = [...dockerfile.matchAll(/^CMD\s+(\[.*\])\s*$/gm)].pop()?.[1];
  return cmd === undefined ? [] : list(JSON.parse(cmd)).map(String);
})();

// ---------------------------------------------------------------------------------------------
// Our containers, with the environment each one gets.

interface Setting {
  readonly value: string;
  readonly secret: boolean;
}

interface Container {
  readonly topology: 'compose' | 'k8s';
  readonly where: string;
  readonly app: App | undefined;
  readonly env: Map<string, Setting>;
  /** Directories where something is mounted (volumes, tmpfs), for path-valued settings. */
  readonly mounts: string[];
  /** What the manifest says about the container, for the shape checks. */
  readonly spec: unknown;
}

const problems = { env: [] as string[] };

// --- compose

const composeDoc = docs.find((d) => d.file === 'compose.yaml');
const composeEnvExample = new Map(
  readFileSync(join(DEPLOY, 'compose.env.example'), 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
    .flatMap((m) => (m?.[1] !== undefined && m[2] !== undefined ? [[m[1], m[2]] as const] : [])),
);
/** Compose interpolation, with the values of compose.env.example. */
function interpolate(raw: string, where: string): string {
  return raw.replace(
    /\$\$|\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}/g,
    (match, name?: string, op?: string, arg?: string) => {
      if (match === '$$' || name === undefined) return '$';
      const example = composeEnvExample.get(name);
      if (example !== undefined) return example;
      if (op?.includes('-') === true) return arg ?? '';
      problems.env.push(`${where}: \${${name}} is not in compose.env.example`);
      return '';
    },
  );
}

const composeServices = obj(at(composeDoc?.value, 'services'));
const isOurImage = (service: unknown): boolean =>
  str(at(service, 'build', 'dockerfile')) === 'deploy/Dockerfile' ||
  str(at(service, 'image')) === 'nrm-ledger:local';

function composeEnvironment(service: unknown, where: string): Map<string, Setting> {
  const env = new Map<string, Setting>();
  const raw = at(service, 'environment');
  const pairs: [string, string][] = Array.isArray(raw)
    ? raw.map(String).map((line) => [line.split('=')[0] ?? '', line.slice(line.indexOf('=') + 1)])
    : Object.entries(obj(raw)).map(([k, v]) => [k, String(v)]);
  for (const [name, value] of pairs)
    env.set(name, { value: interpolate(value, `${where} ${name}`), secret: /\$\{/.test(value) });
  return env;
}

const composeContainers: Container[] = Object.entries(composeServices)
  .filter(([, service]) => isOurImage(service))
  .flatMap(([name, service]): Container[] => {
    const where = `compose.yaml service ${name}`;
    const command = list(at(service, 'command')).map(String);
    const app = appOfCommand(command.length > 0 ? command : imageCommand);
    if (app === undefined && COMPOSE_HELPERS.has(name)) return [];
    const mounts = [
      ...list(at(service, 'volumes')).map((v) => String(v).split(':')[1] ?? ''),
      ...list(at(service, 'tmpfs')).map(String),
    ];
    return [
      { topology: 'compose', where, app, env: composeEnvironment(service, where), mounts, spec: service },
    ];
  });

// --- Kubernetes

const k8sDocs = docs.filter((d) => d.file.startsWith('k8s/'));
const configMaps = new Map(ofKind('v1/ConfigMap').map((d) => [nameOf(d), obj(at(d.value, 'data'))]));
const exampleSecrets = new Map(
  ofKind('v1/Secret')
    .filter((d) => isExampleFile(d.file))
    .map((d) => [nameOf(d), { ...obj(at(d.value, 'data')), ...obj(at(d.value, 'stringData')) }]),
);
const deployments = ofKind('apps/v1/Deployment');
/**
 * Secrets the engines' operators make, with their keys (placeholder values): Strimzi's User
 * Operator one per KafkaUser (its SCRAM password), its Cluster Operator the cluster CA certificate.
 */
const operatorSecrets = new Map<string, Obj>([
  ...ofKind('kafka.strimzi.io/v1/KafkaUser').map((d): [string, Obj] => [
    nameOf(d),
    { password: PLACEHOLDER },
  ]),
  ...ofKind('kafka.strimzi.io/v1/Kafka').map((d): [string, Obj] => [
    `${nameOf(d)}-cluster-ca-cert`,
    { 'ca.crt': PLACEHOLDER },
  ]),
]);
const knownSecrets = new Map([...operatorSecrets, ...exampleSecrets]);

function k8sEnvironment(container: unknown, where: string): Map<string, Setting> {
  const env = new Map<string, Setting>();
  const fromSecret = (name: string | undefined, key: string | undefined): string | undefined => {
    const value = str(knownSecrets.get(name ?? '')?.[key ?? '']);
    if (value === undefined)
      problems.env.push(
        `${where}: Secret ${name}/${key} is not in secret.example.yaml nor made by an operator`,
      );
    return value;
  };
  for (const source of list(at(container, 'envFrom'))) {
    const configMap = str(at(source, 'configMapRef', 'name'));
    const secret = str(at(source, 'secretRef', 'name'));
    const data = configMap !== undefined ? configMaps.get(configMap) : exampleSecrets.get(secret ?? '');
    if (data === undefined)
      problems.env.push(`${where}: envFrom ${configMap ?? secret ?? '?'} is not in deploy/k8s`);
    for (const [name, value] of Object.entries(data ?? {}))
      env.set(name, { value: String(value), secret: secret !== undefined });
  }
  for (const entry of list(at(container, 'env'))) {
    const name = str(at(entry, 'name')) ?? '?';
    const secretRef = at(entry, 'valueFrom', 'secretKeyRef');
    const configMapRef = at(entry, 'valueFrom', 'configMapKeyRef');
    const value =
      str(at(entry, 'value')) ??
      (isObj(secretRef)
        ? fromSecret(str(secretRef.name), str(secretRef.key))
        : str(configMaps.get(str(at(configMapRef, 'name')) ?? '')?.[str(at(configMapRef, 'key')) ?? '']));
    if (value === undefined) problems.env.push(`${where}: ${name} has no value the test can resolve`);
    else env.set(name, { value, secret: isObj(secretRef) });
  }
  return env;
}

/** Our image (kustomization.yaml maps it to the registry); Redis (redis.yaml) is not ours. */
const isOurContainer = (container: unknown): boolean => str(at(container, 'image')) === 'nrm-ledger';
const k8sContainers: Container[] = deployments.flatMap((d) =>
  list(at(d.value, 'spec', 'template', 'spec', 'containers'))
    .filter(isOurContainer)
    .map((container): Container => {
      const where = `${d.file} Deployment ${nameOf(d)} container ${str(at(container, 'name')) ?? '?'}`;
      const command = [...list(at(container, 'command')), ...list(at(container, 'args'))].map(String);
      return {
        topology: 'k8s',
        where,
        app: appOfCommand(command.length > 0 ? command : imageCommand),
        env: k8sEnvironment(container, where),
        mounts: list(at(container, 'volumeMounts')).map((m) => str(at(m, 'mountPath')) ?? ''),
        spec: container,
      };
    }),
);

const containers = [...composeContainers, ...k8sContainers];
const plain = (c: Container): Record<string, string> =>
  Object.fromEntries([...c.env].map(([name, setting]) => [name, setting.value]));

/**
 * The EventStoreDB client reads tlsCAFile while loadConfig checks the connection string; in the pod
 * the file is a mounted CA certificate (checked below to be mounted). Here it is a stand-in file.
 */
let certificates: string | undefined;
function standInCa(): string {
  certificates ??= mkdtempSync(join(tmpdir(), 'nrm-deploy-spec-'));
  const file = join(certificates, 'ca.crt');
  writeFileSync(file, '-----BEGIN CERTIFICATE-----\nstand-in\n-----END CERTIFICATE-----\n');
  return file;
}
const bootEnv = (c: Container): Record<string, string> =>
  Object.fromEntries(
    Object.entries(plain(c)).map(([name, value]) => [
      name,
      name === 'KAFKA_SSL_CA_FILE'
        ? standInCa()
        : value.replace(
            /([?&](?:tlsCAFile|sslrootcert)=)[^&]+/gi,
            (_, option: string) => `${option}${standInCa()}`,
          ),
    ]),
  );

const ledgerNames: ReadonlySet<string> = new Set(Object.keys(new LedgerConfig()));
// apps/relay/src/config.ts exports no list of its names; the keys of the configuration it returns
// are those names (the object is built from the environment, name for name).
const relayNames: ReadonlySet<string> = new Set(
  Object.keys(loadRelayConfig({ KAFKA_BROKERS: 'kafka:9092' })),
);
// Every process starts tracing the same way (libs/runtime/src/tracing.ts), from the OTEL_* variables.
const acceptedNames = (app: App): ReadonlySet<string> =>
  new Set([...(app === 'relay' ? relayNames : ledgerNames), ...TRACING_VARIABLES]);

function bootProblems(c: Container): string[] {
  const tracing = tracingConfigProblems(bootEnv(c)).map((p) => `${c.where}: ${p}`);
  if (tracing.length > 0) return tracing;
  try {
    if (c.app === 'relay') loadRelayConfig(bootEnv(c));
    // As apps/projector/src/main.ts loads it: the projector records nothing.
    else loadConfig(bootEnv(c), { writesRecords: c.app !== 'projector' });
    return [];
  } catch (error) {
    if (error instanceof ConfigError || error instanceof RelayConfigError)
      return error.problems.map((p) => `${c.where}: ${p}`);
    throw error;
  }
}

/** Path-valued settings: the directories they name must be mounted (the root filesystem is read-only). */
function pathsOf(c: Container): [string, string][] {
  const paths: [string, string][] = [];
  const dataDir = c.env.get('DATA_DIR')?.value;
  if (dataDir !== undefined) paths.push(['DATA_DIR', dataDir]);
  const keyFile = c.env.get('AUDIT_SIGNING_KEY_FILE')?.value;
  if (keyFile !== undefined) paths.push(['AUDIT_SIGNING_KEY_FILE', posix.dirname(keyFile)]);
  const kafkaCa = c.env.get('KAFKA_SSL_CA_FILE')?.value;
  if (kafkaCa !== undefined) paths.push(['KAFKA_SSL_CA_FILE', posix.dirname(kafkaCa)]);
  for (const [name, { value }] of c.env)
    for (const m of value.matchAll(/[?&](?:tlsCAFile|sslrootcert|sslcert|sslkey)=([^&]+)/gi))
      if (m[1] !== undefined) paths.push([name, posix.dirname(m[1])]);
  return paths;
}

let checkedSettings = 0;

afterAll(() => {
  if (certificates !== undefined) rmSync(certificates, { recursive: true, force: true });
  process.stdout.write(
    `deploy: ${yamlFiles.length} YAML files (${docs.length} documents) parsed, ` +
      `${checkedSettings} environment variables checked in ${containers.length} containers ` +
      `(${composeContainers.length} compose, ${k8sContainers.length} Kubernetes)\n`,
  );
});

describe('deploy/', () => {
  it('parses every YAML file under deploy/ without an error or warning', () => {
    expect(yamlFiles.map(rel)).toEqual(
      expect.arrayContaining(['compose.yaml', 'k8s/kustomization.yaml', 'k8s/api.yaml']),
    );
    expect(parseProblems).toEqual([]);
  });

  it('runs each of our apps in compose and in Kubernetes, from an entry point the image builds', () => {
    expect(imageCommand).toEqual(['node', entryOfApp('ledger-api')]);
    for (const topology of ['compose', 'k8s'] as const)
      expect(new Set(containers.filter((c) => c.topology === topology).map((c) => c.app))).toEqual(
        new Set(APPS),
      );
    const unknown = containers.filter((c) => c.app === undefined).map((c) => c.where);
    expect(unknown).toEqual([]);
    // Every compiled entry point a manifest names is built by the Dockerfile.
    expect(dockerfile).toContain('npm run build');
    // The api and the web console it serves at /console/ (dist/console, copied with the rest of dist).
    expect(str(at(readJson(join(ROOT, 'package.json')), 'scripts', 'build'))).toBe(
      'nest build ledger-api && npm run -s build:console',
    );
    expect(dockerfile).toContain('COPY --from=build /app/dist dist');
    expect(dockerfile).toContain('nest build projector');
    expect(dockerfile).toContain('nest build relay --config deploy/build/nest-cli.json');
  });

  it("sets only environment variables that the app's configuration reads", () => {
    const unread: string[] = [];
    for (const c of containers) {
      if (c.app === undefined) continue;
      for (const name of c.env.keys()) {
        checkedSettings += 1;
        if (!acceptedNames(c.app).has(name)) unread.push(`${c.where}: ${name} (${c.app} does not read it)`);
      }
    }
    expect(problems.env).toEqual([]);
    expect(unread).toEqual([]);
    expect(checkedSettings).toBeGreaterThan(40);
  });

  it('gives each app a configuration that passes its validation at boot', () => {
    expect(containers.flatMap(bootProblems)).toEqual([]);
  });

  it('runs the production engines: PostgreSQL events, read models and key store, JWT', () => {
    for (const c of containers.filter((c) => c.app === 'ledger-api')) {
      const config = loadConfig(bootEnv(c));
      expect({
        where: c.where,
        EVENT_STORE: config.EVENT_STORE,
        READ_MODEL_STORE: config.READ_MODEL_STORE,
      }).toEqual({
        where: c.where,
        EVENT_STORE: 'postgres',
        READ_MODEL_STORE: 'postgres',
      });
      // A second projector inside each api replica would be a second writer of the read models.
      expect([c.where, config.PROJECTOR, config.KEY_STORE, config.HOST]).toEqual([
        c.where,
        'external',
        'postgres',
        '0.0.0.0',
      ]);
      expect([c.where, config.AUTH_JWKS_URL !== undefined]).toEqual([c.where, true]);
      // One signing key for all replicas, not one generated per replica under DATA_DIR.
      expect([c.where, config.AUDIT_SIGNING_KEY_FILE !== undefined]).toEqual([c.where, true]);
    }
  });

  it('points the api and the projector at the same event store and read-model store', () => {
    for (const topology of ['compose', 'k8s'] as const) {
      const pick = (c: Container): string[] =>
        [
          'EVENT_STORE',
          'EVENT_STORE_URL',
          'EVENT_STORE_SCHEMA',
          'EVENTSTOREDB_URL',
          'READ_MODEL_STORE',
          'READ_MODEL_URL',
          'READ_MODEL_SCHEMA',
        ].map((name) => `${name}=${c.env.get(name)?.value ?? '(default)'}`);
      const seen = containers
        .filter((c) => c.topology === topology && (c.app === 'ledger-api' || c.app === 'projector'))
        .map(pick);
      expect(seen.length).toBeGreaterThanOrEqual(2);
      for (const other of seen) expect([topology, other]).toEqual([topology, seen[0]]);
    }
  });

  it('lets the relay read the store the api writes', () => {
    for (const relay of containers.filter((c) => c.app === 'relay')) {
      const api = containers.find((c) => c.topology === relay.topology && c.app === 'ledger-api');
      const pick = (c: Container | undefined): string[] =>
        ['EVENT_STORE', 'EVENT_STORE_URL', 'EVENT_STORE_SCHEMA', 'EVENTSTOREDB_URL'].map(
          (name) => `${name}=${c?.env.get(name)?.value ?? '(default)'}`,
        );
      expect([relay.where, pick(relay)]).toEqual([relay.where, pick(api)]);
    }
  });

  it('keeps the Kubernetes event store in a CloudNativePG Cluster of its own, 3 instances, synchronous', () => {
    const api = k8sContainers.find((c) => c.app === 'ledger-api');
    const url = new URL(api?.env.get('EVENT_STORE_URL')?.value ?? 'postgres://missing');
    // <cluster>-rw is CloudNativePG's Service of the primary.
    const clusterName = url.hostname.replace(/-rw$/, '');
    expect(url.hostname).toBe(`${clusterName}-rw`);
    expect(url.searchParams.get('sslmode')).toBe('verify-full');
    const cluster = ofKind('postgresql.cnpg.io/v1/Cluster').find((d) => nameOf(d) === clusterName);
    expect(cluster?.file).toBe('k8s/engines/cloudnative-pg.yaml');
    expect(at(cluster?.value, 'spec', 'instances')).toBeGreaterThanOrEqual(3);
    // An acknowledged append is on a standby before the api answers: failover loses none.
    expect(at(cluster?.value, 'spec', 'postgresql', 'synchronous')).toMatchObject({
      number: 1,
      dataDurability: 'required',
    });
    expect(at(cluster?.value, 'spec', 'bootstrap', 'initdb', 'database')).toBe(url.pathname.slice(1));
    // Not the read models' Cluster: events are the source of truth, read models are rebuilt.
    const readModels = new URL(api?.env.get('READ_MODEL_URL')?.value ?? 'postgres://missing');
    expect(readModels.hostname).not.toBe(url.hostname);
  });

  it('mounts every directory a setting names, and listens where the probes and health checks look', () => {
    const missing: string[] = [];
    for (const c of containers)
      for (const [name, dir] of pathsOf(c))
        if (!c.mounts.some((m) => dir === m || dir.startsWith(`${m}/`)))
          missing.push(`${c.where}: ${name} names ${dir}, where nothing is mounted`);
    expect(missing).toEqual([]);

    const healthPort = (c: Container): string =>
      c.app === 'relay'
        ? (c.env.get('RELAY_HEALTH_PORT')?.value ?? '3002')
        : c.app === 'projector'
          ? (c.env.get('PROJECTOR_HEALTH_PORT')?.value ?? '3001')
          : (c.env.get('PORT')?.value ?? '3000');
    for (const c of composeContainers)
      expect([c.where, list(at(c.spec, 'healthcheck', 'test')).map(String)]).toEqual([
        c.where,
        ['CMD', 'node', 'healthcheck.cjs', healthPort(c)],
      ]);
    for (const c of k8sContainers) {
      const ports = new Map(
        list(at(c.spec, 'ports')).map((p) => [str(at(p, 'name')) ?? '', String(at(p, 'containerPort'))]),
      );
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        const port = at(c.spec, probe, 'httpGet', 'port');
        expect([c.where, probe, ports.get(String(port)) ?? String(port)]).toEqual([
          c.where,
          probe,
          healthPort(c),
        ]);
      }
    }
  });

  it('gives every Deployment probes, resources and a non-root, read-only security context', () => {
    const faults: string[] = [];
    for (const d of deployments) {
      const pod = at(d.value, 'spec', 'template', 'spec');
      const podSecurity = obj(at(pod, 'securityContext'));
      const all = [...list(at(pod, 'initContainers')), ...list(at(pod, 'containers'))];
      for (const container of all) {
        const where = `${d.file} ${nameOf(d)}/${str(at(container, 'name')) ?? '?'}`;
        const security = obj(at(container, 'securityContext'));
        const isInit = list(at(pod, 'initContainers')).includes(container);
        const probes = isInit ? [] : ['readinessProbe', 'livenessProbe'];
        for (const probe of probes) if (!isObj(at(container, probe))) faults.push(`${where}: no ${probe}`);
        for (const field of ['requests.cpu', 'requests.memory', 'limits.memory'])
          if (at(container, 'resources', ...field.split('.')) === undefined)
            faults.push(`${where}: no ${field}`);
        if ((security.runAsNonRoot ?? podSecurity.runAsNonRoot) !== true)
          faults.push(`${where}: not runAsNonRoot`);
        if (security.readOnlyRootFilesystem !== true) faults.push(`${where}: root filesystem writable`);
        if (security.allowPrivilegeEscalation !== false)
          faults.push(`${where}: privilege escalation allowed`);
        if (!list(at(security, 'capabilities', 'drop')).includes('ALL'))
          faults.push(`${where}: capabilities kept`);
      }
      if (at(podSecurity, 'seccompProfile', 'type') !== 'RuntimeDefault')
        faults.push(`${d.file}: no seccomp`);
      if (all.length === 0) faults.push(`${d.file} ${nameOf(d)}: no containers`);
    }
    // Our three apps and Redis for the api's shared rate limits.
    expect(deployments.length).toBe(4);
    expect(faults).toEqual([]);
  });

  it('keeps one projector and one relay (replicas 1, Recreate, never autoscaled), and 2+ api replicas', () => {
    const byApp = (app: App): Doc[] =>
      deployments.filter((d) =>
        k8sContainers.some((c) => c.app === app && c.where.includes(` ${nameOf(d)} `)),
      );
    for (const app of ['projector', 'relay'] as const) {
      const found = byApp(app);
      expect(found.length).toBe(1);
      for (const d of found)
        expect([app, at(d.value, 'spec', 'replicas'), at(d.value, 'spec', 'strategy', 'type')]).toEqual([
          app,
          1,
          'Recreate',
        ]);
      // compose: one service, which container_name keeps from being scaled
      const services = composeContainers.filter((c) => c.app === app);
      expect(services.map((c) => typeof at(c.spec, 'container_name'))).toEqual(['string']);
    }
    const autoscaled = ofKind('autoscaling/v2/HorizontalPodAutoscaler').map((h) => ({
      target: str(at(h.value, 'spec', 'scaleTargetRef', 'name')),
      min: at(h.value, 'spec', 'minReplicas'),
    }));
    const api = byApp('ledger-api');
    expect(api.length).toBe(1);
    for (const d of api) {
      expect(at(d.value, 'spec', 'replicas')).toBeGreaterThanOrEqual(2);
      expect(autoscaled).toEqual([{ target: nameOf(d), min: expect.any(Number) }]);
    }
    for (const { min } of autoscaled) expect(min).toBeGreaterThanOrEqual(2);
    expect(composeContainers.filter((c) => c.app === 'ledger-api').length).toBeGreaterThanOrEqual(2);
  });

  it('selects existing Deployments from every Service and PodDisruptionBudget', () => {
    const podLabels = deployments.map((d) => ({
      name: nameOf(d),
      labels: obj(at(d.value, 'spec', 'template', 'metadata', 'labels')),
      ports: list(at(d.value, 'spec', 'template', 'spec', 'containers')).flatMap((c) =>
        list(at(c, 'ports')).flatMap((p) => [str(at(p, 'name')), String(at(p, 'containerPort'))]),
      ),
    }));
    const matching = (selector: Obj) =>
      podLabels.filter((p) => Object.entries(selector).every(([k, v]) => p.labels[k] === v));
    const faults: string[] = [];
    for (const d of deployments) {
      const selector = obj(at(d.value, 'spec', 'selector', 'matchLabels'));
      if (matching(selector).find((p) => p.name === nameOf(d)) === undefined)
        faults.push(`${d.file} ${nameOf(d)}: its selector does not match its own pods`);
    }
    const services = k8sDocs.filter((d) => kind(d) === 'v1/Service');
    for (const s of services) {
      const selector = obj(at(s.value, 'spec', 'selector'));
      const targets = Object.keys(selector).length === 0 ? [] : matching(selector);
      if (targets.length === 0) faults.push(`${s.file} Service ${nameOf(s)} selects no Deployment`);
      for (const port of list(at(s.value, 'spec', 'ports')).map((p) => String(at(p, 'targetPort'))))
        if (!targets.some((t) => t.ports.includes(port)))
          faults.push(`${s.file} Service ${nameOf(s)}: targetPort ${port} is no container port`);
    }
    for (const p of ofKind('policy/v1/PodDisruptionBudget'))
      if (matching(obj(at(p.value, 'spec', 'selector', 'matchLabels'))).length === 0)
        faults.push(`${p.file} PodDisruptionBudget ${nameOf(p)} selects no Deployment`);
    for (const h of ofKind('autoscaling/v2/HorizontalPodAutoscaler')) {
      const target = str(at(h.value, 'spec', 'scaleTargetRef', 'name'));
      if (!deployments.some((d) => nameOf(d) === target))
        faults.push(`${h.file} HPA targets ${target ?? '?'}`);
    }
    expect(services.length).toBeGreaterThan(0);
    expect(faults).toEqual([]);
  });

  it('mounts only Secrets that the example documents or an engine manifest creates', () => {
    const created = new Set([
      ...knownSecrets.keys(),
      ...ofKind('cert-manager.io/v1/Certificate').map((d) => str(at(d.value, 'spec', 'secretName')) ?? ''),
      // CloudNativePG makes <cluster>-ca (ca.crt, ca.key) for each Cluster.
      ...ofKind('postgresql.cnpg.io/v1/Cluster').map((d) => `${nameOf(d)}-ca`),
    ]);
    const faults: string[] = [];
    for (const d of deployments)
      for (const volume of list(at(d.value, 'spec', 'template', 'spec', 'volumes'))) {
        const secret = str(at(volume, 'secret', 'secretName'));
        if (secret === undefined) continue;
        if (!created.has(secret)) faults.push(`${d.file} ${nameOf(d)}: Secret ${secret} comes from nowhere`);
        if (list(at(volume, 'secret', 'items')).length === 0)
          faults.push(`${d.file} ${nameOf(d)}: mounts every key of Secret ${secret} (name the items)`);
        for (const item of list(at(volume, 'secret', 'items'))) {
          const key = str(at(item, 'key')) ?? '';
          const known = knownSecrets.get(secret);
          if (known !== undefined && !(key in known))
            faults.push(`${d.file}: ${secret}/${key} not in the example`);
        }
      }
    expect(faults).toEqual([]);
  });

  it('commits no secret: Secrets only as examples with placeholders, none in ConfigMaps or compose', () => {
    const faults: string[] = [];
    for (const d of ofKind('v1/Secret')) {
      if (!isExampleFile(d.file)) faults.push(`${d.file}: Secret ${nameOf(d)} outside a *.example.yaml file`);
      const data = { ...obj(at(d.value, 'data')), ...obj(at(d.value, 'stringData')) };
      for (const [key, value] of Object.entries(data))
        if (key !== 'username' && !String(value).includes(PLACEHOLDER))
          faults.push(`${d.file}: ${nameOf(d)}/${key} holds a value, not ${PLACEHOLDER}`);
    }
    for (const [name, data] of configMaps)
      for (const [key, value] of Object.entries(data)) {
        if (typeof value !== 'string') faults.push(`ConfigMap ${name}/${key} is not a string`);
        if (SECRET_NAME.test(key) || URL_CREDENTIALS.test(String(value)))
          faults.push(`ConfigMap ${name}/${key} looks like a secret: put it in nrm-ledger-secrets`);
      }
    // What our apps get: every credential from a Secret (Kubernetes) or the env file (compose).
    for (const c of containers)
      for (const [name, setting] of c.env)
        if (!setting.secret && (SECRET_NAME.test(name) || URL_CREDENTIALS.test(setting.value)))
          faults.push(
            `${c.where}: ${name} is a secret written into the manifest; ` +
              (c.topology === 'k8s' ? 'use a secretKeyRef' : 'take it from the env file'),
          );
    for (const [service, spec] of Object.entries(composeServices)) {
      const raw = at(spec, 'environment');
      const entries = Array.isArray(raw)
        ? raw.map(String).map((line) => [line.split('=')[0] ?? '', line.slice(line.indexOf('=') + 1)])
        : Object.entries(obj(raw)).map(([k, v]) => [k, String(v)]);
      for (const [key = '', value = ''] of entries) {
        const password = URL_CREDENTIALS.exec(value)?.[1];
        if (
          (password !== undefined && !password.startsWith('${')) ||
          (SECRET_NAME.test(key) && !/^\$\{/.test(value))
        )
          faults.push(`compose.yaml ${service}: ${key} holds a secret; take it from the env file`);
      }
    }
    for (const [key, value] of composeEnvExample)
      if (SECRET_NAME.test(key) && !value.includes(PLACEHOLDER))
        faults.push(`compose.env.example: ${key} holds a value, not ${PLACEHOLDER}`);
    expect(exampleSecrets.size).toBeGreaterThan(0);
    expect(faults).toEqual([]);
  });

  it('lists in kustomization.yaml exactly the manifests of deploy/k8s, and no example', () => {
    const kustomization = docs.find((d) => d.file === 'k8s/kustomization.yaml');
    const listed = list(at(kustomization?.value, 'resources')).map(String).sort();
    const present = yamlFiles
      .map(rel)
      .filter((f) => /^k8s\/[^/]+$/.test(f) && f !== 'k8s/kustomization.yaml' && !isExampleFile(f))
      .map((f) => f.slice('k8s/'.length))
      .sort();
    expect(listed).toEqual(present);
    expect(str(at(kustomization?.value, 'namespace'))).toBe('nrm-ledger');
  });

  // -------------------------------------------------------------------------------------------
  // Hardening: network, Ingress, pod security, monitoring, backups, Kafka isolation.

  describe('hardening', () => {
    const policies = k8sDocs.filter((d) => kind(d) === 'networking.k8s.io/v1/NetworkPolicy');
    type Selector = { matchLabels?: Obj; matchExpressions?: unknown[] };
    /** Does a label selector select these labels (matchLabels and In / NotIn / Exists)? */
    const selects = (selector: unknown, labels: Obj): boolean => {
      const { matchLabels = {}, matchExpressions = [] } = obj(selector) as Selector;
      return (
        Object.entries(matchLabels).every(([k, v]) => labels[k] === v) &&
        list(matchExpressions).every((e) => {
          const key = str(at(e, 'key')) ?? '';
          const values = list(at(e, 'values'));
          switch (at(e, 'operator')) {
            case 'In':
              return values.includes(labels[key]);
            case 'NotIn':
              return !values.includes(labels[key]);
            case 'Exists':
              return key in labels;
            default:
              return false;
          }
        })
      );
    };
    const podLabelsOf = (d: Doc): Obj => obj(at(d.value, 'spec', 'template', 'metadata', 'labels'));
    const deploymentOf = (component: string): Doc => {
      const found = deployments.find((d) => podLabelsOf(d)['app.kubernetes.io/component'] === component);
      if (found === undefined) throw new Error(`no Deployment for ${component}`);
      return found;
    };
    /** The rules of a direction that apply to these pod labels, over every policy selecting them. */
    const rulesFor = (labels: Obj, direction: 'ingress' | 'egress'): unknown[] =>
      policies
        .filter((p) => selects(at(p.value, 'spec', 'podSelector'), labels))
        .flatMap((p) => list(at(p.value, 'spec', direction)));
    const portsOf = (rule: unknown): string[] => list(at(rule, 'ports')).map((p) => String(at(p, 'port')));
    /** Egress ports these pods may open towards pods carrying `peer` labels (in the namespace). */
    const egressPortsTo = (labels: Obj, peer: Obj): string[] =>
      rulesFor(labels, 'egress')
        .filter((r) =>
          list(at(r, 'to')).some(
            (to) => isObj(at(to, 'podSelector')) && selects(at(to, 'podSelector'), peer),
          ),
        )
        .flatMap(portsOf);
    const kafka = ofKind('kafka.strimzi.io/v1/Kafka')[0];
    const kafkaListeners = list(at(kafka?.value, 'spec', 'kafka', 'listeners'));
    const kafkaBrokerPod: Obj = {
      'strimzi.io/cluster': nameOf(kafka ?? { file: '', value: {} }),
      'strimzi.io/kind': 'Kafka',
      'strimzi.io/broker-role': 'true',
    };
    const postgresPod: Obj = { 'cnpg.io/cluster': 'nrm-postgres' };
    const kurrentPod: Obj = { 'app.kubernetes.io/instance': 'nrm-kurrentdb' };
    const counted: Record<string, number> = {};
    const count = (what: string, n: number): void => {
      counted[what] = n;
    };

    afterAll(() => {
      process.stdout.write(
        `deploy hardening: ${Object.entries(counted)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')}\n`,
      );
    });

    it('denies all traffic by default and allows only the flows of the topology', () => {
      const denyAll = policies.filter(
        (p) =>
          Object.keys(obj(at(p.value, 'spec', 'podSelector'))).length === 0 &&
          list(at(p.value, 'spec', 'policyTypes')).includes('Ingress') &&
          list(at(p.value, 'spec', 'policyTypes')).includes('Egress') &&
          at(p.value, 'spec', 'ingress') === undefined &&
          at(p.value, 'spec', 'egress') === undefined,
      );
      expect(denyAll.map(nameOf)).toEqual(['default-deny']);
      // No rule admits traffic from anywhere: every ingress rule names its peers.
      const open = policies.flatMap((p) =>
        list(at(p.value, 'spec', 'ingress'))
          .filter((r) => list(at(r, 'from')).length === 0)
          .map(() => `${nameOf(p)}: ingress from anywhere`),
      );
      expect(open).toEqual([]);

      const ingressPortsFrom = (engine: Obj, app: Obj): string[] =>
        rulesFor(engine, 'ingress')
          .filter((r) =>
            list(at(r, 'from')).some(
              (f) => isObj(at(f, 'podSelector')) && selects(at(f, 'podSelector'), app),
            ),
          )
          .flatMap(portsOf);
      const api = podLabelsOf(deploymentOf('api'));
      const projector = podLabelsOf(deploymentOf('projector'));
      const relay = podLabelsOf(deploymentOf('relay'));
      for (const labels of [api, projector, relay]) {
        // DNS for everyone
        const dns = rulesFor(labels, 'egress').filter((r) =>
          list(at(r, 'to')).some(
            (to) => isObj(at(to, 'podSelector')) && selects(at(to, 'podSelector'), { 'k8s-app': 'kube-dns' }),
          ),
        );
        expect(
          new Set(
            dns.flatMap((r) =>
              list(at(r, 'ports')).map((p) => `${String(at(p, 'protocol'))}/${String(at(p, 'port'))}`),
            ),
          ),
        ).toEqual(new Set(['UDP/53', 'TCP/53']));
        expect(egressPortsTo(labels, kurrentPod)).toEqual(['2113']);
      }
      // The event store and PostgreSQL: only from the apps that use them.
      expect(egressPortsTo(api, postgresPod)).toEqual(['5432']);
      expect(egressPortsTo(projector, postgresPod)).toEqual(['5432']);
      expect(egressPortsTo(relay, postgresPod)).toEqual([]);
      // The PostgreSQL event store: the three apps, on 5432 only.
      const eventsPod: Obj = { 'cnpg.io/cluster': 'nrm-events' };
      for (const labels of [api, projector, relay])
        expect(egressPortsTo(labels, eventsPod)).toEqual(['5432']);
      expect(ingressPortsFrom(eventsPod, relay)).toEqual(['5432']);
      expect(egressPortsTo(api, kafkaBrokerPod)).toEqual([]);
      expect(egressPortsTo(projector, kafkaBrokerPod)).toEqual([]);
      // The relay reaches Kafka only on the TLS + SCRAM listener, the port of its KAFKA_BROKERS.
      const scramTls = kafkaListeners.filter(
        (l) => at(l, 'tls') === true && at(l, 'authentication', 'type') === 'scram-sha-512',
      );
      const relayContainer = k8sContainers.find((c) => c.app === 'relay');
      const brokerPort = relayContainer?.env.get('KAFKA_BROKERS')?.value.split(':')[1];
      expect(egressPortsTo(relay, kafkaBrokerPod)).toEqual([brokerPort]);
      expect(scramTls.map((l) => String(at(l, 'port')))).toEqual([brokerPort]);
      // Ingress: the api only from the ingress controller and Prometheus, on its container port;
      // the projector takes nothing; the relay only Prometheus on its health/metrics port.
      const peersOf = (labels: Obj): string[] =>
        rulesFor(labels, 'ingress').flatMap((r) =>
          list(at(r, 'from')).flatMap((f) =>
            portsOf(r).map(
              (port) =>
                `${str(at(f, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name')) ?? '?'}:${port}`,
            ),
          ),
        );
      expect(peersOf(api).sort()).toEqual(['ingress-nginx:3000', 'monitoring:3000']);
      expect(peersOf(projector)).toEqual([]);
      expect(peersOf(relay)).toEqual(['monitoring:3002']);
      // The engines accept our apps only on their client ports.
      expect(ingressPortsFrom(postgresPod, api)).toEqual(['5432']);
      expect(ingressPortsFrom(postgresPod, relay)).toEqual([]);
      expect(ingressPortsFrom(kurrentPod, relay)).toEqual(['2113']);
      count('NetworkPolicies', policies.length);
    });

    it('shares the api replicas’ rate limits through Redis, which only the api reaches', () => {
      const redisDeployments = deployments.filter((d) =>
        list(at(d.value, 'spec', 'template', 'spec', 'containers')).some((c) =>
          /^redis:/.test(str(at(c, 'image')) ?? ''),
        ),
      );
      expect(redisDeployments.map(nameOf)).toEqual(['nrm-ledger-redis']);
      const redisPod = podLabelsOf(redisDeployments[0]!);
      const apis = k8sContainers.filter((c) => c.app === 'ledger-api');
      expect(apis.length).toBe(1);
      for (const c of apis) {
        const config = loadConfig(bootEnv(c));
        expect([config.RATE_LIMIT_STORE, c.env.get('REDIS_URL')?.secret]).toEqual(['redis', true]);
        // REDIS_URL names the Service in front of the Redis Deployment, on its port.
        const url = new URL(config.REDIS_URL ?? '');
        const service = ofKind('v1/Service').find((s) => nameOf(s) === url.hostname);
        expect(selects({ matchLabels: obj(at(service?.value, 'spec', 'selector')) }, redisPod)).toBe(true);
        expect(list(at(service?.value, 'spec', 'ports')).map((p) => String(at(p, 'port')))).toEqual([
          url.port,
        ]);
      }
      // compose: both replicas count in its redis service.
      const composeApis = composeContainers.filter((c) => c.app === 'ledger-api');
      expect(composeApis.length).toBeGreaterThanOrEqual(2);
      for (const c of composeApis) {
        const config = loadConfig(bootEnv(c));
        const host = new URL(config.REDIS_URL ?? '').hostname;
        expect([
          c.where,
          config.RATE_LIMIT_STORE,
          /^redis:/.test(str(at(composeServices[host], 'image')) ?? ''),
        ]).toEqual([c.where, 'redis', true]);
      }
      const api = podLabelsOf(deploymentOf('api'));
      expect(egressPortsTo(api, redisPod)).toEqual(['6379']);
      expect(egressPortsTo(podLabelsOf(deploymentOf('projector')), redisPod)).toEqual([]);
      expect(egressPortsTo(podLabelsOf(deploymentOf('relay')), redisPod)).toEqual([]);
      // Into Redis: the api on 6379, no one else; out of it: nothing but DNS.
      const into = rulesFor(redisPod, 'ingress');
      expect(
        into.flatMap((r) => list(at(r, 'from')).map((f) => [selects(at(f, 'podSelector'), api), portsOf(r)])),
      ).toEqual([[true, ['6379']]]);
      const out = rulesFor(redisPod, 'egress').flatMap((r) => portsOf(r));
      expect(new Set(out)).toEqual(new Set(['53']));
      count('Redis flows', into.length);
    });

    it('leaves tracing off, and lets every app reach the OTLP collector once it is turned on', () => {
      const collector = {
        namespace: 'observability',
        pod: { 'app.kubernetes.io/name': 'opentelemetry-collector' },
      };
      for (const component of ['api', 'projector', 'relay']) {
        const labels = podLabelsOf(deploymentOf(component));
        const ports = rulesFor(labels, 'egress')
          .filter((r) =>
            list(at(r, 'to')).some(
              (to) =>
                at(to, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name') ===
                  collector.namespace && selects(at(to, 'podSelector'), collector.pod),
            ),
          )
          .flatMap(portsOf);
        expect([component, ports]).toEqual([component, ['4318']]);
      }
      for (const c of k8sContainers) {
        // Off by default: no SDK starts.
        expect([c.where, c.env.get('OTEL_TRACES_EXPORTER')?.value ?? 'none']).toEqual([c.where, 'none']);
        const endpoint = new URL(c.env.get('OTEL_EXPORTER_OTLP_ENDPOINT')?.value ?? 'http://unset:0');
        expect([c.where, endpoint.port, endpoint.hostname.split('.')[1]]).toEqual([
          c.where,
          '4318',
          collector.namespace,
        ]);
      }
      count('apps that may export traces', 3);
    });

    it('publishes only the api’s routes through a TLS Ingress', () => {
      const ingresses = k8sDocs.filter((d) => kind(d) === 'networking.k8s.io/v1/Ingress');
      expect(ingresses.length).toBe(1);
      const firstSegments = new Set(
        filesUnder(join(ROOT, 'apps/ledger-api/src'))
          .filter((f) => f.endsWith('.controller.ts'))
          .map((f) => readFileSync(f, 'utf8'))
          .flatMap(
            (source) =>
              [
                ...source.matchAll(
                  /@Controller\(\)|@Controller\('([^'/:]+)|@(?:Get|Post|Put|Patch|Delete)\('([^'/:]+)/g,
                ),
              ].reduce<{ bare: boolean; found: string[] }>(
                (acc, m) => {
                  if (m[0] === '@Controller()') return { ...acc, bare: true };
                  if (m[1] !== undefined) return { bare: false, found: [...acc.found, m[1]] };
                  return acc.bare && m[2] !== undefined ? { ...acc, found: [...acc.found, m[2]] } : acc;
                },
                { bare: false, found: [] },
              ).found,
          ),
      );
      const services = new Map(
        k8sDocs
          .filter((d) => kind(d) === 'v1/Service')
          .map((d) => [nameOf(d), list(at(d.value, 'spec', 'ports'))]),
      );
      for (const ingress of ingresses) {
        const spec = at(ingress.value, 'spec');
        const tlsHosts = list(at(spec, 'tls')).flatMap((t) => list(at(t, 'hosts')));
        expect(list(at(spec, 'tls')).every((t) => typeof at(t, 'secretName') === 'string')).toBe(true);
        expect(
          at(ingress.value, 'metadata', 'annotations', 'nginx.ingress.kubernetes.io/force-ssl-redirect'),
        ).toBe('true');
        const paths = list(at(spec, 'rules')).flatMap((rule) => {
          expect(tlsHosts).toContain(at(rule, 'host'));
          return list(at(rule, 'http', 'paths'));
        });
        for (const path of paths) {
          const p = str(at(path, 'path')) ?? '';
          const service = str(at(path, 'backend', 'service', 'name')) ?? '';
          const port = str(at(path, 'backend', 'service', 'port', 'name'));
          expect([p, firstSegments.has(p.slice(1))]).toEqual([p, true]);
          expect([p, services.get(service)?.some((sp) => at(sp, 'name') === port)]).toEqual([p, true]);
        }
        // Every published route is reachable, and nothing else is (not /metrics, not /health).
        const published = new Set(paths.map((path) => (str(at(path, 'path')) ?? '').slice(1)));
        expect([...firstSegments].filter((seg) => !published.has(seg)).sort()).toEqual(['health', 'metrics']);
        count('Ingress paths', paths.length);
      }
    });

    it('enforces the restricted Pod Security Standard, which every Deployment meets', () => {
      const namespace = ofKind('v1/Namespace').find((d) => nameOf(d) === 'nrm-ledger');
      expect(at(namespace?.value, 'metadata', 'labels', 'pod-security.kubernetes.io/enforce')).toBe(
        'restricted',
      );
      const faults: string[] = [];
      for (const d of deployments) {
        const pod = obj(at(d.value, 'spec', 'template', 'spec'));
        const podSecurity = obj(pod.securityContext);
        const where = `${d.file} ${nameOf(d)}`;
        for (const field of ['hostNetwork', 'hostPID', 'hostIPC'])
          if (pod[field] === true) faults.push(`${where}: ${field}`);
        if (podSecurity.runAsNonRoot !== true) faults.push(`${where}: pod not runAsNonRoot`);
        if (typeof podSecurity.runAsUser === 'number' && podSecurity.runAsUser === 0)
          faults.push(`${where}: uid 0`);
        if (at(podSecurity, 'seccompProfile', 'type') !== 'RuntimeDefault') faults.push(`${where}: seccomp`);
        if (pod.automountServiceAccountToken !== false)
          faults.push(`${where}: service-account token mounted`);
        const volumes = list(pod.volumes);
        for (const v of volumes)
          if (
            !['emptyDir', 'secret', 'configMap', 'persistentVolumeClaim', 'projected'].some(
              (k) => k in obj(v),
            )
          )
            faults.push(`${where}: volume ${str(at(v, 'name')) ?? '?'} of a type restricted forbids`);
        for (const c of [...list(pod.initContainers), ...list(pod.containers)]) {
          const name = `${where}/${str(at(c, 'name')) ?? '?'}`;
          const security = obj(at(c, 'securityContext'));
          if (security.privileged === true) faults.push(`${name}: privileged`);
          if (security.runAsUser === 0) faults.push(`${name}: uid 0`);
          if (list(at(security, 'capabilities', 'add')).length > 0) faults.push(`${name}: adds capabilities`);
          if (list(at(c, 'ports')).some((p) => at(p, 'hostPort') !== undefined))
            faults.push(`${name}: hostPort`);
          // A read-only root: every writable path is a volume (emptyDir or PVC), /tmp among them.
          const writable = list(at(c, 'volumeMounts'))
            .filter((m) => at(m, 'readOnly') !== true)
            .map((m) => {
              const volume = volumes.find((v) => at(v, 'name') === at(m, 'name'));
              return isObj(at(volume, 'emptyDir')) || isObj(at(volume, 'persistentVolumeClaim'))
                ? undefined
                : `${name}: ${str(at(m, 'mountPath')) ?? '?'} is writable but no emptyDir or volume claim`;
            });
          faults.push(...writable.filter((w): w is string => w !== undefined));
          const isInit = list(pod.initContainers).includes(c);
          if (!isInit && !list(at(c, 'volumeMounts')).some((m) => at(m, 'mountPath') === '/tmp'))
            faults.push(`${name}: no writable /tmp`);
        }
      }
      expect(faults).toEqual([]);
      count('restricted Deployments', deployments.length);
    });

    it('scrapes the api and the relay, and alerts only on metrics the code exports', () => {
      const exported = new Set(
        [...filesUnder(join(ROOT, 'apps')), ...filesUnder(join(ROOT, 'libs'))]
          .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
          .flatMap((f) =>
            [...readFileSync(f, 'utf8').matchAll(/\bname: '(nrm_[a-z0-9_]+)'/g)].map((m) => m[1] ?? ''),
          ),
      );
      const monitors = k8sDocs.filter((d) => kind(d) === 'monitoring.coreos.com/v1/ServiceMonitor');
      const services = k8sDocs.filter((d) => kind(d) === 'v1/Service');
      const scraped = new Set<string>();
      for (const m of monitors) {
        const ports = list(at(m.value, 'spec', 'endpoints')).map((e) => str(at(e, 'port')));
        for (const s of services)
          if (selects(at(m.value, 'spec', 'selector'), obj(at(s.value, 'metadata', 'labels'))))
            for (const p of list(at(s.value, 'spec', 'ports')))
              if (ports.includes(str(at(p, 'name'))))
                scraped.add(str(at(s.value, 'spec', 'selector', 'app.kubernetes.io/component')) ?? '?');
      }
      expect([...scraped].sort()).toEqual(['api', 'relay']);
      // The api's /metrics answers only METRICS_TOKEN: the scrape of its port sends the Secret key the api reads.
      const apiToken = k8sDocs
        .filter((d) => kind(d) === 'apps/v1/Deployment' && nameOf(d) === 'nrm-ledger-api')
        .flatMap((d) => list(at(d.value, 'spec', 'template', 'spec', 'containers')))
        .flatMap((c) => list(at(c, 'env')))
        .filter((e) => str(at(e, 'name')) === 'METRICS_TOKEN')
        .map((e) => {
          const ref = at(e, 'valueFrom', 'secretKeyRef');
          return `${str(at(ref, 'name'))}/${str(at(ref, 'key'))}`;
        });
      const sent = monitors.flatMap((m) =>
        list(at(m.value, 'spec', 'endpoints'))
          .filter((e) => str(at(e, 'port')) === 'http')
          .map((e) => {
            const credentials = at(e, 'authorization', 'credentials');
            return `${str(at(credentials, 'name'))}/${str(at(credentials, 'key'))}`;
          }),
      );
      expect(apiToken).toEqual(['nrm-ledger-metrics/token']);
      expect(sent).toEqual(['nrm-ledger-metrics/token']);

      const rules = k8sDocs
        .filter((d) => kind(d) === 'monitoring.coreos.com/v1/PrometheusRule')
        .flatMap((d) => list(at(d.value, 'spec', 'groups')).flatMap((g) => list(at(g, 'rules'))));
      const alerts = rules.map((r) => str(at(r, 'alert')) ?? '?');
      expect(alerts).toEqual(
        expect.arrayContaining([
          'NrmAuditLogDivergence',
          'NrmProjectorLag',
          'NrmRelayLag',
          'NrmApiErrorRate',
        ]),
      );
      const unknown: string[] = [];
      for (const r of rules) {
        const expr = String(at(r, 'expr'));
        for (const m of expr.matchAll(/\bnrm_[a-z0-9_]+/g)) {
          const name = m[0].replace(/_(bucket|sum|count)$/, '');
          if (!exported.has(name) && !exported.has(m[0])) unknown.push(`${String(at(r, 'alert'))}: ${m[0]}`);
        }
        if (!isObj(at(r, 'labels')) || typeof at(r, 'labels', 'severity') !== 'string')
          unknown.push(`${String(at(r, 'alert'))}: no severity`);
      }
      expect(unknown).toEqual([]);
      count('alert rules', rules.length);
    });

    it('backs up PostgreSQL (WAL archive, nightly base backup) and KurrentDB on a schedule', () => {
      const clusters = ofKind('postgresql.cnpg.io/v1/Cluster');
      const stores = new Set(ofKind('barmancloud.cnpg.io/v1/ObjectStore').map(nameOf));
      for (const cluster of clusters) {
        const archivers = list(at(cluster.value, 'spec', 'plugins')).filter(
          (p) => at(p, 'name') === 'barman-cloud.cloudnative-pg.io' && at(p, 'isWALArchiver') === true,
        );
        expect(archivers.length).toBe(1);
        expect(stores.has(String(at(archivers[0], 'parameters', 'barmanObjectName')))).toBe(true);
        const scheduled = ofKind('postgresql.cnpg.io/v1/ScheduledBackup').filter(
          (b) => at(b.value, 'spec', 'cluster', 'name') === nameOf(cluster),
        );
        expect(scheduled.map((b) => at(b.value, 'spec', 'method'))).toEqual(['plugin']);
        // Six cron fields, seconds first, in CloudNativePG's format.
        expect(String(at(scheduled[0]?.value, 'spec', 'schedule')).split(' ')).toHaveLength(6);
      }
      for (const store of ofKind('barmancloud.cnpg.io/v1/ObjectStore')) {
        expect(at(store.value, 'spec', 'retentionPolicy')).toMatch(/^\d+[dwm]$/);
        for (const ref of ['accessKeyId', 'secretAccessKey']) {
          const secret = str(at(store.value, 'spec', 'configuration', 's3Credentials', ref, 'name')) ?? '';
          const key = str(at(store.value, 'spec', 'configuration', 's3Credentials', ref, 'key')) ?? '';
          expect([ref, key in obj(exampleSecrets.get(secret))]).toEqual([ref, true]);
        }
      }
      const kurrent = new Set(ofKind('kubernetes.kurrent.io/v1/KurrentDB').map(nameOf));
      const schedules = ofKind('kubernetes.kurrent.io/v1/KurrentDBBackupSchedule');
      expect(schedules.length).toBe(1);
      for (const s of schedules) {
        expect(kurrent.has(String(at(s.value, 'spec', 'template', 'spec', 'clusterName')))).toBe(true);
        expect(String(at(s.value, 'spec', 'schedule')).split(' ')).toHaveLength(5);
        expect(at(s.value, 'spec', 'keep')).toBeGreaterThan(0);
      }
      count('backup schedules', schedules.length + ofKind('postgresql.cnpg.io/v1/ScheduledBackup').length);
    });

    it('gives each agency a Kafka user that reads its own topic only, and lets only the relay write', () => {
      expect(kafkaListeners.length).toBeGreaterThan(0);
      for (const l of kafkaListeners)
        expect([at(l, 'name'), at(l, 'tls'), at(l, 'authentication', 'type')]).toEqual([
          at(l, 'name'),
          true,
          'scram-sha-512',
        ]);
      expect(at(kafka?.value, 'spec', 'kafka', 'authorization', 'type')).toBe('simple');
      expect(at(kafka?.value, 'spec', 'kafka', 'config', 'allow.everyone.if.no.acl.found')).toBe(false);

      const users = ofKind('kafka.strimzi.io/v1/KafkaUser');
      const topics = new Set(ofKind('kafka.strimzi.io/v1/KafkaTopic').map(nameOf));
      const relay = k8sContainers.find((c) => c.app === 'relay');
      const relayUser = relay?.env.get('KAFKA_SASL_USERNAME')?.value;
      const faults: string[] = [];
      let agencies = 0;
      for (const user of users) {
        const name = nameOf(user);
        if (
          at(user.value, 'metadata', 'labels', 'strimzi.io/cluster') !==
          nameOf(kafka ?? { file: '', value: {} })
        )
          faults.push(`${name}: not in the cluster`);
        if (at(user.value, 'spec', 'authentication', 'type') !== 'scram-sha-512')
          faults.push(`${name}: not SCRAM`);
        const acls = list(at(user.value, 'spec', 'authorization', 'acls'));
        const writes = acls.filter((a) =>
          list(at(a, 'operations')).some((op) => ['Write', 'All', 'Alter', 'Delete'].includes(String(op))),
        );
        if (name === relayUser) {
          if (writes.length === 0) faults.push(`${name}: the relay cannot write`);
          continue;
        }
        if (writes.length > 0) faults.push(`${name}: may write, only the relay may`);
        for (const a of acls) {
          const type = at(a, 'resource', 'type');
          const resource = String(at(a, 'resource', 'name'));
          const pattern = at(a, 'resource', 'patternType');
          if (type === 'topic' && (pattern !== 'literal' || !topics.has(resource)))
            faults.push(`${name}: topic ACL on ${resource} (${String(pattern)}), not one literal KafkaTopic`);
          if (type === 'group' && !resource.startsWith(`${name}.`))
            faults.push(`${name}: group ${resource} not named after the user`);
          if (type !== 'topic' && type !== 'group') faults.push(`${name}: ACL on a ${String(type)}`);
        }
        const agency = /^agency-(.+)$/.exec(name)?.[1];
        if (agency !== undefined) {
          agencies += 1;
          const read = acls
            .filter((a) => at(a, 'resource', 'type') === 'topic')
            .map((a) => at(a, 'resource', 'name'));
          if (JSON.stringify(read) !== JSON.stringify([`nrm.agency.${agency}`]))
            faults.push(`${name}: reads ${read.join(', ')}, not only nrm.agency.${agency}`);
          if (!topics.has(`nrm.agency.${agency}`)) faults.push(`${name}: no KafkaTopic nrm.agency.${agency}`);
        }
      }
      expect(faults).toEqual([]);
      expect(users.map(nameOf)).toContain(relayUser);
      expect(agencies).toBeGreaterThanOrEqual(2);
      expect(topics.has('nrm.coordinator')).toBe(true);
      // The relay's connection: TLS verified against the cluster CA, SCRAM with the user's password.
      expect([
        relay?.env.get('KAFKA_SSL')?.value,
        relay?.env.get('KAFKA_SASL_MECHANISM')?.value,
        relay?.env.get('KAFKA_SASL_PASSWORD')?.secret,
      ]).toEqual(['true', 'scram-sha-512', true]);
      count('Kafka users', users.length);
      count('agency users', agencies);
    });
  });
});
