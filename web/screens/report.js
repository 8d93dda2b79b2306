// Report (/r/CODE?report): what the session produced, on one page, to read, print on A4 and
// take home as JSON, as CSV of the cards and votes, and (the facilitator and replay links)
// as the raw automerge file. The facilitator and a replay link's holder reach it from the
// replay; a participant's phone, with its own token, once the session has ended and the
// facilitator shares it.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { announce, homeLink, setTitle, showError, showStopped } from '../ui.js';
import { reader, readHistory, getReport, download, historyHead, historyErrorText, showLoading } from '../history.js';
import { renderReport } from '../panels/report.js';

export const NAME = 'report';

export function start(main, { code }) {
  const who = reader(code, { report: true });
  if (!who) {
    const render = () => showStopped(main, t('noReportToken'), homeLink());
    render();
    return { render };
  }
  let report = null;
  let failed = null;
  const busy = new Set(); // downloads on their way

  async function load() {
    ({ value: report = null, error: failed = null } = await readHistory(code, who, getReport));
    render();
    document.getElementById('history-title')?.focus();
  }

  async function take(file) {
    if (busy.has(file)) return;
    busy.add(file);
    render();
    try {
      await download(code, who.token, file);
      announce(t('downloaded'));
    } catch (err) {
      showError(historyErrorText(err, { report: true, kind: who.kind }));
    }
    busy.delete(file);
    render();
  }

  function downloads() {
    const files = who.kind === 'participant' ? ['json', 'csv'] : ['json', 'csv', 'automerge'];
    return h('section', { class: 'panel rp-take', 'aria-labelledby': 'rp-take-heading' },
      h('h2', { id: 'rp-take-heading' }, t('takeHome')),
      h('div', { class: 'row' },
        h('button', { type: 'button', class: 'primary small', id: 'print', 'data-key': 'print', onclick: () => window.print() }, t('printButton')),
        files.map((file) => h('button', {
          type: 'button', class: 'secondary small', id: `download-${file}`, 'data-key': `download-${file}`,
          'aria-describedby': `download-${file}-hint`, 'aria-disabled': busy.has(file) ? 'true' : null,
          onclick: () => take(file),
        }, busy.has(file) ? t('downloading') : t(`download.${file}`)))),
      h('ul', { class: 'hint rp-take-hints' }, files.map((file) => h('li', { id: `download-${file}-hint` }, t(`downloadHint.${file}`)))));
  }

  function render() {
    if (failed) {
      showStopped(main, historyErrorText(failed, { report: true, kind: who.kind }), homeLink());
      return;
    }
    if (!report) {
      showLoading(main);
      return;
    }
    setTitle(`${t('reportHeading')}: ${report.session.title}`);
    replace(main,
      historyHead(report.session.title, { code, current: 'report', reportOnly: who.kind === 'participant' }),
      downloads(),
      renderReport(report));
  }

  render();
  load();
  return { render };
}
