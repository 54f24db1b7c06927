import { createApp } from 'vue';
import { setUnauthenticatedHandler } from '@civgrid/shared';
import './vant';
import './style.css';
import App from './App.vue';
import { router } from './router';
import { onUnauthenticated } from './api';
import { refreshMe, sessionEnded } from './session';
import { startSender } from './store';
import { startFieldwork } from './fieldwork';
import { lang } from './i18n';

document.documentElement.lang = lang.value === 'zh' ? 'zh-CN' : 'en';

// Any 401 ends the local session and returns to sign-in; queued reports stay queued.
function signIn() {
  sessionEnded();
  const here = router.currentRoute.value;
  if (!here.meta.public) void router.replace({ path: '/login', query: { next: here.fullPath } });
}
setUnauthenticatedHandler(signIn);
onUnauthenticated(signIn);

createApp(App).use(router).mount('#app');
startSender(signIn);
startFieldwork(signIn);
void refreshMe();

// After a new version replaced the cached shell, a page still running the old one cannot load
// its old chunks: load the new version (at most once a minute, so a real failure cannot loop).
window.addEventListener('vite:preloadError', (e) => {
  const last = Number(sessionStorage.getItem('civgrid.field.reloaded') ?? 0);
  if (Date.now() - last < 60_000) return;
  e.preventDefault();
  sessionStorage.setItem('civgrid.field.reloaded', String(Date.now()));
  location.reload();
});

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  void navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL });
}
