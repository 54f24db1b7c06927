import { createRouter, createWebHistory } from 'vue-router';
import HomeView from './views/HomeView.vue';
import { user } from './session';

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes: [
    { path: '/', component: HomeView },
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    { path: '/report', component: () => import('./views/ReportView.vue') },
    { path: '/report/:id(\\d+)', component: () => import('./views/ReportView.vue'), props: true },
    { path: '/queue', component: () => import('./views/QueueView.vue') },
    { path: '/tasks', component: () => import('./views/TasksView.vue') },
    { path: '/people', component: () => import('./views/PeopleView.vue') },
    { path: '/people/:pid', component: () => import('./views/PersonView.vue'), props: true },
    { path: '/person', component: () => import('./views/PersonView.vue') },
    { path: '/person/:id(\\d+)', component: () => import('./views/PersonView.vue'), props: true },
    { path: '/house', component: () => import('./views/HouseView.vue') },
    { path: '/house/:id(\\d+)', component: () => import('./views/HouseView.vue'), props: true },
    { path: '/org', component: () => import('./views/OrgView.vue') },
    { path: '/org/:id(\\d+)', component: () => import('./views/OrgView.vue'), props: true },
    { path: '/events/:id', component: () => import('./views/EventView.vue'), props: true },
    { path: '/work', component: () => import('./views/WorkView.vue') },
    { path: '/visit', component: () => import('./views/VisitView.vue') },
    { path: '/visit/:id(\\d+)', component: () => import('./views/VisitView.vue'), props: true },
    { path: '/week', component: () => import('./views/WeekView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});

router.beforeEach((to) => {
  if (!to.meta.public && !user.value) return { path: '/login', query: to.fullPath === '/' ? {} : { next: to.fullPath } };
});
