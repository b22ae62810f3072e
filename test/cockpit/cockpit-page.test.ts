/**
 * The Cockpit page in a real browser against a real libvirtd: Debian's chromium, headless, driven by
 * playwright-core; Debian's cockpit-ws with --local-session=cockpit-bridge on a local port (no login);
 * the page built by cockpit/build.mjs, installed into a temporary XDG_DATA_HOME; the CLI the page spawns
 * is this tree's dist/cli/main.js, found on the session's PATH as `virt-seclabel`; a private libvirtd
 * (scripts/libvirtd-private-start.sh) whose socket the page is given as ?uri= and passes on as --connect.
 * Read as a person reads it (roles, names, visible text): the statuses are explain --json's; "stop the
 * relabelling" changes the inactive XML and the page; grant makes the ACL exist and the status change;
 * a definition changed under an open plan is refused with the CLI's words and nothing is defined; the
 * whole relabelling path works from the keyboard alone.
 * VIRT_SECLABEL_SCREENSHOTS=DIR saves the main states as PNGs (docs/cockpit/ holds the committed ones).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { missingRequirements } from '../support/requirements.js';
import { Ledger, domainXml, hasNoRelabel, run, tearDownPrivateDaemon, type Connection } from '../libvirt/libvirt-harness.js';

const repo = resolve(import.meta.dirname, '../..');
const cli = join(repo, 'dist/cli/main.js');
const built = join(repo, 'dist/cockpit/virt-seclabel');
const COCKPIT_WS = '/usr/lib/cockpit/cockpit-ws';
const CHROMIUM = '/usr/bin/chromium';
const shots = process.env.VIRT_SECLABEL_SCREENSHOTS;
const skip = missingRequirements({
  root: true,
  commands: ['libvirtd', 'virtlogd', 'virsh', 'unshare', 'cockpit-bridge', 'getfacl'],
  files: [COCKPIT_WS, CHROMIUM],
});

/** What the page shows may take the CLI's time (a virsh define, a re-read): poll up to 30 s. */
const poll = <T>(f: () => Promise<T> | T) => expect.poll(f, { timeout: 30_000, interval: 100 });

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

