import type { ValidationError } from '@nestjs/common';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { getMetadataStorage, type ValidationArguments } from 'class-validator';
import { TransformationType } from 'class-transformer';
import type { MetadataStorage as TransformMetadataStorage } from 'class-transformer/types/MetadataStorage';

/** class-transformer's decorator metadata (the package's own storage; not in its index). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultMetadataStorage } = require('class-transformer/cjs/storage') as {
  defaultMetadataStorage: TransformMetadataStorage;
};

/**
 * JSON Schema compiled once from a DTO's class-validator decorators, so that a request is checked
 * by one compiled function instead of a class instantiated by class-transformer and validated by
 * class-validator. The decorators stay the one definition of every rule: this module reads their
 * metadata, writes each rule as JSON Schema, and explains a refusal with the rule's own message,
 * in the same error tree class-validator builds (so `validation.ts` flattens it as before).
 *
 * Each rule becomes one sub-schema, checked on its own as class-validator checks it (a number is
 * refused by `@Matches` and `@IsIn` alike, each with its message): `@IsIn` → `enum`, `@Matches` →
 * `type` + `pattern` (without the `u` flag, as JavaScript's RegExp reads it), `@IsInt` → `integer`,
 * `@Min`/`@Max` → `minimum`/`maximum`, `@IsString`, `@IsBoolean`, `@IsArray` → `type`,
 * `@ArrayMinSize`/`@ArrayMaxSize` → `minItems`/`maxItems`, `@IsDefined` → `required` + not null,
 * `@IsOptional` → the other rules only when not null, `{ each: true }` → `items` for an array,
 * `@ValidateNested` + `@Type` → the nested class's schema; unknown keys → `additionalProperties:
 * false`. A rule JSON Schema cannot state exactly (the shared kernel's value rules: instants,
 * calendar dates, bounded text, id lists, region codes; `@ArrayUnique`, which compares by identity;
 * string lengths as validator.js counts them) is a custom keyword that calls the decorator's own
 * function, compiled into the same schema. A decorator this module does not know makes
 * `compileDto` throw, and the class is validated by class-validator as before.
 */

/** Keys of the rules, as class-validator names them in `ValidationError.constraints`. */
type RuleKind = 'custom' | 'defined' | 'nested';

interface ConstraintMeta {
  readonly name: string;
  readonly instance: {
    validate(value: unknown, args?: ValidationArguments): boolean | Promise<boolean>;
    defaultMessage?(args?: ValidationArguments): string;
  };
}

/** What class-validator keeps for one decorator (the fields this module reads). */
interface ValidationMeta {
  readonly type: string;
  readonly name?: string;
  readonly target: unknown;
  readonly propertyName: string;
  readonly constraints: unknown[];
  readonly constraintCls?: unknown;
  readonly each?: boolean;
  readonly message?: string | ((args: ValidationArguments) => string);
  readonly groups?: string[];
  readonly always?: boolean;
  readonly validateIf?: unknown;
  readonly context?: unknown;
}

interface Rule {
  readonly id: number;
  readonly kind: RuleKind;
  readonly meta: ValidationMeta;
  readonly constraint?: ConstraintMeta;
  /** The key in `ValidationError.constraints`. */
  readonly key: string;
  /** Whether class-validator refuses an absent value with this rule. */
  readonly failsWhenAbsent: boolean;
}

interface PropertyPlan {
  readonly name: string;
  readonly optional: boolean;
  /** In class-validator's order: `@IsDefined` first, then the other rules as registered. */
  readonly rules: readonly Rule[];
  readonly nested?: { readonly rule: Rule; readonly plan: ClassPlan };
}

interface ClassPlan {
  readonly cls: new () => unknown;
  readonly properties: readonly PropertyPlan[];
}

/** A DTO class compiled: the JSON Schema shown, the compiled check, and the refusal's error tree. */
export interface CompiledDto {
  readonly schema: Record<string, unknown>;
  /**
   * The value as the handler gets it: a copy with the class's `@Type(() => Number | String |
   * Boolean)` and `@Transform` conversions applied to its own keys (a query's strings), as
   * class-transformer applies them; the value itself when the class has none.
   */
  prepare(value: Record<string, unknown>): Record<string, unknown>;
  /** Errors in class-validator's shape (empty when the value passes). */
  check(value: Record<string, unknown>): ValidationError[];
}

/** Thrown at compile time for a decorator or option this module does not translate. */
export class UnsupportedDto extends Error {}

