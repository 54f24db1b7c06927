// The code tables (GET /api/dicts): loaded once per session by each app, then labels are shown
// and codes sent. The server's labels are Chinese; in English the few tables the screens show
// most are named here, the rest keep the Chinese label.
import { ref } from 'vue';
import { lang } from './i18n';
import type { components } from './api';

export type DictItem = components['schemas']['DictItem'];

/** Items by table, sorted. Empty until an app has loaded them. */
export const dicts = ref<Record<string, DictItem[]>>({});

export function setDicts(items: DictItem[]) {
  const out: Record<string, DictItem[]> = {};
  for (const i of items) (out[i.dict_type] ??= []).push(i);
  for (const l of Object.values(out)) l.sort((a, b) => a.sort - b.sort || a.code.localeCompare(b.code));
  dicts.value = out;
}

const EN: Record<string, Record<string, string>> = {
  person_kind: { registered: 'Registered resident', floating: 'Floating population', foreign: 'Foreign national', left_behind: 'Left-behind' },
  person_state: { active: 'Active', moved_out: 'Moved out', dead: 'Deceased', cancelled: 'Cancelled' },
  special_type: {
    released: 'Released prisoner',
    correction: 'Community correction',
    mental: 'Severe mental disorder',
    drug: 'Drug user',
    aids: 'AIDS risk',
    key_youth: 'Youth of concern',
  },
  residence: { owner: 'Owner-occupier', resident: 'Resident', tenant: 'Tenant' },
  sex: { '0': 'Unknown', '1': 'Male', '2': 'Female', '9': 'Unspecified' },
  hukou_match: { '01': 'Matches registration', '02': 'Differs from registration' },
  id_type: { '111': 'Resident ID card', '414': 'Passport' },
};

/** The label of `code` in table `type` (the code itself when unknown). */
export function dictLabel(type: string, code: string | null | undefined): string {
  if (code === null || code === undefined || code === '') return '';
  if (lang.value === 'en') {
    const e = EN[type]?.[code];
    if (e) return e;
  }
  return dicts.value[type]?.find((i) => i.code === code)?.label ?? code;
}

/** The codes of a table in force today, for a select. */
export function dictOptions(type: string): { value: string; label: string }[] {
  const today = new Date().toISOString().slice(0, 10);
  return (dicts.value[type] ?? [])
    .filter((i) => i.valid_from <= today && (!i.valid_to || i.valid_to > today))
    .map((i) => ({ value: i.code, label: dictLabel(type, i.code) }));
}
