/**
 * virt-seclabel's Cockpit page: every domain of each libvirt connection with, for each file and security
 * model, what libvirt will do at the next start and whether QEMU could use the file without it; and the
 * actions, each after its plan and a confirming click. Everything shown comes from the CLI's JSON or its
 * own words (cli.ts); the page decides nothing. It refreshes every REFRESH_SECONDS and on the Refresh button.
 */
import React, { useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import {
  Alert,
  Button,
  Card,
  CardBody,
  CardFooter,
  CardHeader,
  CardTitle,
  CodeBlock,
  CodeBlockCode,
  Content,
  Flex,
  FlexItem,
  Label,
  List,
  ListItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  PageSection,
  Spinner,
  Title,
} from '@patternfly/react-core';
import '@patternfly/patternfly/patternfly.css';
import './page.css';
import { runCli, runJson, type CliAnswer, type Connection } from './cli';
import type { DomainEntry, ExplainDoc, FileRow, GrantDoc, ModelStatus, PlanDoc, Status } from './types';

const REFRESH_SECONDS = 30;

/** ?uri=… names one connection (a private daemon's socket, for tests); otherwise the system and the user's session. */
function connections(): Connection[] {
  const uri = new URLSearchParams(window.location.search).get('uri');
  if (uri) return [{ uri, superuser: !uri.startsWith('qemu:///session') }];
  return [
    { uri: 'qemu:///system', superuser: true },
    { uri: 'qemu:///session', superuser: false },
  ];
}

const STATUS_COLOR: Record<Status, 'green' | 'orange' | 'blue' | 'red' | 'grey'> = {
  'left-alone': 'green',
  needless: 'orange',
  required: 'blue',
  'cannot-open': 'red',
  unknown: 'grey',
};

/** The CLI's own words for a failure: its stderr, else its stdout, else the exit code. */
const cliWords = (a: CliAnswer) => a.stderr.trim() || a.stdout.trim() || `virt-seclabel exited with status ${a.code}`;

function StatusCell({ s }: { s: ModelStatus }) {
  return (
    <>
      <Label color={STATUS_COLOR[s.status]} isCompact>
        {s.words}
      </Label>
      <div className="vsl-reason">{s.reason}</div>
    </>
  );
}

function FilesTable({ name, files }: { name: string; files: readonly FileRow[] }) {
  // Debian and Ubuntu hosts: libvirt's AppArmor profile can refuse a file DAC allows.
  const apparmor = files.some((f) => f.models.apparmor !== undefined);
  return (
    <table className="pf-v6-c-table pf-m-compact pf-m-grid-md" aria-label={`Files of domain ${name}`}>
      <thead className="pf-v6-c-table__thead">
        <tr className="pf-v6-c-table__tr">
          <th className="pf-v6-c-table__th" scope="col">File</th>
          <th className="pf-v6-c-table__th" scope="col">Path</th>
          <th className="pf-v6-c-table__th" scope="col">Access</th>
          <th className="pf-v6-c-table__th" scope="col">DAC (owner and mode)</th>
          <th className="pf-v6-c-table__th" scope="col">SELinux</th>
          {apparmor && <th className="pf-v6-c-table__th" scope="col">AppArmor</th>}
        </tr>
      </thead>
      <tbody className="pf-v6-c-table__tbody">
        {files.map((f, i) => (
          <tr className="pf-v6-c-table__tr" key={i}>
            <th className="pf-v6-c-table__td" scope="row">{f.element}</th>
            <td className="pf-v6-c-table__td vsl-path">{f.path ?? '(none)'}</td>
            <td className="pf-v6-c-table__td">{f.access === 'read' ? 'read-only' : 'read-write'}</td>
            <td className="pf-v6-c-table__td">
              <StatusCell s={f.models.dac} />
            </td>
            <td className="pf-v6-c-table__td">
              <StatusCell s={f.models.selinux} />
            </td>
            {apparmor && <td className="pf-v6-c-table__td">{f.models.apparmor ? <StatusCell s={f.models.apparmor} /> : null}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** An action: a plan fetched and shown, a confirming click, the CLI's report of what it did. */
interface ActionSpec {
  readonly title: string;
  readonly conn: Connection;
  /** Fetches the plan; returns what to show and how to apply it (undefined: nothing to apply). */
  readonly plan: () => Promise<{ body: React.ReactNode; apply?: { label: string; run: () => Promise<{ ok: boolean; body: React.ReactNode }> } }>;
}

function ActionDialog({ spec, onClose }: { spec: ActionSpec; onClose: (changed: boolean) => void }) {
  const [phase, setPhase] = useState<'planning' | 'planned' | 'applying' | 'done'>('planning');
  const [plan, setPlan] = useState<Awaited<ReturnType<ActionSpec['plan']>>>();
  const [result, setResult] = useState<{ ok: boolean; body: React.ReactNode }>();
  useEffect(() => {
    let live = true;
    spec.plan().then((p) => {
      if (!live) return;
      setPlan(p);
      setPhase('planned');
    });
    return () => {
      live = false;
    };
  }, [spec]);
  const apply = async () => {
    if (!plan?.apply) return;
    setPhase('applying');
    setResult(await plan.apply.run());
    setPhase('done');
  };
  const titleId = 'vsl-dialog-title';
  return (
    <Modal isOpen variant="large" onClose={() => onClose(phase === 'done')} aria-labelledby={titleId}>
      <ModalHeader title={spec.title} labelId={titleId} />
      <ModalBody>
        {phase === 'planning' && <Spinner size="lg" aria-label="Preparing the plan" />}
        {plan && phase !== 'done' && plan.body}
        {phase === 'applying' && (
          <p role="status">
            <Spinner size="md" aria-hidden /> Applying…
          </p>
        )}
        {phase === 'done' && result && (
          <div role="status">
            <Alert variant={result.ok ? 'success' : 'danger'} isInline title={result.ok ? 'Done: what changed' : 'Not done'}>
              {result.body}
            </Alert>
          </div>
        )}
      </ModalBody>
      <ModalFooter>
        {phase === 'planned' && plan?.apply && (
          <Button variant="primary" onClick={apply}>
            {plan.apply.label}
          </Button>
        )}
        <Button variant={phase === 'done' ? 'primary' : 'link'} onClick={() => onClose(phase === 'done')}>
          {phase === 'done' ? 'Done' : 'Cancel'}
        </Button>
      </ModalFooter>
    </Modal>
  );
}

const Pre = ({ text, label }: { text: string; label: string }) => (
  <CodeBlock aria-label={label}>
    <CodeBlockCode>{text}</CodeBlockCode>
  </CodeBlock>
);

const Failure = ({ answer, title }: { answer: CliAnswer; title: string }) => (
  <Alert variant="danger" isInline title={title}>
    <pre className="vsl-words">{cliWords(answer)}</pre>
  </Alert>
);

/** Stop the needless relabelling: the definition's diff, then redefine it only if it is still the one shown. */
function relabelAction(conn: Connection, name: string): ActionSpec {
  return {
    title: `Stop the needless relabelling of ${name}`,
    conn,
    plan: async () => {
      const { doc, answer } = await runJson<PlanDoc>(conn, ['annotate', '--domain', name, '--diff', '--json']);
      const d = doc?.domains[0];
      if (!d || d.state !== 'decided') return { body: <Failure answer={answer} title="The plan could not be made" /> };
      if (d.changes.length === 0) return { body: <p>Nothing to change: libvirt already leaves alone every file of {name} that QEMU can use.</p> };
      return {
        body: (
          <>
            <p>
              Redefine {name} with these seclabels, so that libvirt no longer chowns or relabels files QEMU can already use. Only these lines
              change; if the definition changes before you confirm, nothing is defined.
            </p>
            <List>
              {d.changes.map((c, i) => (
                <ListItem key={i}>{c.words}</ListItem>
              ))}
            </List>
            <Pre text={d.diff} label={`The change to the definition of ${name}`} />
          </>
        ),
        apply: {
          label: `Redefine ${name}`,
          run: async () => {
            const r = await runJson<PlanDoc>(conn, ['annotate', '--domain', name, '--apply', '--json', '--expect-digest', d.digest]);
            const res = r.doc?.domains[0];
            const result = res && 'result' in res ? res.result : undefined;
            if (r.answer.code !== 0 || !result) return { ok: false, body: <pre className="vsl-words">{cliWords(r.answer)}</pre> };
            return {
              ok: true,
              body: (
                <>
                  <p>{`domain ${name}: ${result.why ?? result.outcome}`}</p>
                  {result.outcome === 'defined' && res && 'changes' in res && (
                    <List>
                      {res.changes.map((c, i) => (
                        <ListItem key={i}>{c.words}</ListItem>
                      ))}
                    </List>
                  )}
                </>
              ),
            };
          },
        },
      };
    },
  };
}

/** Grant QEMU access by ACL: the setfacl commands, then applied and every disk decided again. */
function grantAction(conn: Connection, name: string): ActionSpec {
  return {
    title: `Grant QEMU access to the files of ${name}`,
    conn,
    plan: async () => {
      const { doc, answer } = await runJson<GrantDoc>(conn, ['grant', '--domain', name, '--json']);
      if (!doc) return { body: <Failure answer={answer} title="The plan could not be made" /> };
      const refused = doc.disks.filter((d) => d.status === 'refused');
      return {
        body: (
          <>
            {doc.changes.length > 0 ? (
              <>
                <p>These ACL changes let QEMU open the files (instead of libvirt's chown); nothing else changes:</p>
                <Pre text={doc.changes.map((c) => c.command).join('\n')} label="The ACL commands" />
              </>
            ) : (
              <p>No ACL change to make.</p>
            )}
            {refused.map((d, i) => (
              <Alert key={i} variant="warning" isInline title={`${d.target ?? d.path ?? d.file}: ACLs cannot help`}>
                {d.reason}
              </Alert>
            ))}
          </>
        ),
        ...(doc.changes.length > 0 && {
          apply: {
            label: 'Apply the ACL changes',
            run: async () => {
              const r = await runJson<GrantDoc>(conn, ['grant', '--domain', name, '--apply', '--json']);
              if (!r.doc?.applied) return { ok: false, body: <pre className="vsl-words">{cliWords(r.answer)}</pre> };
              return {
                ok: r.doc.applied.every((a) => a.status === 'applied'),
                body: (
                  <List>
                    {r.doc.applied.map((a, i) => (
                      <ListItem key={i}>{`${a.path}: ${a.status}${a.spec ? ` (${a.spec})` : ''}${a.why ? `: ${a.why}` : ''}`}</ListItem>
                    ))}
                    {(r.doc.recheck ?? []).map((d, i) => (
                      <ListItem key={`r${i}`}>{`${d.target ?? d.path}: ${d.accessible ? 'QEMU can now open it' : 'still not accessible'}: ${d.reason}`}</ListItem>
                    ))}
                  </List>
                ),
              };
            },
          },
        }),
      };
    },
  };
}

/** A command whose text output is its plan (hook install/uninstall --dry-run, doctor), then the same without the dry run. */
function textAction(conn: Connection, title: string, planArgs: string[], applyArgs: string[], label: string): ActionSpec {
  return {
    title,
    conn,
    plan: async () => {
      const a = await runCli(conn, planArgs);
      if (a.code !== 0) return { body: <Failure answer={a} title="Not possible" /> };
      return {
        body: <Pre text={a.stdout + a.stderr} label="The plan" />,
        apply: {
          label,
          run: async () => {
            const r = await runCli(conn, applyArgs);
            return { ok: r.code === 0, body: <pre className="vsl-words">{(r.stdout + r.stderr).trim()}</pre> };
          },
        },
      };
    },
  };
}

function DomainCard({ conn, d, act }: { conn: Connection; d: DomainEntry; act: (s: ActionSpec) => void }) {
  const headingId = `vsl-domain-${conn.uri}-${d.name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  if (d.state !== 'decided')
    return (
      <Card component="section" aria-labelledby={headingId}>
        <CardHeader>
          <CardTitle>
            <Title headingLevel="h3" id={headingId}>{`Domain ${d.name}`}</Title>
          </CardTitle>
        </CardHeader>
        <CardBody>
          <Alert variant={d.state === 'failed' ? 'danger' : 'info'} isInline title={d.state === 'failed' ? 'Cannot be read' : 'Skipped'}>
            {d.why}
          </Alert>
        </CardBody>
      </Card>
    );
  const cannotOpen = d.files.some((f) => f.models.dac.status === 'cannot-open');
  return (
    <Card component="section" aria-labelledby={headingId}>
      <CardHeader>
        <CardTitle>
          <Title headingLevel="h3" id={headingId}>
            {`Domain ${d.name}`} {d.running && <Label isCompact>running</Label>}
          </Title>
        </CardTitle>
      </CardHeader>
      <CardBody>
        <p className="vsl-summary">{d.summary}</p>
        <FilesTable name={d.name} files={d.files} />
      </CardBody>
      <CardFooter>
        <Flex>
          <FlexItem>
            <Button variant="primary" isDisabled={d.changes === 0} onClick={() => act(relabelAction(conn, d.name))}>
              {`Stop the needless relabelling of ${d.name}…`}
            </Button>
          </FlexItem>
          <FlexItem>
            <Button variant="secondary" isDisabled={!cannotOpen} onClick={() => act(grantAction(conn, d.name))}>
              {`Grant QEMU access by ACL for ${d.name}…`}
            </Button>
          </FlexItem>
        </Flex>
      </CardFooter>
    </Card>
  );
}

interface ConnState {
  readonly doc?: ExplainDoc;
  readonly error?: CliAnswer;
}

function ConnectionSection({ conn, state, act }: { conn: Connection; state: ConnState | undefined; act: (s: ActionSpec) => void }) {
  const id = `vsl-conn-${conn.uri}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const session = conn.uri.startsWith('qemu:///session');
  // The user's own session is shown only when it has domains; the system connection always.
  if (session && (!state?.doc || state.doc.domains.length === 0)) return null;
  return (
    <PageSection aria-labelledby={id}>
      <Title headingLevel="h2" id={id}>{`Domains on ${conn.uri}`}</Title>
      {!state && <Spinner size="lg" aria-label={`Reading the domains on ${conn.uri}`} />}
      {state?.error && <Failure answer={state.error} title={`Cannot read the domains on ${conn.uri}`} />}
      {state?.doc && state.doc.domains.length === 0 && <p>No domain is defined on this connection.</p>}
      {state?.doc && (
        <Flex direction={{ default: 'column' }}>
          {state.doc.domains.map((d) => (
            <FlexItem key={d.name}>
              <DomainCard conn={conn} d={d} act={act} />
            </FlexItem>
          ))}
        </Flex>
      )}
      {!session && (
        <Card component="section" aria-label={`Host actions for ${conn.uri}`} className="vsl-host">
          <CardBody>
            <Flex>
              <FlexItem>
                <Button variant="secondary" onClick={() => act(textAction(conn, 'Install the start hook', ['hook', 'install', '--dry-run'], ['hook', 'install'], 'Install the hook'))}>
                  Install the start hook…
                </Button>
              </FlexItem>
              <FlexItem>
                <Button variant="secondary" onClick={() => act(textAction(conn, 'Remove the start hook', ['hook', 'uninstall', '--dry-run'], ['hook', 'uninstall'], 'Remove the hook'))}>
                  Remove the start hook…
                </Button>
              </FlexItem>
              <FlexItem>
                <Button
                  variant="secondary"
                  onClick={() => act(textAction(conn, 'Undo what libvirt left behind', ['doctor', '--all-domains'], ['doctor', '--all-domains', '--apply'], 'Undo the stale records'))}
                >
                  Check what libvirt left behind…
                </Button>
              </FlexItem>
            </Flex>
          </CardBody>
        </Card>
      )}
    </PageSection>
  );
}

function App() {
  const conns = useRef(connections()).current;
  const [states, setStates] = useState<Record<string, ConnState>>({});
  const [updated, setUpdated] = useState<Date>();
  const [loading, setLoading] = useState(false);
  const [action, setAction] = useState<ActionSpec>();
  const refresh = useCallback(async () => {
    setLoading(true);
    const next: Record<string, ConnState> = {};
    await Promise.all(
      conns.map(async (c) => {
        const { doc, answer } = await runJson<ExplainDoc>(c, ['explain', '--all-domains', '--json']);
        next[c.uri] = doc?.kind === 'explain' ? { doc } : { error: answer };
      }),
    );
    setStates(next);
    setUpdated(new Date());
    setLoading(false);
  }, [conns]);
  useEffect(() => {
    void refresh();
    const t = window.setInterval(() => void refresh(), REFRESH_SECONDS * 1000);
    return () => window.clearInterval(t);
  }, [refresh]);
  return (
    <main className="vsl-page">
      <PageSection>
        <Title headingLevel="h1">Disk labels</Title>
        <Content component="p">
          For every file of every virtual machine: what libvirt will do with it at the next start, and whether QEMU could already use it without
          libvirt's chown or relabel (virt-seclabel).
        </Content>
        <Flex alignItems={{ default: 'alignItemsCenter' }}>
          <FlexItem>
            <Button variant="secondary" onClick={() => void refresh()} isLoading={loading} isDisabled={loading}>
              Refresh
            </Button>
          </FlexItem>
          <FlexItem>
            <span role="status" aria-live="polite">
              {updated ? `Last checked at ${updated.toLocaleTimeString()}; refreshes every ${REFRESH_SECONDS} seconds` : 'Checking…'}
            </span>
          </FlexItem>
        </Flex>
      </PageSection>
      {conns.map((c) => (
        <ConnectionSection key={c.uri} conn={c} state={states[c.uri]} act={setAction} />
      ))}
      {action && (
        <ActionDialog
          spec={action}
          onClose={(changed) => {
            setAction(undefined);
            if (changed) void refresh();
          }}
        />
      )}
    </main>
  );
}

createRoot(document.getElementById('app')!).render(<App />);
