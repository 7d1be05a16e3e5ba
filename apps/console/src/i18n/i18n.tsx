import { createContext, useContext, useMemo, type ReactNode } from 'react';
import { en, type MessageKey, type Messages } from './en';
import { fr } from './fr';

export const LOCALES = { en, fr } as const satisfies Record<string, Messages>;
export type Locale = keyof typeof LOCALES;
export const LOCALE_NAMES: Readonly<Record<Locale, string>> = { en: 'English', fr: 'Français' };

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && Object.hasOwn(LOCALES, value);
}

/** The reader's language if the console has it, else English. */
export function preferredLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if (isLocale(base)) return base;
  }
  return 'en';
}

export type Translate = (key: MessageKey, values?: Readonly<Record<string, string | number>>) => string;

export interface I18n {
  readonly locale: Locale;
  readonly messages: Messages;
  readonly t: Translate;
  /** A term of the ledger's vocabulary (`category`, `purpose`, …): the code itself if none is known. */
  readonly term: (group: string, code: string) => string;
  readonly dateTime: (iso: string | null | undefined) => string;
  readonly date: (iso: string | null | undefined) => string;
  readonly number: (value: number) => string;
  readonly duration: (seconds: number | null | undefined) => string;
}

export function makeI18n(locale: Locale): I18n {
  const messages: Messages = LOCALES[locale];
  return { locale, messages, ...formatters(locale, messages) };
}

/**
 * Translation and local formats for a catalogue in a language: the console's own, or the printed
 * subject access report's (report.ts), which has more languages than the interface.
 */
export function formatters<K extends string>(locale: string, messages: Readonly<Record<K, string>>) {
  const t = (key: K, values: Readonly<Record<string, string | number>> = {}) =>
    messages[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
      Object.hasOwn(values, name) ? String(values[name]) : whole,
    );
  const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: 'medium' });
  const numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const format = (f: Intl.DateTimeFormat) => (iso: string | null | undefined) => {
    if (!iso) return '—';
    const at = new Date(iso);
    return Number.isNaN(at.getTime()) ? iso : f.format(at);
  };
  const units: ReadonlyArray<readonly [Intl.NumberFormatOptions['unit'], number]> = [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
    ['second', 1],
  ];
  return {
    t,
    term: (group: string, code: string) => {
      const key = `${group}.${code}`;
      return Object.hasOwn(messages, key) ? messages[key as K] : code;
    },
    dateTime: format(dateTimeFormat),
    date: format(dateFormat),
    number: (value: number) => numberFormat.format(value),
    duration: (seconds: number | null | undefined) => {
      if (seconds === null || seconds === undefined) return '—';
      const [unit, size] = units.find(([, s]) => seconds >= s) ?? ['second', 1];
      return new Intl.NumberFormat(locale, {
        style: 'unit',
        unit,
        unitDisplay: 'long',
        maximumFractionDigits: 1,
      }).format(seconds / size);
    },
  };
}

const I18nContext = createContext<I18n>(makeI18n('en'));

export function I18nProvider({ locale, children }: { locale: Locale; children: ReactNode }) {
  const value = useMemo(() => makeI18n(locale), [locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}
