import { useState } from 'react';
import { useI18n } from '../i18n/i18n';

/**
 * Rows shown at once on the board and the access log: as many as the ledger answers per page
 * (`limit`), so that the next page on screen is the next page the ledger answers, and 10,000
 * loaded rows cost no more to render than one page.
 */
export const PAGE_SIZE = 100;

export interface Page<T> {
  readonly rows: readonly T[];
  /** Zero-based, within the rows loaded. */
  readonly page: number;
  readonly pages: number;
  /** One-based positions of the first and last row shown (0 and 0 when there is none). */
  readonly first: number;
  readonly last: number;
  readonly total: number;
}

/** The page of `rows` at `page`, clamped to the pages there are. */
export function pageOf<T>(rows: readonly T[], page: number, size = PAGE_SIZE): Page<T> {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const current = Math.min(Math.max(0, page), pages - 1);
  const start = current * size;
  const shown = rows.slice(start, start + size);
  return {
    rows: shown,
    page: current,
    pages,
    first: shown.length === 0 ? 0 : start + 1,
    last: start + shown.length,
    total: rows.length,
  };
}

/**
 * First, previous, next and last page of the loaded rows; past the last loaded page, "Next page"
 * loads the ledger's next page by its cursor. Buttons that cannot act are `aria-disabled`, not
 * `disabled`, so that the focus stays where a keyboard user left it.
 */
export function Pager<T>({
  label,
  page,
  onPage,
  more,
  busy,
}: {
  /** What the pages are of, for the navigation's accessible name. */
  readonly label: string;
  readonly page: Page<T>;
  readonly onPage: (page: number) => void;
  /** Loads the ledger's next page, when it has one. */
  readonly more?: () => Promise<void>;
  readonly busy: boolean;
}) {
  const { t, number } = useI18n();
  const [loading, setLoading] = useState(false);
  const atEnd = page.page >= page.pages - 1;
  const button = (text: string, can: boolean, act: () => void) => (
    <button type="button" aria-disabled={!can} onClick={() => can && act()}>
      {text}
    </button>
  );
  const next = async () => {
    if (!atEnd) return onPage(page.page + 1);
    if (!more || loading) return;
    setLoading(true);
    try {
      await more();
      onPage(page.page + 1);
    } finally {
      setLoading(false);
    }
  };
  if (page.total === 0) return null;
  return (
    <nav className="pager no-print" aria-label={label}>
      {button(t('pager.first'), page.page > 0, () => onPage(0))}
      {button(t('pager.previous'), page.page > 0, () => onPage(page.page - 1))}
      <p role="status">
        {t(more ? 'pager.rowsMore' : 'pager.rows', {
          first: number(page.first),
          last: number(page.last),
          total: number(page.total),
        })}
      </p>
      {button(t('pager.next'), (!atEnd || more !== undefined) && !busy && !loading, () => void next())}
      {button(t('pager.last'), !atEnd, () => onPage(page.pages - 1))}
    </nav>
  );
}
