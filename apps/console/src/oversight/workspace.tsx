import { useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { Tabs } from '../ui/tabs';
import { AccessLog } from './access-log';
import { BreakGlassQueue } from './break-glass';
import { ConsentHistory } from './consent-history';
import { Erasure } from './erasure';
import { Integrity } from './integrity';
import { VerifyExportFile } from './verify-file';

type Screen = 'breakGlass' | 'accessLog' | 'consentHistory' | 'integrity' | 'erasure';

export default function OversightWorkspace() {
  const { t } = useI18n();
  const [screen, setScreen] = useState<Screen>('breakGlass');
  return (
    <>
      <Tabs
        label={t('workspace.oversight')}
        current={screen}
        onChoose={setScreen}
        tabs={[
          ['breakGlass', 'nav.breakGlass'],
          ['accessLog', 'nav.accessLog'],
          ['consentHistory', 'nav.consentHistory'],
          ['integrity', 'nav.integrity'],
          ['erasure', 'nav.erasure'],
        ]}
      />
      {screen === 'breakGlass' ? (
        <BreakGlassQueue />
      ) : screen === 'accessLog' ? (
        <AccessLog />
      ) : screen === 'consentHistory' ? (
        <ConsentHistory />
      ) : screen === 'integrity' ? (
        <>
          <Integrity />
          <VerifyExportFile />
        </>
      ) : (
        <Erasure />
      )}
    </>
  );
}
