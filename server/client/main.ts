// `npm run client -- --user alice [--host 127.0.0.1] [--port 7777]`: an interactive terminal client.
// Against the reference server it keeps LOGIN's session token in memory (never on disk) and, when
// the connection drops, reconnects and RESUMEs with it instead of sending the password again.
// It asks the server what it is first (detect.ts): against a lab server (`npm run lab -- NN`), which
// serves the lab chat — LOGIN with any password, one room #lobby that every connection is in, SAY,
// WHO, PING — it offers exactly that; against the reference server, the whole protocol.
import readline from 'node:readline';
import { parseFlags } from '../util/cli.ts';
import { WizzClient, RequestFailed } from './wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { formatPush, HELP, LAB_HELP, printable } from './format.ts';
import { detectServer, LAB_COMMANDS } from './detect.ts';
import type { Frame } from '../protocol/frame.ts';

const values = parseFlags(
  {
    user: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '7777' },
  },
  `usage: npm run client -- [--user NAME] [--host 127.0.0.1] [--port 7777]
  --user   the name /register and /login use when you give only a password
  --host   the server's address (default 127.0.0.1)
  --port   the server's port (default 7777)
Type /help once connected for the commands. A dropped connection resumes the session with its token.`,
);

let me: string | null = null;
let room: string | null = null;
const defaultUser = values.user ?? null;
/** Set by /quit and Ctrl-D, so the socket closing is not reported as the server's doing. */
let quitting = false;

/** LOGIN's session token (reference server only), kept in memory for RESUME after a drop. */
let token: string | null = null;
/** Why the server said it closes the connection (an ERROR without `re`): then there is no resuming. */
let closedBecause: string | null = null;

let client: WizzClient;
try {
  client = await WizzClient.connect(Number(values.port), values.host);
} catch (err) {
  console.error(`cannot connect to ${values.host}:${values.port}: ${(err as Error).message}`);
  console.error('is the server running? start it with `npm start`');
  process.exit(1);
}

const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
const basePrompt = () => `${me ?? defaultUser ?? 'wizz'}${room ? ` ${room}` : ''}> `;
rl.setPrompt(basePrompt());

// Lines typed (or piped in) before the banner, or while a command is still running, wait their
// turn: commands run one at a time, in the order they were typed, and none is lost.
const lines: string[] = [];
let accepting = false;
let running = false;
let inputClosed = false;
rl.on('line', (line) => {
  lines.push(line);
  void runLines();
});
rl.on('close', () => {
  inputClosed = true;
  void runLines();
});
async function runLines(): Promise<void> {
  if (!accepting || running) return;
  running = true;
  for (let line = lines.shift(); line !== undefined; line = lines.shift()) {
    if (line.trim() === '') {
      rl.prompt();
      continue;
    }
    await run(line).catch((err) => show(err instanceof RequestFailed ? `! ${err.code}: ${printable((err.body.message as string) ?? '')}` : `! ${(err as Error).message}`));
  }
  running = false;
  if (inputClosed) void quit(); // Ctrl-D, or the end of piped input once every line has run
}

/** Prints above the prompt without eating what the user is typing. */
function show(line: string): void {
  readline.clearLine(process.stdout, 0);
  readline.cursorTo(process.stdout, 0);
  process.stdout.write(`${line}\n`);
  rl.setPrompt(basePrompt());
  rl.prompt(true);
}

/** The wizz: a terminal bell and the prompt line shaking left and right. */
function shake(): void {
  process.stdout.write('\x07');
  const offsets = ['   ', '', '   ', '', '  ', '', ' ', ''];
  offsets.forEach((pad, i) =>
    setTimeout(() => {
      rl.setPrompt(pad + basePrompt());
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
      rl.prompt(true);
    }, i * 60),
  );
}

