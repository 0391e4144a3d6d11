// The portal's only script: the passkey (WebAuthn) ceremony of the forms marked
// data-passkey="create" or "get". It turns the server's options (JSON in data-passkey-options,
// binary fields in base64url) into what navigator.credentials takes, asks the browser, and posts
// the answer as the form field `credential` (JSON, binary fields in base64url). Without it the
// passkey buttons stay disabled; nothing else on the pages needs it.
'use strict';

(function () {
  function toBuffer(text) {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    const padded = base64 + '='.repeat((4 - (base64.length % 4)) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    const bytes = new Uint8Array(buffer);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 1) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // Absent options arrive as null, which the browser's option parsing rejects: drop them.
  function withoutNulls(value) {
    if (Array.isArray(value)) return value.map(withoutNulls);
    if (value === null || typeof value !== 'object') return value;
    const out = {};
    Object.keys(value).forEach((name) => {
      if (value[name] !== null) out[name] = withoutNulls(value[name]);
    });
    return out;
  }

  function creationOptions(options) {
    const key = withoutNulls(options.publicKey);
    key.challenge = toBuffer(key.challenge);
    key.user.id = toBuffer(key.user.id);
    (key.excludeCredentials || []).forEach((credential) => {
      credential.id = toBuffer(credential.id);
    });
    return { publicKey: key };
  }

  function requestOptions(options) {
    const key = withoutNulls(options.publicKey);
    key.challenge = toBuffer(key.challenge);
    (key.allowCredentials || []).forEach((credential) => {
      credential.id = toBuffer(credential.id);
    });
    return { publicKey: key };
  }

  function extensions(credential) {
    try {
      return credential.getClientExtensionResults();
    } catch (_) {
      return {};
    }
  }

  function created(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      extensions: extensions(credential),
      response: {
        attestationObject: toText(credential.response.attestationObject),
        clientDataJSON: toText(credential.response.clientDataJSON),
        transports: credential.response.getTransports ? credential.response.getTransports() : [],
      },
    };
  }

  function asserted(credential) {
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      extensions: extensions(credential),
      response: {
        authenticatorData: toText(credential.response.authenticatorData),
        clientDataJSON: toText(credential.response.clientDataJSON),
        signature: toText(credential.response.signature),
        userHandle: toText(credential.response.userHandle),
      },
    };
  }

  function wire(form) {
    const button = form.querySelector('button[type=submit]');
    const error = document.getElementById('passkey-error');
    if (!window.PublicKeyCredential || !navigator.credentials) return;
    if (button) button.disabled = false;
    let answered = false;
    form.addEventListener('submit', async (event) => {
      if (answered) return;
      event.preventDefault();
      if (!form.reportValidity()) return;
      if (error) error.hidden = true;
      if (button) button.disabled = true;
      try {
        const options = JSON.parse(form.dataset.passkeyOptions);
        const credential = form.dataset.passkey === 'create'
          ? created(await navigator.credentials.create(creationOptions(options)))
          : asserted(await navigator.credentials.get(requestOptions(options)));
        form.elements.credential.value = JSON.stringify(credential);
        answered = true;
        if (button && button.name) {
          const chosen = document.createElement('input');
          chosen.type = 'hidden';
          chosen.name = button.name;
          chosen.value = button.value;
          form.appendChild(chosen);
        }
        form.submit();
      } catch (failure) {
        if (button) button.disabled = false;
        if (error) {
          error.hidden = false;
          error.focus();
        }
      }
    });
  }

  document.querySelectorAll('form[data-passkey]').forEach(wire);
}());
