// Fluxion dashboard: the live parts. Every page works without this file.
(function () {
  'use strict';
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || '';

  // A form that changes something is sent once: a second click while it is on its way does nothing.
  function guard(root) {
    root.querySelectorAll('form.once').forEach(function (form) {
      form.addEventListener('submit', function (e) {
        if (form.dataset.sent === '1') { e.preventDefault(); return; }
        form.dataset.sent = '1';
        form.querySelectorAll('button').forEach(function (b) { b.setAttribute('aria-disabled', 'true'); });
      });
    });
  }
  guard(document);

  // Reads a text/event-stream body, calling onEvent(name, data) for each event.
  async function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = '';
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n/g, '\n');
      var end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        var block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        var name = 'message', data = [];
        block.split('\n').forEach(function (line) {
          if (line.indexOf('event:') === 0) name = line.slice(6).trim();
          else if (line.indexOf('data:') === 0) data.push(line.slice(5).replace(/^ /, ''));
        });
        if (data.length) onEvent(name, data.join('\n'));
      }
    }
  }

  var STATUS_ES = { ok: 'Listo', failed: 'Falló', timed_out: 'Sin respuesta a tiempo', skipped: 'No hizo falta' };

  function setStep(agent, status, text, millis) {
    var li = document.querySelector('#pipeline li[data-agent="' + agent + '"]');
    if (!li) return;
    li.className = 'step ' + status;
    li.querySelector('.step-status').textContent = text;
    li.querySelector('.step-ms').textContent = millis || '';
  }

  function msText(ms) {
    return Math.round(ms).toLocaleString('es-VE') + ' ms';
  }

  // Agentes: ask, watch the agents work, read the answer.
  var askForm = document.getElementById('ask-form');
  if (askForm && window.fetch && window.TextDecoder) {
    askForm.addEventListener('submit', async function (e) {
      e.preventDefault();
      var button = askForm.querySelector('button');
      button.setAttribute('aria-disabled', 'true');
      button.disabled = true;
      var answer = document.getElementById('answer');
      answer.innerHTML = '<p class="muted" role="status">Los agentes están trabajando…</p>';
      document.querySelectorAll('#pipeline li').forEach(function (li) {
        setStep(li.dataset.agent, 'waiting', 'En espera', '');
      });
      try {
        var response = await fetch('/agentes/preguntar', {
          method: 'POST',
          headers: { 'x-csrf-token': csrf, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(new FormData(askForm)).toString(),
          credentials: 'same-origin'
        });
        if (!response.ok) throw new Error('HTTP ' + response.status);
        await readEvents(response, function (name, data) {
          if (name === 'progress') {
            var ev = JSON.parse(data);
            if (!ev.agent) return;
            if (ev.kind === 'agent.started') setStep(ev.agent, 'working', 'Trabajando…', '');
            if (ev.kind === 'agent.finished') {
              var st = ev.data && ev.data.status;
              var code = typeof st === 'string' ? st : (st && st.status) || 'ok';
              setStep(ev.agent, code, STATUS_ES[code] || code, msText((ev.data && ev.data.millis) || 0));
            }
          } else if (name === 'answer') {
            answer.innerHTML = data;
            guard(answer);
            document.querySelectorAll('#pipeline li.waiting').forEach(function (li) {
              setStep(li.dataset.agent, 'skipped', 'No hizo falta', '');
            });
          } else if (name === 'error') {
            answer.innerHTML = '';
            var p = document.createElement('p');
            p.className = 'notice warn';
            p.setAttribute('role', 'alert');
            p.textContent = data;
            answer.appendChild(p);
          }
        });
      } catch (err) {
        answer.innerHTML = '<p class="notice warn" role="alert">No pude responder en este momento; intenta de nuevo en un minuto.</p>';
      } finally {
        button.disabled = false;
        button.removeAttribute('aria-disabled');
      }
    });
  }

  // Alertas: new alerts appear at the top as they are raised.
  var feed = document.getElementById('alert-feed');
  if (feed && feed.dataset.live && window.EventSource) {
    var source = new EventSource(feed.dataset.live);
    var fresh = 0;
    source.addEventListener('alert', function (e) {
      var holder = document.createElement('template');
      holder.innerHTML = e.data.trim();
      var row = holder.content.firstElementChild;
      if (!row || document.getElementById(row.id)) return;
      row.classList.add('new');
      feed.insertBefore(row, feed.firstChild);
      guard(row);
      var none = document.getElementById('no-alerts');
      if (none) none.remove();
      fresh += 1;
      document.getElementById('live-status').textContent =
        fresh === 1 ? 'Llegó 1 alerta nueva.' : 'Llegaron ' + fresh + ' alertas nuevas.';
    });
  }
})();
