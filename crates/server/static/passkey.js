// Runs the WebAuthn ceremony for a passkey page (templates/passkey.html):
// when the form is submitted, ask the browser for the passkey, put its
// answer in the hidden "credential" field and submit for real. Binary
// fields travel as base64url, which is what the server expects.
(function () {
  'use strict';
  var form = document.getElementById('passkey-form');
  if (!form) { return; }
  var failed = document.getElementById('passkey-failed');

  function toB64(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function fromB64(s) {
    var bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }
  function ids(list) {
    (list || []).forEach(function (c) { c.id = fromB64(c.id); });
  }

  async function ceremony() {
    var o = JSON.parse(form.getAttribute('data-options'));
    o.challenge = fromB64(o.challenge);
    if (form.getAttribute('data-mode') === 'create') {
      o.user.id = fromB64(o.user.id);
      ids(o.excludeCredentials);
      var c = await navigator.credentials.create({ publicKey: o });
      return {
        id: c.id, rawId: toB64(c.rawId), type: c.type, extensions: {},
        response: {
          attestationObject: toB64(c.response.attestationObject),
          clientDataJSON: toB64(c.response.clientDataJSON)
        }
      };
    }
    ids(o.allowCredentials);
    var a = await navigator.credentials.get({ publicKey: o });
    return {
      id: a.id, rawId: toB64(a.rawId), type: a.type, extensions: {},
      response: {
        authenticatorData: toB64(a.response.authenticatorData),
        clientDataJSON: toB64(a.response.clientDataJSON),
        signature: toB64(a.response.signature),
        userHandle: a.response.userHandle ? toB64(a.response.userHandle) : null
      }
    };
  }

  form.addEventListener('submit', function (ev) {
    if (form.elements.credential.value) { return; }
    ev.preventDefault();
    if (failed) { failed.hidden = true; }
    if (!window.PublicKeyCredential) {
      if (failed) { failed.hidden = false; failed.focus(); }
      return;
    }
    ceremony().then(function (answer) {
      form.elements.credential.value = JSON.stringify(answer);
      form.submit();
    }, function () {
      if (failed) { failed.hidden = false; failed.focus(); }
    });
  });
}());
