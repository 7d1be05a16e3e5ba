import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * A break-glass justification is read by the oversight body and kept forever:
 * it must say something. Text that only fills the length (an ellipsis, "TODO",
 * a copied placeholder, one character repeated, a handful of words or letters)
 * is refused before anything is read or recorded.
 */
const PLACEHOLDER_WORDS = /\b(?:todo|tbd|tbc|fixme|xxx+|lorem|ipsum|placeholder|asdf\w*|qwerty|n\/a)\b/iu;
const ELLIPSIS = /…|\.\.\./u;
/** The README's own stand-in text, and its kin. */
const INSTRUCTION = /\bat least \d+ characters\b|\b(?:your|a) (?:reason|justification) here\b/iu;

/** Why the text is a placeholder, or undefined when it reads as a justification. */
export function placeholderJustification(text: string): string | undefined {
  const trimmed = text.trim();
  if (ELLIPSIS.test(trimmed)) return 'an ellipsis (… or ...) marks text left to fill in';
  if (PLACEHOLDER_WORDS.test(trimmed) || INSTRUCTION.test(trimmed)) return 'it is placeholder text';
  if (/(.)\1{4,}/u.test(trimmed.replace(/\s/gu, ''))) return 'it repeats one character';
  const letters = new Set(trimmed.toLowerCase().replace(/[^\p{L}]/gu, ''));
  if (letters.size < 8) return 'it uses fewer than 8 different letters';
  const words = trimmed.split(/\s+/u).filter((w) => /\p{L}{2,}/u.test(w));
  if (words.length < 5) return 'it has fewer than 5 words';
  if (new Set(words.map((w) => w.toLowerCase())).size < Math.ceil(words.length / 2))
    return 'it repeats the same words';
  return undefined;
}

export const SUBSTANTIVE_JUSTIFICATION_MESSAGE =
  'justification must state, in words, the emergency that overrides consent: placeholders (…, TODO, repeated characters or words) are refused';

export function IsSubstantiveJustification(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isSubstantiveJustification',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'string' && placeholderJustification(value) === undefined,
        defaultMessage: () => SUBSTANTIVE_JUSTIFICATION_MESSAGE,
      },
    },
    options,
  );
}
