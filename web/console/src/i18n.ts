// Console texts used on more than one screen. Screens keep their own texts next to them.
import { translator, lang, setLang, type Dict } from '@civgrid/shared/src/i18n';

export { lang, setLang, translator };

const common: Dict = {
  app: { zh: '市域社会治理平台', en: 'Municipal Governance Platform' },
  'nav.map': { zh: '综合地图', en: 'Map' },
  'nav.events': { zh: '事件工作台', en: 'Events' },
  'nav.people': { zh: '人口', en: 'People' },
  'nav.houses': { zh: '房屋', en: 'Houses' },
  'nav.orgs': { zh: '组织', en: 'Organisations' },
  'nav.grids': { zh: '网格管理', en: 'Grids' },
  'nav.stats': { zh: '统计分析', en: 'Statistics' },
  'nav.catalog': { zh: '事项目录', en: 'Catalog' },
  'nav.users': { zh: '用户管理', en: 'Users' },
  'nav.inbox': { zh: '通知', en: 'Notices' },
  logout: { zh: '退出', en: 'Sign out' },
  search: { zh: '查询', en: 'Search' },
  reset: { zh: '重置', en: 'Reset' },
  cancel: { zh: '取消', en: 'Cancel' },
  confirm: { zh: '确定', en: 'OK' },
  submit: { zh: '提交', en: 'Submit' },
  save: { zh: '保存', en: 'Save' },
  edit: { zh: '编辑', en: 'Edit' },
  all: { zh: '全部', en: 'All' },
  loading: { zh: '加载中…', en: 'Loading…' },
  saved: { zh: '已保存', en: 'Saved' },
  done: { zh: '操作成功', en: 'Done' },
  approve: { zh: '批准', en: 'Approve' },
  reject: { zh: '驳回', en: 'Reject' },
  note: { zh: '说明', en: 'Note' },
  status: { zh: '状态', en: 'Status' },
  area: { zh: '区域', en: 'Area' },
  pickArea: { zh: '选择区域', en: 'Pick an area' },
  pickLevel: { zh: '请选择：{l}', en: 'Pick one of: {l}' },
  searchArea: { zh: '搜索区划名称', en: 'Search areas' },
  noResult: { zh: '没有结果', en: 'No results' },
  lang: { zh: 'English', en: '中文' },
  prev: { zh: '上一页', en: 'Previous' },
  next: { zh: '下一页', en: 'Next' },
  pageNo: { zh: '第 {n} 页', en: 'Page {n}' },
  close: { zh: '关闭', en: 'Close' },
  none: { zh: '无', en: 'None' },
};

export const t = translator(common);