// While LOGIN is in flight, pushed frames (the stored messages) wait, so they print after
// "logged in" and are addressed to "you".
let held: Frame[] | null = null;
const display = (frame: Frame) => {
  show(formatPush(frame, me));
  if (frame.type === Srv.WIZZED) shake();
};
const release = () => {
  const frames = held ?? [];
  held = null;
  frames.forEach(display);
};
/** Listens to `c` as the client's connection: its pushes, and what to do when it closes. */
function attach(c: WizzClient): void {
  c.onPush = (frame) => {
    if (frame.type === Srv.ERROR && frame.body.re === undefined) closedBecause = String(frame.body.code);
    if (held) held.push(frame);
    else display(frame);
  };
  c.retainPushed = false;
  void c.closed.then(() => onClosed(c));
}
attach(client);
// The server closes a connection that sends nothing for 5 minutes (--idle-timeout); a person
// reading without typing is not idle, so the client PINGs now and then.
setInterval(() => void client.request(Req.PING, {}, 30_000).catch(() => {}), 60_000).unref();

async function onClosed(c: WizzClient): Promise<void> {
  if (c !== client || quitting) return;
  // The server said why (session_replaced, timeout, …): resuming would undo what it meant.
  if (token !== null && closedBecause === null && (await resumeAfterDrop())) return;
  show('connection closed by the server');
  process.exit(0);
}

/** Reconnects with growing pauses (0.25 s … 8 s, 8 tries) and RESUMEs; false when the server stays away. */
async function resumeAfterDrop(): Promise<boolean> {
  show(`connection lost; resuming your session as ${me}…`);
  for (let attempt = 0; attempt < 8; attempt++) {
    await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, 8_000)));
    let next: WizzClient;
    try {
      next = await WizzClient.connect(Number(values.port), values.host);
    } catch {
      continue;
    }
    held = [];
    closedBecause = null;
    client = next;
    attach(next);
    try {
      const ok = await next.call(Req.RESUME, { token });
      show(`resumed as ${me}${ok.pending ? `; ${ok.pending} message(s) waited for you:` : ''}`);
    } catch (err) {
      if (!(err instanceof RequestFailed)) continue; // dropped again: try again
      // Expired or revoked (a new password, a LOGOUT elsewhere): connected, but logged out.
      show(`! could not resume (${err.code}): log in again with /login`);
      token = null;
      me = null;
    } finally {
      release();
    }
    return true;
  }
  return false;
}

// Pushes that arrive while we ask what the server is wait for the banner.
held = [];
const server = await detectServer(client);
const lab = server.kind === 'lab';
if (lab) room = '#lobby';

async function quit(): Promise<never> {
  quitting = true;
  await client.close();
  process.exit(0);
}

