// A failing history told as a numbered story: what each client did and saw, what the nemesis
// broke and when, then which promise broke, in the docs' words. The checker's own final reads are
// summarised unless a violation points at them.
import { Srv, TYPE_NAMES } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';
import { RULES, type Violation } from './checker.ts';
import type { History, HistoryEvent } from './history.ts';

function value(v: unknown): string {
  if (typeof v === 'string') {
    const chars = [...v];
    const shown = chars.length > 16 ? `${chars.slice(0, 12).join('')}…(${chars.length} chars)` : v;
    return JSON.stringify(shown);
  }
  if (Array.isArray(v)) return v.length > 4 ? `[${v.slice(0, 4).map(value).join(', ')}, … ${v.length} in all]` : `[${v.map(value).join(', ')}]`;
  if (v && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${k}: ${value(x)}`).join(', ')}}`;
  return String(v);
}

function frame(f: Frame): string {
  const name = TYPE_NAMES[f.type] ?? `0x${f.type.toString(16)}`;
  const body = { ...f.body };
  return `${name} ${value(body)}`;
}

export function tell(h: History, violations: Violation[]): string {
  const slotOf = new Map<number, number>();
  const userOf = new Map<number, string>();
  for (const e of h.events) if (e.kind === 'open') slotOf.set(e.conn, e.slot);
  const cited = new Set(violations.flatMap((v) => v.events));
  const finalT = h.events.find((e) => e.kind === 'mark' && e.what === 'final reads')?.t ?? Infinity;
  const who = (conn: number) => {
    const slot = slotOf.get(conn) ?? -1;
    const u = userOf.get(conn);
    return `${slot < 0 ? 'checker' : `client ${slot}`} (conn #${conn}${u ? `, ${u}` : ''})`;
  };
  const lines: string[] = [];
  let n = 0;
  let skipped = 0;
  const invokes = new Map<string, HistoryEvent & { kind: 'invoke' }>();
  h.events.forEach((e, i) => {
    const finalPart = e.t >= finalT || ('conn' in e && (slotOf.get(e.conn) ?? 0) < 0);
    if (finalPart && !cited.has(i) && e.kind !== 'mark') {
      skipped++;
      return;
    }
    const at = `+${Math.round(e.t)} ms`.padStart(9);
    const star = cited.has(i) ? ' ◀' : '';
    let text: string;
    switch (e.kind) {
      case 'open':
        text = `${who(e.conn)} connects to host ${e.host}`;
        break;
      case 'refused':
        text = `client ${e.slot} cannot connect to host ${e.host}: ${e.error}`;
        break;
      case 'invoke':
        invokes.set(`${e.conn}:${JSON.stringify(e.body.id)}`, e);
        text = `${who(e.conn)} → ${TYPE_NAMES[e.type]} ${value(e.body)}${e.how === 'drop' ? ', then closes at once' : e.how === 'halfclose' ? ', then half-closes (end)' : ''}`;
        break;
      case 'reply': {
        const req = invokes.get(`${e.conn}:${JSON.stringify(e.frame.body.re)}`);
        if (req && TYPE_NAMES[req.type] === 'LOGIN' && e.frame.type === Srv.OK) userOf.set(e.conn, String(req.body.user));
        text = `${who(e.conn)} ← ${frame(e.frame)}`;
        break;
      }
      case 'push':
        text = `${who(e.conn)} ⇐ ${frame(e.frame)}`;
        break;
      case 'reading':
        text = `${who(e.conn)} ${e.paused ? 'stops reading' : 'reads again'}`;
        break;
      case 'hangup':
        text = `${who(e.conn)} ${e.how === 'end' ? 'half-closes (end)' : 'closes'}`;
        break;
      case 'closed':
        text = `${who(e.conn)}: connection closed`;
        break;
      case 'nemesis':
        text = `NEMESIS ${e.phase === 'start' ? 'starts' : 'heals'} ${e.fault}${e.detail ? ` (${e.detail})` : ''}`;
        break;
      case 'mark':
        text = `— ${e.what} —`;
        break;
    }
    lines.push(`${String(++n).padStart(3)}. ${at}  ${text}${star}`);
  });
  const out = [`Users: ${h.users.join(', ')}; ${h.hosts} host${h.hosts > 1 ? 's' : ''}.`, ...lines];
  if (skipped > 0) out.push(`     (${skipped} events of the final reads not shown)`);
  out.push(
    `Final reads: WHO ${h.final.who.map((w) => (w ? `[${w.join(', ')}]` : 'unreadable')).join(' / ')}; ${h.final.stored.length} stored DMs${h.final.problems.length ? `; problems: ${h.final.problems.join('; ')}` : ''}.`,
  );
  const byRule = new Map<string, Violation[]>();
  for (const v of violations) byRule.set(v.rule, [...(byRule.get(v.rule) ?? []), v]);
  for (const [rule, vs] of byRule) {
    const r = RULES[rule as keyof typeof RULES];
    out.push('', `Broken promise: ${r.promise}.`, `  The docs: ${r.quote}`);
    for (const v of vs.slice(0, 5)) out.push(`  Observed: ${v.message}`);
    if (vs.length > 5) out.push(`  … and ${vs.length - 5} more`);
  }
  return out.join('\n');
}
