import { describe, expect, it } from 'vitest';
import { clientIp, maskIp } from '../../core/collector/client-ip.js';
import { hamustroSignature } from '../../core/collector/signature.js';
import { sessionId } from '../../core/collector/session.js';

describe('clientIp', () => {
  it.each([
    [{ 'x-forwarded-for': '10.0.0.1, 198.51.100.23, 203.0.113.1' }, '127.0.0.1', '198.51.100.23'],
    [{ 'x-forwarded-for': '192.168.1.1, 172.16.0.5' }, '203.0.113.7', '203.0.113.7'],
    [{ 'x-forwarded-for': 'garbage', 'x-real-ip': '198.51.100.9' }, '10.0.0.2', '198.51.100.9'],
    [{ 'x-real-ip': '10.1.1.1' }, '::ffff:203.0.113.5', '203.0.113.5'],
    [{ 'x-forwarded-for': '[2001:db8:abcd:12::1]:443' }, '127.0.0.1', '2001:db8:abcd:12::1'],
    [{ 'x-forwarded-for': 'fd00::1, 2a00:1450:4001:80b::200e' }, '::1', '2a00:1450:4001:80b::200e'],
    [{}, undefined, null],
  ])('%j from peer %s → %s', (headers, peer, expected) => {
    expect(clientIp(headers, peer)).toBe(expected);
  });
});

describe('maskIp', () => {
  it.each([
    ['198.51.100.23', '198.51.100.0'],
    ['2a00:1450:4001:80b::200e', '2a00:1450:4001::'],
    ['2001:db8::1', '2001:db8:0::'],
    ['::1', '0:0:0::'],
  ])('%s → %s', (ip, masked) => {
    expect(maskIp(ip)).toBe(masked);
  });
});

describe('Hamustro hashes', () => {
  it('signs as base64(sha256(time|md5hex(body)|secret)), as utils/message.py does', () => {
    expect(hamustroSignature('1454514088', Buffer.from('hello'), 'secret')).toBe('OaAYBHfaMepxZjXN6UVfRpZ5mQIlKFsCJT/jONouHbw=');
  });

  it('derives the session from device, client, versions and env number', () => {
    expect(sessionId({ device_id: 'd', client_id: 'c', system_version: '1', product_version: '2', env: 4 })).toBe('96053c39064db54994544064a0f0876e');
  });
});
