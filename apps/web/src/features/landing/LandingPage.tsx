import { CrisisNote } from '../../components/CrisisNote';
import { type Dictionary, type Locale } from '../../i18n';
import styles from './landing.module.css';

/** The public landing page: what the service does, for patients, therapists and clinics. */
export function LandingPage({ locale, t }: { locale: Locale; t: Dictionary }) {
  const { landing } = t;
  return (
    <>
      <section className={styles.hero} aria-labelledby="hero-heading">
        <h1 id="hero-heading">{landing.heroTitle}</h1>
        <p className={styles.lead}>{landing.heroLead}</p>
        <p>
          <a className={styles.cta} href={`/${locale}/suche`}>
            {landing.heroSearch}
          </a>
        </p>
        <nav aria-label={landing.audienceNav}>
          <ul className={styles.jump}>
            <li>
              <a href="#patients">{landing.patients.heading}</a>
            </li>
            <li>
              <a href="#therapists">{landing.therapists.heading}</a>
            </li>
            <li>
              <a href="#clinics">{landing.clinics.heading}</a>
            </li>
          </ul>
        </nav>
      </section>

      <CrisisNote t={t.crisis} />

      <section id="patients" className={styles.section} aria-labelledby="patients-heading">
        <h2 id="patients-heading">{landing.patients.heading}</h2>
        <p className={styles.lead}>{landing.patients.lead}</p>
        <ol className={styles.steps}>
          {landing.patients.steps.map((step) => (
            <li key={step.title} className={styles.card}>
              <h3>{step.title}</h3>
              <p>{step.text}</p>
            </li>
          ))}
        </ol>
      </section>

      <section id="therapists" className={styles.section} aria-labelledby="therapists-heading">
        <h2 id="therapists-heading">{landing.therapists.heading}</h2>
        <p className={styles.lead}>{landing.therapists.lead}</p>
        <ul className={styles.points}>
          {landing.therapists.points.map((point) => (
            <li key={point.title} className={styles.card}>
              <h3>{point.title}</h3>
              <p>{point.text}</p>
            </li>
          ))}
        </ul>
        {/* A full page load, not client navigation: the portal's CSP allows WebAssembly, this page's does not. */}
        <p>
          <a className={styles.cta} href={`/${locale}/praxis`}>
            {landing.therapists.portalLink}
          </a>
        </p>
      </section>

      <section id="clinics" className={styles.section} aria-labelledby="clinics-heading">
        <h2 id="clinics-heading">{landing.clinics.heading}</h2>
        <p>{landing.clinics.text}</p>
      </section>
    </>
  );
}
