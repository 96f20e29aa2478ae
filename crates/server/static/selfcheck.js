// "Är det mitt nät eller tjänsten?": the seed's checks, run by the browser.
// Each check is a request with a time limit; an answer from the address
// (even an opaque one) means it is reachable.
(function () {
  'use strict';
  var box = document.getElementById('selfcheck');
  if (!box) { return; }

  function reach(url, opaque) {
    if (!url) { return Promise.resolve(null); }
    var ctl = new AbortController();
    var timer = setTimeout(function () { ctl.abort(); }, 6000);
    var opts = { cache: 'no-store', signal: ctl.signal, mode: opaque ? 'no-cors' : 'cors' };
    return fetch(url, opts).then(function (r) {
      clearTimeout(timer);
      return opaque ? true : r.ok;
    }, function () { clearTimeout(timer); return false; });
  }

  // A check this page cannot make (not set up here, or no answer to ask)
  // is left out: "not configured" means nothing to the person reading.
  function show(id, result, names) {
    var li = document.getElementById(id);
    if (!li) { return; }
    if (result === null) { li.hidden = true; return; }
    var el = li.querySelector('.result');
    var key = result ? 'ok' : 'fail';
    el.textContent = el.getAttribute('data-' + key).replace('{names}', names || '');
    el.className = 'result ' + key;
  }

  ['check-outside', 'check-portvakt', 'check-copy', 'check-probes'].forEach(function (id) {
    var el = document.querySelector('#' + id + ' .result');
    if (el) { el.textContent = el.getAttribute('data-wait'); }
  });

  // Paths on this site can be read; other sites answer opaquely, which
  // still proves they are reachable.
  var portvakt = box.getAttribute('data-portvakt');
  Promise.all([
    reach(box.getAttribute('data-outside'), true),
    reach(portvakt, portvakt.charAt(0) !== '/'),
    reach(box.getAttribute('data-copy'), true)
  ]).then(function (r) {
    var outside = r[0], portvakt = r[1], copy = r[2];
    show('check-outside', outside);
    show('check-portvakt', portvakt);
    show('check-copy', copy);
    var answer = document.getElementById('check-answer');
    var say = function (key, names) {
      answer.textContent = answer.getAttribute('data-' + key).replace('{names}', names || '');
    };
    var statusUrl = box.getAttribute('data-status');
    if (!statusUrl || !portvakt) { show('check-probes', null); }
    if (outside === false && !portvakt) { say('net'); return; }
    if (portvakt === null) { say(outside ? 'fine-net' : 'unknown'); return; }
    if (!portvakt) { say(copy === false ? 'down' : 'down-copy'); return; }
    if (!statusUrl) { say('fine'); return; }
    // Portvakt answers: what do its status page and its probes know?
    fetch(statusUrl, { cache: 'no-store' }).then(function (res) { return res.json(); }).then(function (s) {
      var comps = s.components || [];
      var bad = comps.some(function (c) { return c.state !== 'operational'; });
      var probes = s.probes || { watching: 0 };
      var names = function (keep) {
        return comps.filter(keep).map(function (c) { return c.name; }).join(', ');
      };
      var down = names(function (c) { return c.detected_by_probe; });
      // Say what was checked: only the services the probes watch.
      var watched = names(function (c) { return c.checked_automatically; });
      if (!probes.watching || !watched) { show('check-probes', null); } else { show('check-probes', !down, down || watched); }
      if (down) { say('probe-down', down); return; }
      if (bad) { say('disruption'); return; }
      if (probes.watching && watched) { say('fine-probes', watched); return; }
      say('fine');
    }, function () { show('check-probes', null); say('fine'); });
  });
}());
