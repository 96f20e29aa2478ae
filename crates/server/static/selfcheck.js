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

  function show(id, result) {
    var el = document.querySelector('#' + id + ' .result');
    var key = result === null ? 'skip' : (result ? 'ok' : 'fail');
    el.textContent = el.getAttribute('data-' + key);
    // "skip" is taken by the skip link's class.
    el.className = 'result ' + (key === 'skip' ? 'unset' : key);
  }

  ['check-outside', 'check-portvakt', 'check-copy'].forEach(function (id) {
    var el = document.querySelector('#' + id + ' .result');
    el.textContent = el.getAttribute('data-wait');
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
    var say = function (key) { answer.textContent = answer.getAttribute('data-' + key); };
    if (outside === false && !portvakt) { say('net'); return; }
    if (portvakt === null) { say(outside ? 'fine-net' : 'unknown'); return; }
    if (!portvakt) { say(copy === false ? 'down' : 'down-copy'); return; }
    var statusUrl = box.getAttribute('data-status');
    if (!statusUrl) { say('fine'); return; }
    // Portvakt answers: does its status page know of a disruption?
    fetch(statusUrl, { cache: 'no-store' }).then(function (res) { return res.json(); }).then(function (s) {
      var bad = (s.components || []).some(function (c) { return c.state !== 'operational'; });
      say(bad ? 'disruption' : 'fine');
    }, function () { say('fine'); });
  });
}());
