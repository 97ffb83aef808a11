// The German dictionary is the reference: its shape defines `Dictionary`, and every other
// language must match it key for key (a missing or extra key is a type error).
export const de = {
  meta: {
    title: 'quicprochat – freie Therapieplätze anonym finden',
    description:
      'Freie Termine bei approbierten Psychotherapeutinnen und Psychotherapeuten finden und anfragen – ohne Konto, ohne Tracking, Ende-zu-Ende-verschlüsselt.',
  },
  layout: {
    skipToContent: 'Zum Inhalt springen',
    brand: 'quicprochat',
    brandHome: 'quicprochat – Startseite',
    languageNav: 'Sprache',
    switchTo: 'English',
    switchToLabel: 'Diese Seite auf Englisch lesen',
    footerFreeSoftware: 'quicprochat ist freie Software (AGPL-3.0).',
    footerPrivacy:
      'Diese Seite lädt nichts von fremden Servern, verwendet keine Cookies und kein Tracking.',
  },
  crisis: {
    heading: 'Wenn es Ihnen gerade sehr schlecht geht',
    intro: 'Sie müssen nicht auf einen Therapieplatz warten, um mit jemandem zu sprechen.',
    telefonseelsorge: 'Telefonseelsorge, kostenfrei, anonym und rund um die Uhr:',
    or: 'oder',
    bereitschaftsdienst: 'Ärztlicher Bereitschaftsdienst:',
    emergency: 'In Lebensgefahr: Notruf',
  },
  notFound: {
    title: 'Diese Seite gibt es nicht',
    text: 'Vielleicht ist der Link unvollständig. Auf der Startseite finden Sie alles Wichtige.',
    home: 'Zur Startseite',
  },
  landing: {
    heroTitle: 'Freie Therapieplätze finden – anonym und ohne Konto',
    heroLead:
      'Psychotherapeutinnen und Psychotherapeuten zeigen hier ihre freien Termine. Sie können einen Termin in Ihrer Nähe suchen und anfragen, ohne sich anzumelden und ohne dass jemand erfährt, wer Sie sind.',
    audienceNav: 'Für wen',
    patients: {
      heading: 'Für Patientinnen und Patienten',
      lead: 'Sie brauchen kein Konto und hinterlassen keine Spuren. Wir speichern nichts über Sie.',
      steps: [
        {
          title: 'Anonym suchen',
          text: 'Die Seite lädt alle Angebote Ihrer Region – nach den ersten Ziffern der Postleitzahl – und filtert sie auf Ihrem Gerät. Was Sie suchen, etwa Fachrichtung, Kostenträger oder Zeitraum, verlässt Ihr Gerät nicht.',
        },
        {
          title: 'Versiegelt anfragen',
          text: 'Sie wählen einen Termin und schreiben eine kurze Nachricht. Sie entscheiden selbst, wie die Praxis Sie erreichen kann. Ihr Browser verschlüsselt die Anfrage so, dass nur die Therapeutin oder der Therapeut sie lesen kann – auch wir nicht.',
        },
        {
          title: 'Antwort über Ihren privaten Link',
          text: 'Nach der Anfrage erhalten Sie einen privaten Link. Nur wer ihn kennt, sieht die Antwort. Bewahren Sie ihn gut auf: Wir können ihn nicht wiederherstellen, weil wir nicht wissen, wer Sie sind.',
        },
      ],
    },
    therapists: {
      heading: 'Für Psychotherapeutinnen und Psychotherapeuten',
      lead: 'Zeigen Sie freie Termine dort, wo Menschen sie suchen – ohne Wartelisten-Telefonate.',
      points: [
        {
          title: 'Freie Termine veröffentlichen',
          text: 'Tragen Sie Sprechstunden, Akutbehandlung, Probatorik, Therapie- oder Gruppentermine in einen Wochenkalender ein. Suchende in Ihrer Region sehen sie sofort.',
        },
        {
          title: 'Geprüfte Approbation',
          text: 'Eine Kammer bestätigt Ihre Approbation mit einer digitalen Signatur. Suchende sehen, dass Ihr Angebot geprüft ist.',
        },
        {
          title: 'Ende-zu-Ende-verschlüsselt',
          text: 'Anfragen und Ihre Antworten sind Ende-zu-Ende-verschlüsselt. Ihre Schlüssel entstehen in Ihrem Browser; der Server sieht nur verschlüsselte Daten.',
        },
        {
          title: 'Nichts zu installieren',
          text: 'Alles läuft im Browser. Sie brauchen keine App und keine zusätzliche Software.',
        },
      ],
    },
    clinics: {
      heading: 'Für Kliniken und Einrichtungen',
      text: 'Kliniken können einen Mesh-Knoten betreiben. Die Knoten reichen freie Termine untereinander weiter und halten das Netz auch ohne zentralen Server am Laufen. Sie speichern nur signierte Terminangebote und verschlüsselte Nachrichten, die sie nicht lesen können.',
    },
  },
};

/** The shape every language must provide. */
export type Dictionary = typeof de;
