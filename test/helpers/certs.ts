/**
 * Throwaway certificates made by openssl (installed by scripts/ensure-deps.sh), valid for a day,
 * in a directory of the caller's: a self-signed one, or a test CA and server certificates it
 * signs for 127.0.0.1 and localhost, each with the serial number the test asks for.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCert {
  cert: string;
  key: string;
}

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

export function selfSignedCert(dir: string): TestCert {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
    '-keyout',
    key,
    '-out',
    cert,
  ]);
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

export interface TestCa extends TestCert {
  dir: string;
  /** Paths of the CA's PEM files. */
  certFile: string;
  keyFile: string;
}

export function testCa(dir: string): TestCa {
  const keyFile = join(dir, 'ca-key.pem');
  const certFile = join(dir, 'ca.pem');
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=switchyard test CA',
    '-addext',
    'basicConstraints=critical,CA:true',
    '-addext',
    'keyUsage=critical,keyCertSign',
    '-keyout',
    keyFile,
    '-out',
    certFile,
  ]);
  return { dir, certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

export interface ServerCert extends TestCert {
  /** As tls' getPeerCertificate().serialNumber spells it: upper-case hex. */
  serial: string;
}

/** A server certificate for 127.0.0.1 and localhost, with a key of its own, signed by `ca`. */
export function serverCert(ca: TestCa, serial: number): ServerCert {
  const base = join(ca.dir, `server-${serial}`);
  const ext = `${base}.ext`;
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  openssl([
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=switchyard test ${serial}`,
    '-keyout',
    `${base}-key.pem`,
    '-out',
    `${base}.csr`,
  ]);
  openssl([
    'x509',
    '-req',
    '-in',
    `${base}.csr`,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-set_serial',
    String(serial),
    '-days',
    '1',
    '-extfile',
    ext,
    '-out',
    `${base}.pem`,
  ]);
  const hex = serial.toString(16).toUpperCase();
  return { cert: readFileSync(`${base}.pem`, 'utf8'), key: readFileSync(`${base}-key.pem`, 'utf8'), serial: hex.length % 2 ? `0${hex}` : hex };
}
