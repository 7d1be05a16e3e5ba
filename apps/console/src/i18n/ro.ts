import type { ReportMessages } from './report';

/**
 * Română, for the printed subject access report only (the interface is in English and French).
 * The type makes a missing or extra key a compile error.
 */
export const ro: ReportMessages = {
  'report.subject': 'Referința persoanei (identificator)',
  'report.title': 'Cine a accesat datele acestei persoane',
  'report.generated': 'Întocmit la',
  'report.requestedBy': 'Solicitat prin',
  'report.cases': 'Dosare',
  'report.when': 'Când',
  'report.agency': 'Instituția',
  'report.view': 'Ce s-a consultat',
  'report.purpose': 'Scopul',
  'report.basis': 'Temeiul',
  'report.empty': 'Nu este înregistrat niciun acces la datele acestei persoane.',
  'report.breakGlass': 'Acces de urgență',

  'category.identity': 'Identitate',
  'category.contact': 'Date de contact',
  'category.health': 'Sănătate',
  'category.exploitation': 'Exploatare',
  'category.immigration-status': 'Situația privind imigrarea',
  'category.support-needs': 'Nevoi de sprijin',
  'category.case-status': 'Stadiul dosarului',

  'purpose.assistance': 'Asistență',
  'purpose.referral': 'Referire',
  'purpose.protection': 'Protecție',
  'purpose.investigation': 'Anchetă',
  'purpose.statistics': 'Statistică',

  'basis.consent': 'consimțământ',
  'basis.lawful-basis': 'temei legal',
  'basis.break-glass': 'acces de urgență',
  'basis.own-record': 'propriul dosar',

  'agencyKind.law-enforcement': 'Poliție',
  'agencyKind.health': 'Serviciu de sănătate',
  'agencyKind.ngo': 'Organizație neguvernamentală',
  'agencyKind.shelter': 'Adăpost',
  'agencyKind.asylum-authority': 'Autoritatea pentru azil',
  'agencyKind.labour-inspectorate': 'Inspecția muncii',
  'agencyKind.social-services': 'Servicii sociale',
  'agencyKind.national-coordinator': 'Coordonatorul național',
  'agencyKind.oversight-body': 'Organism de supraveghere',
  'agencyKind.foreign-nrm': 'Mecanismul de referire al altei țări',
};
