// Makes sure the Debian packages the tests and the lab need are installed: installs the missing
// ones with apt-get when running as root (as CI does), otherwise says exactly what to install.
import { spawnSync } from 'node:child_process';

const needs = [
  { cmd: 'ip', pkg: 'iproute2' },
  { cmd: 'bridge', pkg: 'iproute2' },
  { cmd: 'sysctl', pkg: 'procps' },
  { cmd: 'brctl', pkg: 'bridge-utils' },
  { cmd: 'iptables-save', pkg: 'iptables' },
  { cmd: 'busybox', pkg: 'busybox' },
  { cmd: 'arp', pkg: 'net-tools' },
  { cmd: 'route', pkg: 'net-tools' },
  { cmd: 'netstat', pkg: 'net-tools' },
  { cmd: 'ping', pkg: 'iputils-ping' },
  { cmd: 'nsenter', pkg: 'util-linux' },
  { cmd: 'openssl', pkg: 'openssl' },
  { cmd: 'chromium', pkg: 'chromium' },
  { cmd: 'rg', pkg: 'ripgrep' },
  { cmd: 'nft', pkg: 'nftables' },
  { cmd: 'ipset', pkg: 'ipset' },
  // The ipvs probe's tool: the lab's kernel has no ip_vs, and the capture test expects ipvsadm to say so.
  { cmd: 'ipvsadm', pkg: 'ipvsadm' },
  { cmd: 'python3', pkg: 'python3' },
];

const has = (cmd) => spawnSync('sh', ['-c', `command -v "$1" || test -x "/usr/sbin/$1" || test -x "/sbin/$1"`, 'sh', cmd], { stdio: 'ignore' }).status === 0;
const missing = [...new Set(needs.filter((n) => !has(n.cmd)).map((n) => n.pkg))];
if (missing.length === 0) process.exit(0);

if (process.getuid?.() !== 0) {
  console.error(`netpath tests need these Debian packages: ${missing.join(' ')}\nInstall them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
  process.exit(1);
}
console.error(`installing Debian packages: ${missing.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', ...missing]]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`apt-get ${args.join(' ')} failed (exit ${r.status}); install ${missing.join(' ')} by hand and run the tests again`);
    process.exit(1);
  }
}
