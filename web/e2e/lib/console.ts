// Console helpers for the specs: a desktop page signed in through the console's login form.
import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
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

/** Opens an event page and waits until it shows `state` (the Chinese label). */
export async function openEvent(page: Page, id: string, state: string) {
  await page.goto(`/events/${id}`);
  await page.getByTestId('event-page').waitFor();
  await expect.poll(() => page.getByTestId('event-state').innerText()).toBe(state);
}

/** Makes a move through its dialog: opens it, lets `fill` fill the form, confirms. */
export async function move(page: Page, action: string, fill: (dialog: Locator) => Promise<void> = async () => {}) {
  await page.getByTestId('action-' + action).click();
  const dialog = page.getByTestId('move-dialog');
  await dialog.getByTestId('dialog-confirm').waitFor();
  await fill(dialog);
  await dialog.getByTestId('dialog-confirm').click();
  await dialog.waitFor({ state: 'hidden' });
}
