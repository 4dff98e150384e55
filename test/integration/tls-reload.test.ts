/**
 * Certificate rotation on a TLS listener: new files are served without a restart (watched, or
 * on SIGHUP through a real gateway process, also with workers), and a bad new pair is refused
 * with the old one kept. The served certificate is read from real handshakes.
 */
import { mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { type ServerCert, serverCert, type TestCa, testCa } from '../helpers/certs.js';
import { gatewayYaml, startGateway, type TestGateway, tempDir } from '../helpers/gateway.js';
import { jsonLines } from '../helpers/http2.js';
import { type GatewayProcess, spawnGateway } from '../helpers/process.js';
import { echoBackend, type TestServer } from '../helpers/servers.js';

/** The serial number of the certificate a new TLS connection to `port` is shown. */
function servedSerial(port: number, ca: TestCa): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', ca: ca.cert, ALPNProtocols: ['http/1.1'] }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.destroy();
      resolve(serial);
    });
    socket.on('error', reject);
  });
}

/** Replaces a file the way rotation tools do: write beside it, then rename over it. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.new`, text);
  renameSync(`${file}.new`, file);
}

function install(dir: string, pair: { cert: string; key: string }): void {
  replace(join(dir, 'tls.key'), pair.key);
  replace(join(dir, 'tls.crt'), pair.cert);
}

const tlsListen = (dir: string, watch: boolean) =>
  `listen: { address: "127.0.0.1:0", tls: { cert: "${join(dir, 'tls.crt')}", key: "${join(dir, 'tls.key')}", watch: ${watch} } }`;

describe('certificate reload', () => {
  let backend: TestServer;
  let ca: TestCa;
  const certs: ServerCert[] = [];

  beforeAll(async () => {
    backend = await echoBackend('legacy');
    ca = testCa(tempDir('switchyard-ca-'));
    for (const serial of [0xa1, 0xb2, 0xc3, 0xd4, 0xe5]) certs.push(serverCert(ca, serial));
  });
  afterAll(async () => {
    await backend?.close();
  });

  describe('watched files (in-process gateway)', () => {
    let g: TestGateway;
    let dir: string;
    const { sink, lines } = jsonLines();
    const failures = () => lines.filter((l) => l.msg === 'tls certificate reload failed; keeping the previous one').length;

    beforeAll(async () => {
      dir = tempDir('switchyard-tls-');
      install(dir, certs[0]!);
      g = await startGateway({
        backends: { legacy: backend.url },
        rules: 'default: legacy\n',
        listen: tlsListen(dir, true),
        options: { logger: createLogger('info', sink) },
      });
    });
    afterAll(async () => {
      await g?.stop();
    });

    it('serves the new certificate once the files are replaced', async () => {
      expect(await servedSerial(g.gw.port, ca)).toBe(certs[0]!.serial);
      install(dir, certs[1]!);
      await expect.poll(() => servedSerial(g.gw.port, ca), { timeout: 10_000 }).toBe(certs[1]!.serial);
      expect(lines.find((l) => l.msg === 'tls certificate loaded' && l.reason === 'watch')).toMatchObject({ serial: certs[1]!.serial });
    });

    it('keeps the certificate in use when the new one is not a certificate', async () => {
      const before = failures();
      replace(join(dir, 'tls.crt'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
      await expect.poll(failures, { timeout: 10_000 }).toBeGreaterThan(before);
      expect(await servedSerial(g.gw.port, ca)).toBe(certs[1]!.serial);
    });

    it('keeps the certificate in use when the new certificate does not match the key', async () => {
      const before = failures();
      replace(join(dir, 'tls.crt'), certs[2]!.cert); // the key on disk is still certs[1]'s
      await expect.poll(failures, { timeout: 10_000 }).toBeGreaterThan(before);
      expect(await servedSerial(g.gw.port, ca)).toBe(certs[1]!.serial);
      // Completing the rotation applies it.
      replace(join(dir, 'tls.key'), certs[2]!.key);
      await expect.poll(() => servedSerial(g.gw.port, ca), { timeout: 10_000 }).toBe(certs[2]!.serial);
    });
  });

  // A Secret mounted in a Kubernetes pod: tls.crt -> ..data/tls.crt, ..data -> ..TIMESTAMP; the
  // kubelet writes a new timestamped directory and renames a new ..data symlink over the old.
  it('follows the symlink swap of a Kubernetes Secret volume', async () => {
    const dir = tempDir('switchyard-secret-');
    const version = (name: string, pair: { cert: string; key: string }) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'tls.crt'), pair.cert);
      writeFileSync(join(dir, name, 'tls.key'), pair.key);
    };
    version('..2026_01', certs[0]!);
    symlinkSync('..2026_01', join(dir, '..data'));
    symlinkSync('..data/tls.crt', join(dir, 'tls.crt'));
    symlinkSync('..data/tls.key', join(dir, 'tls.key'));
    const g = await startGateway({ backends: { legacy: backend.url }, rules: 'default: legacy\n', listen: tlsListen(dir, true) });
    try {
      expect(await servedSerial(g.gw.port, ca)).toBe(certs[0]!.serial);
      version('..2026_02', certs[2]!);
      symlinkSync('..2026_02', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      await expect.poll(() => servedSerial(g.gw.port, ca), { timeout: 10_000 }).toBe(certs[2]!.serial);
    } finally {
      await g.stop();
    }
  });

  describe('SIGHUP (gateway process, files not watched)', () => {
    const procs: GatewayProcess[] = [];
    afterAll(() => {
      for (const p of procs) p.child.kill('SIGKILL');
    });

    async function start(extraArgs: string[]): Promise<{ p: GatewayProcess; dir: string }> {
      const dir = tempDir('switchyard-hup-');
      install(dir, certs[0]!);
      writeFileSync(join(dir, 'rules.yaml'), 'default: legacy\n');
      const config = join(dir, 'gateway.yaml');
      const yaml = gatewayYaml({ backends: { legacy: backend.url }, rules: '', listen: tlsListen(dir, false) }, join(dir, 'rules.yaml'));
      writeFileSync(config, yaml);
      const p = await spawnGateway(config, extraArgs);
      procs.push(p);
      return { p, dir };
    }

    it('re-reads the files on SIGHUP and keeps running', async () => {
      const { p, dir } = await start([]);
      expect(await servedSerial(p.port, ca)).toBe(certs[0]!.serial);
      install(dir, certs[3]!);
      // Not watched: nothing changes until the signal.
      expect(await servedSerial(p.port, ca)).toBe(certs[0]!.serial);
      p.child.kill('SIGHUP');
      await expect.poll(() => servedSerial(p.port, ca), { timeout: 10_000 }).toBe(certs[3]!.serial);
      await expect.poll(() => p.stderr()).toMatch(/"reason":"signal".*"msg":"tls certificate loaded"/);
      expect(p.child.exitCode).toBeNull();
    });

    it('passes SIGHUP on to every worker', async () => {
      const { p, dir } = await start(['--workers', '2']);
      await expect.poll(() => (p.stderr().match(/"msg":"worker ready"/g) ?? []).length, { timeout: 20_000 }).toBe(2);
      install(dir, certs[4]!);
      p.child.kill('SIGHUP');
      await expect.poll(() => (p.stderr().match(/"reason":"signal"[^\n]*"msg":"tls certificate loaded"/g) ?? []).length, { timeout: 10_000 }).toBe(2);
      // Connections are spread over the workers: every one of them now shows the new certificate.
      const serials = await Promise.all(Array.from({ length: 6 }, () => servedSerial(p.port, ca)));
      expect(new Set(serials)).toEqual(new Set([certs[4]!.serial]));
      expect(p.child.exitCode).toBeNull();
    });
  });
});
