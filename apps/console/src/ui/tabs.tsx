import { useI18n } from '../i18n/i18n';
import type { MessageKey } from '../i18n/en';

/** The screens of a workspace; the current one is marked for assistive technology too. */
export function Tabs<T extends string>({
  label,
  tabs,
  current,
  onChoose,
}: {
  label: string;
  tabs: ReadonlyArray<readonly [T, MessageKey]>;
  current: T;
  onChoose: (tab: T) => void;
}) {
  const { t } = useI18n();
  return (
    <nav className="tabs no-print" aria-label={label}>
      <ul>
        {tabs.map(([tab, key]) => (
          <li key={tab}>
            <button
              type="button"
              aria-current={tab === current ? 'page' : undefined}
              onClick={() => onChoose(tab)}
            >
              {t(key)}
            </button>
          </li>
        ))}
      </ul>
    </nav>
  );
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}
