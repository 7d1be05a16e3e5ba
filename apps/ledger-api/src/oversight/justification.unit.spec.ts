import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { BreakGlassReadDto } from './oversight.dto';
import { placeholderJustification, SUBSTANTIVE_JUSTIFICATION_MESSAGE } from './justification';

const PLACEHOLDERS = [
  '…at least 30 characters of reason…',
  '...at least 30 characters of reason...',
  'TODO: write the justification before going live',
  'tbd tbd tbd tbd tbd tbd tbd tbd tbd tbd tbd',
  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'a a a a a a a a a a a a a a a a a a a a a a',
  'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'lorem ipsum dolor sit amet consectetur adipiscing',
  'urgent urgent urgent urgent urgent urgent urgent',
  'abcdefghijabcdefghijabcdefghijabcdefghij',
  'please see the placeholder text for this field',
  'Emergency!!!!!! Emergency!!!!!! Emergency!!!!!!',
  'qwertyuiop asdfghjkl zxcvbnm qwertyuiop asdf',
  'N/A N/A N/A N/A N/A N/A N/A N/A N/A N/A N/A',
  '1234567890 1234567890 1234567890 1234567890',
];

const JUSTIFICATIONS = [
  'Person reported missing from shelter; imminent danger, location of support needed now.',
  'Imminent risk to life documented in protection assessment 2026-117.',
  'Person admitted unconscious to emergency care; treating physician needs the case status now.',
  'Treaty obligation under the bilateral cooperation agreement, article 7.',
  'Persoon vermist uit de opvang; acuut gevaar, verblijfplaats nu nodig voor de politie.',
];

async function problems(justification: string): Promise<string[]> {
  const dto = plainToInstance(BreakGlassReadDto, { justification, purpose: 'protection' });
  return (await validate(dto)).flatMap((e) => Object.values(e.constraints ?? {}));
}

describe('break-glass justification', () => {
  it('refuses placeholders with a message naming the field, and takes real reasons', async () => {
    let refused = 0;
    for (const text of PLACEHOLDERS) {
      expect([text, placeholderJustification(text)]).not.toEqual([text, undefined]);
      expect([text, await problems(text)]).toEqual([text, [SUBSTANTIVE_JUSTIFICATION_MESSAGE]]);
      refused++;
    }
    let accepted = 0;
    for (const text of JUSTIFICATIONS) {
      expect([text, await problems(text)]).toEqual([text, []]);
      accepted++;
    }
    expect(SUBSTANTIVE_JUSTIFICATION_MESSAGE).toMatch(/^justification /);
    console.log(
      `break-glass justification: placeholders ${PLACEHOLDERS.length}, refused ${refused}, real ${accepted} accepted`,
    );
  });
});
