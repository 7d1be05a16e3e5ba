import { en, type MessageKey } from './en';
import { fr } from './fr';
import { formatters, type Locale } from './i18n';
import { ro } from './ro';

/** The keys the printed subject access report uses: its own words and the vocabulary it names. */
type PrintedPrefix = 'report.' | 'category.' | 'purpose.' | 'basis.' | 'agencyKind.';
/** Report keys of the screen around the printout, in the interface's language only. */
type ScreenOnly =
  'report.heading' | 'report.intro' | 'report.language' | 'report.languageHint' | 'report.show';
export type ReportKey = Exclude<Extract<MessageKey, `${PrintedPrefix}${string}`>, ScreenOnly>;
export type ReportMessages = Readonly<Record<ReportKey, string>>;

const PRINTED = /^(report|category|purpose|basis|agencyKind)\./;
const SCREEN_ONLY: ReadonlySet<string> = new Set<ScreenOnly>([
  'report.heading',
  'report.intro',
  'report.language',
  'report.languageHint',
  'report.show',
]);

/** The printed report's part of an interface catalogue. */
export function printedPart(messages: Readonly<Record<MessageKey, string>>): ReportMessages {
  return Object.fromEntries(
    Object.entries(messages).filter(([key]) => PRINTED.test(key) && !SCREEN_ONLY.has(key)),
  ) as ReportMessages;
}

/**
 * The languages the subject access report prints in: the interface's, and others for the people
 * the ledger's agencies assist (Romanian: the language the demo's consent records). A language
 * here needs only the report's words (ro.ts), not the whole interface.
 */
export const REPORT_LOCALES = {
  en: printedPart(en),
  fr: printedPart(fr),
  ro,
} as const satisfies Record<string, ReportMessages>;
export type ReportLocale = keyof typeof REPORT_LOCALES;
export const REPORT_LOCALE_NAMES: Readonly<Record<ReportLocale, string>> = {
  en: 'English',
  fr: 'Français',
  ro: 'Română',
};

export function isReportLocale(value: unknown): value is ReportLocale {
  return typeof value === 'string' && Object.hasOwn(REPORT_LOCALES, value);
}

/** The report's language for a BCP 47 tag (`ro-RO`, `fr`), if it has a translation. */
export function reportLocaleFor(tag: string | undefined): ReportLocale | undefined {
  const base = tag?.toLowerCase().split('-')[0];
  return isReportLocale(base) ? base : undefined;
}

export function reportI18n(locale: ReportLocale | Locale) {
  return { locale, ...formatters<ReportKey>(locale, REPORT_LOCALES[locale]) };
}
