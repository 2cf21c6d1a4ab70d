// pipcam dashboard: the live picture over WHEP (MJPEG when WebRTC cannot
// connect), layout controls, print progress and live figures. Every URL is
// relative, so the page works at / and behind OctoPi's /webcam/ alike.
'use strict';
(() => {
  const $ = (id) => document.getElementById(id);
  const TOKEN_KEY = 'pipcam.token';
  const FIRST_FRAME_MS = 10000;

  // Everything the page knows, also for tests and the curious (devtools).
  const state = {
    mode: 'connecting', // 'webrtc' | 'mjpeg'
    reason: '', // why WebRTC is not in use
    pc: null,
    session: null, // the WHEP session URL, for DELETE
    layout: null,
    stats: {},
    status: null,
  };
  window.pipcam = state;

  // ---- storage (private modes may refuse it)
  const store = {
    get() { try { return localStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; } },
    set(v) { try { localStorage.setItem(TOKEN_KEY, v); return true; } catch { return false; } },
    clear() { try { localStorage.removeItem(TOKEN_KEY); } catch { /* nothing kept */ } },
  };

  function setMode(mode, reason) {
    state.mode = mode;
    state.reason = reason || '';
    const badge = $('mode');
    badge.textContent = mode === 'webrtc' ? 'WebRTC' : mode === 'mjpeg' ? 'MJPEG' : mode;
    badge.className = 'badge ' + mode;
    const notice = $('notice');
    notice.hidden = !reason;
    notice.textContent = reason ? reason : '';
    $('retry').hidden = mode !== 'mjpeg' || typeof RTCPeerConnection !== 'function';
  }

  // ---- WebRTC (WHEP)

  // iceServersFromLink reads the ICE servers pipcam lists in the Link
  // header of OPTIONS /whep (none on a plain LAN).
  function iceServersFromLink(link) {
    const out = [];
    if (!link) return out;
    for (const part of link.split(/,(?=\s*<)/)) {
      const m = part.match(/<([^>]+)>(.*)/);
      if (!m || !/rel="?ice-server"?/i.test(m[2])) continue;
      const s = { urls: m[1] };
      const user = m[2].match(/username="([^"]*)"/i);
      const cred = m[2].match(/credential="([^"]*)"/i);
      if (user) s.username = user[1];
      if (cred) s.credential = cred[1];
      out.push(s);
    }
    return out;
  }

  function gathered(pc, ms) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); pc.removeEventListener('icegatheringstatechange', check); resolve(); };
      const check = () => { if (pc.iceGatheringState === 'complete') done(); };
      const timer = setTimeout(done, ms); // send what we have
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  // tune asks the browser to play as soon as it can: no jitter buffer
  // beyond what the network needs.
  function tune(receiver) {
    try { if ('jitterBufferTarget' in receiver) receiver.jitterBufferTarget = 0; } catch { /* older browser */ }
    try { receiver.playoutDelayHint = 0; } catch { /* not Chromium */ }
  }

  async function inboundVideo(pc) {
    const report = await pc.getStats();
    let inbound = null;
    let pair = null;
    let selectedPairId = null;
    report.forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') inbound = s;
      if (s.type === 'transport' && s.selectedCandidatePairId) selectedPairId = s.selectedCandidatePairId;
    });
    report.forEach((s) => {
      if (s.type !== 'candidate-pair') return;
      if (selectedPairId ? s.id === selectedPairId : s.nominated && s.state === 'succeeded') pair = s;
    });
    return { inbound, pair };
  }

  function firstFrame(pc, ms) {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + ms;
      const tick = async () => {
        if (pc !== state.pc) return reject(new Error('replaced'));
        if (pc.connectionState === 'failed') {
          return reject(new Error('WebRTC could not connect (ICE failed): a firewall may block UDP to the Pi, or the address pipcam offers is not reachable from here'));
        }
        try {
          const { inbound } = await inboundVideo(pc);
          if (inbound && inbound.framesDecoded > 0) return resolve();
        } catch { /* stats not ready yet */ }
        if (Date.now() > deadline) {
          const st = pc.connectionState;
          return reject(new Error(st === 'connected'
            ? `connected, but no video frame was decoded within ${ms / 1000} s`
            : `WebRTC did not connect within ${ms / 1000} s (state ${st})`));
        }
        setTimeout(tick, 200);
      };
      tick();
    });
  }

  async function startWebRTC() {
    if (typeof RTCPeerConnection !== 'function') {
      throw new Error('this browser has no WebRTC (RTCPeerConnection is missing or blocked)');
    }
    let iceServers = [];
    try {
      const opt = await fetch('whep', { method: 'OPTIONS' });
      iceServers = iceServersFromLink(opt.headers.get('Link'));
    } catch { /* the POST below says what is wrong */ }
    const pc = new RTCPeerConnection({ iceServers });
    state.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addEventListener('track', (ev) => {
      tune(ev.receiver);
      const video = $('video');
      video.srcObject = ev.streams[0] || new MediaStream([ev.track]);
      video.play().catch(() => { /* muted autoplay is allowed; nothing to do */ });
    });
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, 2000);
    let res;
    try {
      res = await fetch('whep', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: pc.localDescription.sdp,
      });
    } catch (e) {
      throw new Error(`could not reach pipcam's WHEP endpoint (${e.message})`);
    }
    const body = await res.text();
    if (res.status !== 201) {
      throw new Error(`pipcam refused the WebRTC offer: ${res.status} ${errorText(body)}`);
    }
    const loc = res.headers.get('Location');
    state.session = loc ? new URL(loc, new URL('whep', document.baseURI)).href : null;
    await pc.setRemoteDescription({ type: 'answer', sdp: body });
    await firstFrame(pc, FIRST_FRAME_MS);
    pc.addEventListener('connectionstatechange', () => {
      if (pc === state.pc && (pc.connectionState === 'failed' || pc.connectionState === 'closed')) {
        fallBack(new Error(`the WebRTC connection ${pc.connectionState}`));
      }
    });
  }

  function stopWebRTC() {
    const pc = state.pc;
    state.pc = null;
    if (pc) pc.close();
    if (state.session) {
      fetch(state.session, { method: 'DELETE', keepalive: true }).catch(() => {});
      state.session = null;
    }
  }

  // fallBack shows MJPEG and says why WebRTC is not playing.
  function fallBack(err) {
    stopWebRTC();
    $('video').hidden = true;
    const img = $('mjpeg');
    img.hidden = false;
    if (!img.getAttribute('src')) img.src = '?action=stream';
    setMode('mjpeg', `WebRTC: ${err.message}. Showing MJPEG instead (more bandwidth, more delay).`);
  }

  async function play() {
    setMode('connecting', '');
    const img = $('mjpeg');
    img.hidden = true;
    img.removeAttribute('src'); // ends the MJPEG stream
    $('video').hidden = false;
    try {
      await startWebRTC();
      setMode('webrtc', '');
    } catch (e) {
      if (e.message !== 'replaced') fallBack(e);
    }
  }

  // ---- figures

  let lastBytes = null;
  async function playerFigures() {
    const pc = state.pc;
    if (!pc) return;
    let s;
    try { s = await inboundVideo(pc); } catch { return; }
    const v = s.inbound;
    if (!v) return;
    const now = performance.now();
    let kbps = null;
    if (lastBytes && now > lastBytes.t) kbps = (v.bytesReceived - lastBytes.b) * 8 / (now - lastBytes.t);
    lastBytes = { b: v.bytesReceived, t: now };
    const st = {
      framesDecoded: v.framesDecoded || 0,
      fps: v.framesPerSecond || 0,
      width: v.frameWidth || 0,
      height: v.frameHeight || 0,
      kbps,
      rttMs: s.pair && s.pair.currentRoundTripTime != null ? s.pair.currentRoundTripTime * 1000 : null,
      decodeMs: v.framesDecoded ? v.totalDecodeTime / v.framesDecoded * 1000 : null,
      jitterMs: v.jitterBufferEmittedCount ? v.jitterBufferDelay / v.jitterBufferEmittedCount * 1000 : null,
      lost: v.packetsLost || 0,
      dropped: v.framesDropped || 0,
    };
    state.stats = st;
    $('f-received').textContent = `${st.width}×${st.height} at ${st.fps.toFixed(0)} fps` + (kbps != null ? `, ${kbps.toFixed(0)} kbit/s` : '');
    $('f-rtt').textContent = st.rttMs != null ? `${st.rttMs.toFixed(0)} ms` : '–';
    $('f-decoded').textContent = `${st.framesDecoded} frames`;
    $('f-decode').textContent = st.decodeMs != null ? `${st.decodeMs.toFixed(1)} ms per frame` : '–';
    $('f-jitter').textContent = st.jitterMs != null ? `${st.jitterMs.toFixed(0)} ms` : '–';
    $('f-lost').textContent = `${st.lost} packets / ${st.dropped} frames`;
  }

  async function serverFigures() {
    let st;
    try {
      const res = await fetch('api/status', { cache: 'no-store' });
      if (!res.ok) return;
      st = await res.json();
    } catch { return; }
    state.status = st;
    const s = st.stream || {};
    const g = st.graph || {};
    $('f-stream').textContent = `${num(s.bitrate_kbps)} kbit/s, ${num(s.fps)} fps` + (g.width ? `, ${g.width}×${g.height}` : '') + (g.encoder ? ` (${g.encoder})` : '');
    $('f-viewers').textContent = `${st.viewers ?? 0} WebRTC`;
    showPrint(st.overlay);
    if (g.layout) showLayout(g.layout); // another client may have changed it
  }

  const num = (x) => (typeof x === 'number' ? String(Math.round(x * 10) / 10) : '–');

  // showPrint shows the printer from the overlay section of /api/status
  // when there is a printer: its state in words, the job's progress
  // (percent), file, layer and time left, and the overlay's text.
  function showPrint(o) {
    const box = $('print');
    const printer = (o && o.printer) || {};
    if (!o || !printer.source) { box.hidden = true; return; }
    box.hidden = false;
    const job = printer.job || {};
    $('print-state').textContent = printer.state_text || printer.state || '';
    const p = typeof job.progress === 'number' ? Math.max(0, Math.min(100, job.progress)) : null;
    const bar = $('print-progress');
    if (p != null) bar.value = p; else bar.removeAttribute('value');
    const parts = [];
    if (p != null) parts.push(`${p.toFixed(1)} %`);
    if (job.layer != null) parts.push(`layer ${job.layer}` + (job.layers != null ? ` of ${job.layers}` : ''));
    if (typeof job.left_s === 'number') parts.push(`${duration(job.left_s)} left`);
    $('print-pct').textContent = parts.join(' · ');
    $('print-text').textContent = [job.file, o.text].filter(Boolean).join('\n');
  }

  function duration(s) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return h ? `${h} h ${m} min` : `${m} min`;
  }

  // ---- layout

  function showLayout(l) {
    state.layout = l;
    // "Main only" and "Inset only" name the cameras as the layout has them
    // now: "Inset only" swaps them and shows one, so the picture shown is
    // always the layout's main.
    document.querySelectorAll('[data-mode]').forEach((b) => {
      const m = b.dataset.mode;
      b.setAttribute('aria-pressed', String(m === l.mode || (m === 'main' && l.mode === 'single')));
    });
    document.querySelectorAll('[data-corner]').forEach((b) => {
      b.setAttribute('aria-pressed', String(b.dataset.corner === l.corner));
      b.disabled = l.mode !== 'pip';
    });
    const noInset = !l.inset;
    $('swap').disabled = noInset;
    document.querySelectorAll('[data-mode="inset"],[data-mode="pip"],[data-mode="side-by-side"]').forEach((b) => { b.disabled = noInset; });
    const size = $('size');
    if (document.activeElement !== size) size.value = l.size;
    $('size-out').textContent = `${Math.round(l.size * 100)} %`;
    size.disabled = l.mode !== 'pip';
    $('layout-now').textContent = `main: ${l.main}` + (l.inset ? `, inset: ${l.inset}` : '') + `, ${l.mode}`;
  }

  function layoutMessage(text) {
    const m = $('layout-msg');
    m.hidden = !text;
    m.textContent = text || '';
    if (text) $('token-box').open = true;
  }

  async function putLayout(change) {
    const token = store.get();
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = 'Bearer ' + token;
    let res;
    try {
      res = await fetch('api/layout', { method: 'PUT', headers, body: JSON.stringify(change) });
    } catch (e) {
      layoutMessage(`Could not reach pipcam: ${e.message}`);
      return false;
    }
    const body = await res.text();
    if (res.status === 401) {
      layoutMessage(token
        ? 'The control token is wrong. Run "pipcam token" on the Pi and paste what it prints below.'
        : 'Changing the layout needs the control token. Run "pipcam token" on the Pi and paste what it prints below.');
      return false;
    }
    if (!res.ok) {
      layoutMessage(`pipcam refused the change: ${errorText(body)}`);
      return false;
    }
    layoutMessage('');
    try { showLayout(JSON.parse(body)); } catch { /* shown at the next status */ }
    return true;
  }

  function errorText(body) {
    try { return JSON.parse(body).error || body; } catch { return body.trim(); }
  }

  async function loadLayout() {
    try {
      const res = await fetch('api/layout', { cache: 'no-store' });
      if (res.ok) showLayout(await res.json());
    } catch { /* the status poll tries again */ }
  }

  function wireControls() {
    $('swap').addEventListener('click', () => {
      const l = state.layout;
      if (l && l.inset) putLayout({ main: l.inset, inset: l.main });
    });
    document.querySelectorAll('[data-mode]').forEach((b) => b.addEventListener('click', () => {
      const l = state.layout;
      if (!l) return;
      const m = b.dataset.mode;
      if (m === 'main') putLayout({ mode: 'single' });
      else if (m === 'inset') putLayout({ mode: 'single', main: l.inset, inset: l.main });
      else putLayout({ mode: m });
    }));
    document.querySelectorAll('[data-corner]').forEach((b) => b.addEventListener('click', () => putLayout({ corner: b.dataset.corner })));
    const size = $('size');
    size.addEventListener('input', () => { $('size-out').textContent = `${Math.round(size.value * 100)} %`; });
    size.addEventListener('change', () => putLayout({ size: Number(size.value) }));

    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const v = $('token').value.trim();
      if (!v) return;
      $('token-state').textContent = store.set(v) ? 'Token saved in this browser.' : 'This browser refused to keep the token (private mode?).';
      $('token').value = '';
      layoutMessage('');
    });
    $('token-forget').addEventListener('click', () => {
      store.clear();
      $('token-state').textContent = 'No token kept in this browser.';
    });
    $('token-state').textContent = store.get() ? 'A token is saved in this browser.' : 'No token kept in this browser.';
    $('retry').addEventListener('click', play);
  }

  // ---- start

  wireControls();
  loadLayout();
  play();
  serverFigures();
  setInterval(serverFigures, 2000);
  setInterval(playerFigures, 1000);
  window.addEventListener('pagehide', stopWebRTC);
})();
