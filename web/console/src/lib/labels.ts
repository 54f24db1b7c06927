// Names of the server's codes in both languages (the server sends Chinese labels only). States,
// moves and lights are shared with the field app.
import { ACTIONS, LIGHTS, STATES, pick, type Names } from '@civgrid/shared/src/labels';

export { STATES };

export const ROLES: Names = {
  grid_worker: ['网格员', 'Grid worker'],
  grid_chief: ['网格长', 'Grid chief'],
  grid_instructor: ['网格指导员', 'Grid instructor'],
  centre_operator: ['综治中心', 'Centre operator'],
  dept_liaison: ['部门联络员', 'Department liaison'],
  leader: ['领导', 'Leader'],
  mediator: ['调解员', 'Mediator'],
  admin: ['系统管理员', 'Administrator'],
  citizen: ['群众', 'Citizen'],
  system: ['系统', 'System'],
};

export const SOURCES: Names = {
  grid_worker: ['网格员上报', 'Grid worker'],
  citizen: ['群众上报', 'Citizen'],
  hotline: ['12345热线', '12345 hotline'],
  video_alarm: ['视频告警', 'Video alarm'],
  department: ['部门移交', 'Department'],
  leader: ['领导交办', 'Leader'],
};

export const EVALUATIONS: Names = {
  satisfied: ['满意', 'Satisfied'],
  basically_satisfied: ['基本满意', 'Basically satisfied'],
  unsatisfied: ['不满意', 'Unsatisfied'],
};

export const STEPS: Names = {
  accept: ['受理', 'Accept'],
  dispatch: ['派遣', 'Dispatch'],
  sign: ['签收', 'Sign for'],
  handle: ['处置', 'Handle'],
  verify: ['核查', 'Verify'],
};

export const PRIORITIES: Names = { urgent: ['紧急', 'Urgent'], high: ['较急', 'High'], normal: ['一般', 'Normal'] };

export const REQUEST_STATUS: Names = {
  pending: ['待审批', 'Pending'],
  approved: ['已批准', 'Approved'],
  rejected: ['已驳回', 'Rejected'],
  denied: ['已驳回', 'Denied'],
  delivered: ['已送达', 'Delivered'],
  failed: ['失败', 'Failed'],
  active: ['正常', 'Active'],
  disabled: ['已停用', 'Disabled'],
};

export const LEVELS: Names = {
  province: ['省', 'Province'],
  city: ['市', 'City'],
  county: ['县区', 'County'],
  township: ['乡镇街道', 'Township'],
  village: ['村社区', 'Village'],
  grid: ['网格', 'Grid'],
};

export const state = (c?: string | null) => pick(STATES, c);
export const action = (c?: string | null) => pick(ACTIONS, c);
export const role = (c?: string | null) => pick(ROLES, c);
export const source = (c?: string | null) => pick(SOURCES, c);
export const light = (c?: string | null) => pick(LIGHTS, c);
export const evaluation = (c?: string | null) => pick(EVALUATIONS, c);
export const step = (c?: string | null) => pick(STEPS, c);
export const priority = (c?: string | null) => pick(PRIORITIES, c);
export const status = (c?: string | null) => pick(REQUEST_STATUS, c);
export const level = (c?: string | null) => pick(LEVELS, c);

/** Who an evaluation scores (考核对象). */
export const SUBJECTS: Names = {
  worker: ['网格员', 'Grid worker'],
  grid: ['网格', 'Grid'],
  community: ['社区', 'Community'],
  township: ['街道', 'Township'],
  county: ['区县', 'County'],
  department: ['部门', 'Department'],
};

export const PERIODS: Names = {
  week: ['周', 'Week'],
  month: ['月', 'Month'],
  quarter: ['季度', 'Quarter'],
  year: ['年', 'Year'],
};

/** 网上巡查: where a sample stands, and why it was drawn. */
export const INSPECTION_STATUS: Names = {
  pending: ['待审核', 'To review'],
  fine: ['合格', 'Fine'],
  returned: ['已退回', 'Returned'],
  fixed: ['已整改', 'Fixed'],
};
export const INSPECTION_REASONS: Names = {
  new: ['新增', 'New'],
  changed: ['变更', 'Changed'],
  suspicious: ['可疑', 'Suspicious'],
  random: ['随机', 'Random'],
};
export const RECORD_KINDS: Names = {
  person: ['人员', 'Person'],
  household: ['户', 'Household'],
  house: ['房屋', 'House'],
  org: ['组织', 'Organisation'],
};

export const subject = (c?: string | null) => pick(SUBJECTS, c);
export const periodKind = (c?: string | null) => pick(PERIODS, c);
export const inspectionStatus = (c?: string | null) => pick(INSPECTION_STATUS, c);
export const inspectionReason = (c?: string | null, fallback?: string | null) => pick(INSPECTION_REASONS, c, fallback);
export const recordKind = (c?: string | null) => pick(RECORD_KINDS, c);