describe.skipIf(skip !== undefined)('the Cockpit page in a real browser on a real libvirtd', { sequential: true, timeout: 300_000 }, () => {
  const ledger = new Ledger();
  let state = '';
  let root = '';
  let daemon: Connection;
  let ws: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let url = '';
  const files = { pub: '', priv: '' };

  const virsh = (...args: string[]) => {
    const r = daemon.virsh(...args);
    if (r.code !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const inactive = (name: string) => virsh('dumpxml', '--inactive', name);
  const explainJson = () => {
    const r = run(process.execPath, [cli, 'explain', '--all-domains', '--json', '--connect', daemon.uri]);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as { domains: { name: string; summary: string; files: { element: string; models: Record<'dac' | 'selinux', { words: string; reason: string }> }[] }[] };
  };
  const shot = async (name: string) => {
    if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  };
  /** The row of a domain's file, as a screen reader finds it: the table by its name, the row by its header cell. */
  const row = (domain: string, element: string) => page.getByRole('table', { name: `Files of domain ${domain}` }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: element, exact: true }) });
  const open = async () => {
    await page.goto(url);
    await poll(() => page.getByRole('status').filter({ hasText: 'Last checked at' }).count()).toBe(1);
  };

  beforeAll(async () => {
    if (!existsSync(cli) || !existsSync(join(built, 'index.js'))) throw new Error('build first: npm run build (the CLI and the Cockpit package)');
    mkdirSync(join(repo, '.tmp'), { recursive: true });
    state = mkdtempSync(join(repo, '.tmp/cockpit-libvirtd-'));
    execFileSync('bash', [join(repo, 'scripts/libvirtd-private-start.sh'), state], { stdio: 'inherit' });
    const uri = `qemu:///system?socket=${state}/run/libvirt-sock`;
    daemon = { uri, virsh: (...args) => run('virsh', ['-c', uri, ...args]), pidFile: (n) => join(state, 'run', 'qemu', `${n}.pid`) };
    root = mkdtempSync('/tmp/vsl-cockpit-');
    chmodSync(root, 0o755);
    files.pub = join(root, 'install.iso');
    files.priv = join(root, 'home-disk.img');
    writeFileSync(files.pub, Buffer.alloc(1024 * 1024));
    chmodSync(files.pub, 0o644);
    writeFileSync(files.priv, Buffer.alloc(1024 * 1024));
    chmodSync(files.priv, 0o600);
    chownSync(files.priv, 65534, 0); // nobody's: QEMU's user cannot open it until granted
    const cd = (file: string) => ({ device: 'cdrom' as const, file, format: 'raw' as const, target: 'hdc' });
    ledger.define(daemon, root, 'web', domainXml('web', [cd(files.pub), { device: 'disk', file: files.priv, format: 'raw', target: 'vda' }]));
    ledger.define(daemon, root, 'raced', domainXml('raced', [cd(files.pub)]));
    ledger.define(daemon, root, 'keys', domainXml('keys', [cd(files.pub)]));

    // The session's PATH finds this tree's CLI as `virt-seclabel`; its XDG_DATA_HOME holds the page.
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'virt-seclabel'), `#!/bin/sh\nexec ${process.execPath} ${cli} "$@"\n`, { mode: 0o755 });
    const data = join(root, 'data');
    cpSync(built, join(data, 'cockpit/virt-seclabel'), { recursive: true });
    const port = await freePort();
    ws = spawn(COCKPIT_WS, ['--port', String(port), '--address', '127.0.0.1', '--local-session=cockpit-bridge'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, XDG_DATA_HOME: data },
      stdio: 'ignore',
    });
    url = `http://127.0.0.1:${port}/cockpit/@localhost/virt-seclabel/index.html?uri=${encodeURIComponent(uri)}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    // cockpit-ws answers once it listens.
    for (let i = 0; ; i++) {
      const status = (await fetch(`http://127.0.0.1:${port}/cockpit/@localhost/virt-seclabel/manifest.json`).catch(() => undefined))?.status;
      if (status === 200) break;
      if (i === 300) throw new Error(`cockpit-ws on port ${port} did not serve the page's manifest in 30 s (last status ${status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterEach(async (ctx) => {
    // A failing step leaves a picture of what the page showed, next to the run's other scratch files.
    if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: join(repo, '.tmp', `cockpit-failed-${ctx.task.name.slice(0, 40).replace(/[^A-Za-z0-9]+/g, '-')}.png`), fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    ws?.kill();
    const problems = tearDownPrivateDaemon(ledger, daemon !== undefined, state, root);
    expect(problems).toEqual([]);
  });

  it('is in Cockpit\'s menu, next to Virtual Machines', async () => {
    const manifests = (await (await fetch(new URL('/cockpit/@localhost/manifests.json', url))).json()) as Record<string, { menu?: Record<string, { label: string; order: number }> }>;
    expect(manifests['virt-seclabel']?.menu?.index).toEqual({ label: 'Disk labels (virt-seclabel)', order: 31, keywords: expect.any(Array) });
  });

  it('shows every domain with the statuses, reasons and summary explain --json gives', async () => {
    await open();
    const doc = explainJson();
    expect(doc.domains.map((d) => d.name).sort()).toEqual(['keys', 'raced', 'web']);
    for (const d of doc.domains) {
      await poll(() => page.getByRole('heading', { name: `Domain ${d.name}` }).count()).toBe(1);
      expect(await page.getByText(d.summary, { exact: true }).count()).toBeGreaterThan(0);
      for (const f of d.files) {
        const cells = await row(d.name, f.element).getByRole('cell').allInnerTexts();
        expect(cells.slice(2).map((c) => c.trim())).toEqual([`${f.models.dac.words}\n${f.models.dac.reason}`, `${f.models.selinux.words}\n${f.models.selinux.reason}`]);
      }
    }
    // The two situations of the domain `web`, as a person reads them.
    expect(await row('web', 'disk hdc').getByRole('cell').nth(2).innerText()).toContain('libvirt will chown or relabel it although QEMU could already use it');
    expect(await row('web', 'disk vda').getByRole('cell').nth(2).innerText()).toContain('QEMU cannot open it');
    await shot('page');
  });

  it('"stop the relabelling": the plan shows the diff, the click redefines the domain, the page shows the new status', async () => {
    await page.getByRole('button', { name: 'Stop the needless relabelling of web…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop the needless relabelling of web' });
    await poll(() => dialog.getByText("add <seclabel model='dac' relabel='no'/> to disk hdc").count()).toBe(1);
    expect(await dialog.getByLabel('The change to the definition of web').innerText()).toContain("+        <seclabel model='dac' relabel='no'/>");
    expect(hasNoRelabel(inactive('web'), files.pub, 'dac')).toBe(false); // nothing before the click
    await shot('plan');
    await dialog.getByRole('button', { name: 'Redefine web' }).click();
    await poll(() => dialog.getByText('domain web: defined with 1 change(s), read back and all kept').count()).toBe(1);
    expect(await dialog.getByRole('listitem').allInnerTexts()).toEqual(["add <seclabel model='dac' relabel='no'/> to disk hdc"]);
    expect(hasNoRelabel(inactive('web'), files.pub, 'dac')).toBe(true);
    await dialog.getByRole('button', { name: 'Done', exact: true }).click();
    await poll(() => row('web', 'disk hdc').getByRole('cell').nth(2).innerText()).toContain('libvirt will leave it alone');
    await poll(() => page.getByRole('button', { name: 'Stop the needless relabelling of web…' }).isDisabled()).toBe(true);
  });

  it('grant: the setfacl command, then the ACL exists and the status changes', async () => {
    expect(execFileSync('getfacl', ['-cp', files.priv], { encoding: 'utf8' })).not.toMatch(/^user:libvirt-qemu:/m);
    await page.getByRole('button', { name: 'Grant QEMU access by ACL for web…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Grant QEMU access to the files of web' });
    await poll(() => dialog.getByText(`setfacl -n -m u:libvirt-qemu:rw-,m::rw- ${files.priv}`).count()).toBe(1);
    await dialog.getByRole('button', { name: 'Apply the ACL changes' }).click();
    await poll(() => dialog.getByText(`${files.priv}: applied`, { exact: false }).count()).toBe(1);
    expect(await dialog.getByText('vda: QEMU can now open it', { exact: false }).count()).toBe(1);
    await shot('granted');
    expect(execFileSync('getfacl', ['-cp', files.priv], { encoding: 'utf8' })).toMatch(/^user:libvirt-qemu:rw-$/m);
    await dialog.getByRole('button', { name: 'Done', exact: true }).click();
    await poll(() => row('web', 'disk vda').getByRole('cell').nth(2).innerText()).toContain('libvirt will chown or relabel it although QEMU could already use it');
    expect(explainJson().domains.find((d) => d.name === 'web')!.files.find((f) => f.element === 'disk vda')!.models.dac.words).toBe('libvirt will chown or relabel it although QEMU could already use it');
  });

  it('a definition changed under an open plan: the CLI\'s refusal is shown and nothing is defined', async () => {
    await page.getByRole('button', { name: 'Stop the needless relabelling of raced…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop the needless relabelling of raced' });
    await poll(() => dialog.getByRole('button', { name: 'Redefine raced' }).count()).toBe(1);
    // Someone else changes the definition while the plan is on screen.
    const changed = inactive('raced').replace('<vcpu placement=\'static\'>1</vcpu>', '<vcpu placement=\'static\'>2</vcpu>');
    expect(changed).toContain("<vcpu placement='static'>2</vcpu>");
    writeFileSync(join(root, 'raced-changed.xml'), changed);
    virsh('define', join(root, 'raced-changed.xml'));
    const before = inactive('raced');
    await dialog.getByRole('button', { name: 'Redefine raced' }).click();
    await poll(() => dialog.getByText('its definition changed since the plan was shown', { exact: false }).count()).toBe(1);
    expect(await dialog.getByText('Not done').count()).toBe(1);
    await shot('refused');
    expect(inactive('raced')).toBe(before);
    expect(hasNoRelabel(before, files.pub, 'dac')).toBe(false);
    await dialog.getByRole('button', { name: 'Done', exact: true }).click();
  });

  it('the host actions show the CLI\'s plan, or its own words when it refuses, and change nothing without the click', async () => {
    await page.getByRole('button', { name: 'Check what libvirt left behind…' }).click();
    let dialog = page.getByRole('dialog', { name: 'Undo what libvirt left behind' });
    const doctor = run(process.execPath, [cli, 'doctor', '--all-domains', '--connect', daemon.uri]);
    const summary = /^\d+ files checked: .*$/m.exec(doctor.stdout)?.[0];
    expect(summary, doctor.stdout + doctor.stderr).toBeDefined();
    await poll(() => dialog.getByText(summary!, { exact: false }).count()).toBe(1);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    // The hook's dry run runs the command the script would run, on libvirt's fixed PATH, where this
    // tree's CLI is not: the CLI refuses, and the page shows its words; nothing is written.
    const hook = '/etc/libvirt/hooks/qemu.d/virt-seclabel';
    const before = existsSync(hook);
    await page.getByRole('button', { name: 'Install the start hook…' }).click();
    dialog = page.getByRole('dialog', { name: 'Install the start hook' });
    const words = run(process.execPath, [cli, 'hook', 'install', '--dry-run']);
    if (words.code === 0) await poll(() => dialog.getByText('dry run: nothing written', { exact: false }).count()).toBe(1);
    else {
      expect(words.stderr).toContain('nothing written');
      await poll(() => dialog.getByText(words.stderr.split('\n')[0]!, { exact: false }).count()).toBe(1);
      expect(await dialog.getByRole('button', { name: 'Install the hook' }).count()).toBe(0);
    }
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    expect(existsSync(hook)).toBe(before);
  });

  it('a connection the CLI cannot read: its own words are shown, and no domain', async () => {
    const bad = `qemu:///system?socket=${root}/no-such-libvirt-sock`;
    const cliSays = run(process.execPath, [cli, 'explain', '--all-domains', '--json', '--connect', bad]);
    expect(cliSays.code).toBe(2);
    await page.goto(url.replace(/\?uri=.*/, `?uri=${encodeURIComponent(bad)}`));
    const alert = page.getByText(`Cannot read the domains on ${bad}`, { exact: false });
    await poll(() => alert.count()).toBeGreaterThan(0);
    await poll(() => page.getByText(cliSays.stderr.trim().split('\n')[0]!, { exact: false }).count()).toBe(1);
    expect(await page.getByRole('table').count()).toBe(0);
  });

  it('keyboard only: Tab to the action, Enter, Tab to the confirmation, Enter; Escape closes', async () => {
    await open();
    // The page's document, not Node's: evaluated in the browser.
    const focused = () => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { textContent: string | null } | null } }).document.activeElement?.textContent ?? '');
    const tabTo = async (text: string) => {
      for (let i = 0; i < 80; i++) {
        if ((await focused()) === text) return;
        await page.keyboard.press('Tab');
      }
      throw new Error(`Tab never reached "${text}" (focus on "${await focused()}")`);
    };
    // Escape leaves the dialog without a change.
    await tabTo('Stop the needless relabelling of keys…');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Stop the needless relabelling of keys' });
    await poll(() => dialog.getByRole('button', { name: 'Redefine keys' }).count()).toBe(1);
    await page.keyboard.press('Escape');
    await poll(() => dialog.count()).toBe(0);
    expect(hasNoRelabel(inactive('keys'), files.pub, 'dac')).toBe(false);
    // And the whole path.
    await tabTo('Stop the needless relabelling of keys…');
    await page.keyboard.press('Enter');
    await poll(() => dialog.getByRole('button', { name: 'Redefine keys' }).count()).toBe(1);
    await tabTo('Redefine keys');
    await page.keyboard.press('Enter');
    await poll(() => dialog.getByText('domain keys: defined with 1 change(s), read back and all kept').count()).toBe(1);
    expect(hasNoRelabel(inactive('keys'), files.pub, 'dac')).toBe(true);
    await tabTo('Done');
    await page.keyboard.press('Enter');
    await poll(() => row('keys', 'disk hdc').getByRole('cell').nth(2).innerText()).toContain('libvirt will leave it alone');
  });
});