const TYPE_ONLY: Readonly<Record<string, (c: unknown[]) => Record<string, unknown>>> = {
  isIn: (c) => ({ enum: [...(c[0] as unknown[])] }),
  // Finite, as Number.isInteger: ajv runs with strictNumbers off, so that min and max below see
  // NaN and ±Infinity (a query's Number('x'), a body's 1e999) as class-validator does.
  isInt: () => ({ type: 'integer', minimum: -Number.MAX_VALUE, maximum: Number.MAX_VALUE }),
  // ajv's `minimum` and `maximum` refuse NaN, as `value >= n` does.
  min: (c) => ({ type: 'number', minimum: c[0] }),
  max: (c) => ({ type: 'number', maximum: c[0] }),
  isString: () => ({ type: 'string' }),
  isBoolean: () => ({ type: 'boolean' }),
  isArray: () => ({ type: 'array' }),
  arrayMinSize: (c) => ({ type: 'array', minItems: c[0] }),
  arrayMaxSize: (c) => ({ type: 'array', maxItems: c[0] }),
  isDefined: () => ({ not: { type: 'null' } }),
};

function matchesSchema(constraints: unknown[]): Record<string, unknown> | undefined {
  const [pattern, modifiers] = constraints;
  if (pattern instanceof RegExp && pattern.flags === '' && modifiers === undefined)
    return { type: 'string', pattern: pattern.source };
  if (typeof pattern === 'string' && modifiers === undefined) return { type: 'string', pattern };
  return undefined;
}

const escapePointer = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

/** The marker on each rule's sub-schema, read back from ajv's errors (`verbose` gives the schema). */
const marker = (rule: Rule, item = false): string => `rule:${rule.id}${item ? ':item' : ''}`;
const MARKER = /^rule:(\d+)(:item)?$/;
const classMarker = (index: number): string => `class:${index}`;
const CLASS_MARKER = /^class:(\d+)$/;

/** class-validator's `ValidationUtils.replaceMessageSpecialTokens` (not exported by the package). */
function replaceTokens(message: string, args: ValidationArguments): string {
  let text = message;
  args.constraints?.forEach((constraint: unknown, index: number) => {
    const shown = Array.isArray(constraint)
      ? constraint.join(', ')
      : typeof constraint === 'symbol'
        ? String(constraint.description)
        : `${constraint as string}`;
    text = text.replace(new RegExp(`\\$constraint${index + 1}`, 'g'), shown);
  });
  if (
    args.value !== undefined &&
    args.value !== null &&
    ['string', 'boolean', 'number'].includes(typeof args.value)
  )
    text = text.replace(/\$value/g, String(args.value));
  text = text.replace(/\$property/g, args.property);
  return text.replace(/\$target/g, args.targetName);
}

class Compiler {
  private readonly rules: Rule[] = [];
  private readonly plans = new Map<unknown, { index: number; plan: ClassPlan }>();
  private readonly defs: Record<string, unknown> = {};
  private readonly classes: ClassPlan[] = [];

  rule(id: number): Rule {
    return this.rules[id]!;
  }

  classAt(index: number): ClassPlan {
    return this.classes[index]!;
  }

  /** The class's plan and its schema's name in `$defs` (each class once, so recursion is a `$ref`). */
  plan(cls: new () => unknown): { ref: string; plan: ClassPlan } {
    const known = this.plans.get(cls);
    if (known) return { ref: `#/$defs/c${known.index}`, plan: known.plan };
    const index = this.classes.length;
    const properties: PropertyPlan[] = [];
    const plan: ClassPlan = { cls, properties };
    this.classes.push(plan);
    this.plans.set(cls, { index, plan });
    const storage = getMetadataStorage();
    const metas = storage.getTargetValidationMetadatas(
      cls,
      undefined as unknown as string,
      false,
      false,
      undefined,
    ) as unknown as ValidationMeta[];
    if (metas.length === 0) throw new UnsupportedDto(`${cls.name} has no validation rules`);
    const grouped = storage.groupByPropertyName(metas as never) as unknown as Record<
      string,
      ValidationMeta[]
    >;
    const schemaProps: Record<string, unknown> = {};
    const required: string[] = [];
    for (const [name, group] of Object.entries(grouped)) {
      const property = this.property(cls, name, group);
      properties.push(property);
      const checks = property.rules.filter((r) => r.kind !== 'nested').map((rule) => this.ruleSchema(rule));
      if (property.nested) checks.push(this.nestedSchema(property));
      const all = { allOf: checks };
      schemaProps[name] = property.optional ? { if: { type: 'null' }, else: all } : all;
      if (!property.optional && property.rules.some((r) => r.failsWhenAbsent)) required.push(name);
    }
    this.defs[`c${index}`] = {
      $comment: classMarker(index),
      type: 'object',
      properties: schemaProps,
      additionalProperties: false,
      ...(required.length > 0 ? { required } : {}),
    };
    return { ref: `#/$defs/c${index}`, plan };
  }

