// The dashboard in a real browser: Debian's Chromium driven by playwright-core, with axe-core checking
// every page. Run by gateway/tests/browser.rs, which starts the server and passes:
//   FLUXION_BASE, FLUXION_OWNER, FLUXION_VIEWER, FLUXION_PASSWORD, FLUXION_SHOTS (screenshot folder).
// It prints "STEP <name>" lines; "WAIT alerts" asks the harness to raise alerts, which answers "GO" on stdin.
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const { FLUXION_BASE: base, FLUXION_OWNER: owner, FLUXION_VIEWER: viewer, FLUXION_PASSWORD: password } = process.env;
const shots = process.env.FLUXION_SHOTS;
mkdirSync(shots, { recursive: true });

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function harness(request) {
  console.log(`WAIT ${request}`);
  const { value } = await lines.next();
  assert.equal(value, 'GO', `the harness answered ${value}`);
}
const step = (name) => console.log(`STEP ${name}`);

const browser = await chromium.launch({
  executablePath: process.env.FLUXION_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

// axe-core is injected past the pages' CSP (which allows no inline script) only in this test.
let current = null;
async function newPage(options = {}) {
  const context = await browser.newContext({ bypassCSP: true, locale: 'es-VE', viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  current = page;
  page.on('pageerror', (e) => { throw new Error(`script error on ${page.url()}: ${e.message}`); });
  return page;
}

async function accessible(page, name) {
  await page.addScriptTag({ path: AXE });
  const result = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const detail = serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(detail, [], `${name}: accessibility violations`);
  const minor = result.violations.length - serious.length;
  console.log(`axe ${name}: no serious violations (${minor} minor)`);
}

async function shot(page, name) {
  await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

async function login(page, email) {
  await page.goto(`${base}/resumen`);
  assert.match(page.url(), /\/ingresar\?volver=\/resumen$/);
  await page.getByLabel('Correo').fill(email);
  await page.getByLabel('Contraseña').fill(password);
  await Promise.all([page.waitForURL(`${base}/resumen`), page.getByRole('button', { name: 'Ingresar' }).click()]);
}

try {
  // --- Login ---
  step('login');
  const page = await newPage();
  await page.goto(`${base}/ingresar`);
  await accessible(page, 'ingresar');
  await shot(page, '01-ingresar');
  await page.getByLabel('Correo').fill(owner);
  await page.getByLabel('Contraseña').fill('equivocada');
  await page.getByRole('button', { name: 'Ingresar' }).click();
  await page.getByText('Correo o contraseña incorrectos.').waitFor();
  await login(page, owner);

  // --- Alertas: a new alert appears without reloading ---
  step('alertas');
  await page.goto(`${base}/alertas`);
  assert.equal(await page.locator('#alert-feed li.alert').count(), 0, 'no alerts before the first scan');
  await page.waitForTimeout(500); // the live feed connects
  await harness('alerts');
  await page.locator('#alert-feed li.alert.new').first().waitFor({ timeout: 60_000 });
  const arrived = await page.locator('#alert-feed li.alert').count();
  assert.ok(arrived > 0);
  assert.match(await page.locator('#live-status').textContent(), /Lleg(ó|aron) \d+ alertas? nuevas?/);
  console.log(`live alerts arrived: ${arrived}`);
  await accessible(page, 'alertas');
  await shot(page, '02-alertas-en-vivo');

  // --- Resumen ---
  step('resumen');
  await page.goto(`${base}/resumen`);
  assert.match(await page.locator('#kpi-fill').textContent(), /^\d{1,3}(,\d)? %$/);
  assert.ok(await page.locator('#top-alerts ~ ul li.alert').count() > 0, 'the most important alerts');
  await accessible(page, 'resumen');
  await shot(page, '03-resumen');

  // --- Agentes: progress live, then the answer ---
  step('agentes');
  await page.goto(`${base}/agentes`);
  await page.evaluate(() => {
    window.__seen = [];
    new MutationObserver((records) => {
      // Each change's old value: events that arrive together still leave every state they passed.
      for (const r of records) if (r.target.dataset && r.target.dataset.agent) window.__seen.push(`${r.target.dataset.agent}:${r.oldValue}`);
    }).observe(document.getElementById('pipeline'), { attributes: true, subtree: true, attributeFilter: ['class'], attributeOldValue: true });
  });
  await page.getByLabel('Pregunta').fill('¿qué transferencias me recomiendas entre tiendas?');
  await page.getByRole('button', { name: 'Preguntar' }).click();
  await page.locator('#answer-title').waitFor({ timeout: 60_000 });
  assert.equal(page.url(), `${base}/agentes`, 'answered in place, over the stream');
  const seen = await page.evaluate(() => window.__seen.concat(
    Array.from(document.querySelectorAll('#pipeline li')).map((li) => `${li.dataset.agent}:${li.className}`)));
  assert.ok(seen.some((s) => s.endsWith('step working')), `agents were seen working: ${seen}`);
  const finished = new Set(seen.filter((s) => s.endsWith('step ok')).map((s) => s.split(':')[0]));
  assert.ok(finished.has('chat') && finished.has('optimizer'), `the optimizer and the chat agent finished: ${seen}`);
  console.log(`agent progress seen: ${seen.join(' ')}`);
  const answerText = await page.locator('.answer-text').textContent();
  assert.ok(answerText.trim().length > 20, 'an answer in words');
  const traceHref = await page.locator('#trace-link').getAttribute('href');
  const transfer = page.locator('#answer li.rec[data-kind="transfer"]').first();
  const recId = (await transfer.getAttribute('id')).replace('rec-', '');
  await accessible(page, 'agentes');
  await shot(page, '04-agentes');

  // --- A transfer approved once, however often it is clicked ---
  step('pedidos');
  // Another tab shows it pending on Pedidos y transferencias, to approve it again later from there.
  const stale = await page.context().newPage();
  await stale.goto(`${base}/pedidos`);
  assert.equal(await stale.locator(`#rec-${recId}`).count(), 1, 'the answer\'s transfer is the pending one');
  await accessible(stale, 'pedidos');
  await shot(stale, '05-pedidos');
  // Clicked twice in a row on the answer: the second click races the first one's navigation.
  const approve = transfer.getByRole('button', { name: 'Aprobar' });
  const landed = page.waitForURL(/\/pedidos\?aviso=(aprobada|ya-aprobada)$/);
  await approve.click({ noWaitAfter: true });
  await approve.click({ noWaitAfter: true, timeout: 2_000 }).catch(() => {});
  await landed;
  const decided = page.locator(`#decided-${recId}`);
  assert.equal(await decided.count(), 1);
  const number = (await decided.locator('td.executed').textContent()).trim();
  assert.match(number, /^FX-TR-/);
  await shot(page, '06-pedidos-aprobada');
  // The other tab, still showing it pending, approves it again: nothing new.
  await Promise.all([
    stale.waitForURL(/\/pedidos\?aviso=ya-aprobada$/),
    stale.locator(`#rec-${recId}`).getByRole('button', { name: 'Aprobar' }).click(),
  ]);
  await stale.getByText('Ya la habías aprobado: no se creó nada nuevo.').waitFor();
  assert.equal(await stale.locator('#decided td.executed', { hasText: number }).count(), 1, 'executed once');
  await stale.close();
  console.log(`transfer approved once as ${number}`);

  // --- The answer's trace as a waterfall, linked to the transfer it recommended ---
  step('traza');
  await page.goto(`${base}${traceHref}`);
  const bars = await page.locator('#waterfall svg g.span').count();
  assert.ok(bars >= 4, `a waterfall of the request's stages (${bars})`);
  assert.ok(await page.locator('#spans tbody tr').count() === bars);
  await page.locator('#links li', { hasText: `aprobada y ejecutada como ${number}` }).waitFor();
  await accessible(page, 'traza');
  await shot(page, '07-traza');
  await page.goto(`${base}/trazas`);
  assert.ok(await page.locator('#traces tbody tr').count() > 0);
  await accessible(page, 'trazas');
  await shot(page, '08-trazas');

  // --- Pronósticos: a chart ---
  step('pronosticos');
  await page.goto(`${base}/pronosticos`);
  await Promise.all([page.waitForURL(/tienda=.*producto=/), page.locator('.shortcuts a').first().click()]);
  await page.locator('#forecast figure svg polygon').waitFor();
  assert.ok((await page.locator('#fc-model').textContent()).trim().length > 0);
  await accessible(page, 'pronosticos');
  await shot(page, '09-pronosticos');

  step('conectores');
  await page.goto(`${base}/conectores`);
  await accessible(page, 'conectores');
  await shot(page, '10-conectores');

  // --- A phone ---
  step('movil');
  const phone = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await login(phone, owner);
  await accessible(phone, 'resumen-movil');
  await shot(phone, '11-resumen-movil');

  // --- A viewer cannot approve ---
  step('consulta');
  const view = await newPage();
  await login(view, viewer);
  await view.goto(`${base}/pedidos`);
  assert.equal(await view.getByRole('button', { name: 'Aprobar' }).count(), 0, 'viewers see no approve button');

  // --- Without JavaScript, pages read ---
  step('sin-javascript');
  const plain = await newPage({ javaScriptEnabled: false });
  await login(plain, owner);
  await plain.goto(`${base}/alertas`);
  assert.ok(await plain.locator('#alert-feed li.alert').count() > 0, 'alerts listed without JavaScript');
  await plain.goto(`${base}/agentes`);
  await plain.getByLabel('Pregunta').fill('¿cuánto vendí esta semana?');
  await Promise.all([plain.waitForURL(`${base}/agentes`), plain.getByRole('button', { name: 'Preguntar' }).click()]);
  await plain.locator('#answer-title').waitFor();
  await shot(plain, '12-agentes-sin-javascript');

  console.log('DONE');
  await browser.close();
  process.exit(0);
} catch (e) {
  console.error(e && e.stack ? e.stack : e);
  if (current) {
    console.error(`at ${current.url()}:\n${(await current.locator('body').innerText().catch(() => '')).slice(0, 1500)}`);
    await shot(current, 'failure').catch(() => {});
  }
  await browser.close();
  process.exit(1);
}
