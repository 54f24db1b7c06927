// Routes, each screen loaded on demand; the navigation shows the screens the user's roles
// may use, and a screen the roles may not use is not opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { ensureSession, hasRole, me } from './session';

const GRID = ['grid_worker', 'grid_chief', 'grid_instructor'];
const ALL = [...GRID, 'centre_operator', 'dept_liaison', 'leader', 'mediator', 'admin', 'citizen'];

/** Who supervises field work and evaluation (督导考核). */
const SUPERVISORS = ['centre_operator', 'leader', 'admin'];

/** The screens of the navigation bar, in order, with the roles that may use them; those with a
 * `parent` are shown under it (督导考核), those with `bar` in the bar only for those roles. */
export const NAV: { name: string; roles: string[]; parent?: string; bar?: string[] }[] = [
  { name: 'events', roles: ALL },
  { name: 'map', roles: ALL.filter((r) => r !== 'citizen') },
  { name: 'people', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'houses', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'orgs', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'grids', roles: [...GRID, 'centre_operator', 'admin'] },
  { name: 'stats', roles: ['centre_operator', 'leader', 'admin'] },
  { name: 'catalog', roles: [...GRID, 'centre_operator', 'dept_liaison', 'admin'] },
  { name: 'supervision', roles: SUPERVISORS },
  { name: 'tracks', roles: SUPERVISORS, parent: 'supervision' },
  { name: 'inspections', roles: ['centre_operator', 'admin'], parent: 'supervision' },
  { name: 'scores', roles: SUPERVISORS, parent: 'supervision' },
  { name: 'schemes', roles: SUPERVISORS, parent: 'supervision' },
  { name: 'bulletins', roles: SUPERVISORS, parent: 'supervision' },
  // In the bar for leaders (others open it from 督导考核, where the bar has no room for it).
  { name: 'dashboard', roles: SUPERVISORS, bar: ['leader'] },
  { name: 'users', roles: ['admin'] },
];

/** The screens under `parent` the user may use. */
export function children(parent: string) {
  return NAV.filter((n) => n.parent === parent && allowed(n.name));
}

const roles = (name: string) => NAV.find((n) => n.name === name)?.roles ?? ALL;

export function allowed(name: string): boolean {
  return hasRole(...roles(name));
}

/** Where a user lands after signing in. */
export function home(): string {
  if (hasRole('leader') && !hasRole('centre_operator')) return '/stats';
  if (hasRole('admin') && !hasRole('centre_operator')) return '/users';
  return '/events';
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./views/Shell.vue'),
    children: [
      { path: '', name: 'home', redirect: () => home() },
      { path: 'events', name: 'events', component: () => import('./views/Workbench.vue') },
      { path: 'events/:id', name: 'event', component: () => import('./views/EventPage.vue'), meta: { nav: 'events' } },
      { path: 'people', name: 'people', component: () => import('./views/People.vue') },
      { path: 'people/import', name: 'people-import', component: () => import('./views/PeopleImport.vue'), meta: { nav: 'people', roles: ['centre_operator', 'admin'] } },
      { path: 'people/:id', name: 'person', component: () => import('./views/PersonPage.vue'), meta: { nav: 'people' } },
      { path: 'households/:id', name: 'household', component: () => import('./views/HouseholdPage.vue'), meta: { nav: 'people' } },
      { path: 'addresses/:id', name: 'address', component: () => import('./views/AddressPage.vue'), meta: { nav: 'people' } },
      { path: 'houses', name: 'houses', component: () => import('./views/Houses.vue') },
      { path: 'houses/:id', name: 'house', component: () => import('./views/HousePage.vue'), meta: { nav: 'houses' } },
      { path: 'orgs', name: 'orgs', component: () => import('./views/Orgs.vue') },
      { path: 'orgs/:id', name: 'org', component: () => import('./views/OrgPage.vue'), meta: { nav: 'orgs' } },
      { path: 'map', name: 'map', component: () => import('./views/MapView.vue') },
      { path: 'grids', name: 'grids', component: () => import('./views/Grids.vue') },
      { path: 'stats', name: 'stats', component: () => import('./views/Stats.vue') },
      { path: 'catalog', name: 'catalog', component: () => import('./views/Catalog.vue') },
      { path: 'users', name: 'users', component: () => import('./views/Users.vue') },
      { path: 'inbox', name: 'inbox', component: () => import('./views/Inbox.vue') },
      {
        path: 'supervision',
        name: 'supervision',
        component: () => import('./views/Supervision.vue'),
        children: [
          { path: 'tracks', name: 'tracks', component: () => import('./views/Tracks.vue'), meta: { nav: 'supervision' } },
          { path: 'inspections', name: 'inspections', component: () => import('./views/Inspections.vue'), meta: { nav: 'supervision' } },
          { path: 'scores', name: 'scores', component: () => import('./views/Scores.vue'), meta: { nav: 'supervision' } },
          { path: 'schemes', name: 'schemes', component: () => import('./views/Schemes.vue'), meta: { nav: 'supervision' } },
          { path: 'bulletins', name: 'bulletins', component: () => import('./views/Bulletins.vue'), meta: { nav: 'supervision' } },
        ],
      },
    ],
  },
  // The leaders' big screen: full screen, without the navigation bar.
  { path: '/dashboard', name: 'dashboard', component: () => import('./views/Dashboard.vue') },
  { path: '/:rest(.*)*', redirect: '/' },
];

export const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const u = await ensureSession().catch(() => null);
  if (!u) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  // The screen itself and the entry it is shown under must both be allowed.
  for (const name of [String(to.name ?? ''), String(to.meta.nav ?? '')]) {
    if (NAV.some((n) => n.name === name) && !allowed(name)) return home();
  }
  const only = to.meta.roles as string[] | undefined;
  if (only && !hasRole(...only)) return home();
  // 督导考核 opens its first screen the user may use.
  if (to.name === 'supervision') return { name: children('supervision')[0]?.name ?? 'home', query: to.query };
  return true;
});

/** Back to the sign-in page (a 401 anywhere ends up here). */
export function toLogin() {
  me.value = null;
  const cur = router.currentRoute.value;
  if (cur.name !== 'login') router.push({ name: 'login', query: cur.fullPath !== '/' ? { redirect: cur.fullPath } : {} });
}