  private property(cls: new () => unknown, name: string, group: readonly ValidationMeta[]): PropertyPlan {
    const storage = getMetadataStorage();
    let optional = false;
    const defined: Rule[] = [];
    const custom: Rule[] = [];
    let nested: PropertyPlan['nested'];
    for (const meta of group) {
      if (meta.groups?.length || meta.always !== undefined || meta.validateIf || meta.context)
        throw new UnsupportedDto(`${cls.name}.${name}: groups, always, validateIf or context`);
      if (meta.type === 'conditionalValidation') {
        if (meta.name !== 'isOptional') throw new UnsupportedDto(`${cls.name}.${name}: @ValidateIf`);
        optional = true;
      } else if (meta.type === 'customValidation' || meta.type === 'isDefined') {
        const constraints = storage.getTargetValidatorConstraints(
          meta.constraintCls as never,
        ) as unknown as ConstraintMeta[];
        if (constraints.length !== 1) throw new UnsupportedDto(`${cls.name}.${name}: constraint class`);
        const constraint = constraints[0]!;
        const rule = this.addRule('custom', meta, constraint, constraint.name || meta.type);
        (meta.type === 'isDefined' ? defined : custom).push(rule);
      } else if (meta.type === 'nestedValidation') {
        if (meta.each) throw new UnsupportedDto(`${cls.name}.${name}: @ValidateNested({ each })`);
        const type = defaultMetadataStorage.findTypeMetadata(cls, name);
        const nestedCls = type?.typeFunction() as (new () => unknown) | undefined;
        if (typeof nestedCls !== 'function' || [Number, String, Boolean, Object].includes(nestedCls as never))
          throw new UnsupportedDto(`${cls.name}.${name}: @ValidateNested without @Type of a class`);
        const rule = this.addRule('nested', meta, undefined, 'nestedValidation');
        nested = { rule, plan: this.plan(nestedCls).plan };
      } else {
        throw new UnsupportedDto(`${cls.name}.${name}: ${meta.type}`);
      }
    }
    return { name, optional, rules: [...defined, ...custom], nested };
  }

  private addRule(kind: RuleKind, meta: ValidationMeta, constraint: ConstraintMeta | undefined, key: string) {
    const id = this.rules.length;
    let failsWhenAbsent = false;
    if (constraint) {
      const result = constraint.instance.validate(undefined, this.args(meta, undefined, {}));
      if (typeof result !== 'boolean') throw new UnsupportedDto(`${meta.propertyName}: asynchronous rule`);
      failsWhenAbsent = !result;
    }
    const rule: Rule = { id, kind, meta, constraint, key, failsWhenAbsent };
    this.rules.push(rule);
    return rule;
  }

  args(meta: ValidationMeta, value: unknown, object: object): ValidationArguments {
    return {
      targetName: object.constructor?.name ?? '',
      property: meta.propertyName,
      object,
      value,
      constraints: meta.constraints,
    };
  }

  /** One rule as JSON Schema, marked so that an error names it; `each` applies it to an array's items. */
  private ruleSchema(rule: Rule): Record<string, unknown> {
    const name = rule.constraint!.name;
    const standard =
      name === 'matches'
        ? matchesSchema(rule.meta.constraints)
        : TYPE_ONLY[name]?.(rule.meta.constraints ?? []);
    const one = (item: boolean): Record<string, unknown> => ({
      $comment: marker(rule, item),
      ...(standard ?? { classValidatorRule: rule.id }),
    });
    if (!rule.meta.each) return one(false);
    return { if: { type: 'array' }, then: { items: one(true) }, else: one(false) };
  }

  /** `@ValidateNested`: an object is checked as the class, an array item by item, anything else refused. */
  private nestedSchema(property: PropertyPlan): Record<string, unknown> {
    const { rule, plan } = property.nested!;
    const name = `n${rule.id}`;
    this.defs[name] = {
      if: { type: 'array' },
      then: { items: { $ref: `#/$defs/${name}` } },
      else: {
        if: { type: 'object' },
        then: { $ref: this.plan(plan.cls).ref },
        else: { $comment: marker(rule), not: {} },
      },
    };
    return { $ref: `#/$defs/${name}` };
  }

