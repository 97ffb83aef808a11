/** Real PLZs of practice districts in German cities, weighted roughly by population. */
export interface DemoRegion {
  city: string;
  weight: number;
  plz: readonly string[];
}

export const DEMO_REGIONS: readonly DemoRegion[] = [
  { city: 'Berlin', weight: 20, plz: ['10115', '10243', '10437', '10557', '10719', '10827', '10965', '12043', '12157', '13086', '13347', '14057'] },
  { city: 'Hamburg', weight: 11, plz: ['20095', '20249', '20357', '22041', '22085', '22767'] },
  { city: 'München', weight: 10, plz: ['80331', '80469', '80539', '80796', '81369', '81675'] },
  { city: 'Köln', weight: 7, plz: ['50667', '50672', '50823', '50937', '51063'] },
  { city: 'Frankfurt am Main', weight: 5, plz: ['60311', '60318', '60487', '60594'] },
  { city: 'Stuttgart', weight: 4, plz: ['70173', '70176', '70190', '70199'] },
  { city: 'Düsseldorf', weight: 4, plz: ['40210', '40477'] },
  { city: 'Leipzig', weight: 4, plz: ['04103', '04109', '04229', '04275'] },
  { city: 'Dresden', weight: 4, plz: ['01067', '01069', '01097', '01277'] },
  { city: 'Hannover', weight: 3, plz: ['30159', '30161'] },
  { city: 'Nürnberg', weight: 3, plz: ['90402', '90429'] },
  { city: 'Bremen', weight: 3, plz: ['28195', '28203'] },
  { city: 'Freiburg im Breisgau', weight: 2, plz: ['79098', '79102'] },
  { city: 'Münster', weight: 2, plz: ['48143', '48149'] },
  { city: 'Rostock', weight: 1, plz: ['18055'] },
  { city: 'Erfurt', weight: 1, plz: ['99084'] },
];
