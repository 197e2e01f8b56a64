// Where the browser runner (and `nas doctor`) finds Chromium: $NAS_CHROMIUM, else Debian's /usr/bin/chromium.
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** How to get Chromium, for the error and for `nas doctor`. */
export const CHROMIUM_FIX = 'apt-get install chromium, or set NAS_CHROMIUM to its path';

export function chromiumPath(): string {
  return process.env['NAS_CHROMIUM'] || DEFAULT_CHROMIUM;
}
