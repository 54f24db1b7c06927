// Console helpers for the specs: a desktop page signed in through the console's login form.
import type { Browser, Page } from 'playwright-core';
import { context, PASSWORD } from './browser';

export async function consoleSignIn(browser: Browser, username: string): Promise<Page> {
  const ctx = await context(browser, 'desktop');
  const page = await ctx.newPage();
  await page.goto('/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.waitForURL((u) => !u.pathname.startsWith('/login'));
  return page;
}

/** The HTTP status of a GET as `username` (without throwing on errors). */
export async function statusOf(baseUrl: string, username: string, path: string): Promise<number> {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  const { token } = (await login.json()) as { token: string };
  const r = await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return r.status;
}
