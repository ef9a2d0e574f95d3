import { resolveComponent, useSSRContext } from "vue";
import { ssrRenderAttrs, ssrRenderSuspense, ssrRenderComponent } from "vue/server-renderer";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"epoll","description":"","frontmatter":{},"headers":[],"relativePath":"reference/kernel/epoll.md","filePath":"reference/kernel/epoll.md"}');
const _sfc_main = { name: "reference/kernel/epoll.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  const _component_Mermaid = resolveComponent("Mermaid");
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="epoll" tabindex="-1">epoll <a class="header-anchor" href="#epoll" aria-label="Permalink to &quot;epoll&quot;">​</a></h1><h2 id="what-is-modelled" tabindex="-1">What is modelled <a class="header-anchor" href="#what-is-modelled" aria-label="Permalink to &quot;What is modelled&quot;">​</a></h2><p><code>epoll_create1(0)</code> makes an epoll instance (an fd). <code>epoll_ctl(epfd, ADD | MOD | DEL, fd, { events, data })</code> changes its <strong>interest list</strong>; <code>epoll_wait(epfd, out, maxevents, timeoutMs)</code> fills <code>out</code> with <code>{ events, data }</code> and returns how many. <code>data</code> is yours: an fd, an object, anything.</p><p>The shape is Linux&#39;s: each registration (an <code>EpItem</code>) hangs on its socket&#39;s wait queue. When the socket&#39;s state changes, the item puts <strong>itself</strong> on the epoll&#39;s <strong>ready list</strong> — O(1), no scan. <code>epoll_wait</code> walks only the ready list, so a wake-up with 10 ready fds costs the same whether 10 or 100,000 are registered. The unit tests check that, count for count.</p>`);
  ssrRenderSuspense(_push, {
    default: () => {
      _push(ssrRenderComponent(_component_Mermaid, {
        id: "mermaid-12",
        class: "mermaid",
        graph: "flowchart%20LR%0A%20%20W%5Bpeer%20writes%5D%20--%3E%20Q%5Bsocket%20wait%20queue%5D%20--%3E%20I%5BEpItem%20callback%5D%20--%3E%20R%5Bready%20list%5D%0A%20%20R%20--%3E%20E%5Bepoll_wait%3A%20O%20ready%5D%0A"
      }, null, _parent));
    },
    fallback: () => {
      _push(` Loading... `);
    },
    _: 1
  });
  _push(`<p><strong>Level-triggered (default).</strong> A reported item goes back on the ready list; the next <code>epoll_wait</code> checks it again and drops it if it is no longer ready. Unread data is reported again and again.</p><p><strong>Edge-triggered (<code>EPOLLET</code>).</strong> An item only gets on the ready list when a <em>new</em> wake-up happens: new data, the peer&#39;s FIN, a reset, space after a full send buffer. Data you left unread does not fire again — the classic trap. With ET, read (and accept, and write) until <code>EAGAIN</code>.</p><p><strong><code>EPOLLONESHOT</code>.</strong> Reported once, then disabled until <code>EPOLL_CTL_MOD</code> re-arms it. <code>ADD</code> and <code>MOD</code> check readiness at once, so MOD of a ready fd reports it at the next wait.</p><ul><li><code>EPOLLERR</code> and <code>EPOLLHUP</code> are always watched; <code>EPOLLRDHUP</code> reports the peer&#39;s half-close.</li><li><strong>maxevents</strong> smaller than the ready count: the unexamined items come first next time, and LT items reported this time rejoin at the tail — nobody starves.</li><li><strong>close</strong> of the <em>last</em> fd of a socket removes it from every interest list. Close one of two dup&#39;ed fds and the registration survives, still reporting under the old <code>data</code>, while <code>EPOLL_CTL_DEL</code> on the closed number fails with <code>EBADF</code> — Linux&#39;s famous trap, reproduced.</li><li>Errors as Linux: <code>EBADF</code> (bad epfd or fd), <code>EPERM</code> (fd cannot be polled: fds 0–2 here), <code>EINVAL</code> (epfd not an epoll, <code>epfd == fd</code>, unknown op, <code>maxevents &lt;= 0</code>, EPOLLEXCLUSIVE misuse), <code>EEXIST</code> (ADD twice), <code>ENOENT</code> (MOD/DEL of an fd never added), <code>ELOOP</code> (epoll sets watching each other), <code>EFAULT</code> (no event for ADD/MOD).</li><li>An epoll fd is itself readable while events are pending, so it can be nested or polled.</li></ul><h2 id="what-is-left-out" tabindex="-1">What is left out <a class="header-anchor" href="#what-is-left-out" aria-label="Permalink to &quot;What is left out&quot;">​</a></h2><p><code>EPOLLEXCLUSIVE</code> is accepted and checked for misuse but has no effect (there is one waiter per process here); <code>EPOLLWAKEUP</code>; <code>epoll_pwait</code>.</p><h2 id="where-it-differs-from-linux" tabindex="-1">Where it differs from Linux <a class="header-anchor" href="#where-it-differs-from-linux" aria-label="Permalink to &quot;Where it differs from Linux&quot;">​</a></h2><p>Linux keys a registration by (file, fd). The emulator keys it by fd, so after the dup trap above, ADD of a <em>new</em> socket that got the old number returns <code>EEXIST</code> where Linux would allow it.</p></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("reference/kernel/epoll.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const epoll = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  epoll as default
};