  schema(root: string): Record<string, unknown> {
    return { $ref: root, $defs: { ...this.defs } };
  }
}

/** One ajv for every DTO: all errors (class-validator reports every rule), no coercion, nothing removed. */
const ajv = new Ajv({
  allErrors: true,
  verbose: true,
  unicodeRegExp: false,
  coerceTypes: false,
  removeAdditional: false,
  useDefaults: false,
  strict: true,
  strictTypes: false,
  strictNumbers: false,
});
const compiler = new Compiler();

ajv.addKeyword({
  keyword: 'classValidatorRule',
  schemaType: 'number',
  errors: false,
  validate: (id: number, data: unknown, _schema?: unknown, context?: { parentData?: unknown }): boolean => {
    const rule = compiler.rule(id);
    const parent = context?.parentData ?? {};
    return rule.constraint!.instance.validate(data, compiler.args(rule.meta, data, parent)) === true;
  },
});

/**
 * Compiles the DTO class (and the classes nested in it) once. Throws `UnsupportedDto` for a rule
 * it cannot translate exactly.
 */
export function compileDto(cls: new () => unknown): CompiledDto {
  const { ref } = compiler.plan(cls);
  const schema = compiler.schema(ref);
  const validate: ValidateFunction = ajv.compile(schema);
  const index = Number(/c(\d+)$/.exec(ref)![1]);
  const conversions = conversionsOf(cls);
  return {
    schema,
    prepare(value) {
      if (conversions.length === 0) return value;
      let copy: Record<string, unknown> | undefined;
      for (const { key, convert } of conversions) {
        if (!Object.prototype.hasOwnProperty.call(value, key) || value[key] === undefined) continue;
        copy ??= { ...value };
        copy[key] = convert(value[key], value);
      }
      return copy ?? value;
    },
    check(value) {
      if (validate(value)) return [];
      const failures = failuresOf(validate.errors ?? []);
      const tree = errorTree(value, compiler.classAt(index), '', failures);
      return tree.length > 0 ? tree : unexplained(validate.errors ?? []);
    },
  };
}

type Convert = (value: unknown, source: Record<string, unknown>) => unknown;

const PRIMITIVE_TYPES: ReadonlyMap<unknown, (value: unknown) => unknown> = new Map<
  unknown,
  (value: unknown) => unknown
>([
  [Number, Number],
  [String, String],
  [Boolean, Boolean],
]);

/**
 * The top-level conversions class-transformer would make on `plainToInstance` (no implicit
 * conversion, as Nest's ValidationPipe calls it): `@Type` of a primitive (item by item for an
 * array), then the `@Transform`s in order. A nested class may carry neither (UnsupportedDto).
 */
function conversionsOf(cls: new () => unknown): { key: string; convert: Convert }[] {
  const conversions: { key: string; convert: Convert }[] = [];
  const root = compiler.plan(cls).plan;
  const visit = (plan: ClassPlan, top: boolean, seen: Set<ClassPlan>): void => {
    if (seen.has(plan)) return;
    seen.add(plan);
    for (const property of plan.properties) {
      const type = defaultMetadataStorage.findTypeMetadata(plan.cls, property.name);
      const primitive = type ? PRIMITIVE_TYPES.get(type.typeFunction()) : undefined;
      const transforms = defaultMetadataStorage
        .findTransformMetadatas(plan.cls, property.name, TransformationType.PLAIN_TO_CLASS)
        .filter((m) => !m.options?.groups?.length);
      if (transforms.some((m) => m.options?.since !== undefined || m.options?.until !== undefined))
        throw new UnsupportedDto(`${plan.cls.name}.${property.name}: versioned @Transform`);
      if (property.nested) visit(property.nested.plan, false, seen);
      if (!primitive && transforms.length === 0) continue;
      if (!top) throw new UnsupportedDto(`${plan.cls.name}.${property.name}: conversion in a nested class`);
      const key = property.name;
      const one = (value: unknown): unknown =>
        value === null || value === undefined ? value : primitive ? primitive(value) : value;
      conversions.push({
        key,
        convert: (value, source) => {
          let converted = Array.isArray(value) ? value.map(one) : one(value);
          for (const transform of transforms)
            converted = transform.transformFn({
              value: converted,
              key,
              obj: source,
              type: TransformationType.PLAIN_TO_CLASS,
              options: {},
            });
          return converted;
        },
      });
    }
  };
  visit(root, true, new Set());
  return conversions;
}

