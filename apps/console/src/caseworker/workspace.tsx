import { useState } from 'react';
import { useI18n } from '../i18n/i18n';
import { Tabs } from '../ui/tabs';
import { AccessReport } from './access-report';
import { CaseActions } from './case-actions';
import { CaseView } from './case-view';
import { MyCases } from './my-cases';
import { Referrals } from './referrals';

type Screen = 'waiting' | 'sent' | 'cases' | 'report';

export default function CaseworkerWorkspace() {
  const { t } = useI18n();
  const [screen, setScreen] = useState<Screen>('waiting');
  const [openCase, setOpenCase] = useState<string | undefined>();
  const choose = (next: Screen) => {
    setOpenCase(undefined);
    setScreen(next);
  };
  return (
    <>
      <Tabs
        label={t('workspace.caseworker')}
        current={screen}
        onChoose={choose}
        tabs={[
          ['waiting', 'nav.waiting'],
          ['sent', 'nav.sent'],
          ['cases', 'nav.cases'],
          ['report', 'nav.report'],
        ]}
      />
      {openCase ? (
        <>
          <CaseView caseId={openCase} onBack={() => setOpenCase(undefined)} />
          <CaseActions caseId={openCase} />
        </>
      ) : screen === 'waiting' ? (
        <Referrals direction="in" onOpenCase={setOpenCase} />
      ) : screen === 'sent' ? (
        <Referrals direction="out" onOpenCase={setOpenCase} />
      ) : screen === 'cases' ? (
        <MyCases onOpenCase={setOpenCase} />
      ) : (
        <AccessReport />
      )}
    </>
  );
}
