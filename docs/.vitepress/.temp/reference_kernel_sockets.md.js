import { resolveComponent, useSSRContext } from "vue";
import { ssrRenderAttrs, ssrRenderSuspense, ssrRenderComponent } from "vue/server-renderer";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"Sockets","description":"","frontmatter":{},"headers":[],"relativePath":"reference/kernel/sockets.md","filePath":"reference/kernel/sockets.md"}');
const _sfc_main = { name: "reference/kernel/sockets.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  const _component_Mermaid = resolveComponent("Mermaid");
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="sockets" tabindex="-1">Sockets <a class="header-anchor" href="#sockets" aria-label="Permalink to &quot;Sockets&quot;">​</a></h1><h2 id="what-is-modelled" tabindex="-1">What is modelled <a class="header-anchor" href="#what-is-modelled" aria-label="Permalink to &quot;What is modelled&quot;">​</a></h2><p>Stream sockets on one emulated host; an address is a port number. The model follows what Linux&#39;s TCP code lets a program observe — <code>tcp_poll</code>, <code>tcp_recvmsg</code>, <code>tcp_sendmsg</code>, <code>tcp_reset</code> — not the wire protocol.</p>`);
  ssrRenderSuspense(_push, {
    default: () => {
      _push(ssrRenderComponent(_component_Mermaid, {
        id: "mermaid-9",
        class: "mermaid",
        graph: "sequenceDiagram%0A%20%20participant%20C%20as%20client%20socket%0A%20%20participant%20L%20as%20listener%0A%20%20participant%20S%20as%20accepted%20socket%0A%20%20C-%3E%3EL%3A%20connect()%20%E2%86%92%20-EINPROGRESS%0A%20%20L--%3E%3ES%3A%20queued%20(backlog%20%2B%201%20at%20most)%0A%20%20Note%20over%20S%3A%20accept()%20takes%20it%0A%20%20C-%3E%3ES%3A%20write()%3A%20send%20buffer%20%E2%86%92%20peer's%20receive%20buffer%0A%20%20S--%3E%3EC%3A%20read()%20%3D%20bytes%2C%200%20after%20FIN%2C%20-ECONNRESET%20after%20RST%0A"
      }, null, _parent));
    },
    fallback: () => {
      _push(` Loading... `);
    },
    _: 1
  });
  _push(`<ul><li><strong>Buffers are bounded.</strong> <code>write</code> copies into the socket&#39;s send buffer (16 KiB by default) and the bytes move on to the peer&#39;s receive buffer (64 KiB) as room allows. A peer that never reads fills both; then <code>write</code> returns a short count, then <code>-EAGAIN</code>. POLLOUT returns once free space is at least half of what is queued — Linux&#39;s rule.</li><li><strong>connect</strong> on a non-blocking socket always returns <code>-EINPROGRESS</code>. Success shows as POLLOUT; refusal as <code>POLLIN|POLLOUT|POLLERR|POLLHUP|POLLRDHUP</code> and <code>SO_ERROR = ECONNREFUSED</code> (read it with <code>getsockopt(fd, SOL_SOCKET, SO_ERROR)</code>).</li><li><strong>listen(fd, backlog)</strong> admits <code>backlog + 1</code> connections. When the queue is full the SYN is dropped and the client retries after 1 s, 2 s, 4 s… of kernel time, then gives up with <code>ETIMEDOUT</code>.</li><li><strong>accept</strong> on an empty queue: <code>-EAGAIN</code>. At the fd limit: <code>-EMFILE</code>, and the connection <em>stays queued</em> — the listener stays readable, the classic accept busy loop.</li><li><strong>read</strong> returns queued bytes first; then <code>0</code> after the peer&#39;s FIN, or <code>-ECONNRESET</code> once after a reset, then <code>0</code>.</li><li><strong>write</strong> after the peer reset: the error once, then <code>-EPIPE</code>. Writing to a peer that called <code>close()</code> succeeds once; the peer answers with RST, and the next write is <code>-EPIPE</code>.</li><li><strong>shutdown(SHUT_WR)</strong> sends FIN after the queued bytes (a half-close: you can still read); <strong>shutdown(SHUT_RD)</strong> makes reads return 0.</li><li><strong>close</strong> with unread bytes in the receive queue sends RST instead of FIN (RFC 2525), so the peer sees <code>ECONNRESET</code>. <code>SO_LINGER {1, 0}</code> does the same on purpose.</li></ul><p>Readiness, as <code>poll</code> reports it:</p><table tabindex="0"><thead><tr><th>situation</th><th>revents</th></tr></thead><tbody><tr><td>fresh, unconnected socket</td><td><code>POLLOUT POLLHUP</code></td></tr><tr><td>connected, nothing to read</td><td><code>POLLOUT</code></td></tr><tr><td>peer closed (or half-closed), data unread</td><td><code>POLLIN POLLOUT POLLRDHUP</code> — no POLLHUP</td></tr><tr><td>both directions shut</td><td><code>POLLIN POLLOUT POLLRDHUP POLLHUP</code></td></tr><tr><td>after a reset</td><td><code>POLLIN POLLOUT POLLERR POLLHUP POLLRDHUP</code></td></tr><tr><td>listener with connections waiting</td><td><code>POLLIN</code></td></tr></tbody></table><h2 id="what-is-left-out" tabindex="-1">What is left out <a class="header-anchor" href="#what-is-left-out" aria-label="Permalink to &quot;What is left out&quot;">​</a></h2><p>No UDP, no addresses beyond a port, no Nagle, no congestion window, no <code>SIGPIPE</code> (writes behave as with <code>MSG_NOSIGNAL</code>). Loopback delivery is instant. Buffer sizes are exact numbers, unlike Linux&#39;s autotuned ones, so never write a grader that depends on how many bytes fit.</p><h2 id="where-it-differs-from-linux-the-wouldblockerror-rule" tabindex="-1">Where it differs from Linux: the WouldBlockError rule <a class="header-anchor" href="#where-it-differs-from-linux-the-wouldblockerror-rule" aria-label="Permalink to &quot;Where it differs from Linux: the WouldBlockError rule&quot;">​</a></h2><p>A <em>blocking</em> <code>read</code> in C puts the thread to sleep. In JavaScript that would freeze the event loop — and every simulated client with it. So a synchronous <code>read</code>, <code>write</code>, <code>accept</code> or <code>connect</code> on a socket <strong>without</strong> <code>O_NONBLOCK</code> that would have to wait throws <code>WouldBlockError</code> (&quot;this call would freeze your event loop&quot;). Either set <code>O_NONBLOCK</code> (<code>fcntl(fd, F_SETFL, O_NONBLOCK)</code>, <code>socket(SOCK_NONBLOCK)</code>, <code>accept4(fd, SOCK_NONBLOCK)</code>) and use a poller, or use the async <code>proc.blocking.read/write/accept/connect</code>, which wait the way a blocking call would.</p></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("reference/kernel/sockets.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const sockets = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  sockets as default
};
