import { ssrRenderAttrs } from "vue/server-renderer";
import { useSSRContext } from "vue";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"Lab 08 · Profile before you pool","description":"","frontmatter":{"title":"Lab 08 · Profile before you pool","outline":[2,3]},"headers":[],"relativePath":"labs/08-profile.md","filePath":"labs/08-profile.md"}');
const _sfc_main = { name: "labs/08-profile.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="lab-08-·-profile-before-you-pool" tabindex="-1">Lab 08 · Profile before you pool <a class="header-anchor" href="#lab-08-·-profile-before-you-pool" aria-label="Permalink to &quot;Lab 08 · Profile before you pool&quot;">​</a></h1><div class="lab-banner"><p><strong>Stage 9 of 9</strong> · your workspace: <code>labs/08-profile/</code> · hints, one at a time: <code>npm run hint -- 08</code></p><p>Read first: <a href="/qa/profile-before-you-pool">Q&amp;A: profile before you pool</a> · <a href="/chapters/04-measure">Measure it yourself</a></p></div><div class="info custom-block"><p class="custom-block-title">Not written yet</p><p>This stage&#39;s README (<code>labs/08-profile/README.md</code>) does not exist yet. This page will show it as soon as it does.</p></div></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("labs/08-profile.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const _08Profile = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  _08Profile as default
};
