import { resolveComponent, useSSRContext } from "vue";
import { ssrRenderAttrs, ssrRenderSuspense, ssrRenderComponent } from "vue/server-renderer";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"The labs","description":"","frontmatter":{"title":"The labs"},"headers":[],"relativePath":"labs/index.md","filePath":"labs/index.md"}');
const _sfc_main = { name: "labs/index.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  const _component_Mermaid = resolveComponent("Mermaid");
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="the-labs" tabindex="-1">The labs <a class="header-anchor" href="#the-labs" aria-label="Permalink to &quot;The labs&quot;">​</a></h1><p>Nine stages take you from bytes on a socket to the pieces of a server that holds thousands of connections. Each stage is a folder in <code>labs/</code> with a README (shown on these pages), starter files you edit, and graders that check your work. The I/O stages run on an emulated POSIX kernel (<code>labs/kernel/</code>) with <code>select</code>, <code>poll</code>, <code>epoll</code> and <code>kqueue</code> and a meter that counts the work your loop makes it do — so the graders can check not only <em>that</em> your server delivers every message but <em>how much</em> it costs per wake-up.</p>`);
  ssrRenderSuspense(_push, {
    default: () => {
      _push(ssrRenderComponent(_component_Mermaid, {
        id: "mermaid-6",
        class: "mermaid",
        graph: "flowchart%20TD%0A%20%20%20%20S00%5B%22%3Cb%3E00%20%C2%B7%20Packets%3C%2Fb%3E%3Cbr%2F%3Eframes%20from%20a%20byte%20stream%3A%3Cbr%2F%3Epartial%20reads%2C%20bad%20lengths%22%5D%0A%20%20%20%20S01%5B%22%3Cb%3E01%20%C2%B7%20select()%3C%2Fb%3E%3Cbr%2F%3Ethe%20loop%20wizz_server%20had%3B%3Cbr%2F%3Etwo%20O(n)%20passes%2C%20the%201024%20wall%22%5D%0A%20%20%20%20S02%5B%22%3Cb%3E02%20%C2%B7%20poll()%3C%2Fb%3E%3Cbr%2F%3Epast%201024%2C%20still%20O(n)%22%5D%0A%20%20%20%20S03%5B%22%3Cb%3E03%20%C2%B7%20epoll%3C%2Fb%3E%3Cbr%2F%3Eregister%20once%2C%20wake%20for%20the%20ready%3B%3Cbr%2F%3Eedge%20triggering%20and%20its%20trap%22%5D%0A%20%20%20%20S04%5B%22%3Cb%3E04%20%C2%B7%20kqueue%3C%2Fb%3E%3Cbr%2F%3Eone%20Poller%20interface%2C%3Cbr%2F%3Efour%20backends%22%5D%0A%20%20%20%20S05%5B%22%3Cb%3E05%20%C2%B7%20Buffer%20pool%3C%2Fb%3E%3Cbr%2F%3Efixed%20chunks%2C%20generations%2C%3Cbr%2F%3Epoisoning%2C%20leak%20detection%22%5D%0A%20%20%20%20S06%5B%22%3Cb%3E06%20%C2%B7%20Lock-free%20ring%3C%2Fb%3E%3Cbr%2F%3ESPSC%20on%20SharedArrayBuffer%2C%3Cbr%2F%3EAtomics.waitAsync%22%5D%0A%20%20%20%20S07%5B%22%3Cb%3E07%20%C2%B7%20Database%20actor%3C%2Fb%3E%3Cbr%2F%3Eone%20owner%20of%20SQLite%2C%3Cbr%2F%3Ecorrelation%20ids%2C%20batched%20commits%22%5D%0A%20%20%20%20S08%5B%22%3Cb%3E08%20%C2%B7%20Profile%3C%2Fb%3E%3Cbr%2F%3Emeasure%20GC%20share%3Cbr%2F%3Ebefore%20you%20pool%22%5D%0A%20%20%20%20S00%20--%3E%20S01%20--%3E%20S02%20--%3E%20S03%20--%3E%20S04%0A%20%20%20%20S04%20--%3E%20S05%0A%20%20%20%20S04%20--%3E%20S06%0A%20%20%20%20S04%20--%3E%20S07%0A%20%20%20%20S05%20--%3E%20S08%0A%20%20%20%20S06%20--%3E%20S08%0A%20%20%20%20S07%20--%3E%20S08%0A%20%20%20%20classDef%20io%20fill%3A%23dbe8fb%2Cstroke%3A%231f6fd1%2Ccolor%3A%2310233d%0A%20%20%20%20classDef%20mem%20fill%3A%23fde8d7%2Cstroke%3A%23d9480f%2Ccolor%3A%233d1c08%0A%20%20%20%20classDef%20arch%20fill%3A%23dcf3e3%2Cstroke%3A%232b9348%2Ccolor%3A%230d2e17%0A%20%20%20%20class%20S00%2CS01%2CS02%2CS03%2CS04%20io%0A%20%20%20%20class%20S05%2CS08%20mem%0A%20%20%20%20class%20S06%2CS07%20arch%0A"
      }, null, _parent));
    },
    fallback: () => {
      _push(` Loading... `);
    },
    _: 1
  });
  _push(`<table tabindex="0"><thead><tr><th>Stage</th><th>You build</th><th>Read first</th></tr></thead><tbody><tr><td><a href="./00-packets">00 · Packets from a byte stream</a></td><td>the frame decoder every later stage uses</td><td><a href="./../chapters/01-anatomy">Anatomy of a select() server</a></td></tr><tr><td><a href="./01-select">01 · A select() loop</a></td><td>the wizz_server loop, on the emulated kernel</td><td><a href="./../chapters/01-anatomy">chapter 1</a></td></tr><tr><td><a href="./02-poll">02 · From select to poll</a></td><td>the same server past 1024 descriptors</td><td><a href="./../chapters/02-pollers">chapter 2</a></td></tr><tr><td><a href="./03-epoll">03 · epoll</a></td><td>register once, wake for the active few; survive <code>EPOLLET</code></td><td><a href="./../chapters/02-pollers#level-and-edge-triggering">level vs edge</a></td></tr><tr><td><a href="./04-kqueue">04 · kqueue and one Poller for all four</a></td><td>one small interface, one file per backend</td><td><a href="./../chapters/02-pollers">chapter 2</a></td></tr><tr><td><a href="./05-pool">05 · A buffer pool</a></td><td>a pool that catches use-after-release and leaks</td><td><a href="./../chapters/03-pools">chapter 3</a></td></tr><tr><td><a href="./06-ring">06 · A lock-free ring</a></td><td>an SPSC ring between threads</td><td><a href="./../qa/threads-without-mutexes">Threads without mutexes?</a></td></tr><tr><td><a href="./07-db-actor">07 · The database actor</a></td><td>one worker that owns SQLite</td><td><a href="./../qa/database-actor">Where does the database go?</a></td></tr><tr><td><a href="./08-profile">08 · Profile before you pool</a></td><td>a measurement, and a decision</td><td><a href="./../qa/profile-before-you-pool">A pool for everything?</a></td></tr></tbody></table><h2 id="how-a-stage-works" tabindex="-1">How a stage works <a class="header-anchor" href="#how-a-stage-works" aria-label="Permalink to &quot;How a stage works&quot;">​</a></h2><ol><li>Read the stage&#39;s page here (its README) and the chapter it points to.</li><li>Edit the starter files in <code>labs/NN-name/</code>.</li><li>Run the graders. They stop at the first failure and tell you what they expected and what they got.</li><li>Stuck? <code>npm run hint -- NN</code> reveals the stage&#39;s hints one at a time.</li></ol><p>Stages 05, 06 and 07 only need the I/O stages behind you, not each other; stage 08 brings them together on the <a href="./../server/">reference server</a>.</p></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("labs/index.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const index = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  index as default
};
