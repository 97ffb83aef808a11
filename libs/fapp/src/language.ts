import { fail } from './errors.js';

// ISO 639-1 (all two-letter codes).
const ISO_639_1 =
  'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu';

// ISO 639-3 codes for languages without a two-letter code that matter for care in Germany:
// sign languages (gsg = Deutsche Gebaerdensprache) and languages of larger communities.
const ISO_639_3 =
  'gsg ase bfi fsl sgg asq ssp ise sfs dse pso rsl tsm ckb kmr sdh prs hsb dsb nds gsw rom rmn yue cmn apc arz ary aeb tir kab zza lij vec';

export const LANGUAGE_CODES: ReadonlySet<string> = new Set([...ISO_639_1.split(' '), ...ISO_639_3.split(' ')]);

/** Sign languages among LANGUAGE_CODES (UIs show them with a hand icon). */
export const SIGN_LANGUAGE_CODES: ReadonlySet<string> = new Set(
  'gsg ase bfi fsl sgg asq ssp ise sfs dse pso rsl tsm'.split(' '),
);

/** True for a lower-case ISO 639-1 code or one of the listed ISO 639-3 codes. */
export function isValidLanguage(code: string): boolean {
  return LANGUAGE_CODES.has(code);
}

export function assertLanguage(code: string): string {
  if (!isValidLanguage(code)) fail('INVALID_LANGUAGE', 'language must be a lower-case ISO 639-1 or listed ISO 639-3 code');
  return code;
}