/** `instancePath#rule` for each failed rule, `instancePath/key#whitelist` for each unknown key. */
function failuresOf(errors: readonly ErrorObject[]): Set<string> {
  const failures = new Set<string>();
  for (const error of errors) {
    const mark = (error.parentSchema as { $comment?: string } | undefined)?.$comment ?? '';
    if (error.keyword === 'additionalProperties') {
      const key = (error.params as { additionalProperty: string }).additionalProperty;
      failures.add(`${error.instancePath}/${escapePointer(key)}#whitelist`);
    } else if (error.keyword === 'required') {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const index = CLASS_MARKER.exec(mark)?.[1];
      const property = compiler.classAt(Number(index)).properties.find((p) => p.name === missing);
      for (const rule of property?.rules ?? [])
        if (rule.failsWhenAbsent) failures.add(`${error.instancePath}/${escapePointer(missing)}#${rule.id}`);
    } else {
      const found = MARKER.exec(mark);
      if (!found) continue; // `if` and the like: the rule's own error is reported beside it
      // An `each` rule refused an item: class-validator names the property, not the item.
      const path = found[2] ? error.instancePath.replace(/\/[^/]*$/, '') : error.instancePath;
      failures.add(`${path}#${found[1]}`);
    }
  }
  return failures;
}

/**
 * Fails closed: a refusal that no rule explains (which the equivalence test says does not happen)
 * is still a refusal, naming the top-level field ajv pointed at.
 */
function unexplained(errors: readonly ErrorObject[]): ValidationError[] {
  const first = errors[0]?.instancePath.split('/')[1]?.replace(/~1/g, '/').replace(/~0/g, '~') ?? '';
  return [{ property: first, constraints: { invalid: `${first} is invalid` }, children: [] }];
}

/** The errors class-validator would have built for `object` (same order, keys and messages). */
function errorTree(
  object: Record<string, unknown>,
  plan: ClassPlan,
  path: string,
  failures: ReadonlySet<string>,
): ValidationError[] {
  const errors: ValidationError[] = [];
  for (const key of Object.keys(object)) {
    if (failures.has(`${path}/${escapePointer(key)}#whitelist`))
      errors.push({
        property: key,
        constraints: { whitelistValidation: `property ${key} should not exist` },
        children: undefined,
      });
  }
  for (const property of plan.properties) {
    const value = object[property.name];
    const at = `${path}/${escapePointer(property.name)}`;
    const error: ValidationError = { property: property.name, constraints: {}, children: [] };
    for (const rule of property.rules) {
      if (failures.has(`${at}#${rule.id}`)) error.constraints![rule.key] = message(rule, value, object);
    }
    if (property.nested && value !== undefined && !(property.optional && value === null))
      nestedErrors(value, property.nested, at, failures, error, object);
    if (Object.keys(error.constraints!).length > 0 || error.children!.length > 0) {
      if (Object.keys(error.constraints!).length === 0) delete error.constraints;
      errors.push(error);
    }
  }
  return errors;
}

function nestedErrors(
  value: unknown,
  nested: NonNullable<PropertyPlan['nested']>,
  at: string,
  failures: ReadonlySet<string>,
  error: ValidationError,
  object: object,
): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      const child: ValidationError = { property: String(index), constraints: {}, children: [] };
      nestedErrors(item, nested, `${at}/${index}`, failures, child, value);
      if (Object.keys(child.constraints!).length > 0 || child.children!.length > 0) {
        if (Object.keys(child.constraints!).length === 0) delete child.constraints;
        error.children!.push(child);
      }
    });
  } else if (value instanceof Object) {
    error.children!.push(...errorTree(value as Record<string, unknown>, nested.plan, at, failures));
  } else if (failures.has(`${at}#${nested.rule.id}`)) {
    error.constraints![nested.rule.key] = message(nested.rule, value, object);
  }
}

/** The rule's message as class-validator writes it (its `message` option, else its default). */
function message(rule: Rule, value: unknown, object: object): string {
  const args = compiler.args(rule.meta, value, object);
  const given = rule.meta.message;
  const text =
    typeof given === 'function'
      ? given(args)
      : given || (rule.constraint?.instance.defaultMessage?.(args) ?? '');
  return replaceTokens(text, args);
}
