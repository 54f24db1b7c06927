// Texts of the field app, Chinese first; `t(key)` follows the language switch.
import { Locale } from 'vant';
import enUS from 'vant/es/locale/lang/en-US';
import zhCN from 'vant/es/locale/lang/zh-CN';
import { lang, setLang, translator, type Dict, type Lang } from '@civgrid/shared/src/i18n';

const dict: Dict = {
  'app.name': { zh: '网格通', en: 'GridLink' },
  'app.offline': { zh: '离线：上报先存在本机，联网后自动发送', en: 'Offline: reports are kept on this phone and sent when online' },
  'lang.switch': { zh: 'EN', en: '中文' },
  'tab.home': { zh: '首页', en: 'Home' },
  'tab.report': { zh: '上报', en: 'Report' },
  'tab.queue': { zh: '队列', en: 'Queue' },
  'tab.tasks': { zh: '任务', en: 'Tasks' },

  'login.title': { zh: '网格员登录', en: 'Grid worker sign-in' },
  'login.username': { zh: '用户名', en: 'Username' },
  'login.password': { zh: '密码', en: 'Password' },
  'login.submit': { zh: '登录', en: 'Sign in' },
  'login.required': { zh: '请输入用户名和密码', en: 'Enter your username and password' },
  'login.offline': { zh: '离线状态无法登录，请联网后重试', en: 'You are offline; sign in when online' },
  'login.queued': { zh: '本机有 {n} 条待发送的上报，登录后自动发送', en: '{n} queued reports on this phone are sent after sign-in' },
  'login.expired': { zh: '登录已过期，请重新登录（未发送的上报仍保存在本机）', en: 'Session expired; sign in again (queued reports are kept)' },
  'logout': { zh: '退出', en: 'Sign out' },
  'logout.confirm': { zh: '确定退出登录？未发送的上报会保留在本机，重新登录后发送。', en: 'Sign out? Queued reports stay on this phone and are sent after you sign in again.' },

  'home.myGrid': { zh: '我的网格', en: 'My grid' },
  'home.myGridName': { zh: '我的网格：{name}', en: 'My grid: {name}' },
  'home.noGrid': { zh: '本账号未分配网格', en: 'No grid assigned to this account' },
  'home.report': { zh: '一键上报', en: 'Report an incident' },
  'home.queue': { zh: '待发送', en: 'Queued' },
  'home.toVerify': { zh: '待回访', en: 'To verify' },
  'home.mapUnavailable': { zh: '网格边界暂不可用（离线且未缓存）', en: 'Grid boundary unavailable (offline, not cached)' },

  'gps.locating': { zh: '正在定位…', en: 'Locating…' },
  'gps.position': { zh: '{lon}, {lat}（精度约 {acc} 米）', en: '{lon}, {lat} (±{acc} m)' },
  'gps.failed': { zh: '无法定位：{msg}', en: 'No position: {msg}' },
  'gps.unsupported': { zh: '此设备不支持定位', en: 'Location is not supported' },
  'gps.denied': { zh: '未授权定位', en: 'permission denied' },
  'gps.retry': { zh: '重新定位', en: 'Locate again' },
  'grid.inside': { zh: '所在网格：{name}', en: 'Grid: {name}' },
  'grid.nearest': { zh: '最近网格：{name}（约 {d} 米）', en: 'Nearest grid: {name} ({d} m)' },
  'grid.none': { zh: '附近没有网格', en: 'No grid nearby' },
  'grid.offline': { zh: '离线：提交后由服务器按位置确定网格', en: 'Offline: the server finds the grid from the position' },

  'report.title': { zh: '事件上报', en: 'Report' },
  'report.editTitle': { zh: '修改上报', en: 'Edit report' },
  'report.category': { zh: '事件类别', en: 'Category' },
  'report.categoryPick': { zh: '请选择事件类别', en: 'Choose a category' },
  'report.categorySearch': { zh: '搜索类别', en: 'Search categories' },
  'report.categoryNone': { zh: '准入清单暂不可用，请联网后重试', en: 'Admission list unavailable; go online and try again' },
  'report.photoRequired': { zh: '该类别须附现场照片', en: 'This category needs a photo' },
  'report.description': { zh: '事件描述', en: 'Description' },
  'report.descriptionPh': { zh: '请描述事件情况（时间、地点、人物、经过）', en: 'What happened, where, who' },
  'report.photos': { zh: '现场照片', en: 'Photos' },
  'report.place': { zh: '事发位置', en: 'Location' },
  'report.byPosition': { zh: '按定位', en: 'By position' },
  'report.ownGrid': { zh: '本人网格', en: 'My grid' },
  'report.address': { zh: '地址', en: 'Address' },
  'report.addressPh': { zh: '如：xx路xx号门前（选填）', en: 'e.g. in front of No. 12 (optional)' },
  'report.submit': { zh: '提交上报', en: 'Submit' },
  'report.save': { zh: '保存并重新发送', en: 'Save and resend' },
  'report.needCategory': { zh: '请选择事件类别', en: 'Choose a category' },
  'report.needDescription': { zh: '请填写事件描述', en: 'Enter a description' },
  'report.needPlace': { zh: '没有定位，请重新定位或选择本人网格', en: 'No position: locate again or use your grid' },
  'report.needPhoto': { zh: '该类别须附现场照片', en: 'This category needs a photo' },
  'report.queued': { zh: '已保存，将在联网后发送', en: 'Saved; it is sent when online' },
  'report.sending': { zh: '已提交，正在发送', en: 'Submitted; sending' },
  'report.gone': { zh: '该上报已不在队列中', en: 'This report is no longer queued' },

  'photo.add': { zh: '拍照', en: 'Photo' },
  'photo.max': { zh: '最多 {n} 张照片', en: 'At most {n} photos' },

  'queue.title': { zh: '上报队列', en: 'Report queue' },
  'queue.retry': { zh: '重试', en: 'Retry' },
  'queue.retryAll': { zh: '立即重试', en: 'Retry now' },
  'queue.empty': { zh: '没有待发送的上报', en: 'Nothing waiting to be sent' },
  'queue.waiting': { zh: '待发送（{n}）', en: 'Waiting ({n})' },
  'queue.sentList': { zh: '已发送', en: 'Sent' },
  'queue.state.pending': { zh: '待发送', en: 'Pending' },
  'queue.state.sending': { zh: '发送中', en: 'Sending' },
  'queue.state.failed': { zh: '发送失败', en: 'Failed' },
  'queue.state.sent': { zh: '已发送', en: 'Sent' },
  'queue.lastOffline': { zh: '网络不可用，联网后自动发送', en: 'No network; sent automatically when online' },
  'queue.lastServer': { zh: '服务器暂不可用（{status}），稍后自动重试', en: 'Server unavailable ({status}); retrying later' },
  'queue.lastAuth': { zh: '登录已过期，重新登录后发送', en: 'Session expired; sent after sign-in' },
  'queue.otherOwner': { zh: '其他账号的上报，该账号登录后发送', en: "Another account's report; sent when it signs in" },
  'queue.photos': { zh: '{n} 张照片', en: '{n} photos' },
  'queue.edit': { zh: '编辑', en: 'Edit' },
  'queue.delete': { zh: '删除', en: 'Delete' },
  'queue.deleteConfirm': { zh: '删除这条未发送的上报？删除后无法恢复。', en: 'Delete this unsent report? This cannot be undone.' },
  'queue.caseNo': { zh: '案件编号 {no}', en: 'Case {no}' },
  'queue.replayed': { zh: '重复提交已合并', en: 'Retry merged' },
  'queue.flushed': { zh: '已发送 {n} 条', en: '{n} sent' },
  'queue.stillOffline': { zh: '仍处于离线状态，联网后自动发送', en: 'Still offline; sent automatically when online' },

  'tasks.title': { zh: '我的任务', en: 'My tasks' },
  'tasks.toVerify': { zh: '待回访', en: 'To verify' },
  'tasks.mine': { zh: '我的上报', en: 'My reports' },
  'tasks.empty': { zh: '暂无', en: 'None' },
  'tasks.finished': { zh: '没有更多了', en: 'No more' },
  'tasks.cached': { zh: '离线：显示上次加载的内容', en: 'Offline: showing the last loaded list' },

  'event.title': { zh: '事件详情', en: 'Event' },
  'event.category': { zh: '类别', en: 'Category' },
  'event.reportedAt': { zh: '上报时间', en: 'Reported' },
  'event.reporter': { zh: '上报人', en: 'Reporter' },
  'event.address': { zh: '地址', en: 'Address' },
  'event.deadline': { zh: '办理时限', en: 'Deadline' },
  'event.grid': { zh: '网格', en: 'Grid' },
  'event.centre': { zh: '主办中心', en: 'Centre' },
  'event.assignee': { zh: '承办单位', en: 'Assignee' },
  'event.extApproved': { zh: '已批准', en: 'Approved' },
  'event.extDenied': { zh: '已驳回', en: 'Denied' },
  'event.extDays': { zh: '{n} 个工作日', en: '{n} working days' },
  'event.timeline': { zh: '办理经过', en: 'Timeline' },
  'event.verify': { zh: '核查回访', en: 'Verification' },
  'event.verifyNote': { zh: '核查情况', en: 'Findings' },
  'event.verifyNotePh': { zh: '现场核查情况（不通过时必填）', en: 'What you found (required when failing)' },
  'event.verifyPass': { zh: '核查通过', en: 'Pass' },
  'event.verifyFail': { zh: '核查不通过', en: 'Fail' },
  'event.verifyFailNeedsNote': { zh: '请填写核查不通过的原因', en: 'Say why it fails' },
  'event.selfHandle': { zh: '自行处置', en: 'Handle it myself' },
  'event.selfHandleNote': { zh: '处置情况', en: 'What was done' },
  'event.selfHandleNeeds': { zh: '请填写处置情况并附处置后照片', en: 'Describe what was done and add a photo' },
  'event.selfHandleSubmit': { zh: '提交处置', en: 'Submit' },
  'event.done': { zh: '已提交', en: 'Done' },
  'event.offline': { zh: '离线状态无法办理，请联网后重试', en: 'Offline: try again when online' },
  'event.noActions': { zh: '当前无需您办理', en: 'Nothing for you to do now' },
};

export const t = translator(dict);
export { lang };

function useVantLocale(l: Lang) {
  if (l === 'en') Locale.use('en-US', enUS);
  else Locale.use('zh-CN', zhCN);
}
useVantLocale(lang.value);

export function toggleLang() {
  setLang(lang.value === 'zh' ? 'en' : 'zh');
  useVantLocale(lang.value);
}

/** A server time (RFC 3339) as local `MM-DD HH:mm`. */
export function shortTime(s: string | number | null | undefined): string {
  if (s === null || s === undefined || s === '') return '';
  const d = new Date(s);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}
