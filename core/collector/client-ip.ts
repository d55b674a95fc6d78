import { isIP } from 'node:net';

function isPrivate(ip: string): boolean {
  if (isIP(ip) === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 10 || a === 127 || a === 0 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  const lower = ip.toLowerCase();
  if (lower.startsWith('::ffff:')) return isPrivate(lower.slice(7));
  return lower === '::1' || lower === '::' || lower.startsWith('fc') || lower.startsWith('fd') || lower.startsWith('fe80') || lower.startsWith('ff');
}

function clean(candidate: string | undefined): string | undefined {
  if (!candidate) return undefined;
  let ip = candidate.trim();
  if (ip.startsWith('[')) ip = ip.slice(1, ip.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(ip)) ip = ip.slice(0, ip.lastIndexOf(':'));
  return isIP(ip) ? ip : undefined;
}

/**
 * The client's address as Hamustro's `remoteip` finds it: the first public address in
 * `X-Forwarded-For`, then `X-Real-Ip`, then the TCP peer (IPv4-mapped IPv6 shown as IPv4).
 */
export function clientIp(headers: Record<string, string | undefined>, peer: string | undefined): string | null {
  for (const part of (headers['x-forwarded-for'] ?? '').split(',')) {
    const ip = clean(part);
    if (ip && !isPrivate(ip)) return ip;
  }
  const real = clean(headers['x-real-ip']);
  if (real && !isPrivate(real)) return real;
  const direct = clean(peer);
  if (!direct) return null;
  return direct.toLowerCase().startsWith('::ffff:') && isIP(direct.slice(7)) === 4 ? direct.slice(7) : direct;
}

/** Masks an address: IPv4 to its /24 (last octet 0), IPv6 to its /48. */
export function maskIp(ip: string): string {
  if (isIP(ip) === 4) return ip.replace(/\.\d+$/, '.0');
  if (isIP(ip) !== 6) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 3).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::`;
}
