// Names of event states, moves and lights in both languages, for both apps. The server sends
// Chinese labels only; in English the code is looked up here, falling back to the server's label.
import { lang } from './i18n';

export type Names = Record<string, [zh: string, en: string]>;

/** The name of `code` in the current language; `fallback` (the server's label) if unknown. */
export function pick(names: Names, code: string | null | undefined, fallback?: string | null): string {
  if (!code) return fallback ?? '';
  const n = names[code];
  if (!n) return fallback ?? code;
  return lang.value === 'en' ? n[1] : n[0];
}

export const STATES: Names = {
  reported: ['待受理', 'To accept'],
  accepted: ['待派遣', 'To dispatch'],
  dispatched: ['待签收', 'To sign for'],
  handling: ['处置中', 'Handling'],
  on_hold: ['挂账', 'On hold'],
  verifying: ['待核查', 'To verify'],
  evaluating: ['待评价', 'To evaluate'],
  closed: ['已结案', 'Closed'],
  voided: ['已作废', 'Voided'],
  merged: ['已合并', 'Merged'],
};

export const ACTIONS: Names = {
  report: ['上报', 'Report'],
  accept: ['受理', 'Accept'],
  void: ['不予受理', 'Void'],
  dispatch: ['派遣', 'Dispatch'],
  sign_for: ['签收', 'Sign for'],
  return: ['退回', 'Return'],
  request_extension: ['延期申请', 'Request extension'],
  decide_extension: ['延期审批', 'Decide extension'],
  hold: ['挂账', 'Hold'],
  resume: ['恢复', 'Resume'],
  escalate: ['上报上级', 'Escalate'],
  self_handle: ['自行处置', 'Handle myself'],
  handle: ['处置反馈', 'Feed back'],
  verify_pass: ['核查通过', 'Verified'],
  verify_fail: ['核查不通过', 'Verification failed'],
  evaluate: ['评价结案', 'Evaluate and close'],
  supervise: ['督办', 'Supervise'],
  reply: ['督办回复', 'Reply'],
  merge: ['合并', 'Merge'],
  merged_in: ['合并重复事件', 'Duplicate merged in'],
  light: ['时限预警', 'Time limit warning'],
};

export const LIGHTS: Names = { green: ['绿灯', 'Green'], yellow: ['黄灯', 'Yellow'], red: ['红灯', 'Red'] };
