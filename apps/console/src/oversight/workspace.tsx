import { useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { Tabs } from '../ui/tabs';
import { AccessLog } from './access-log';
import { BreakGlassQueue } from './break-glass';
import { Integrity } from './integrity';

export default function OversightWorkspace() {
  const { t } = useI18n();
  const [screen, setScreen] = useState<'breakGlass' | 'accessLog' | 'integrity'>('breakGlass');
  return (
    <>
      <Tabs
        label={t('workspace.oversight')}
        current={screen}
        onChoose={setScreen}
        tabs={[
          ['breakGlass', 'nav.breakGlass'],
          ['accessLog', 'nav.accessLog'],
          ['integrity', 'nav.integrity'],
        ]}
      />
      {screen === 'breakGlass' ? <BreakGlassQueue /> : screen === 'accessLog' ? <AccessLog /> : <Integrity />}
    </>
  );
}
