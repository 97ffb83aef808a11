// The shared Chromium helpers (scripts/browser.ts), where the web app's tests import them from.
export * from '../../../scripts/browser';
