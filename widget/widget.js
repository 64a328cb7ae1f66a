/*! sitebot chat widget. Plain ES2017, no dependencies, no external requests
 * other than to the sitebot server it was loaded from.
 *
 * <script src="https://SERVER/widget.js" data-sitebot-server="https://SERVER" defer></script>
 * Optional attributes: data-customer-id, data-customer-token (hex HMAC-SHA256 of the
 * id under the server's identity secret, computed by your backend), data-title,
 * data-lang (en, de, fr, es, fi, ru, sv, lv; default: the page's language).
 */
(function () {
  'use strict';

  if (window.__sitebotWidget) return; // loaded twice: keep the first
  window.__sitebotWidget = true;

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    script = all.length ? all[all.length - 1] : null;
  }
  var data = (script && script.dataset) || {};

  var MAX_MESSAGE = 2000;
  var MAX_STORED = 40;

  var STRINGS = {
    en: {
      title: 'Help', open: 'Open chat', close: 'Close chat',
      welcome: 'Hi! I am an AI assistant. I answer from the pages of this site. You can ask for a person at any time.',
      human: 'Talk to a person', humanMessage: 'I would like to talk to a person.',
      placeholder: 'Ask a question…', label: 'Your question', send: 'Send',
      sources: 'Sources', quoted: 'Quoted from our pages',
      error: 'Sorry, something went wrong. Please try again in a moment.',
      busy: 'Sorry, I can only take one question at a time.',
      tooLong: 'Please keep your message under 2000 characters.',
      handoff: 'A person from our team will take over.', refused: 'Not found on this site.',
      contactLabel: 'Your e-mail (or phone), so we can reply', contactPlaceholder: 'you@example.com', contactSend: 'Send',
      contactThanks: 'Thank you! We will reply to {c}.', contactInvalid: 'Please enter a valid e-mail address or phone number.',
      contactFailed: 'Sorry, that did not work. Please try again.'
    },
    de: {
      title: 'Hilfe', open: 'Chat öffnen', close: 'Chat schließen',
      welcome: 'Hallo! Ich bin ein KI-Assistent und antworte anhand der Seiten dieser Website. Sie können jederzeit nach einem Menschen fragen.',
      human: 'Mit einem Menschen sprechen', humanMessage: 'Ich möchte mit einem Mitarbeiter sprechen.',
      placeholder: 'Stellen Sie eine Frage…', label: 'Ihre Frage', send: 'Senden',
      sources: 'Quellen', quoted: 'Zitiert von unseren Seiten',
      error: 'Entschuldigung, etwas ist schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.',
      busy: 'Bitte warten Sie auf die Antwort.',
      tooLong: 'Bitte schreiben Sie weniger als 2000 Zeichen.',
      handoff: 'Ein Mitarbeiter übernimmt.', refused: 'Nicht auf dieser Website gefunden.',
      contactLabel: 'Ihre E-Mail-Adresse (oder Telefonnummer) für unsere Antwort', contactPlaceholder: 'sie@beispiel.de', contactSend: 'Senden',
      contactThanks: 'Danke! Wir antworten an {c}.', contactInvalid: 'Bitte geben Sie eine gültige E-Mail-Adresse oder Telefonnummer ein.',
      contactFailed: 'Das hat leider nicht geklappt. Bitte versuchen Sie es noch einmal.'
    },
    fr: {
      title: 'Aide', open: 'Ouvrir le chat', close: 'Fermer le chat',
      welcome: 'Bonjour ! Je suis un assistant IA. Je réponds à partir des pages de ce site. Vous pouvez demander à parler à un humain à tout moment.',
      human: 'Parler à un conseiller', humanMessage: 'Je voudrais parler à un conseiller.',
      placeholder: 'Posez une question…', label: 'Votre question', send: 'Envoyer',
      sources: 'Sources', quoted: 'Cité de nos pages',
      error: 'Désolé, une erreur est survenue. Veuillez réessayer dans un instant.',
      busy: 'Merci de patienter pendant la réponse.',
      tooLong: 'Merci de rester sous 2000 caractères.',
      handoff: 'Un conseiller va prendre le relais.', refused: 'Introuvable sur ce site.',
      contactLabel: 'Votre e-mail (ou téléphone), pour que nous puissions répondre', contactPlaceholder: 'vous@exemple.fr', contactSend: 'Envoyer',
      contactThanks: 'Merci ! Nous répondrons à {c}.', contactInvalid: 'Veuillez saisir une adresse e-mail ou un numéro de téléphone valide.',
      contactFailed: 'Désolé, cela n\'a pas fonctionné. Veuillez réessayer.'
    },
    es: {
      title: 'Ayuda', open: 'Abrir chat', close: 'Cerrar chat',
      welcome: '¡Hola! Soy un asistente de IA. Respondo a partir de las páginas de este sitio. Puede pedir hablar con una persona en cualquier momento.',
      human: 'Hablar con una persona', humanMessage: 'Quiero hablar con una persona.',
      placeholder: 'Haga una pregunta…', label: 'Su pregunta', send: 'Enviar',
      sources: 'Fuentes', quoted: 'Citado de nuestras páginas',
      error: 'Lo sentimos, algo salió mal. Inténtelo de nuevo en un momento.',
      busy: 'Espere la respuesta, por favor.',
      tooLong: 'Escriba menos de 2000 caracteres, por favor.',
      handoff: 'Una persona de nuestro equipo le atenderá.', refused: 'No se encontró en este sitio.',
      contactLabel: 'Su correo electrónico (o teléfono) para responderle', contactPlaceholder: 'usted@ejemplo.es', contactSend: 'Enviar',
      contactThanks: '¡Gracias! Responderemos a {c}.', contactInvalid: 'Introduzca un correo electrónico o un número de teléfono válido.',
      contactFailed: 'Lo sentimos, no ha funcionado. Inténtelo de nuevo.'
    },
    fi: {
      title: 'Apua', open: 'Avaa chat', close: 'Sulje chat',
      welcome: 'Hei! Olen tekoälyavustaja ja vastaan tämän sivuston sivujen perusteella. Voit milloin tahansa pyytää ihmistä.',
      human: 'Puhu ihmisen kanssa', humanMessage: 'Haluaisin puhua ihmisen kanssa.',
      placeholder: 'Kysy jotain…', label: 'Kysymyksesi', send: 'Lähetä',
      sources: 'Lähteet', quoted: 'Lainattu sivuiltamme',
      error: 'Pahoittelut, jokin meni vikaan. Yritä hetken kuluttua uudelleen.',
      busy: 'Odota vastausta, kiitos.',
      tooLong: 'Kirjoita alle 2000 merkkiä.',
      handoff: 'Asiakaspalvelumme ihminen jatkaa tästä.', refused: 'Ei löytynyt tältä sivustolta.',
      contactLabel: 'Sähköpostiosoitteesi (tai puhelinnumerosi) vastausta varten', contactPlaceholder: 'sina@esimerkki.fi', contactSend: 'Lähetä',
      contactThanks: 'Kiitos! Vastaamme osoitteeseen {c}.', contactInvalid: 'Anna kelvollinen sähköpostiosoite tai puhelinnumero.',
      contactFailed: 'Valitettavasti se ei onnistunut. Yritä uudelleen.'
    },
    ru: {
      title: 'Помощь', open: 'Открыть чат', close: 'Закрыть чат',
      welcome: 'Здравствуйте! Я ИИ-ассистент и отвечаю по страницам этого сайта. Вы в любой момент можете попросить соединить вас с человеком.',
      human: 'Связаться с оператором', humanMessage: 'Я хочу поговорить с оператором.',
      placeholder: 'Задайте вопрос…', label: 'Ваш вопрос', send: 'Отправить',
      sources: 'Источники', quoted: 'Цитата с наших страниц',
      error: 'Извините, что-то пошло не так. Попробуйте ещё раз чуть позже.',
      busy: 'Пожалуйста, дождитесь ответа.',
      tooLong: 'Пожалуйста, не более 2000 символов.',
      handoff: 'Разговор продолжит сотрудник.', refused: 'На сайте не найдено.',
      contactLabel: 'Ваш e-mail (или телефон) для ответа', contactPlaceholder: 'vy@primer.ru', contactSend: 'Отправить',
      contactThanks: 'Спасибо! Мы ответим на {c}.', contactInvalid: 'Введите корректный адрес e-mail или номер телефона.',
      contactFailed: 'Не получилось. Пожалуйста, попробуйте ещё раз.'
    },
    sv: {
      title: 'Hjälp', open: 'Öppna chatten', close: 'Stäng chatten',
      welcome: 'Hej! Jag är en AI-assistent och svarar utifrån sidorna på den här webbplatsen. Du kan när som helst be att få prata med en människa.',
      human: 'Prata med en människa', humanMessage: 'Jag vill prata med en människa.',
      placeholder: 'Ställ en fråga…', label: 'Din fråga', send: 'Skicka',
      sources: 'Källor', quoted: 'Citerat från våra sidor',
      error: 'Något gick fel. Försök igen om en stund.',
      busy: 'Vänta på svaret, tack.',
      tooLong: 'Skriv högst 2000 tecken.',
      handoff: 'En handläggare tar över.', refused: 'Hittades inte på webbplatsen.',
      contactLabel: 'Din e-postadress (eller ditt telefonnummer) för vårt svar', contactPlaceholder: 'du@exempel.se', contactSend: 'Skicka',
      contactThanks: 'Tack! Vi svarar till {c}.', contactInvalid: 'Ange en giltig e-postadress eller ett giltigt telefonnummer.',
      contactFailed: 'Det fungerade inte. Försök igen.'
    },
    lv: {
      title: 'Palīdzība', open: 'Atvērt tērzēšanu', close: 'Aizvērt tērzēšanu',
      welcome: 'Sveiki! Esmu MI asistents un atbildu, balstoties uz šīs vietnes lapām. Jebkurā brīdī varat lūgt sazināties ar cilvēku.',
      human: 'Runāt ar cilvēku', humanMessage: 'Es vēlos runāt ar cilvēku.',
      placeholder: 'Uzdodiet jautājumu…', label: 'Jūsu jautājums', send: 'Sūtīt',
      sources: 'Avoti', quoted: 'Citēts no mūsu lapām',
      error: 'Atvainojiet, radās kļūda. Lūdzu, mēģiniet vēlreiz pēc brīža.',
      busy: 'Lūdzu, uzgaidiet atbildi.',
      tooLong: 'Lūdzu, rakstiet mazāk par 2000 rakstzīmēm.',
      handoff: 'Sarunu turpinās mūsu darbinieks.', refused: 'Šajā vietnē netika atrasts.',
      contactLabel: 'Jūsu e-pasts (vai tālrunis) atbildei', contactPlaceholder: 'jus@piemers.lv', contactSend: 'Sūtīt',
      contactThanks: 'Paldies! Mēs atbildēsim uz {c}.', contactInvalid: 'Lūdzu, ievadiet derīgu e-pasta adresi vai tālruņa numuru.',
      contactFailed: 'Neizdevās. Lūdzu, mēģiniet vēlreiz.'
    }
  };

  function pickLang() {
    var cands = [data.lang, document.documentElement.lang].concat(navigator.languages || [navigator.language]);
    for (var i = 0; i < cands.length; i++) {
      var l = String(cands[i] || '').toLowerCase().split(/[-_]/)[0];
      if (STRINGS[l]) return l;
    }
    return 'en';
  }
  var T = STRINGS[pickLang()];

  // httpURL returns the absolute URL of u if it is http(s), else null.
  function httpURL(u, base) {
    try {
      var p = new URL(String(u), base);
      if (p.protocol === 'http:' || p.protocol === 'https:') return p;
    } catch (e) { /* not a URL */ }
    return null;
  }

  function defaultServer() {
    var src = script && httpURL(script.src, location.href);
    if (!src) return null;
    return src.origin + src.pathname.replace(/\/widget\.js$/, '');
  }
  var serverURL = (data.sitebotServer && httpURL(data.sitebotServer, location.href)) ||
    httpURL(defaultServer() || '', location.href);
  if (!serverURL) {
    if (window.console) console.warn('sitebot: no valid http(s) data-sitebot-server; widget disabled');
    return;
  }
  var SERVER = (serverURL.origin + serverURL.pathname).replace(/\/+$/, '');
  var customer = data.customerId ? { id: String(data.customerId), token: String(data.customerToken || '') } : null;
  var title = data.title || T.title;

  // sessionStorage can throw (privacy modes, sandboxed frames): degrade to memory.
  var KEY = 'sitebot:' + SERVER;
  var memory = {};
  function load(name) {
    try { return JSON.parse(window.sessionStorage.getItem(KEY + ':' + name)); } catch (e) { return memory[name] || null; }
  }
  function save(name, value) {
    memory[name] = value;
    try { window.sessionStorage.setItem(KEY + ':' + name, JSON.stringify(value)); } catch (e) { /* memory only */ }
  }

  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    }
    if (text != null) n.textContent = text;
    return n;
  }

  function start() {
    var host = el('div', { id: 'sitebot-widget' });
    host.style.display = 'none'; // shown once the style sheet has loaded
    var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;

    var sheet = el('link', { rel: 'stylesheet', href: SERVER + '/widget.css' });
    var shown = false;
    function show() { if (!shown) { shown = true; host.style.display = ''; } }
    sheet.addEventListener('load', show);
    sheet.addEventListener('error', show);
    setTimeout(show, 3000);
    root.appendChild(sheet);

    var launcher = el('button', {
      type: 'button', 'class': 'sb-launcher', 'aria-label': T.open,
      'aria-expanded': 'false', 'aria-controls': 'sb-panel', title: title
    });
    launcher.appendChild(icon());

    var panel = el('section', { id: 'sb-panel', 'class': 'sb-panel', role: 'dialog', 'aria-label': title });
    panel.hidden = true;
    var header = el('header', { 'class': 'sb-header' });
    header.appendChild(el('h2', { 'class': 'sb-title' }, title));
    var closeBtn = el('button', { type: 'button', 'class': 'sb-close', 'aria-label': T.close }, '×');
    header.appendChild(closeBtn);

    var log = el('div', { 'class': 'sb-log', role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions text' });
    var actions = el('div', { 'class': 'sb-actions' });
    var humanBtn = el('button', { type: 'button', 'class': 'sb-human' }, T.human);
    actions.appendChild(humanBtn);

    var form = el('form', { 'class': 'sb-form', autocomplete: 'off' });
    var label = el('label', { 'for': 'sb-input', 'class': 'sb-sr' }, T.label);
    var input = el('textarea', {
      id: 'sb-input', 'class': 'sb-input', rows: '1', maxlength: String(MAX_MESSAGE),
      placeholder: T.placeholder, 'aria-label': T.label
    });
    var sendBtn = el('button', { type: 'submit', 'class': 'sb-send' }, T.send);
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(sendBtn);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(actions);
    panel.appendChild(form);
    root.appendChild(launcher);
    root.appendChild(panel);
    document.body.appendChild(host);

    // ---- transcript ----
    var transcript = load('transcript') || [];
    var convID = load('conversation');

    function scroll() { log.scrollTop = log.scrollHeight; }

    function bubble(who, text, extraClass) {
      var b = el('div', { 'class': 'sb-msg sb-' + who + (extraClass ? ' ' + extraClass : '') });
      var t = el('div', { 'class': 'sb-text' }, text);
      b.appendChild(t);
      log.appendChild(b);
      scroll();
      return b;
    }

    function renderSources(b, sources) {
      var items = [];
      var seen = {};
      (sources || []).forEach(function (s) {
        var u = s && httpURL(s.url);
        if (!u || seen[u.href]) return;
        seen[u.href] = true;
        items.push({ href: u.href, title: (s.title && String(s.title)) || u.href });
      });
      if (!items.length) return;
      var box = el('div', { 'class': 'sb-sources' });
      box.appendChild(el('div', { 'class': 'sb-sources-label' }, T.sources));
      var ul = el('ul');
      items.forEach(function (it) {
        var li = el('li');
        var a = el('a', { href: it.href, target: '_blank', rel: 'noopener noreferrer' }, it.title);
        li.appendChild(a);
        ul.appendChild(li);
      });
      box.appendChild(ul);
      b.appendChild(box);
      scroll();
    }

    // setText shows text in a bubble as text only; the only markup it makes
    // is a link for each occurrence of one of the answer's own source URLs
    // (already checked to be http(s)), so a quoted "(https://site/page)"
    // can be clicked. Nothing else in the text can become an element.
    function setText(b, text, sources) {
      var t = b.querySelector('.sb-text');
      t.textContent = '';
      var urls = [];
      (sources || []).forEach(function (s) {
        var u = s && httpURL(s.url);
        if (u && s.url && urls.indexOf(String(s.url)) < 0) urls.push(String(s.url));
      });
      urls.sort(function (x, y) { return y.length - x.length; }); // longest first
      var rest = text;
      while (rest) {
        var at = -1, hit = '';
        urls.forEach(function (u) {
          var i = rest.indexOf(u);
          if (i >= 0 && (at < 0 || i < at)) { at = i; hit = u; }
        });
        if (at < 0) { t.appendChild(document.createTextNode(rest)); break; }
        if (at > 0) t.appendChild(document.createTextNode(rest.slice(0, at)));
        t.appendChild(el('a', { href: httpURL(hit).href, target: '_blank', rel: 'noopener noreferrer' }, hit));
        rest = rest.slice(at + hit.length);
      }
    }

    // finish shows the final state of an answer bubble from a chat response.
    function finish(b, resp) {
      if (resp.handoff) startPolling(resp.conversation_id);
      if (resp.handoff && resp.handoff_reason === 'agent' && !resp.answer) {
        // A person owns the conversation: the bot stays silent.
        if (b.parentNode) b.parentNode.removeChild(b);
        return;
      }
      var entry = { who: 'bot', text: String(resp.answer || ''), sources: [], cls: '' };
      b.classList.remove('sb-pending');
      setText(b, entry.text, Array.isArray(resp.sources) ? resp.sources : []);
      if (resp.handoff) {
        entry.cls = 'sb-handoff';
        b.classList.add('sb-handoff');
      } else if (resp.refused) {
        entry.cls = 'sb-refused';
        b.classList.add('sb-refused');
      }
      if (!resp.refused && !resp.handoff && Array.isArray(resp.sources)) {
        entry.sources = resp.sources;
        renderSources(b, resp.sources);
      }
      if (resp.mode === 'extractive' && entry.sources.length) {
        entry.note = T.quoted;
        b.appendChild(el('div', { 'class': 'sb-note' }, T.quoted));
      }
      if (typeof resp.conversation_id === 'string' && /^[0-9a-f]{32}$/i.test(resp.conversation_id)) {
        convID = resp.conversation_id;
        save('conversation', convID);
      }
      remember(entry);
      if (resp.handoff && resp.contact_requested === true && convID) contactForm(b, convID);
      scroll();
    }

    // ---- the visitor's contact for a handoff ----
    var MAX_CONTACT = 200;
    var contactSeq = 0;

    // validContact mirrors the server's check: an e-mail address or a
    // phone number, one line, at most 200 characters.
    function validContact(v) {
      if (!v || v.length > MAX_CONTACT || /[\u0000-\u001f\u007f]/.test(v)) return false;
      if (v.indexOf('@') >= 0) return /^[^\s@<>()\[\]\\,;:"]+@[^\s@<>()\[\]\\,;:"]+\.[^\s@<>()\[\]\\,;:".]+$/.test(v);
      var digits = v.replace(/[^0-9]/g, '').length;
      return /^\+?[0-9 ()\-./]+$/.test(v) && digits >= 6 && digits <= 20;
    }

    // contactForm asks for an e-mail address (or phone) under a handoff
    // answer and posts it to the conversation's handoff.
    function contactForm(b, id) {
      var old = log.querySelector('.sb-contact');
      if (old && old.parentNode) old.parentNode.removeChild(old);
      var fid = 'sb-contact-' + (++contactSeq);
      var f = el('form', { 'class': 'sb-contact', novalidate: '' });
      var lab = el('label', { 'for': fid, 'class': 'sb-contact-label' }, T.contactLabel);
      var inp = el('input', {
        id: fid, 'class': 'sb-contact-input', type: 'email', inputmode: 'email', autocomplete: 'email',
        maxlength: String(MAX_CONTACT), placeholder: T.contactPlaceholder
      });
      var btn = el('button', { type: 'submit', 'class': 'sb-contact-send' }, T.contactSend);
      var msg = el('div', { 'class': 'sb-contact-msg', role: 'status' });
      f.appendChild(lab);
      f.appendChild(inp);
      f.appendChild(btn);
      f.appendChild(msg);
      b.appendChild(f);
      f.addEventListener('submit', async function (e) {
        e.preventDefault();
        var v = inp.value.trim();
        if (!validContact(v)) {
          msg.textContent = T.contactInvalid;
          inp.setAttribute('aria-invalid', 'true');
          inp.focus();
          return;
        }
        inp.removeAttribute('aria-invalid');
        btn.disabled = true;
        inp.disabled = true;
        msg.textContent = '';
        try {
          var res = await fetch(SERVER + '/api/conversations/' + encodeURIComponent(id) + '/handoff', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'Accept': 'application/json' },
            body: JSON.stringify({ contact: v })
          });
          if (!res.ok) throw new Error('HTTP ' + res.status);
          var done = T.contactThanks.replace('{c}', v);
          if (f.parentNode) f.parentNode.removeChild(f);
          b.appendChild(el('div', { 'class': 'sb-note sb-contact-ok' }, done));
          remember({ who: 'bot', text: done, cls: 'sb-contact-ok' });
          scroll();
        } catch (err) {
          btn.disabled = false;
          inp.disabled = false;
          msg.textContent = T.contactFailed;
        }
      });
    }

    function remember(entry) {
      transcript.push(entry);
      if (transcript.length > MAX_STORED) transcript = transcript.slice(-MAX_STORED);
      save('transcript', transcript);
    }

    function restore() {
      bubble('bot', T.welcome, 'sb-welcome');
      transcript.forEach(function (m) {
        var b = bubble(m.who === 'user' ? 'user' : (m.who === 'agent' ? 'agent' : 'bot'), m.text, m.cls || '');
        if (m.sources) { setText(b, String(m.text || ''), m.sources); renderSources(b, m.sources); }
        if (m.note) b.appendChild(el('div', { 'class': 'sb-note' }, m.note));
      });
    }

    function errorLine(b, text) {
      b.classList.remove('sb-pending');
      b.classList.add('sb-error');
      b.querySelector('.sb-text').textContent = text;
      scroll();
    }

    // ---- a person's replies (human handoff) ----
    // While the conversation is handed off, poll the agent's messages every
    // 3 s and show them as text. The conversation id is the capability.
    var POLL_MS = 3000;
    var pollTimer = null;
    var agentSeq = load('agentSeq') || 0;
    function startPolling(id) {
      if (typeof id === 'string' && /^[0-9a-f]{32}$/i.test(id)) { convID = id; save('conversation', convID); }
      if (!convID || pollTimer) return;
      save('handedOff', true);
      pollTimer = setTimeout(poll, POLL_MS);
    }
    function stopPolling() {
      if (pollTimer) clearTimeout(pollTimer);
      pollTimer = null;
      save('handedOff', false);
    }
    async function poll() {
      pollTimer = null;
      var again = true;
      try {
        var res = await fetch(SERVER + '/api/conversations/' + encodeURIComponent(convID) + '/messages?after=' + encodeURIComponent(String(agentSeq)), {
          method: 'GET', mode: 'cors', credentials: 'omit', headers: { 'Accept': 'application/json' }
        });
        if (res.status === 404) again = false;
        if (res.ok) {
          var data = await res.json();
          (Array.isArray(data.messages) ? data.messages : []).forEach(function (m) {
            if (!m || typeof m.content !== 'string' || typeof m.seq !== 'number' || m.seq <= agentSeq) return;
            agentSeq = m.seq;
            save('agentSeq', agentSeq);
            bubble('agent', m.content); // text only, never HTML
            remember({ who: 'agent', text: m.content });
          });
          if (data.status === 'closed' || !data.status) again = false;
        }
      } catch (e) { /* network trouble: try again later */ }
      if (again) pollTimer = setTimeout(poll, POLL_MS);
      else stopPolling();
    }

    // ---- server-sent events over fetch ----
    function parseEvent(block) {
      var ev = { event: 'message', data: '' };
      var lines = block.split('\n');
      var dataLines = [];
      for (var i = 0; i < lines.length; i++) {
        var line = lines[i];
        if (!line || line.charAt(0) === ':') continue;
        var c = line.indexOf(':');
        var field = c < 0 ? line : line.slice(0, c);
        var value = c < 0 ? '' : line.slice(c + 1).replace(/^ /, '');
        if (field === 'event') ev.event = value;
        else if (field === 'data') dataLines.push(value);
      }
      ev.data = dataLines.join('\n');
      return ev;
    }

    async function readStream(res, onEvent) {
      var buf = '';
      function drain(final) {
        buf = buf.replace(/\r\n?/g, '\n');
        var i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          var block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          if (onEvent(parseEvent(block)) === false) return false;
        }
        if (final && buf.trim()) onEvent(parseEvent(buf));
        return true;
      }
      if (!res.body || !res.body.getReader) { // very old browsers: no streaming
        buf = await res.text();
        drain(true);
        return;
      }
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      for (;;) {
        var r = await reader.read();
        if (r.done) break;
        buf += decoder.decode(r.value, { stream: true });
        if (drain(false) === false) { reader.cancel().catch(function () {}); return; }
      }
      buf += decoder.decode();
      drain(true);
    }

    var busy = false;

    async function ask(text) {
      text = String(text || '').trim();
      if (!text) return;
      if (busy) { bubble('bot', T.busy, 'sb-error'); return; }
      if (text.length > MAX_MESSAGE) { bubble('bot', T.tooLong, 'sb-error'); return; }
      busy = true;
      form.classList.add('sb-busy');
      sendBtn.disabled = true;
      humanBtn.disabled = true;
      bubble('user', text);
      remember({ who: 'user', text: text });
      var b = bubble('bot', '', 'sb-pending');
      var body = { message: text };
      if (convID) body.conversation_id = convID;
      if (customer) body.customer = customer;
      try {
        var res = await fetch(SERVER + '/api/chat', {
          method: 'POST',
          mode: 'cors',
          credentials: 'omit',
          headers: { 'Content-Type': 'application/json', 'Accept': 'text/event-stream' },
          body: JSON.stringify(body)
        });
        if (!res.ok) {
          var msg = T.error;
          if (res.status >= 400 && res.status < 500) {
            try { var j = await res.json(); if (j && j.error) msg = T.error + ' (' + String(j.error) + ')'; } catch (e) { /* keep generic */ }
          }
          errorLine(b, msg);
          return;
        }
        var ct = res.headers.get('Content-Type') || '';
        if (ct.indexOf('text/event-stream') < 0) {
          finish(b, await res.json());
          return;
        }
        var streamed = '';
        var done = false;
        await readStream(res, function (ev) {
          var payload = null;
          try { payload = ev.data ? JSON.parse(ev.data) : null; } catch (e) { payload = null; }
          if (ev.event === 'token' && payload && typeof payload.text === 'string') {
            streamed += payload.text;
            b.classList.remove('sb-pending');
            b.querySelector('.sb-text').textContent = streamed; // text only, never HTML
            scroll();
          } else if (ev.event === 'done' && payload) {
            done = true;
            finish(b, payload);
            return false;
          } else if (ev.event === 'error') {
            done = true;
            errorLine(b, T.error);
            return false;
          }
          return true;
        });
        if (!done) errorLine(b, T.error);
      } catch (e) {
        errorLine(b, T.error);
      } finally {
        busy = false;
        form.classList.remove('sb-busy');
        sendBtn.disabled = false;
        humanBtn.disabled = false;
      }
    }

    // ---- open / close, keyboard ----
    var restored = false;
    function open() {
      if (!restored) { restored = true; restore(); }
      panel.hidden = false;
      launcher.setAttribute('aria-expanded', 'true');
      launcher.setAttribute('aria-label', T.close);
      host.classList.add('sb-open');
      input.focus();
      scroll();
    }
    function close() {
      panel.hidden = true;
      launcher.setAttribute('aria-expanded', 'false');
      launcher.setAttribute('aria-label', T.open);
      launcher.focus();
    }
    launcher.addEventListener('click', function () { if (panel.hidden) open(); else close(); });
    closeBtn.addEventListener('click', close);
    panel.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') { e.preventDefault(); close(); }
    });
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var text = input.value;
      if (!text.trim() || busy) return;
      input.value = '';
      ask(text);
    });
    input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event('submit', { cancelable: true }));
      }
    });
    humanBtn.addEventListener('click', function () { ask(T.humanMessage); });
    if (load('handedOff') && convID) startPolling(convID);
  }

  function icon() {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    var path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
    svg.appendChild(path);
    return svg;
  }

  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);
})();
