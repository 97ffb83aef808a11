import { type Dictionary } from './de';

export const en: Dictionary = {
  meta: {
    title: 'quicprochat – find a free therapy slot anonymously',
    description:
      'Find and request free appointments with licensed psychotherapists – no account, no tracking, end-to-end encrypted.',
  },
  layout: {
    skipToContent: 'Skip to content',
    brand: 'quicprochat',
    brandHome: 'quicprochat – home',
    languageNav: 'Language',
    switchTo: 'Deutsch',
    switchToLabel: 'Read this page in German',
    footerFreeSoftware: 'quicprochat is free software (AGPL-3.0).',
    footerPrivacy: 'This page loads nothing from other servers and uses no cookies and no tracking.',
  },
  crisis: {
    heading: 'If you are in a very bad place right now',
    intro: 'You do not have to wait for a therapy slot to talk to someone.',
    telefonseelsorge: 'Telefonseelsorge (crisis line), free, anonymous, day and night:',
    or: 'or',
    bereitschaftsdienst: 'Out-of-hours medical service:',
    emergency: 'If your life is in danger: emergency number',
  },
  notFound: {
    title: 'This page does not exist',
    text: 'The link may be incomplete. The home page has everything important.',
    home: 'Go to the home page',
  },
  landing: {
    heroTitle: 'Find a free therapy slot – anonymously, without an account',
    heroLead:
      'Psychotherapists publish their free appointments here. You can look for a slot near you and request it without signing up and without anyone learning who you are.',
    audienceNav: 'Who it is for',
    patients: {
      heading: 'For patients',
      lead: 'You need no account and leave no trace. We store nothing about you.',
      steps: [
        {
          title: 'Search anonymously',
          text: 'The page loads all offers for your region – by the first digits of the postcode – and filters them on your device. What you are looking for, such as the type of therapy, your insurance or a time range, never leaves your device.',
        },
        {
          title: 'Request with a sealed message',
          text: 'You pick a slot and write a short message. You decide how the practice may reach you. Your browser encrypts the request so that only the therapist can read it – not even we can.',
        },
        {
          title: 'See the answer through your private link',
          text: 'After the request you get a private link. Only someone who knows it can see the answer. Keep it safe: we cannot restore it, because we do not know who you are.',
        },
      ],
    },
    therapists: {
      heading: 'For psychotherapists',
      lead: 'Show your free slots where people are looking for them – without waiting-list phone calls.',
      points: [
        {
          title: 'Publish free slots',
          text: 'Enter consultation hours (Sprechstunde), acute treatment, trial sessions, therapy or group sessions in a weekly calendar. People searching in your region see them right away.',
        },
        {
          title: 'Verified licence',
          text: 'A chamber of psychotherapists confirms your licence (Approbation) with a digital signature. People searching can see that your offer is verified.',
        },
        {
          title: 'End-to-end encrypted',
          text: 'Requests and your replies are end-to-end encrypted. Your keys are created in your browser; the server only ever sees encrypted data.',
        },
        {
          title: 'Nothing to install',
          text: 'Everything runs in the browser. You need no app and no extra software.',
        },
      ],
    },
    clinics: {
      heading: 'For clinics and institutions',
      text: 'Clinics can run a mesh node. The nodes pass free slots on to each other and keep the network running even without a central server. They store only signed slot offers and encrypted messages they cannot read.',
    },
  },
};
