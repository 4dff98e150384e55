import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../../src/config/gateway-config.js';
import { ConfigError, formatIssue } from '../../src/config/yaml-source.js';
import { selfSignedCert } from '../helpers/certs.js';
import { tempDir } from '../helpers/gateway.js';

const rest = 'backends:\n  legacy: { url: "http://127.0.0.1:8081" }\nrules: { file: rules.yaml }\n';

describe('listen', () => {
  let dir: string;
  let file: string;

  beforeAll(() => {
    dir = tempDir('switchyard-listen-');
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    // Two unrelated pairs: a's certificate with b's key does not make a TLS context.
    selfSignedCert(join(dir, 'a'));
    selfSignedCert(join(dir, 'b'));
    writeFileSync(join(dir, 'not-pem.txt'), 'hello\n');
    file = join(dir, 'gw.yaml');
  });

  const parse = (listen: string) => parseGatewayConfig(`${listen}\n${rest}`, file, {});
  function issues(listen: string): string[] {
    try {
      parse(listen);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.issues.map((i) => formatIssue(i).replace(file, 'gw.yaml').replaceAll(dir, 'DIR'));
    }
  }

  it('takes "HOST:PORT" as before: one plain listener', () => {
    const c = parse('listen: "0.0.0.0:8080"');
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.listeners).toEqual([{ address: { host: '0.0.0.0', port: 8080 }, h2c: false }]);
  });

  it('defaults to one plain listener on 0.0.0.0:8080', () => {
    expect(parseGatewayConfig(rest, file, {}).listeners).toEqual([{ address: { host: '0.0.0.0', port: 8080 }, h2c: false }]);
  });

  it('takes a mapping with tls (paths relative to the config file) and a list of listeners', () => {
    const c = parse(
      [
        'listen:',
        '  - "127.0.0.1:8080"',
        '  - { address: "127.0.0.1:8081", h2c: true }',
        '  - address: "[::1]:8443"',
        '    tls: { cert: a/cert.pem, key: a/key.pem }',
      ].join('\n'),
    );
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.listeners).toEqual([
      { address: { host: '127.0.0.1', port: 8080 }, h2c: false },
      { address: { host: '127.0.0.1', port: 8081 }, h2c: true },
      {
        address: { host: '::1', port: 8443 },
        h2c: false,
        tls: { cert: join(dir, 'a/cert.pem'), key: join(dir, 'a/key.pem'), minVersion: 'TLSv1.2', watch: true },
      },
    ]);
    const one = parse('listen: { address: "127.0.0.1:8443", tls: { cert: a/cert.pem, key: a/key.pem, min_version: TLSv1.3, watch: false } }');
    expect(one.listeners[0]!.tls).toMatchObject({ minVersion: 'TLSv1.3', watch: false });
  });

  it('names FILE:LINE:COL and the key for PEM files that are missing, not PEM, or not a pair', () => {
    expect(issues('listen:\n  address: "127.0.0.1:8443"\n  tls: { cert: a/missing.pem, key: a/key.pem }')).toEqual([
      'gw.yaml:3:16: listen.tls.cert: cannot read the certificate file DIR/a/missing.pem: ENOENT',
    ]);
    expect(issues('listen:\n  address: "127.0.0.1:8443"\n  tls: { cert: a/cert.pem, key: a }')).toEqual([
      'gw.yaml:3:33: listen.tls.key: cannot read the private key file DIR/a: EISDIR',
    ]);
    expect(issues('listen:\n  address: "127.0.0.1:8443"\n  tls: { cert: a/cert.pem, key: b/key.pem }')).toEqual([
      expect.stringMatching(/^gw\.yaml:3:8: listen\.tls: the certificate and key do not make a TLS context: .*key values mismatch/),
    ]);
    expect(issues('listen:\n  address: "127.0.0.1:8443"\n  tls: { cert: not-pem.txt, key: a/key.pem }')).toEqual([
      expect.stringMatching(/^gw\.yaml:3:8: listen\.tls: the certificate and key do not make a TLS context: /),
    ]);
  });

  it('refuses h2c on a TLS listener, duplicate addresses, an empty list and unknown keys', () => {
    expect(issues('listen: { address: "127.0.0.1:8443", h2c: true, tls: { cert: a/cert.pem, key: a/key.pem } }')).toEqual([
      'gw.yaml:1:43: listen.h2c: h2c is HTTP/2 without TLS; a TLS listener offers h2 through ALPN already',
    ]);
    expect(issues('listen: ["127.0.0.1:8080", { address: "127.0.0.1:8080", h2c: true }]')).toEqual([
      'gw.yaml:1:39: listen[1]: duplicate address 127.0.0.1:8080 (first at listen[0])',
    ]);
    expect(parse('listen: ["127.0.0.1:0", "127.0.0.1:0"]').listeners).toHaveLength(2);
    expect(issues('listen: []')).toEqual(['gw.yaml:1:9: listen: needs at least one listener']);
    expect(issues('listen: { address: "127.0.0.1:8080", http3: true }')).toEqual([
      'gw.yaml:1:38: listen.http3: unknown key (expected one of: address, tls, h2c)',
    ]);
    expect(issues('listen: { address: "127.0.0.1:8443", tls: { cert: a/cert.pem, key: a/key.pem, min_version: TLSv1.1 } }')).toEqual([
      'gw.yaml:1:92: listen.tls.min_version: "TLSv1.1" is not one of TLSv1.2, TLSv1.3',
    ]);
    expect(issues('listen: 8080')).toEqual(['gw.yaml:1:9: listen: expected a string, got number 8080']);
  });
});
