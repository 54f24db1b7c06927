// Field-app helpers for the specs: its address, signing in on a phone, camera-like photos.
import type { Browser, Page } from 'playwright-core';
import { baseUrl, context, PASSWORD } from './browser';

/** Inside grid_worker's grid 371502001001001. */
/**
 * How long a test waits for the field queue to send: the app retries every 30 seconds, and
 * a pass cut short while the shared test server is busy waits for the next one.
 */
export const SENT_WITHIN = { timeout: 75_000 };

export const IN_GRID = { longitude: 115.8617, latitude: 36.3415 };

export const fieldUrl = () => baseUrl() + '/field/';

/** Signs `page` in as `username` through the field app's login form. */
export async function signInField(page: Page, username: string) {
  await page.goto(fieldUrl());
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(PASSWORD);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('report-button').waitFor();
}

/** A new phone (its GPS inside grid_worker's grid) signed in as `username`. */
export async function fieldSignIn(browser: Browser, username: string): Promise<Page> {
  const ctx = await context(browser, 'phone');
  await ctx.setGeolocation(IN_GRID);
  const page = await ctx.newPage();
  await signInField(page, username);
  return page;
}

/** A real JPEG drawn by the page's canvas (what a camera hands over, only simpler). */
export async function canvasJpeg(page: Page, colour: string, width = 1200, height = 900): Promise<Buffer> {
  const b64 = await page.evaluate(
    ([c, w, h]) => {
      const cv = document.createElement('canvas');
      cv.width = w;
      cv.height = h;
      const g = cv.getContext('2d')!;
      g.fillStyle = c;
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#c0392b';
      g.fillRect(w / 4, h / 4, w / 3, h / 3);
      return cv.toDataURL('image/jpeg', 0.9).split(',')[1];
    },
    [colour, width, height] as const,
  );
  return Buffer.from(b64, 'base64');
}
