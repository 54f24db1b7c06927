// A small two-language switch: Chinese first, English on request. Each app passes its own
// dictionary; a missing English text falls back to the Chinese one, a missing key shows the key.
import { ref } from 'vue';

export type Lang = 'zh' | 'en';
export type Dict = Record<string, { zh: string; en?: string }>;

const KEY = 'civgrid.lang';
export const lang = ref<Lang>((localStorage.getItem(KEY) as Lang | null) ?? 'zh');

export function setLang(l: Lang) {
  lang.value = l;
  localStorage.setItem(KEY, l);
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

/** `const t = translator(dict)`; then `t('login.title')` or `t('queue.count', { n: 3 })`. */
export function translator(dict: Dict) {
  return (key: string, vars: Record<string, string | number> = {}): string => {
    const e = dict[key];
    const s = e ? (lang.value === 'en' ? (e.en ?? e.zh) : e.zh) : key;
    return s.replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
  };
}
