// Wiredesk web desk — progressive enhancement for the server-rendered pages.
// Loaded with `defer` on every /desk page; each feature starts only when its
// elements are present, and every page works without this file.
'use strict';

(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  // True when the session is gone: 401/403, or fetch followed a redirect to the sign-in page.
  function signedOut(res) {
    if (res.status === 401 || res.status === 403 || res.type === 'opaqueredirect') return true;
    if (res.redirected) {
      try { return new URL(res.url, location.href).pathname.indexOf('/desk/signin') === 0; } catch (e) { return true; }
    }
    return false;
  }

  // ---- Queue page: live refresh of #queue-results on story events ----
  function initQueue() {
    var section = document.querySelector('#queue-results[data-refresh]');
    if (!section || !window.EventSource || !window.fetch) return;

    var source = null;
    var timer = null;
    var busy = false;
    var again = false;
    var stopped = false;
    var last = null;

    async function refresh() {
      if (stopped) return;
      if (busy) { again = true; return; }
      busy = true;
      try {
        var res = await fetch(section.dataset.refresh, {
          credentials: 'same-origin',
          headers: { 'Accept': 'text/html' }
        });
        if (signedOut(res)) { stop(); return; }
        if (!res.ok) return;
        var html = await res.text();
        if (stopped || html === last) return;
        last = html;
        replace(html);
      } catch (e) {
        // Network hiccup: the next story event tries again.
      } finally {
        busy = false;
        if (again && !stopped) { again = false; schedule(); }
      }
    }

    function replace(html) {
      var active = document.activeElement;
      var hadFocus = active && active !== section && section.contains(active);
      var href = hadFocus ? active.getAttribute('href') : null;
      section.innerHTML = html;
      if (!hadFocus) return;
      var target = null;
      if (href) {
        var links = section.querySelectorAll('a[href]');
        for (var i = 0; i < links.length; i++) {
          if (links[i].getAttribute('href') === href) { target = links[i]; break; }
        }
      }
      if (!target) {
        // The focused row went away: keep focus in the results rather than losing it to <body>.
        section.setAttribute('tabindex', '-1');
        target = section;
      }
      target.focus({ preventScroll: true });
    }

    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(refresh, 300);
    }

    function start() {
      stopped = false;
      source = new EventSource('/desk/events');
      source.addEventListener('story', schedule);
    }

    function stop() {
      stopped = true;
      clearTimeout(timer);
      if (source) { source.close(); source = null; }
    }

    start();
    window.addEventListener('pagehide', stop);
    window.addEventListener('pageshow', function (event) {
      // Restored from the back/forward cache: reconnect and catch up at once.
      if (event.persisted && !source) { start(); refresh(); }
    });
  }

  // ---- Story page: presence heartbeat ----
  function initPresence() {
    var aside = document.querySelector('#presence[data-story]');
    if (!aside || !window.fetch) return;
    var url = '/desk/stories/' + encodeURIComponent(aside.dataset.story) + '/presence';
    var timer = null;
    var last = null;
    var ended = false; // signed out or forbidden: never restart

    async function beat() {
      try {
        var res = await fetch(url, {
          method: 'POST',
          headers: { 'X-CSRF-Token': csrfToken() },
          credentials: 'same-origin'
        });
        if (signedOut(res)) { ended = true; stop(); return; }
        if (!res.ok) return;
        var html = await res.text();
        // Only touch the live region when something changed, so screen readers stay quiet.
        if (timer !== null && html !== last) { last = html; aside.innerHTML = html; }
      } catch (e) {
        // Offline for a moment: the next beat tries again.
      }
    }

    function start() {
      if (ended || timer !== null) return;
      timer = setInterval(beat, 10000);
      beat();
    }

    function stop() {
      clearInterval(timer);
      timer = null;
    }

    start();
    window.addEventListener('pagehide', stop);
    window.addEventListener('pageshow', function (event) {
      if (event.persisted) start();
    });
  }

  // ---- Transitions that are hard to undo ask first ----
  var confirmations = {
    spike: 'Spike this story?',
    kill: 'Kill this story? This cannot be undone.'
  };

  function initTransitions() {
    document.addEventListener('submit', function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.classList.contains('transition')) return;
      var message = confirmations[form.dataset.transition];
      if (message && !window.confirm(message)) event.preventDefault();
    });
  }

  // ---- Story form: warn before leaving with unsaved changes ----
  function initUnsaved() {
    var form = document.getElementById('story-form');
    if (!form) return;

    function warn(event) {
      event.preventDefault();
      event.returnValue = '';
      return '';
    }
    // The listener is only attached while dirty, so a clean page stays eligible for the back/forward cache.
    var dirty = false;
    function setDirty(value) {
      if (value === dirty) return;
      dirty = value;
      if (dirty) window.addEventListener('beforeunload', warn);
      else window.removeEventListener('beforeunload', warn);
    }

    // After a refused save or a conflict the form holds text that is not saved yet.
    if (document.getElementById('conflict') || document.getElementById('form-error')) setDirty(true);

    form.addEventListener('input', function () { setDirty(true); });
    form.addEventListener('submit', function () { setDirty(false); });
  }

  // One feature failing (an old browser, a missing API) must not take the others down.
  [initQueue, initPresence, initTransitions, initUnsaved].forEach(function (init) {
    try { init(); } catch (e) { if (window.console) console.error(e); }
  });
})();
