import { useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { Tabs } from '../ui/tabs';
import { HandoffBoard } from './handoff-board';
import { Statistics } from './statistics';

export default function CoordinatorWorkspace() {
  const { t } = useI18n();
  const [screen, setScreen] = useState<'board' | 'statistics'>('board');
  return (
    <>
      <Tabs
        label={t('workspace.coordinator')}
        current={screen}
        onChoose={setScreen}
        tabs={[
          ['board', 'nav.board'],
          ['statistics', 'nav.statistics'],
        ]}
      />
      {screen === 'board' ? <HandoffBoard /> : <Statistics />}
    </>
  );
}
