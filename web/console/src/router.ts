// Routes, each screen loaded on demand; the navigation shows the screens the user's roles
// may use, and a screen the roles may not use is not opened.
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { ensureSession, hasRole, me } from './session';

const GRID = ['grid_worker', 'grid_chief', 'grid_instructor'];
const ALL = [...GRID, 'centre_operator', 'dept_liaison', 'leader', 'mediator', 'admin', 'citizen'];

/** The screens of the navigation bar, in order, with the roles that see them. */
export const NAV: { name: string; roles: string[] }[] = [
  { name: 'events', roles: ALL },
  { name: 'map', roles: ALL.filter((r) => r !== 'citizen') },
  { name: 'people', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'houses', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'orgs', roles: [...GRID, 'centre_operator', 'leader', 'admin'] },
  { name: 'grids', roles: [...GRID, 'centre_operator', 'admin'] },
  { name: 'stats', roles: ['centre_operator', 'leader', 'admin'] },
  { name: 'catalog', roles: [...GRID, 'centre_operator', 'dept_liaison', 'admin'] },
  { name: 'users', roles: ['admin'] },
];

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
    ],
  },
  { path: '/:rest(.*)*', redirect: '/' },
];

export const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  const u = await ensureSession().catch(() => null);
  if (!u) return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} };
  const name = String((to.meta.nav as string | undefined) ?? to.name ?? '');
  if (NAV.some((n) => n.name === name) && !allowed(name)) return home();
  const only = to.meta.roles as string[] | undefined;
  if (only && !hasRole(...only)) return home();
  return true;
});

/** Back to the sign-in page (a 401 anywhere ends up here). */
export function toLogin() {
  me.value = null;
  const cur = router.currentRoute.value;
  if (cur.name !== 'login') router.push({ name: 'login', query: cur.fullPath !== '/' ? { redirect: cur.fullPath } : {} });
}