async function run(line: string): Promise<void> {
  const [cmd, ...args] = line.trim().split(/\s+/);
  const rest = (n: number) => line.trim().split(/\s+/).slice(n).join(' ');
  const userAndPassword = (): [string, string] | null => {
    if (args.length >= 2) return [args[0]!, rest(2)];
    if (args.length === 1 && defaultUser) return [defaultUser, args[0]!];
    return null;
  };
  if (lab && cmd?.startsWith('/') && !LAB_COMMANDS.has(cmd)) {
    return show(`${cmd} is not served by a lab server: the lab chat is one room, #lobby, and no accounts. /help lists what it serves; the reference server (npm start) has the rest.`);
  }
  switch (cmd) {
    case '/help':
      return show(lab ? LAB_HELP : HELP);
    case '/quit':
      return quit();
    case '/ping': {
      const t = performance.now();
      await client.call(Req.PING);
      return show(`pong in ${(performance.now() - t).toFixed(1)} ms`);
    }
    case '/register': {
      const up = userAndPassword();
      if (!up) return show('usage: /register [user] <password>');
      await client.call(Req.REGISTER, { user: up[0], password: up[1] });
      return show(`registered ${up[0]}; now /login`);
    }
    case '/login': {
      if (lab) {
        const name = args[0] ?? defaultUser;
        if (!name) return show('usage: /login <name>');
        await client.call(Req.LOGIN, { user: name, password: 'lab' });
        me = name;
        return show(`you are ${printable(me)} in #lobby now`);
      }
      const up = userAndPassword();
      if (!up) return show('usage: /login [user] <password>');
      held = [];
      try {
        const ok = await client.call(Req.LOGIN, { user: up[0], password: up[1] });
        me = up[0];
        token = typeof ok.token === 'string' ? ok.token : null;
        show(`logged in as ${me}${ok.pending ? `; ${ok.pending} message(s) waited for you:` : ''}`);
      } finally {
        release();
      }
      return;
    }
    case '/password': {
      if (args.length !== 2) return show('usage: /password <old> <new>');
      const ok = await client.call(Req.PASSWORD, { password: args[0], newPassword: args[1] });
      token = typeof ok.token === 'string' ? ok.token : token;
      return show('password changed; every other session was signed out');
    }
    case '/logout': {
      if (args[0] !== undefined && args[0] !== 'all') return show('usage: /logout [all]');
      await client.call(Req.LOGOUT, args[0] === 'all' ? { all: true } : {});
      quitting = true; // before the close that follows the OK: that close is no drop to resume from
      show(args[0] === 'all' ? 'logged out everywhere' : 'logged out');
      return quit();
    }
    case '/msg': {
      if (args.length < 2) return show('usage: /msg <user> <text>');
      await client.call(Req.SEND, { to: args[0], text: rest(2) });
      return show(`[sent to ${args[0]}] ${rest(2)}`);
    }
    case '/wizz':
      if (!args[0]) return show('usage: /wizz <user>');
      await client.call(Req.WIZZ, { to: args[0] });
      return show(`you wizzed ${args[0]}`);
    case '/join': {
      if (lab) return show('the lab chat has one room, #lobby, and you are already in it: just type to talk');
      if (!args[0]) return show('usage: /join <#room>');
      const name = args[0].startsWith('#') ? args[0] : `#${args[0]}`;
      const ok = await client.call(Req.JOIN, { room: name });
      room = name;
      return show(`joined ${name}: ${printable((ok.members as string[] | undefined)?.join(', ') ?? '')}`);
    }
    case '/leave': {
      const name = args[0] ?? room;
      if (!name) return show('you are in no room here; usage: /leave [#room]');
      await client.call(Req.LEAVE, { room: name });
      if (name === room) room = null;
      return show(`left ${name}`);
    }
    case '/who': {
      const ok = await client.call(Req.WHO, args[0] ? { room: args[0] } : {});
      return show(`${args[0] ? `in ${args[0]}` : lab ? 'in #lobby' : 'online'}: ${printable((ok.users as string[]).join(', ')) || '(nobody)'}`);
    }
    case '/history': {
      if (!args[0]) return show('usage: /history <user> [limit]');
      const ok = await client.call(Req.HISTORY, { with: args[0], ...(args[1] ? { limit: Number(args[1]) } : {}) });
      const messages = ok.messages as Array<Record<string, unknown>>;
      if (messages.length === 0) return show(`no messages with ${args[0]}`);
      for (const m of [...messages].reverse()) show(formatPush({ type: Srv.MESSAGE, body: m }, me));
      return;
    }
    default:
      if (cmd?.startsWith('/')) return show(`unknown command ${cmd}; /help lists them`);
      if (!room) return show('join a room first (/join #lobby), or /msg someone');
      await client.call(Req.SAY, { room, text: line });
      // Your own lines are not echoed by the server; readline already shows what you typed.
      return;
  }
}

const where = `${values.host}:${values.port}`;
if (server.kind === 'lab') {
  if (defaultUser) {
    try {
      await client.call(Req.LOGIN, { user: defaultUser, password: 'lab' });
      me = defaultUser;
    } catch (err) {
      show(`! could not take the name ${defaultUser}: ${(err as Error).message}`);
    }
  }
  const others = server.members.length - 1;
  show(
    `connected to a lab server at ${where}: the lab chat, one room, #lobby, and you are in it` +
      `${me ? ` as ${printable(me)}` : ' as a guest (/login <name> picks a name)'}` +
      `${others > 0 ? ` with ${others} other${others === 1 ? '' : 's'}` : ''}. Type to talk; /help lists what it serves.`,
  );
} else if (server.kind === 'reference') {
  show(`connected to ${where} — /help for commands${defaultUser ? `; /register <password> then /login <password>` : ''}`);
} else {
  show(`connected to ${where}, which did not say what it is (${server.reason}); every command is offered — /help`);
}
release();
accepting = true;
void runLines();
