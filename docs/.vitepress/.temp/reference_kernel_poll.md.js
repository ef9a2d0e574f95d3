import { ssrRenderAttrs } from "vue/server-renderer";
import { useSSRContext } from "vue";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"poll","description":"","frontmatter":{},"headers":[],"relativePath":"reference/kernel/poll.md","filePath":"reference/kernel/poll.md"}');
const _sfc_main = { name: "reference/kernel/poll.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="poll" tabindex="-1">poll <a class="header-anchor" href="#poll" aria-label="Permalink to &quot;poll&quot;">​</a></h1><h2 id="what-is-modelled" tabindex="-1">What is modelled <a class="header-anchor" href="#what-is-modelled" aria-label="Permalink to &quot;What is modelled&quot;">​</a></h2><p><code>poll(fds, timeoutMs)</code> takes an array of <code>{ fd, events, revents }</code> and fills <code>revents</code> in place — no bitmap, so no 1024 wall. It still looks at <strong>every entry on every pass</strong>: the cost is O(n) in the number of watched fds, busy or idle.</p><ul><li><code>events</code> / <code>revents</code> bits: <code>POLLIN POLLOUT POLLERR POLLHUP POLLNVAL POLLRDHUP</code> (plus <code>POLLRDNORM</code>/<code>POLLWRNORM</code>, which accompany IN/OUT as on Linux).</li><li><code>POLLERR</code> and <code>POLLHUP</code> are reported whether you asked for them or not; <code>POLLRDHUP</code> only if asked.</li><li>A closed fd in the array gets <code>POLLNVAL</code> (not an error return); a negative fd is skipped with <code>revents = 0</code> — the usual way to switch an entry off.</li><li>Returns the number of entries with non-zero <code>revents</code>; <code>0</code> on timeout; <code>-EINVAL</code> if the array is longer than <code>RLIMIT_NOFILE</code>. A negative or <code>null</code> timeout waits forever, <code>0</code> never waits.</li></ul><p>See the readiness table in <a href="./sockets">Sockets</a>: in particular the peer&#39;s <code>close()</code> gives <code>POLLIN|POLLOUT|POLLRDHUP</code>, <strong>not</strong> POLLHUP. A server that waits for POLLHUP to notice a departed client waits until it writes to it and is reset. Read until <code>read</code> returns 0.</p><h2 id="what-is-left-out" tabindex="-1">What is left out <a class="header-anchor" href="#what-is-left-out" aria-label="Permalink to &quot;What is left out&quot;">​</a></h2><p><code>ppoll</code>, <code>POLLPRI</code> data (out-of-band bytes), <code>POLLWRBAND</code>.</p><h2 id="where-it-differs-from-linux" tabindex="-1">Where it differs from Linux <a class="header-anchor" href="#where-it-differs-from-linux" aria-label="Permalink to &quot;Where it differs from Linux&quot;">​</a></h2><p>Nothing the conformance suite can see; it checks NVAL, ERR/HUP without asking, RDHUP only when asked, write readiness after a full buffer drains, and the revents of several entries at once.</p></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("reference/kernel/poll.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const poll = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  poll as default
};
