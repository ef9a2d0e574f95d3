import { ssrRenderAttrs } from "vue/server-renderer";
import { useSSRContext } from "vue";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"Lab 07 · The database actor","description":"","frontmatter":{"title":"Lab 07 · The database actor","outline":[2,3]},"headers":[],"relativePath":"labs/07-db-actor.md","filePath":"labs/07-db-actor.md"}');
const _sfc_main = { name: "labs/07-db-actor.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="lab-07-·-the-database-actor" tabindex="-1">Lab 07 · The database actor <a class="header-anchor" href="#lab-07-·-the-database-actor" aria-label="Permalink to &quot;Lab 07 · The database actor&quot;">​</a></h1><div class="lab-banner"><p><strong>Stage 8 of 9</strong> · your workspace: <code>labs/07-db-actor/</code> · hints, one at a time: <code>npm run hint -- 07</code></p><p>Read first: <a href="/qa/database-actor">Q&amp;A: the database actor</a></p></div><div class="info custom-block"><p class="custom-block-title">Not written yet</p><p>This stage&#39;s README (<code>labs/07-db-actor/README.md</code>) does not exist yet. This page will show it as soon as it does.</p></div></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("labs/07-db-actor.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const _07DbActor = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  _07DbActor as default
};
