import { useId, useRef, useState, type FormEvent } from 'react';
import { useI18n } from './i18n/i18n';
import { WORKSPACES, type Session, type Workspace } from './session';

export type SignInNotice = 'expired' | 'signedOut';

export function SignIn({
  notice,
  onSignIn,
}: {
  notice?: SignInNotice;
  onSignIn: (session: Session) => void;
}) {
  const { t } = useI18n();
  const id = useId();
  const [credential, setCredential] = useState('');
  const [workspace, setWorkspace] = useState<Workspace>('caseworker');
  const [keepInTab, setKeepInTab] = useState(false);
  const [missing, setMissing] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const value = credential.trim();
    if (value === '') {
      setMissing(true);
      input.current?.focus();
      return;
    }
    onSignIn({ credential: value, workspace, keepInTab });
  };

  return (
    <section className="sign-in" aria-labelledby={`${id}-heading`}>
      <h1 id={`${id}-heading`}>{t('signIn.heading')}</h1>
      {notice && (
        <p
          className={notice === 'expired' ? 'problem' : 'notice'}
          role={notice === 'expired' ? 'alert' : 'status'}
        >
          {t(notice === 'expired' ? 'signIn.expired' : 'signIn.signedOut')}
        </p>
      )}
      <p>{t('signIn.intro')}</p>
      <form onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor={`${id}-credential`}>{t('signIn.credential')}</label>
          <input
            ref={input}
            id={`${id}-credential`}
            name="credential"
            type="password"
            autoComplete="off"
            spellCheck={false}
            value={credential}
            aria-invalid={missing}
            aria-describedby={missing ? `${id}-missing` : undefined}
            onChange={(e) => {
              setCredential(e.target.value);
              setMissing(false);
            }}
          />
          {missing && (
            <p className="field-problem" id={`${id}-missing`}>
              {t('signIn.required')}
            </p>
          )}
        </div>
        <fieldset className="field">
          <legend>{t('signIn.workspace')}</legend>
          {WORKSPACES.map((w) => (
            <label key={w} className="choice">
              <input
                type="radio"
                name="workspace"
                value={w}
                checked={workspace === w}
                onChange={() => setWorkspace(w)}
              />
              {t(`workspace.${w}`)}
            </label>
          ))}
        </fieldset>
        <div className="field">
          <label className="choice">
            <input
              type="checkbox"
              name="keepInTab"
              checked={keepInTab}
              aria-describedby={`${id}-keep-hint`}
              onChange={(e) => setKeepInTab(e.target.checked)}
            />
            {t('signIn.keepInTab')}
          </label>
          <p className="hint" id={`${id}-keep-hint`}>
            {t('signIn.keepInTabHint')}
          </p>
        </div>
        <button type="submit" className="primary">
          {t('signIn.submit')}
        </button>
      </form>
      <p className="hint">{t('signIn.sharedPc')}</p>
    </section>
  );
}
