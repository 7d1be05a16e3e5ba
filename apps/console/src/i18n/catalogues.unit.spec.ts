import { VOCABULARY } from '../api/vocabulary';
import { en } from './en';
import { LOCALES } from './i18n';
import { printedPart, REPORT_LOCALES } from './report';

describe('console catalogues', () => {
  it('have the same keys in every language', () => {
    const reference = Object.keys(en).sort();
    for (const [locale, messages] of Object.entries(LOCALES)) {
      expect({ locale, keys: Object.keys(messages).sort() }).toEqual({ locale, keys: reference });
      const empty = Object.entries(messages).filter(([, text]) => text.trim() === '');
      expect({ locale, empty }).toEqual({ locale, empty: [] });
    }
  });

  it('label every value of the API document’s vocabulary in every language', () => {
    let checked = 0;
    const missing: string[] = [];
    for (const [locale, messages] of Object.entries(LOCALES))
      for (const [group, values] of Object.entries(VOCABULARY))
        for (const value of values) {
          checked += 1;
          if (!Object.hasOwn(messages, `${group}.${value}`)) missing.push(`${locale}: ${group}.${value}`);
        }
    console.log(`console vocabulary: ${checked} labels checked, ${missing.length} missing`);
    expect(missing).toEqual([]);
  });

  it('print the subject access report in English and at least two other languages, with the same keys', () => {
    expect(Object.keys(REPORT_LOCALES).length).toBeGreaterThanOrEqual(3);
    expect(Object.keys(REPORT_LOCALES)).toContain('en');
    const reference = Object.keys(printedPart(en)).sort();
    // The printout's words and the vocabulary it names; none of the screen's.
    expect(reference).toContain('report.title');
    expect(reference).toContain('agencyKind.foreign-nrm');
    expect(reference).not.toContain('report.show');
    let checked = 0;
    for (const [locale, messages] of Object.entries(REPORT_LOCALES)) {
      expect({ locale, keys: Object.keys(messages).sort() }).toEqual({ locale, keys: reference });
      for (const [key, text] of Object.entries(messages)) {
        checked += 1;
        expect({ locale, key, empty: text.trim() === '' }).toEqual({ locale, key, empty: false });
      }
      // Placeholders survive translation.
      for (const key of reference) {
        const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect({ locale, key, names: names(messages[key as keyof typeof messages]) }).toEqual({
          locale,
          key,
          names: names(en[key as keyof typeof en]),
        });
      }
    }
    console.log(
      `console report catalogues: ${Object.keys(REPORT_LOCALES).join(', ')}; ${checked} strings checked`,
    );
  });
});
