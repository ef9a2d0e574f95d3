// A connection URL as logs and error messages may show it: without its password.
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unparsable url)';
  }
}
