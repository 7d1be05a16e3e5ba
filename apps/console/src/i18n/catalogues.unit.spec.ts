import { VOCABULARY } from '../api/vocabulary';
import { en } from './en';
import { LOCALES } from './i18n';

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
});
