import { Altersgruppe, Fachrichtung, Kostentraeger, Modalitaet, Terminart } from '@qpc/proto';
import { type Dictionary } from '../../i18n/de';

export { problemMessage } from './text';

type Labels = Dictionary['labels'];

function label<K extends string>(names: Record<K, string>, e: Record<number, string>, value: number): string {
  const name = e[value] as K | undefined;
  return (name !== undefined && names[name]) || String(value);
}

export const fachrichtungLabel = (l: Labels, v: Fachrichtung) => label(l.fachrichtung, Fachrichtung, v);
export const kostentraegerLabel = (l: Labels, v: Kostentraeger) => label(l.kostentraeger, Kostentraeger, v);
export const terminartLabel = (l: Labels, v: Terminart) => label(l.terminart, Terminart, v);
export const altersgruppeLabel = (l: Labels, v: Altersgruppe) => label(l.altersgruppe, Altersgruppe, v);
export const modalitaetLabel = (l: Labels, v: Modalitaet) => label(l.modalitaet, Modalitaet, v);

export function languageLabel(l: Labels, code: string): string {
  return (l.languages as Record<string, string>)[code] ?? code.toUpperCase();
}
