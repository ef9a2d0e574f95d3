import { resolveComponent, useSSRContext } from "vue";
import { ssrRenderAttrs, ssrRenderSuspense, ssrRenderComponent } from "vue/server-renderer";
import { _ as _export_sfc } from "./plugin-vue_export-helper.1tPrXgE0.js";
const __pageData = JSON.parse('{"title":"1 · Anatomy of a select() server","description":"","frontmatter":{"title":"1 · Anatomy of a select() server"},"headers":[],"relativePath":"chapters/01-anatomy.md","filePath":"chapters/01-anatomy.md"}');
const _sfc_main = { name: "chapters/01-anatomy.md" };
function _sfc_ssrRender(_ctx, _push, _parent, _attrs, $props, $setup, $data, $options) {
  const _component_Mermaid = resolveComponent("Mermaid");
  const _component_CostTable = resolveComponent("CostTable");
  const _component_Cost = resolveComponent("Cost");
  const _component_WakeupViz = resolveComponent("WakeupViz");
  _push(`<div${ssrRenderAttrs(_attrs)}><h1 id="anatomy-of-a-select-server" tabindex="-1">Anatomy of a select() server <a class="header-anchor" href="#anatomy-of-a-select-server" aria-label="Permalink to &quot;Anatomy of a select() server&quot;">​</a></h1><p><code>wizz_server</code> is a chat server of the MSN Messenger kind: you sign in, your buddies see you online, you send messages, and now and then you send a <em>wizz</em> that shakes a friend&#39;s window. Everything a client does arrives on one TCP connection, and everything the server does happens on one thread, inside one loop. This chapter takes that loop apart and prices each step, so that the rest of the workbook has something concrete to improve.</p><h2 id="the-loop-as-the-mentor-found-it" tabindex="-1">The loop, as the mentor found it <a class="header-anchor" href="#the-loop-as-the-mentor-found-it" aria-label="Permalink to &quot;The loop, as the mentor found it&quot;">​</a></h2><p>The heart of <code>TcpServer::run()</code> looks like this (shortened from the C++):</p><div class="language-cpp vp-adaptive-theme"><button title="Copy Code" class="copy"></button><span class="lang">cpp</span><pre class="shiki shiki-themes github-light github-dark vp-code" tabindex="0"><code><span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">while</span><span style="--shiki-light:#D73A49;--shiki-dark:#E1E4E8;"> (running) {</span></span>
<span class="line"><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">    FD_ZERO</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds);</span></span>
<span class="line"><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">    FD_SET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(m_serverSocket, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds);</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">    int</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> max_sd </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">=</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> m_serverSocket;</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">    for</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">auto&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> client : m_clients) {</span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">            // pass 1: every client, every time</span></span>
<span class="line"><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">        FD_SET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(client.fd, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds);</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">        max_sd </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">=</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;"> std</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">::</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">max</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(max_sd, client.fd);</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">    }</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">    timeval timeout{</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">1</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">0</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">};</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">    int</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> activity </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">=</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;"> select</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(max_sd </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">+</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> 1</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">nullptr</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">nullptr</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">timeout);</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">    if</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">FD_ISSET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(m_serverSocket, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds)) </span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">acceptNewClient</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">();</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">    for</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">auto&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> client : m_clients) {</span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">            // pass 2: every client again</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">        if</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">FD_ISSET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(client.fd, </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&amp;</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">readfds)) </span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">handleClient</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(client);</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">    }</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">}</span></span></code></pre></div><p>Nothing here is wrong. It is the loop every networking textbook starts with, and for a classroom of ten people it is the right one: simple, single-threaded, and with no way for two threads to corrupt <code>m_onlineUsers</code> because there is only one thread. The trouble is what each line costs once the classroom becomes a city.</p>`);
  ssrRenderSuspense(_push, {
    default: () => {
      _push(ssrRenderComponent(_component_Mermaid, {
        id: "mermaid-16",
        class: "mermaid",
        graph: "flowchart%20TD%0A%20%20%20%20A(%5Btop%20of%20the%20loop%5D)%20--%3E%20B%5B%22%3Cb%3Epass%201%3C%2Fb%3E%20%C2%B7%20O(n)%20in%20user%20space%3Cbr%2F%3EFD_ZERO%2C%20then%20FD_SET%20for%20the%3Cbr%2F%3Elistener%20and%20every%20client%22%5D%0A%20%20%20%20B%20--%3E%20C%5B%22%3Cb%3Eselect(max_sd%20%2B%201%2C%20%E2%80%A6)%3C%2Fb%3E%20%C2%B7%20O(max%20fd)%20in%20the%20kernel%3Cbr%2F%3Ecopy%20the%20bitmap%20in%2C%20test%20every%20bit%3Cbr%2F%3Ebelow%20nfds%2C%20copy%20it%20back%20out%22%5D%0A%20%20%20%20C%20--%3E%7Ctimeout%7C%20A%0A%20%20%20%20C%20--%3E%7Csome%20ready%7C%20D%7B%22listener%3Cbr%2F%3Ereadable%3F%22%7D%0A%20%20%20%20D%20--%3E%7Cyes%7C%20E%5B%22accept()%20a%20new%20client%22%5D%0A%20%20%20%20D%20--%3E%7Cno%7C%20F%0A%20%20%20%20E%20--%3E%20F%5B%22%3Cb%3Epass%202%3C%2Fb%3E%20%C2%B7%20O(n)%20in%20user%20space%3Cbr%2F%3EFD_ISSET%20for%20every%20client%22%5D%0A%20%20%20%20F%20--%3E%20G%5B%22read%2C%20parse%20and%20route%3Cbr%2F%3Ethe%20ready%20few%22%5D%0A%20%20%20%20G%20--%3E%20A%0A"
      }, null, _parent));
    },
    fallback: () => {
      _push(` Loading... `);
    },
    _: 1
  });
  _push(`<h3 id="why-the-set-is-rebuilt-every-time" tabindex="-1">Why the set is rebuilt every time <a class="header-anchor" href="#why-the-set-is-rebuilt-every-time" aria-label="Permalink to &quot;Why the set is rebuilt every time&quot;">​</a></h3><p><code>select()</code> uses its <code>fd_set</code> arguments in both directions: on the way in they say &quot;watch these&quot;, on the way out the kernel has overwritten them to say &quot;these are ready&quot;. The set you passed is gone after the call, so a <code>select()</code> loop must rebuild it from its own list of clients before every call — pass 1. Linux also writes the time left into <code>timeout</code>, which is why the loop resets that too.</p><p>Then, because <code>select()</code> returns only a <em>count</em> of ready descriptors, the loop has to find out <em>which</em> ones by asking the bitmap about each client in turn — pass 2. A wake-up caused by a single message from a single client still walks the whole client list twice.</p><h3 id="what-the-kernel-does-in-between" tabindex="-1">What the kernel does in between <a class="header-anchor" href="#what-the-kernel-does-in-between" aria-label="Permalink to &quot;What the kernel does in between&quot;">​</a></h3><p><code>select(nfds, …)</code> is not free either. The kernel:</p><ol><li>copies each non-null <code>fd_set</code> from your memory into its own (one bit per descriptor, rounded up to whole 64-bit words);</li><li>for every descriptor number below <code>nfds</code>, checks whether the bit is set and, if so, asks that socket whether it is readable;</li><li>if none is, puts the thread to sleep on every one of those sockets&#39; wait queues, and when one wakes it, repeats the scan;</li><li>copies the rewritten sets back out.</li></ol><p>The work is proportional to the <strong>highest</strong> descriptor number, not to how many sockets have data. This workbook&#39;s emulated kernel charges exactly this in its cost meter: <code>fdsInspected</code> counts the descriptors looked at during one call, <code>bytesCopied</code> the bytes moved between your memory and the kernel&#39;s.</p><h2 id="what-it-costs-at-10-and-at-10-000-clients" tabindex="-1">What it costs at 10 and at 10,000 clients <a class="header-anchor" href="#what-it-costs-at-10-and-at-10-000-clients" aria-label="Permalink to &quot;What it costs at 10 and at 10,000 clients&quot;">​</a></h2><p>Here is one wake-up in which 10 clients have sent something, priced by <code>wakeupCost()</code> from <code>labs/kernel/cost-model.ts</code> — the same function the kernel meter charges in the labs, so these numbers are what your lab 01 server will be billed:</p>`);
  _push(ssrRenderComponent(_component_CostTable, {
    totals: [10, 1e4],
    active: 10
  }, null, _parent));
  _push(`<p>At 10 clients <code>select()</code> is the cheapest of all four: `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "select",
    total: 10
  }, null, _parent));
  _push(` descriptors looked at and `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "select",
    total: 10,
    field: "bytesCopied"
  }, null, _parent));
  _push(` bytes copied — smaller than the</p>`);
  _push(ssrRenderComponent(_component_Cost, {
    m: "epoll",
    total: 10,
    field: "bytesCopied"
  }, null, _parent));
  _push(` bytes <code>epoll_wait</code> copies out for the same ten<p>events. At 10,000 clients the same ten messages make the kernel look at</p>`);
  _push(ssrRenderComponent(_component_Cost, {
    m: "select",
    total: 1e4
  }, null, _parent));
  _push(` descriptors — if <code>select()</code> could get there at all, which it<p>cannot (the <a href="./02-pollers#the-1024-wall">1024 wall</a> stops it just above a thousand). <code>poll()</code> goes past the wall but still inspects `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "poll",
    total: 1e4
  }, null, _parent));
  _push(` entries and copies</p>`);
  _push(ssrRenderComponent(_component_Cost, {
    m: "poll",
    total: 1e4,
    field: "bytesCopied"
  }, null, _parent));
  _push(` bytes to deliver ten messages, while <code>epoll</code><p>inspects `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "epoll",
    total: 1e4
  }, null, _parent));
  _push(`.</p><p>And that is only the kernel&#39;s share. Each wake-up also costs the two user-space passes: for <code>n</code> clients, <code>n</code> calls to <code>FD_SET</code> and <code>n</code> calls to <code>FD_ISSET</code>. Under load a chat server wakes up thousands of times a second, and with most users idle almost all of that work finds nothing.</p><p>The curve, for ten ready clients, as the number of connected clients grows:</p>`);
  ssrRenderSuspense(_push, {
    default: () => {
      _push(ssrRenderComponent(_component_Mermaid, {
        id: "mermaid-89",
        class: "mermaid",
        graph: "%25%25%7Binit%3A%20%7B%22themeVariables%22%3A%20%7B%22xyChart%22%3A%20%7B%22plotColorPalette%22%3A%20%22%23b5179e%2C%20%231f6fd1%22%7D%7D%7D%7D%25%25%0Axychart-beta%0A%20%20%20%20title%20%22Descriptors%20the%20kernel%20inspects%20per%20wake-up%2C%2010%20ready%20(cost%20model)%22%0A%20%20%20%20x-axis%20%22connected%20clients%22%20%5B10%2C%20100%2C%201000%2C%2010000%5D%0A%20%20%20%20y-axis%20%22fds%20inspected%22%200%20--%3E%2010100%0A%20%20%20%20line%20%22poll%22%20%5B11%2C%20101%2C%201001%2C%2010001%5D%0A%20%20%20%20line%20%22epoll%22%20%5B10%2C%2010%2C%2010%2C%2010%5D%0A"
      }, null, _parent));
    },
    fallback: () => {
      _push(` Loading... `);
    },
    _: 1
  });
  _push(`<p>(The numbers in this diagram are filled in from the cost model when the site is built. The upper line is <code>poll</code>; <code>select</code> would sit on top of it until it hits the wall. The flat line at the bottom is <code>epoll</code>.)</p><p>You can move the sliders yourself — this is the same model, live:</p>`);
  _push(ssrRenderComponent(_component_WakeupViz, {
    total: 1e3,
    active: 10
  }, null, _parent));
  _push(`<h2 id="one-thread-one-core" tabindex="-1">One thread, one core <a class="header-anchor" href="#one-thread-one-core" aria-label="Permalink to &quot;One thread, one core&quot;">​</a></h2><p>The second finding is about threads rather than descriptors. Every byte of network I/O in <code>wizz_server</code> goes through one thread, so the whole server can use one CPU core, however many the machine has. The upside is real: no locks around <code>m_onlineUsers</code>, no data races, easy reasoning. The downside arrives when one core is saturated — and, worse, when anything in the loop <em>blocks</em>. A slow SQLite query made from the loop stops every other client&#39;s messages until it returns.</p><p>Node.js programmers live in exactly this world. Your JavaScript runs on one thread, driven by libuv&#39;s event loop; a synchronous call that takes 50 ms freezes every connection for 50 ms. The differences are in your favour: libuv already uses <code>epoll</code> on Linux and <code>kqueue</code> on macOS, so Node never scans idle sockets, and it never rebuilds a set. The labs therefore run your loops on an <strong>emulated kernel</strong> (<code>labs/kernel/</code>) that offers <code>select</code>, <code>poll</code>, <code>epoll</code> and <code>kqueue</code> with their real semantics and a meter that counts the work — so you can feel what libuv saves you, and what it cannot save you from.</p><p>How to use more than one core without putting a mutex around every map is the subject of <a href="./../qa/threads-without-mutexes">Threads without mutexes?</a>; what to do about the database thread is <a href="./../qa/database-actor">Where does the database go?</a>.</p><h2 id="the-same-loop-in-typescript" tabindex="-1">The same loop in TypeScript <a class="header-anchor" href="#the-same-loop-in-typescript" aria-label="Permalink to &quot;The same loop in TypeScript&quot;">​</a></h2><p>In lab 01 you write this loop against the emulated kernel. Its shape — not the answer — looks like this (the calls are described in the <a href="./../reference/kernel/">kernel reference</a>, the <code>select</code> family in <a href="./../reference/kernel/select">its own page</a>):</p><div class="language-ts vp-adaptive-theme"><button title="Copy Code" class="copy"></button><span class="lang">ts</span><pre class="shiki shiki-themes github-light github-dark vp-code" tabindex="0"><code><span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">const</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> readfds</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> =</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> new</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;"> FdSet</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">();</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">for</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (;;) {</span></span>
<span class="line"><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">  FD_ZERO</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(readfds);</span></span>
<span class="line"><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">  FD_SET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(listenFd, readfds);</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  let</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> maxFd </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">=</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> listenFd;</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  for</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">const</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> fd</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> of</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> clients.</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">keys</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">()) { </span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">/* pass 1 */</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> }</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  const</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> ready</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> =</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> await</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> proc.</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">select</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(maxFd </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">+</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> 1</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, readfds, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">null</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">null</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">, </span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;">1000</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">);</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  if</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (ready </span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">&lt;</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> 0</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">) { </span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">/* -errno: EBADF, EINVAL … */</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> }</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  if</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">FD_ISSET</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">(listenFd, readfds)) { </span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">/* accept4(listenFd, SOCK_NONBLOCK) until -EAGAIN */</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> }</span></span>
<span class="line"><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">  for</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> (</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;">const</span><span style="--shiki-light:#005CC5;--shiki-dark:#79B8FF;"> fd</span><span style="--shiki-light:#D73A49;--shiki-dark:#F97583;"> of</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> clients.</span><span style="--shiki-light:#6F42C1;--shiki-dark:#B392F0;">keys</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">()) { </span><span style="--shiki-light:#6A737D;--shiki-dark:#6A737D;">/* pass 2: FD_ISSET, read, parse frames */</span><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;"> }</span></span>
<span class="line"><span style="--shiki-light:#24292E;--shiki-dark:#E1E4E8;">}</span></span></code></pre></div><p>Every call returns a number — <code>&gt;= 0</code> for success, <code>-errno</code> for failure — as the raw Linux system calls do, and a call that would block your loop on a blocking socket throws instead of silently freezing it.</p><h2 id="check-yourself" tabindex="-1">Check yourself <a class="header-anchor" href="#check-yourself" aria-label="Permalink to &quot;Check yourself&quot;">​</a></h2><details class="details custom-block"><summary>1. Why can&#39;t the loop build the fd_set once, outside the loop?</summary><p>Because <code>select()</code> overwrites it: on return the set holds only the ready descriptors. Reusing it would watch only the sockets that happened to be ready last time. (You could keep a master copy and <code>memcpy</code> it — that is still O(n) per wake-up, just faster per item.)</p></details><details class="details custom-block"><summary>2. The server has 10,000 idle clients and one that types a message. How many descriptors does one select() wake-up make the kernel inspect, and how many FD_SET / FD_ISSET calls does user space make?</summary><p>The kernel inspects every descriptor below <code>nfds</code> — all of them, roughly 10,000 (the cost model counts `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "select",
    total: 1e4,
    active: 1
  }, null, _parent));
  _push(`, including fds 0–2 and the listener). User space makes about 10,000 <code>FD_SET</code> calls and 10,000 <code>FD_ISSET</code> calls. One message, some 30,000 operations — and in reality the call never gets that far, because of the 1024 wall.</p></details><details class="details custom-block"><summary>3. At 10 clients, which mechanism copies the fewest bytes per wake-up, and why?</summary><p><code>select</code>: `);
  _push(ssrRenderComponent(_component_Cost, {
    m: "select",
    total: 10,
    field: "bytesCopied"
  }, null, _parent));
  _push(` bytes, because a bitmap with room for 14 descriptors is one 8-byte word, copied in and out. <code>poll</code> copies an 8-byte <code>pollfd</code> per descriptor each way, and <code>epoll_wait</code> a 12-byte <code>epoll_event</code> per ready descriptor. Small servers do not need epoll; large ones do.</p></details><details class="details custom-block"><summary>4. Is the single thread the problem?</summary><p>Not by itself. One thread is simple and race-free, and one Node process handles many thousands of connections on one core. It becomes the problem when the work no longer fits one core, or when something in the loop blocks (the database). Both have answers that keep the single-threaded loop: one loop per core, and blocking work moved to an actor.</p></details><details class="details custom-block"><summary>5. Which user-space pass does epoll remove, and which does it keep?</summary><p>Both. You never rebuild a set (the kernel keeps the interest list, registered once with <code>epoll_ctl</code>), and you never scan for the ready ones (<code>epoll_wait</code> returns them). What is left is O(ready): handling the sockets that actually have data.</p></details><h2 id="lab" tabindex="-1">Lab <a class="header-anchor" href="#lab" aria-label="Permalink to &quot;Lab&quot;">​</a></h2><p>Build this loop yourself, watch the meter, and then hit the wall on purpose: <a href="./../labs/01-select">Lab 01 · A select() loop</a>. If you have not decoded frames from a byte stream yet, start with <a href="./../labs/00-packets">Lab 00</a>.</p></div>`);
}
const _sfc_setup = _sfc_main.setup;
_sfc_main.setup = (props, ctx) => {
  const ssrContext = useSSRContext();
  (ssrContext.modules || (ssrContext.modules = /* @__PURE__ */ new Set())).add("chapters/01-anatomy.md");
  return _sfc_setup ? _sfc_setup(props, ctx) : void 0;
};
const _01Anatomy = /* @__PURE__ */ _export_sfc(_sfc_main, [["ssrRender", _sfc_ssrRender]]);
export {
  __pageData,
  _01Anatomy as default
};
