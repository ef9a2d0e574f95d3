// A connection URL as logs and error messages may show it: without its password. URLs that the
// WHATWG parser refuses (a Sentinel URL lists several host:port pairs) are redacted by hand.
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    const m = /^([a-z][a-z0-9+.-]*:\/\/)([^@/]*@)?(.*)$/i.exec(url);
    if (!m) return '(an unparsable url)';
    const auth = m[2] ? `${m[2].includes(':') ? `${m[2].slice(0, m[2].indexOf(':'))}:***` : m[2].slice(0, -1)}@` : '';
    return `${m[1]}${auth}${m[3]!.replace(/([?&]sentinelPassword=)[^&]*/i, '$1***')}`;
  }
}
