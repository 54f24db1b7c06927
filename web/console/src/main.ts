import { createApp } from 'vue';
import { setUnauthenticatedHandler } from '@civgrid/shared';
import { setLang, lang } from '@civgrid/shared/src/i18n';
import App from './App.vue';
import { router, toLogin } from './router';
import { signedOut } from './session';

setLang(lang.value);
setUnauthenticatedHandler(() => {
  signedOut();
  toLogin();
});

createApp(App).use(router).mount('#app');
