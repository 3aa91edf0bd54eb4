// A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI (Node cannot
// issue certificates). Clients verify the server against the CA like they do with a real cluster;
// nothing is ever trusted system-wide.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../netns';

export interface LabTls {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Creates ca.key, ca.crt, server.key and server.crt in `dir` (a private temp directory). */
export function makeTls(dir: string, days = 2): LabTls {
  const f = (name: string) => join(dir, name);
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  run(['openssl', 'genpkey', ...ec, '-out', f('ca.key')]);
  run(['openssl', 'req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', String(days), '-subj', '/CN=netpath-lab-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.crt')]);
  run(['openssl', 'genpkey', ...ec, '-out', f('server.key')]);
  // `req -x509 -CA` (OpenSSL 3) signs with the CA directly: no CSR file, no config file.
  run(['openssl', 'req', '-new', '-key', f('server.key'), '-subj', '/CN=kube-apiserver',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
    '-addext', 'basicConstraints=critical,CA:FALSE', '-addext', 'keyUsage=critical,digitalSignature', '-addext', 'extendedKeyUsage=serverAuth',
    '-x509', '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-days', String(days), '-sha256', '-out', f('server.crt')]);
  return { caPem: readFileSync(f('ca.crt'), 'utf8'), certPem: readFileSync(f('server.crt'), 'utf8'), keyPem: readFileSync(f('server.key'), 'utf8') };
}
