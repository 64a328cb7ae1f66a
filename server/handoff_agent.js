// sitebot agent inbox: plain JS, no dependencies. Everything from the API
// is shown with textContent, never parsed as HTML.
(function () {
  'use strict';
  var KEY = 'sitebot-admin-key';
  var current = null; // the handoff shown
  function $(id) { return document.getElementById(id); }
  function key() { return sessionStorage.getItem(KEY) || ''; }
  function node(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = String(text);
    return n;
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }
  function showError(msg) { $('error').textContent = msg || ''; }

  async function api(method, path, body) {
    var opts = { method: method, headers: { 'Authorization': 'Bearer ' + key(), 'Accept': 'application/json' } };
    if (body !== undefined) { opts.headers['Content-Type'] = 'application/json'; opts.body = JSON.stringify(body); }
    var res = await fetch(path, opts);
    var data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (res.status === 401 || res.status === 403) { sessionStorage.removeItem(KEY); signedIn(); }
    if (!res.ok) throw new Error((data && data.error) ? data.error : 'HTTP ' + res.status);
    return data;
  }

  function signedIn() {
    var ok = key() !== '';
    $('login').hidden = ok;
    $('app').hidden = !ok;
    if (ok) refresh();
  }

  async function refresh() {
    showError('');
    try {
      var data = await api('GET', '/api/admin/handoffs?status=' + encodeURIComponent($('status').value));
      var list = $('list');
      clear(list);
      (data.handoffs || []).forEach(function (h) {
        var li = node('li');
        var b = node('button');
        b.type = 'button';
        b.dataset.id = h.id;
        b.setAttribute('aria-current', current && current.id === h.id ? 'true' : 'false');
        b.appendChild(node('div', '', h.reason + (h.contact ? ' — ' + h.contact : '')));
        b.appendChild(node('div', 'meta', h.status + ' · ' + new Date(h.created_at).toLocaleString()));
        b.addEventListener('click', function () { show(h.id); });
        li.appendChild(b);
        list.appendChild(li);
      });
      $('empty').hidden = (data.handoffs || []).length > 0;
      if (current) await show(current.id);
    } catch (e) { showError(e.message); }
  }

  async function show(id) {
    try {
      var h = await api('GET', '/api/admin/handoffs/' + encodeURIComponent(id));
      current = h;
      $('detail').hidden = false;
      $('summary').textContent = 'Handoff ' + h.id + ' · ' + h.status + ' · reason: ' + h.reason +
        (h.contact ? ' · contact: ' + h.contact : '') + (h.customer_id ? ' · customer ' + h.customer_id + ' (verified)' : '');
      var dl = $('profile');
      clear(dl);
      var names = h.profile ? Object.keys(h.profile).sort() : [];
      names.forEach(function (k) { dl.appendChild(node('dt', '', k)); dl.appendChild(node('dd', '', h.profile[k])); });
      $('noprofile').hidden = names.length > 0;
      var tr = $('transcript');
      clear(tr);
      (h.transcript || []).forEach(function (m) {
        var d = node('div', 'msg ' + (m.role === 'user' || m.role === 'agent' ? m.role : 'assistant'));
        d.appendChild(node('div', 'meta', m.role + ' · ' + new Date(m.at).toLocaleString()));
        d.appendChild(node('div', '', m.content));
        tr.appendChild(d);
      });
      var closed = h.status === 'closed';
      $('reply').querySelectorAll('button, textarea').forEach(function (b) { b.disabled = closed; });
    } catch (e) { showError(e.message); }
  }

  async function end(action) {
    if (!current) return;
    try { await api('POST', '/api/admin/handoffs/' + encodeURIComponent(current.id) + '/' + action); await refresh(); } catch (e) { showError(e.message); }
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('login').addEventListener('submit', function (e) {
      e.preventDefault();
      sessionStorage.setItem(KEY, $('key').value.trim());
      $('key').value = '';
      signedIn();
    });
    $('logout').addEventListener('click', function () { sessionStorage.removeItem(KEY); current = null; signedIn(); });
    $('refresh').addEventListener('click', refresh);
    $('status').addEventListener('change', refresh);
    $('reply').addEventListener('submit', async function (e) {
      e.preventDefault();
      var text = $('text').value.trim();
      if (!text || !current) return;
      try {
        await api('POST', '/api/admin/handoffs/' + encodeURIComponent(current.id) + '/reply', { text: text });
        $('text').value = '';
        await show(current.id);
      } catch (err) { showError(err.message); }
    });
    $('handback').addEventListener('click', function () { end('handback'); });
    $('close').addEventListener('click', function () { end('close'); });
    signedIn();
    setInterval(function () { if (key()) refresh(); }, 5000);
  });
})();
